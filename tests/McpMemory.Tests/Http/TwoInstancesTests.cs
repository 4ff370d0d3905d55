using System.Diagnostics;
using System.Text.Json;
using FluentAssertions;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Http;

/// <summary>
/// Two `serve --http` processes on one database (issue 18): a memory stored through A is found through B within a
/// second, and a compare-and-set conflict between them is detected. On PostgreSQL this is the team setup (several
/// instances behind a proxy); on SQLite two processes share one file.
/// </summary>
public class TwoInstancesTests
{
    // Keyword search is enough here; the encoder would only load twice on a loaded test machine.
    private static readonly Dictionary<string, string> NoEncoder = new() { ["MCP_MEMORY_ENCODER"] = "off" };

    /// <summary>One `serve --http` process on the database, with a client and an open MCP session.</summary>
    private sealed class Instance(HttpServerProcess server, HttpClient client, string session) : IAsyncDisposable
    {
        public static async Task<Instance> StartAsync(string db)
        {
            var server = await HttpServerProcess.StartAsync(db, env: NoEncoder);
            var client = server.Client();
            try { return new Instance(server, client, await RawMcpHttp.OpenSessionAsync(client)); }
            catch
            {
                client.Dispose();
                await server.DisposeAsync();
                throw;
            }
        }

        public Task<JsonElement> CallAsync(string tool, object arguments) => RawMcpHttp.CallAsync(client, session, tool, arguments);

        public async ValueTask DisposeAsync()
        {
            client.Dispose();
            await server.DisposeAsync();
        }
    }

    private static JsonElement Structured(JsonElement result)
    {
        (result.TryGetProperty("isError", out var error) && error.GetBoolean()).Should().BeFalse(result.ToString());
        return result.GetProperty("structuredContent");
    }

    [Theory, BothBackends]
    public async Task A_memory_stored_through_one_instance_is_found_through_the_other_within_a_second(Backend backend)
    {
        using var db = new TestDatabase(backend);
        await using var a = await Instance.StartAsync(db.Db);
        await using var b = await Instance.StartAsync(db.Db);
        await b.CallAsync("search_memory", new { query = "warm up" }); // B's first search is not the one timed

        var stored = Structured(await a.CallAsync("store_memory", new { content = "The invoice service retries failed webhooks every 90 seconds" }));
        var id = stored.GetProperty("memory_id").GetString();
        var watch = Stopwatch.StartNew();
        var found = false;
        while (!found && watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            var search = Structured(await b.CallAsync("search_memory", new { query = "invoice webhooks retry" }));
            found = search.GetProperty("results").EnumerateArray().Any(r => r.GetProperty("memory_id").GetString() == id);
            if (!found) await Task.Delay(20);
        }
        found.Should().BeTrue("B follows the event log A wrote to");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1));
    }

    [Theory, BothBackends]
    public async Task A_compare_and_set_conflict_between_the_instances_is_detected(Backend backend)
    {
        using var db = new TestDatabase(backend);
        await using var a = await Instance.StartAsync(db.Db);
        await using var b = await Instance.StartAsync(db.Db);

        Structured(await a.CallAsync("set_agent_state", new { key = "deploy_lock", value = "a", expected_version = 0 }))
            .GetProperty("version").GetInt64().Should().Be(1);
        var conflict = await b.CallAsync("set_agent_state", new { key = "deploy_lock", value = "b", expected_version = 0 });
        conflict.GetProperty("isError").GetBoolean().Should().BeTrue();
        conflict.ToString().Should().Contain("expected_version").And.Contain("is 1");
        Structured(await b.CallAsync("set_agent_state", new { key = "deploy_lock", value = "b", expected_version = 1 }))
            .GetProperty("version").GetInt64().Should().Be(2);
        var value = Structured(await a.CallAsync("get_agent_state", new { key = "deploy_lock" }));
        (value.GetProperty("value").GetString(), value.GetProperty("version").GetInt64()).Should().Be(("b", 2L));
    }
}
