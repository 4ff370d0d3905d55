using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using FluentAssertions;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Http;

/// <summary>
/// Two `serve --http` processes on one database (issue 18): a memory stored through A is found through B within a
/// second, and a compare-and-set conflict between them is detected. On PostgreSQL this is the team setup (several
/// instances behind a proxy); on SQLite two processes share one file. `kill -9` of one of them while clients write
/// through both loses no write either instance acknowledged, and the other keeps serving.
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

        /// <summary>SIGKILL: no shutdown code runs, open transactions and connections are cut where they are.</summary>
        public void Kill() => server.Process.Kill();

        public string Stderr => server.Stderr;

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

    [Theory, BothBackends]
    public async Task Kill_9_of_one_instance_during_writes_loses_no_acknowledged_write_and_the_other_keeps_serving(Backend backend)
    {
        const int WritersPerInstance = 3;
        using var db = new TestDatabase(backend);
        await using var a = await Instance.StartAsync(db.Db);
        await using var b = await Instance.StartAsync(db.Db);
        var acknowledged = new ConcurrentDictionary<string, string>(); // memory_id -> its unique token
        var errors = new ConcurrentBag<string>();
        long ackedByA = 0, ackedByBAfterKill = 0;
        var killed = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        async Task Writer(Instance instance, bool isA, int writer)
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var token = $"zq{(isA ? 'a' : 'b')}{writer}x{n}";
                JsonElement result;
                try { result = await instance.CallAsync("store_memory", new { content = $"kill test write {n} of writer {writer}, token {token}" }); }
                catch (Exception) when (isA && Volatile.Read(ref killed) == 1) { return; } // cut off by the kill: never acknowledged
                if (result.TryGetProperty("isError", out var isError) && isError.GetBoolean())
                {
                    errors.Add(result.ToString());
                    continue;
                }
                var structured = result.GetProperty("structuredContent");
                structured.GetProperty("status").GetString().Should().Be("stored", "every text is distinct");
                acknowledged[structured.GetProperty("memory_id").GetString()!] = token;
                if (isA) Interlocked.Increment(ref ackedByA);
                else if (Volatile.Read(ref killed) == 1 && Interlocked.Increment(ref ackedByBAfterKill) >= 30) return;
            }
        }

        var writers = Enumerable.Range(0, WritersPerInstance)
            .SelectMany(w => new[] { Task.Run(() => Writer(a, true, w)), Task.Run(() => Writer(b, false, w)) }).ToList();
        var watch = Stopwatch.StartNew();
        while (Interlocked.Read(ref ackedByA) < 20 && watch.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(10);
        Interlocked.Read(ref ackedByA).Should().BeGreaterThanOrEqualTo(20, "A must acknowledge writes before it is killed");
        Volatile.Write(ref killed, 1);
        a.Kill(); // while its writers have stores in flight
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromMinutes(2));

        errors.Should().BeEmpty("the survivor answers every store (a write A held the lock for is rolled back, not stuck)");
        Interlocked.Read(ref ackedByBAfterKill).Should().BeGreaterThanOrEqualTo(30, "B keeps acknowledging writes after A died");

        var rows = Reliability.ReliabilityChecks.Memories(db.Db);
        foreach (var (id, token) in acknowledged)
        {
            rows.Should().ContainKey(id, $"{token} was acknowledged");
            rows[id].Should().Contain(token);
        }
        foreach (var (id, token) in acknowledged)
        {
            var search = Structured(await b.CallAsync("search_memory", new { query = token, top_k = 3 }));
            search.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("memory_id").GetString())
                .Should().Contain(id, $"the survivor finds {token}; its stderr:\n{b.Stderr}");
        }
        var after = Structured(await b.CallAsync("store_memory", new { content = "stored after the other instance was killed, token zqafter" }));
        var found = Structured(await b.CallAsync("search_memory", new { query = "zqafter" }));
        found.GetProperty("results")[0].GetProperty("memory_id").GetString().Should().Be(after.GetProperty("memory_id").GetString());
    }
}
