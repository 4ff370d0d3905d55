using System.Diagnostics;
using System.Text.Json;
using McpMemory.Core;
using McpMemory.Core.Embeddings.Onnx;
using McpMemory.Core.Memories;
using ModelContextProtocol.Client;

namespace McpMemory.Bench;

/// <summary>
/// Issue 20's write row: sequential store_memory round trips over MCP stdio (the SDK client, as an agent calls them),
/// from empty and at a store of --size memories, with the default encoder (arctic-embed-xs int8): the old behaviour
/// (MCP_MEMORY_EMBED_INLINE=on: every store embeds before it answers) and write-behind (the default), two servers side
/// by side taking turns in blocks of 100 calls, so the ratio is from the same moments of one run; it also reports how
/// long after a block's last answer its vector landed, and each server's CPU per store by thread (/proc: the
/// write-behind worker's thread, and the others while the stores run), steadier than latency on a
/// loaded machine. --calls per server and round; --rounds repeats.
/// --baseline PATH compares two builds instead, both write-behind: PATH (an older build's mcp-memory.dll or AOT
/// executable) against --dll (default: this build), taking turns the same way, and prints new / old ratios.
///   dotnet run -c Release --project bench/McpMemory.Bench -- writes [--calls 1000] [--size 10000] [--rounds 1]
///       [--dll PATH] [--baseline PATH]
/// </summary>
internal static class WriteBench
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(5);

    public static async Task<int> RunAsync(string[] args)
    {
        var calls = ToolUnderTest.IntOption(args, "--calls", 1000);
        var size = ToolUnderTest.IntOption(args, "--size", 10_000);
        var rounds = ToolUnderTest.IntOption(args, "--rounds", 1);
        var dll = ToolUnderTest.Dll(args);
        var baseline = ToolUnderTest.Option(args, "--baseline") is { } old ? Path.GetFullPath(old) : null;
        // The two servers compared: inline against write-behind of one build, or an old build against a new one.
        var labels = baseline is null
            ? new[] { "inline (MCP_MEMORY_EMBED_INLINE=on)", "write-behind (default)" }
            : [$"old {baseline}", $"new {dll}"];
        Console.WriteLine($"writes bench — {calls} sequential store_memory calls over MCP stdio, from empty and at {size:N0} memories; " +
                          $"{Environment.ProcessorCount} cores; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        var folder = ToolUnderTest.TempFolder();
        try
        {
            var template = Path.Combine(folder, "template.db");
            var fill = Stopwatch.StartNew();
            Fill(template, size);
            Console.WriteLine($"filled {size:N0} memories with their vectors (arctic-embed-xs int8, in-process) in {fill.Elapsed.TotalSeconds:0} s");

            // Both servers run side by side on copies of the same store and take turns, a block of calls each, so that
            // the machine's load (shared, moving ±30 %) falls on both alike; the order within each pair of blocks alternates.
            foreach (var size0 in new[] { 0, size })
            {
                var dbs = new[] { "inline", "behind" }.Select(mode => Path.Combine(folder, $"{mode}-{size0}.db")).ToArray();
                if (size0 > 0) foreach (var db in dbs) File.Copy(template, db);
                await using var inline = await ServerAsync(baseline ?? dll, dbs[0], inline: baseline is null);
                await using var behind = await ServerAsync(dll, dbs[1], inline: false);
                var pids = dbs.Select(ServerPid).ToArray();
                var samples = new[] { new List<double>(), new List<double>() };
                var seconds = new double[2];
                var requestCpu = new double[2];
                var workerCpu = new double[2];
                var lastVector = new List<double>();
                var blocks = Math.Max(1, calls / Block);
                for (var b = 0; b < blocks * rounds; b++)
                    foreach (var which in b % 2 == 0 ? new[] { 0, 1 } : [1, 0])
                    {
                        var before = Cpu(pids[which]);
                        var (block, wall, landed, afterStores) = await BlockAsync(which == 0 ? inline : behind, which == 1 || baseline is not null, b, Block, pids[which]);
                        var after = Cpu(pids[which]);
                        requestCpu[which] += afterStores.Others - before.Others;
                        workerCpu[which] += after.Worker - before.Worker;
                        samples[which].AddRange(block);
                        seconds[which] += wall;
                        if (landed >= 0) lastVector.Add(landed);
                    }
                string Line(int which)
                {
                    var sorted = samples[which].Order().ToArray();
                    return $"p50 {Measure.Percentile(sorted, 0.5):0.00} ms  p95 {Measure.Percentile(sorted, 0.95):0.00} ms  {sorted.Length / seconds[which]:0}/s; " +
                           $"server CPU per store: request threads {requestCpu[which] * 1000 / sorted.Length:0.00} ms, worker {workerCpu[which] * 1000 / sorted.Length:0.00} ms";
                }
                var label = size0 == 0 ? "from empty" : $"at {size0:N0}";
                Console.WriteLine($"{label}: {samples[0].Count} calls each, in blocks of {Block}");
                Console.WriteLine($"  {labels[0]}\n      {Line(0)}");
                Console.WriteLine($"  {labels[1]}\n      {Line(1)}");
                var p50Ratio = Measure.Percentile(samples[1].Order().ToArray(), 0.5) / Measure.Percentile(samples[0].Order().ToArray(), 0.5);
                Console.WriteLine($"  {(baseline is null ? "write-behind / inline" : "new / old")}: {seconds[0] / seconds[1]:0.00}x calls/s, p50 {p50Ratio:0.00}x; " +
                                  $"the last vector of a block landed {lastVector.Order().ElementAt(lastVector.Count / 2):0} ms (median), {lastVector.Max():0} ms (worst) after the block's last answer");
            }
            return 0;
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
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

    private const int Block = 100;

    private static async Task<McpClient> ServerAsync(string dll, string db, bool inline)
    {
        var client = await McpClient.CreateAsync(new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = "mcp-memory", Command = ToolUnderTest.Launch(dll).Command, Arguments = [.. ToolUnderTest.Launch(dll).Prefix, "serve", "--db", db, "--namespace", "project:bench"],
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
        return client;
    }

    /// <summary>
    /// <paramref name="count"/> sequential stores: their round trips (ms), the block's wall time (s) and, for
    /// write-behind, how long after the last answer its vector landed (ms; -1 inline).
    /// </summary>
    private static async Task<(List<double> Samples, double Seconds, double LastVectorMs, (double Worker, double Others) CpuAfterStores)> BlockAsync(
        McpClient client, bool behind, int block, int count, int pid)
    {
        var corpus = new CorpusGenerator(seed: 100 + block); // both servers store the same texts
        var tag = $"b{block}";
        var samples = new List<double>(count);
        string? lastId = null;
        var wall = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var arguments = new Dictionary<string, object?> { ["content"] = $"{corpus.Next()} (bench {tag} call {i})" };
            var start = Stopwatch.GetTimestamp();
            var result = await client.CallToolAsync("store_memory", arguments);
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            if (result.IsError == true) throw new InvalidOperationException("store_memory failed");
            lastId = JsonSerializer.SerializeToElement(result.StructuredContent).GetProperty("memory_id").GetString();
        }
        var seconds = wall.Elapsed.TotalSeconds;
        var cpu = Cpu(pid); // the searches below, waiting for the vector, are not the stores' CPU
        if (!behind) return (samples, seconds, -1, cpu);
        var landed = Stopwatch.StartNew();
        while (landed.Elapsed < Bound)
        {
            var found = await client.CallToolAsync("search_memory", new Dictionary<string, object?> { ["query"] = $"bench {tag} call {count - 1}", ["mode"] = "fts", ["top_k"] = 3 });
            var hit = JsonSerializer.SerializeToElement(found.StructuredContent).GetProperty("results").EnumerateArray()
                .FirstOrDefault(r => r.GetProperty("memory_id").GetString() == lastId);
            if (hit.ValueKind == JsonValueKind.Object && hit.GetProperty("has_embedding").GetBoolean()) return (samples, seconds, landed.Elapsed.TotalMilliseconds, cpu);
            await Task.Delay(5);
        }
        return (samples, seconds, double.NaN, cpu);
    }

    /// <summary>The server serving <paramref name="db"/> (each server has a database file of its own).</summary>
    private static int ServerPid(string db)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), out var pid))
            {
                try
                {
                    var arguments = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                    if (arguments.Contains("serve") && arguments.Contains(db)) return pid;
                }
                catch (IOException) { } // gone meanwhile
                catch (UnauthorizedAccessException) { }
            }
        throw new InvalidOperationException($"no server process for {db}");
    }

    /// <summary>
    /// CPU seconds the server's threads have used (/proc/PID/task/*/stat, utime + stime): the write-behind worker's
    /// thread (named "mcp-memory embedding worker", 15 characters of it in the kernel) and all the others.
    /// </summary>
    private static (double Worker, double Others) Cpu(int pid)
    {
        double worker = 0, rest = 0;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            string stat;
            try { stat = File.ReadAllText(Path.Combine(task, "stat")); }
            catch (IOException) { continue; } // the thread ended meanwhile
            var name = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // from field 3 (state) on
            var seconds = (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0; // utime, stime: fields 14, 15 in clock ticks (USER_HZ 100)
            if (name.StartsWith("mcp-memory embe", StringComparison.Ordinal)) worker += seconds;
            else rest += seconds;
        }
        return (worker, rest);
    }
}
