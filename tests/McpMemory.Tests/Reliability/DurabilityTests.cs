using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static McpMemory.Tests.Reliability.ReliabilityChecks;

namespace McpMemory.Tests.Reliability;

/// <summary>
/// Kill -9 at random moments while a client writes over stdio: every write the server acknowledged is in the file
/// afterwards, exactly as sent, and the file verifies clean. All trials share one database, so each restart also
/// recovers the WAL the previous kill left behind.
/// </summary>
public class DurabilityTests(ITestOutputHelper output)
{
    private const int Trials = 24;
    private const int WritersPerServer = 4;

    [Fact]
    public async Task Every_acknowledged_write_survives_SIGKILL_at_random_moments()
    {
        using var dir = new TempDirectory();
        var db = dir.File("durable.db");
        var random = new Random(20261122);
        var acknowledged = new ConcurrentDictionary<string, string>(StringComparer.Ordinal); // id → content
        long sent = 0, kills = 0;
        var clock = Stopwatch.StartNew();

        for (var trial = 0; trial < Trials; trial++)
        {
            var server = await RawMcpServer.StartAsync(db, env: RawMcpServer.NoMerging);
            var killAfter = TimeSpan.FromMilliseconds(random.Next(30, 1200));
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, WritersPerServer).Select(writer => Task.Run(async () =>
            {
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var content = $"trial {trial} writer {writer} write {n}: the deploy key rotates every {n % 7 + 1} days ✓";
                    Interlocked.Increment(ref sent);
                    JsonObject response;
                    try { response = await server.CallToolAsync("store_memory", Args(("content", content), ("tags", new JsonArray("durability")))); }
                    catch (Exception e) when (e is IOException or TimeoutException or ObjectDisposedException or InvalidOperationException) { return; } // killed mid-request: not acknowledged
                    var id = ToolResult(response)["memory_id"]!.GetValue<string>();
                    acknowledged[id] = content;
                }
            })).ToList();

            await Task.Delay(killAfter);
            server.Kill();
            kills++;
            stop.Cancel();
            await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(30));
            await server.DisposeAsync();

            var stored = Memories(db);
            foreach (var (id, content) in acknowledged)
            {
                stored.Should().ContainKey(id, $"memory {id} was acknowledged before the kill in trial {trial}");
                stored[id].Should().Be(content);
            }
            Consistent(db);
        }

        var figures = $"durability: {Trials} trials, {kills} SIGKILLs, {sent} writes sent, {acknowledged.Count} acknowledged, " +
                      $"{acknowledged.Count} found after the kills, 0 lost; {clock.Elapsed.TotalSeconds:0} s";
        output.WriteLine(figures);
        Figures.Record(figures);
        acknowledged.Count.Should().BeGreaterThan(Trials, "the trials must actually write");
    }
}
