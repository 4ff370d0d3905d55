using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static McpMemory.Tests.Reliability.ReliabilityChecks;

namespace McpMemory.Tests.Reliability;

/// <summary>
/// Four processes on one database (a SQLite file, or one PostgreSQL database) at once: two MCP servers (each with several requests in flight) and two CLI loops
/// (a new process per command), storing, searching and setting one shared state key. No busy or locked error may
/// reach any client, no acknowledged write may be lost, no id may repeat, and the database must be consistent.
/// </summary>
public class ConcurrencyTests(ITestOutputHelper output)
{
    private const string Namespace = "project:shared-file";
    private const int WritesPerServerTask = 60;
    private const int TasksPerServer = 4;
    private const int CliRounds = 8;

    [Theory, BothBackends]
    public async Task Two_servers_and_two_cli_loops_share_one_database_without_errors_or_lost_writes(Backend backend)
    {
        using var database = new TestDatabase(backend, "shared.db");
        var db = database.Db;
        var acknowledged = new ConcurrentBag<(string Id, string Status)>();
        var errors = new ConcurrentBag<string>();
        long searches = 0, stateSets = 0;
        var clock = Stopwatch.StartNew();

        await using var first = await RawMcpServer.StartAsync(db, Namespace);
        await using var second = await RawMcpServer.StartAsync(db, Namespace);

        async Task ServerLoop(RawMcpServer server, int task)
        {
            for (var n = 0; n < WritesPerServerTask; n++)
            {
                var store = await server.CallToolAsync("store_memory", Args(("content", $"server {server.ProcessId} task {task} write {n} about the shared cache")));
                if (!Ok(store, out var result)) continue;
                acknowledged.Add((result["memory_id"]!.GetValue<string>(), result["status"]!.GetValue<string>()));
                if (n % 5 == 0 && Ok(await server.CallToolAsync("search_memory", Args(("query", "shared cache"), ("top_k", 5))), out _))
                    Interlocked.Increment(ref searches);
                if (n % 10 == 0 && Ok(await server.CallToolAsync("set_agent_state", Args(("key", "counter"), ("value", n))), out _))
                    Interlocked.Increment(ref stateSets);
            }
        }

        bool Ok(JsonObject response, out JsonObject structured)
        {
            structured = null!;
            var failure = response["error"]?.ToJsonString() ??
                          (response["result"]?["isError"]?.GetValue<bool>() == true ? response["result"]!.ToJsonString() : null);
            if (failure is not null) { errors.Add(failure); return false; }
            structured = response["result"]!["structuredContent"]!.AsObject();
            return true;
        }

        async Task CliLoop(int loop)
        {
            var common = new[] { "--db", db, "--namespace", Namespace, "--json" };
            for (var round = 0; round < CliRounds; round++)
            {
                var store = await ToolProcess.RunAsync(["store", $"cli {loop} round {round} about the shared cache", .. common]);
                if (store.ExitCode != 0) { errors.Add("cli store: " + store.Stderr); continue; }
                var stored = JsonDocument.Parse(store.Stdout).RootElement;
                acknowledged.Add((stored.GetProperty("memory_id").GetString()!, stored.GetProperty("status").GetString()!));
                var search = await ToolProcess.RunAsync(["search", "shared cache", .. common]);
                if (search.ExitCode != 0) errors.Add("cli search: " + search.Stderr); else Interlocked.Increment(ref searches);
                if (round % 3 == 0)
                {
                    var set = await ToolProcess.RunAsync(["state", "set", "counter", round.ToString(), .. common]);
                    if (set.ExitCode != 0) errors.Add("cli state set: " + set.Stderr); else Interlocked.Increment(ref stateSets);
                }
            }
        }

        var work = new List<Task>();
        foreach (var server in new[] { first, second })
            for (var task = 0; task < TasksPerServer; task++)
            {
                var t = task;
                work.Add(Task.Run(() => ServerLoop(server, t)));
            }
        work.Add(Task.Run(() => CliLoop(1)));
        work.Add(Task.Run(() => CliLoop(2)));
        await Task.WhenAll(work).WaitAsync(TimeSpan.FromMinutes(3));

        errors.Should().BeEmpty("no busy, locked or other error may reach a client");
        // Near-duplicate texts may be merged ("updated" returns the id of the memory they were folded into).
        var ids = acknowledged.Where(a => a.Status == "stored").Select(a => a.Id).ToList();
        ids.Should().OnlyHaveUniqueItems();
        acknowledged.Where(a => a.Status == "updated").Select(a => a.Id).Should().BeSubsetOf(ids);
        var stored = Memories(db);
        stored.Keys.Should().BeEquivalentTo(ids, "every acknowledged write is there, and nothing else");
        long version = 0;
        Query(db, "SELECT version FROM agent_state WHERE key = 'counter'", row => version = Convert.ToInt64(row.GetValue(0)));
        version.Should().Be(stateSets, "each unconditional set bumps the version once: none was lost");
        Consistent(db);

        var figures = $"concurrency ({backend}): 4 processes (2 servers x {TasksPerServer} in-flight requests, 2 CLI loops), {acknowledged.Count} writes ({acknowledged.Count - ids.Count} merged as near-duplicates), " +
                      $"{searches} searches, {stateSets} state sets, 0 errors, 0 lost, 0 duplicate ids; {clock.Elapsed.TotalSeconds:0} s";
        output.WriteLine(figures);
        Figures.Record(figures);
    }
}
