using System.Diagnostics;
using System.Text.Json;
using FluentAssertions;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Http;

/// <summary>
/// The README's team setup for real (issue 18): two `serve --http` instances on one PostgreSQL database, per-namespace
/// keys, and nginx in front hashing on the Authorization header. A session's requests must all reach the process that
/// holds it (the SDK's Streamable HTTP sessions live in one process), including the first `initialize`, which has no
/// session id yet; what one key stores must be found through another key served by the other instance.
/// </summary>
public class TeamProxyTests
{
    private static readonly Dictionary<string, string> NoEncoder = new() { ["MCP_MEMORY_ENCODER"] = "off" };

    [Fact]
    public async Task Two_instances_on_one_PostgreSQL_behind_nginx_keep_each_session_on_its_instance_and_share_what_is_stored()
    {
        using var db = new TestDatabase(Backend.Postgres);
        using var dir = new TempDirectory();
        // Sixteen agents' keys on the team's namespace: enough that the hash puts some on each instance (all on one: about
        // 1 in 30,000 with an even split, 1 in 3,000 if one instance got 60 % of the hash ring).
        var keys = Enumerable.Range(1, 16).Select(i => $"team-agent-{i}-{Guid.NewGuid():N}").ToList();
        var keysFile = dir.File("keys.json");
        File.WriteAllText(keysFile, JsonSerializer.Serialize(new
        {
            keys = keys.Select((k, i) => new { key = k, namespaces = new[] { "project:team", "shared" }, access = "read-write", agent_id = $"agent-{i + 1}" }),
        }));
        await using var a = await HttpServerProcess.StartAsync(db.Db, ["--keys-file", keysFile], NoEncoder, ns: "project:team");
        await using var b = await HttpServerProcess.StartAsync(db.Db, ["--keys-file", keysFile], NoEncoder, ns: "project:team");
        Directory.CreateDirectory(dir.File("nginx"));
        await using var proxy = await NginxProxy.StartAsync(dir.File("nginx"), [a.BaseUrl, b.BaseUrl]);

        var instanceOf = new Dictionary<string, string>();
        foreach (var key in keys) instanceOf[key] = await proxy.InstanceForKeyAsync(key);
        instanceOf.Values.Distinct().Should().HaveCount(2, "the hash spreads sixteen keys over both instances");
        var writer = keys.First(k => instanceOf[k] == instanceOf[keys[0]]);
        var reader = keys.First(k => instanceOf[k] != instanceOf[keys[0]]);

        // The TypeScript SDK client through the proxy: initialize, every tool, the GET stream and DELETE in one session.
        var run = await NodeClients.AllToolsAsync("http", [$"{proxy.Url}/mcp"], writer);
        run.ExitCode.Should().Be(0, run.Stderr);

        // Stored through the writer's session on one instance, found through the reader's session on the other.
        using var writerClient = proxy.Client(writer);
        var writerSession = await RawMcpHttp.OpenSessionAsync(writerClient);
        var stored = await RawMcpHttp.CallAsync(writerClient, writerSession, "store_memory", new { content = "The team's staging database is rebuilt every Monday at 06:00 UTC" });
        var id = stored.GetProperty("structuredContent").GetProperty("memory_id").GetString();
        using var readerClient = proxy.Client(reader);
        var readerSession = await RawMcpHttp.OpenSessionAsync(readerClient);
        var watch = Stopwatch.StartNew();
        var found = false;
        while (!found && watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            var search = await RawMcpHttp.CallAsync(readerClient, readerSession, "search_memory", new { query = "staging database rebuilt Monday" });
            found = search.GetProperty("structuredContent").GetProperty("results").EnumerateArray().Any(r => r.GetProperty("memory_id").GetString() == id);
            if (!found) await Task.Delay(50);
        }
        found.Should().BeTrue("the reader's instance follows the event log the writer's instance wrote to");

        // Every request of every session reached one instance, and none was refused for an unknown session.
        var requests = proxy.AccessLog.Select(l => l.Split(' ')).Where(f => f[0] != "-").ToList();
        requests.Should().NotBeEmpty();
        requests.GroupBy(f => f[0]).Should().OnlyContain(session => session.Select(f => f[1]).Distinct().Count() == 1);
        requests.Should().NotContain(f => f[2] == "404", "no request went to an instance that does not hold its session");
        requests.Select(f => f[1]).Distinct().Should().HaveCount(2, "the writer's and the reader's sessions were on different instances");
    }
}
