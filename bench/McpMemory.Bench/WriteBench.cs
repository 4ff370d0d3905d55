using System.Diagnostics;
using System.Text.Json;
using McpMemory.Core;
using McpMemory.Core.Embeddings.Onnx;
using McpMemory.Core.Memories;
using ModelContextProtocol.Client;

namespace McpMemory.Bench;

/// <summary>
/// Issue 20's write row: sequential store_memory round trips over MCP stdio (the SDK client, as an agent calls them),
/// from empty and at a store of --size memories, with the default encoder (arctic-embed-xs int8). Each round runs the
/// old behaviour (MCP_MEMORY_EMBED_INLINE=on: every store embeds before it answers) and write-behind (the default)
/// back to back, in alternating order, so the ratio is from one run; it also reports how long after the last answer
/// the last vector landed.
///   dotnet run -c Release --project bench/McpMemory.Bench -- writes [--calls 1000] [--size 10000] [--rounds 2]
/// </summary>
internal static class WriteBench
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(5);

    public static async Task<int> RunAsync(string[] args)
    {
        var calls = ToolUnderTest.IntOption(args, "--calls", 1000);
        var size = ToolUnderTest.IntOption(args, "--size", 10_000);
        var rounds = ToolUnderTest.IntOption(args, "--rounds", 2);
        var dll = ToolUnderTest.Dll(args);
        Console.WriteLine($"writes bench — {calls} sequential store_memory calls over MCP stdio, from empty and at {size:N0} memories; " +
                          $"{Environment.ProcessorCount} cores; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        var folder = ToolUnderTest.TempFolder();
        try
        {
            var template = Path.Combine(folder, "template.db");
            var fill = Stopwatch.StartNew();
            Fill(template, size);
            Console.WriteLine($"filled {size:N0} memories with their vectors (arctic-embed-xs int8, in-process) in {fill.Elapsed.TotalSeconds:0} s");

            var results = new Dictionary<string, List<Run>>();
            for (var round = 0; round < rounds; round++)
                foreach (var inline in round % 2 == 0 ? new[] { true, false } : [false, true])
                    foreach (var start in new[] { 0, size })
                    {
                        var db = Path.Combine(folder, $"r{round}-{(inline ? "inline" : "behind")}-{start}.db");
                        if (start > 0) File.Copy(template, db);
                        var run = await RunAsync(dll, db, inline, calls, seed: 100 + round);
                        var label = $"{(inline ? "inline      " : "write-behind")} from {(start == 0 ? "empty " : $"{start:N0}")}";
                        Console.WriteLine($"round {round + 1}: {label}: {run}");
                        (results.TryGetValue(label, out var list) ? list : results[label] = []).Add(run);
                    }

            Console.WriteLine("\nsummary (median of the rounds' p50; calls/s from the rounds' wall time):");
            foreach (var start in new[] { "empty ", $"{size:N0}" })
            {
                var inline = results[$"inline       from {start}"];
                var behind = results[$"write-behind from {start}"];
                double P50(List<Run> runs) => runs.Select(r => r.P50).Order().ElementAt(runs.Count / 2);
                double Rate(List<Run> runs) => runs.Sum(r => r.Calls) / runs.Sum(r => r.Seconds);
                Console.WriteLine($"  from {start}: inline p50 {P50(inline):0.00} ms, {Rate(inline):0}/s; write-behind p50 {P50(behind):0.00} ms, {Rate(behind):0}/s; " +
                                  $"ratio {Rate(behind) / Rate(inline):0.00}x calls/s; last vector landed {behind.Select(r => r.LastVectorMs).Max():0} ms after the last answer (worst round)");
            }
            return 0;
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    private sealed record Run(double P50, double P95, int Calls, double Seconds, double LastVectorMs)
    {
        public override string ToString() =>
            $"p50 {P50:0.00} ms  p95 {P95:0.00} ms  {Calls / Seconds:0}/s" + (LastVectorMs >= 0 ? $"  last vector {LastVectorMs:0} ms after the last answer" : "");
    }

    /// <summary>A store of <paramref name="size"/> memories with the server's own default encoder, so it re-embeds none.</summary>
    private static void Fill(string path, int size)
    {
        var encoder = OnnxEncoder.Load(OnnxEncoder.DefaultDirectory, int8Cache: McpMemory.Encoders.ModelCacheDirectory);
        using var service = MemoryService.Open(path, MemoryOptions.Default with { MergeDuplicates = false, EmbeddingInterval = TimeSpan.Zero, KeywordIndex = false },
            Core.Embeddings.EmbedderProvider.Ready(encoder));
        service.WaitForVectors(Bound);
        var corpus = new CorpusGenerator(seed: 20);
        var caller = new Caller("project:bench", "bench");
        for (var done = 0; done < size; done += 100)
            service.StoreMany(caller, Enumerable.Range(done, Math.Min(100, size - done)).Select(i => new NewMemory { Content = $"{corpus.Next()} (note {i})" }).ToList());
    }

    private static async Task<Run> RunAsync(string dll, string db, bool inline, int calls, int seed)
    {
        await using var client = await McpClient.CreateAsync(new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = "mcp-memory", Command = "dotnet", Arguments = [dll, "serve", "--db", db, "--namespace", "project:bench"],
            EnvironmentVariables = new Dictionary<string, string?> { ["MCP_MEMORY_EMBED_INLINE"] = inline ? "on" : "off" },
            ShutdownTimeout = TimeSpan.FromSeconds(30),
        }), new McpClientOptions { DiscoverProbeTimeout = Timeout.InfiniteTimeSpan }, cancellationToken: new CancellationTokenSource(Bound).Token);
        // Measured once the encoder and both indexes are ready, as in a session that has been running a while.
        var ready = Stopwatch.StartNew();
        while ((await client.CallToolAsync("search_memory", new Dictionary<string, object?> { ["query"] = "warm up", ["mode"] = "vector" })).IsError == true)
        {
            if (ready.Elapsed > Bound) throw new TimeoutException("the encoder did not load");
            await Task.Delay(100);
        }
        await Task.Delay(2000);
        var corpus = new CorpusGenerator(seed);
        var samples = new double[calls];
        string? lastId = null;
        var wall = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++)
        {
            var arguments = new Dictionary<string, object?> { ["content"] = $"{corpus.Next()} (bench {seed} call {i})" };
            var start = Stopwatch.GetTimestamp();
            var result = await client.CallToolAsync("store_memory", arguments);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (result.IsError == true) throw new InvalidOperationException("store_memory failed");
            lastId = JsonSerializer.SerializeToElement(result.StructuredContent).GetProperty("memory_id").GetString();
        }
        var seconds = wall.Elapsed.TotalSeconds;
        // How long after the last answer its vector landed (write-behind; inline stores answer with it).
        var landed = Stopwatch.StartNew();
        var lastVector = -1.0;
        if (!inline)
            while (landed.Elapsed < Bound)
            {
                var found = await client.CallToolAsync("search_memory", new Dictionary<string, object?> { ["query"] = $"bench {seed} call {calls - 1}", ["mode"] = "fts", ["top_k"] = 3 });
                var hit = JsonSerializer.SerializeToElement(found.StructuredContent).GetProperty("results").EnumerateArray()
                    .FirstOrDefault(r => r.GetProperty("memory_id").GetString() == lastId);
                if (hit.ValueKind == JsonValueKind.Object && hit.GetProperty("has_embedding").GetBoolean()) { lastVector = landed.Elapsed.TotalMilliseconds; break; }
                await Task.Delay(5);
            }
        Array.Sort(samples);
        return new Run(Measure.Percentile(samples, 0.5), Measure.Percentile(samples, 0.95), calls, seconds, lastVector);
    }
}
