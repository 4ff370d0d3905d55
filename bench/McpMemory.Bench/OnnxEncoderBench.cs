using System.Diagnostics;
using McpMemory.Core.Embeddings.Onnx;

namespace McpMemory.Bench;

/// <summary>
/// ONNX encoder figures (arctic-embed-xs by default): load time, single document and query latency on one thread,
/// batch throughput on conversation turns, resident memory.
/// </summary>
/// <remarks>dotnet run -c Release --project bench/McpMemory.Bench -- encoder --model arctic-embed-xs|DIR [--turns 1000] [--iterations 300] [--ab]
/// (--ab: fp32 against int8 weights and one against two threads, interleaved in rounds in the same process; --ab-int8 FILE
/// adds another int8 model file, for instance an earlier build's, to the rotation; --query-cost: where a search query's
/// embedding goes, <see cref="OnnxQueryCostBench"/>)</remarks>
internal static class OnnxEncoderBench
{
    // ~30 tokens of a stored memory; ~8 tokens of a query (before the query prefix; the counts are printed).
    private const string Document =
        "The staging database moved to Postgres 16 on port 5433, so please update the connection string before the next deploy, thanks.";
    private const string Query = "which port does staging postgres use?";

    public static int Run(string[] args, string model)
    {
        string locomoDir = EncoderBench.Option(args, "--locomo") ?? "/work/shared/eval/locomo-dev";
        int turnCount = int.Parse(EncoderBench.Option(args, "--turns") ?? "1000");
        int iterations = int.Parse(EncoderBench.Option(args, "--iterations") ?? "300");
        string directory = model == "arctic-embed-xs" ? OnnxEncoder.DefaultDirectory : model;

        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {EncoderBench.RuntimeInfo()}");
        if (args.Contains("--query-cost")) return OnnxQueryCostBench.Run(args, directory);
        if (args.Contains("--ab")) return CompareSettings(directory, locomoDir, turnCount, iterations, EncoderBench.Option(args, "--ab-int8"));
        long rssBefore = EncoderBench.Rss();
        using var encoder = OnnxEncoder.Load(directory, int8Cache: Encoders.ModelCacheDirectory);
        long rssLoaded = EncoderBench.Rss();
        Console.WriteLine($"model: {encoder.ModelId} from {encoder.ModelDirectory}; {encoder.Settings}; load {encoder.LoadTime.TotalMilliseconds:F0} ms (first, includes JIT)");

        foreach (var (name, text, query) in new[] { ("document", Document, false), ("query", Query, true) })
        {
            int textTokens = encoder.DocumentTokenIds(text).Length, withPrefix = encoder.QueryTokenIds(text).Length;
            Func<string, float[]> embed = query ? encoder.EmbedQuery : encoder.Embed;
            for (int i = 0; i < 30; i++) embed(text);
            var latencies = new double[iterations];
            for (int i = 0; i < iterations; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                embed(text);
                latencies[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
            Array.Sort(latencies);
            Console.WriteLine($"single {name} ({textTokens} tokens{(query ? $", {withPrefix} with the prefix" : "")}, 1 thread): " +
                              $"p50 {latencies[iterations / 2]:F2} ms, p95 {latencies[(int)(iterations * 0.95)]:F2} ms, min {latencies[0]:F2} ms");
            // Where a call's time goes: the tokenizer, and the encoder from ready ids (ONNX Runtime plus pooling).
            Func<string, long[]> tokenize = query ? encoder.QueryTokenIds : encoder.DocumentTokenIds;
            long[] ids = tokenize(text);
            Console.WriteLine($"    of which tokenizing p50 {P50(() => tokenize(text), iterations * 10) * 1e3:F1} µs; " +
                              $"from ready ids p50 {P50(() => encoder.EmbedTokenIds([ids]), iterations):F2} ms");
        }

        // The search path's cache of query vectors: a repeated query is a lookup instead of an embedding (the query p50 above).
        var cache = new McpMemory.Core.Embeddings.QueryEmbeddingCache();
        cache.EmbedQuery(encoder, Query);
        Console.WriteLine($"query cache hit: p50 {P50(() => cache.EmbedQuery(encoder, Query), iterations * 100) * 1e3:F2} µs (a miss: the query p50 above)");

        var (turns, source) = EncoderBench.LoadTurns(locomoDir, turnCount, 0, int.MaxValue);
        double tokensPerTurn = turns.Average(t => encoder.DocumentTokenIds(t).Length);
        encoder.EmbedBatch(turns.Take(64).ToList());
        double best = double.MaxValue, bestCpu = double.MaxValue;
        for (int run = 0; run < 2; run++)
        {
            TimeSpan cpu0 = EncoderBench.CpuTime();
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < turns.Count; i += 64) encoder.EmbedBatch(turns.GetRange(i, Math.Min(64, turns.Count - i)));
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
            bestCpu = Math.Min(bestCpu, (EncoderBench.CpuTime() - cpu0).TotalSeconds);
        }
        Console.WriteLine($"batch: {turns.Count} turns from {source}, mean {tokensPerTurn:F1} tokens, EmbedBatch of 64 on {Environment.ProcessorCount} cores: " +
                          $"{turns.Count / best:F0} turns/s ({best * 1e3:F0} ms wall, best of 2), {turns.Count / bestCpu:F0} turns per CPU-second");

        var loads = Enumerable.Range(0, 3).Select(_ => { using var again = OnnxEncoder.Load(directory, int8Cache: Encoders.ModelCacheDirectory); return again.LoadTime.TotalMilliseconds; }).Order().ToList();
        Console.WriteLine($"load: {string.Join(", ", loads.Select(l => $"{l:F0}"))} ms (warm, three more loads)");
        GC.Collect();
        Console.WriteLine($"memory: RSS {EncoderBench.Mb(rssBefore)} MB before loading, {EncoderBench.Mb(rssLoaded)} MB after, " +
                          $"{EncoderBench.Mb(EncoderBench.Rss())} MB after the runs");
        return 0;
    }

    /// <summary>Each setting's p50 latencies and batch throughput, measured in turns (round-robin) so the machine's drift hits all alike.</summary>
    private static int CompareSettings(string directory, string locomoDir, int turnCount, int iterations, string? otherInt8)
    {
        (OnnxRunSettings Threads, OnnxWeights Weights, string Directory)[] settings =
            [(new(1, false), OnnxWeights.AsStored, directory), (new(1, false), OnnxWeights.Int8, directory), (new(2, false), OnnxWeights.Int8, directory)];
        // --ab-int8 FILE: another int8 file (say, an earlier build's) in the same rotation, one thread, for an in-run ratio.
        if (otherInt8 is not null) settings = [.. settings, (new(1, false), OnnxWeights.Int8, FolderWithInt8File(directory, otherInt8))];
        var encoders = settings.Select(s => OnnxEncoder.Load(s.Directory, s.Threads, s.Weights, Encoders.ModelCacheDirectory)).ToArray();
        var (turns, source) = EncoderBench.LoadTurns(locomoDir, turnCount, 0, int.MaxValue);
        Console.WriteLine($"A/B: {turns.Count} turns from {source}, document {encoders[0].DocumentTokenIds(Document).Length} tokens, query {encoders[0].QueryTokenIds(Query).Length} tokens with the prefix");
        var figures = settings.Select(_ => new List<string>()).ToArray();
        for (int round = 0; round < 3; round++)
            for (int e = 0; e < encoders.Length; e++)
            {
                var encoder = encoders[e];
                double document = P50(() => encoder.Embed(Document), iterations), query = P50(() => encoder.EmbedQuery(Query), iterations);
                // The calling thread's CPU time per call (one intra-op thread runs on it): less moved by other processes than the wall clock.
                double documentCpu = P50(() => encoder.Embed(Document), iterations, ThreadCpu.Milliseconds);
                double queryCpu = P50(() => encoder.EmbedQuery(Query), iterations, ThreadCpu.Milliseconds);
                encoder.EmbedBatch(turns.Take(64).ToList());
                TimeSpan cpu0 = EncoderBench.CpuTime();
                long t0 = Stopwatch.GetTimestamp();
                for (int i = 0; i < turns.Count; i += 64) encoder.EmbedBatch(turns.GetRange(i, Math.Min(64, turns.Count - i)));
                double wall = Stopwatch.GetElapsedTime(t0).TotalSeconds, cpu = (EncoderBench.CpuTime() - cpu0).TotalSeconds;
                figures[e].Add($"doc {document:F2} ms, query {query:F2} ms, batch {turns.Count / wall:F0}/s ({turns.Count / cpu:F0} per CPU-s); " +
                               $"calling thread's CPU p50: doc {documentCpu:F2} ms, query {queryCpu:F2} ms");
            }
        for (int e = 0; e < encoders.Length; e++)
        {
            string file = settings[e].Directory == directory ? "" : $" from {otherInt8}";
            Console.WriteLine($"{settings[e].Weights} weights{file}, {settings[e].Threads.IntraOpThreads} intra-op thread(s): load {encoders[e].LoadTime.TotalMilliseconds:F0} ms");
            foreach (var line in figures[e]) Console.WriteLine("    " + line);
            encoders[e].Dispose();
        }
        return 0;
    }

    /// <summary>A temporary model folder: the given folder's vocabulary and config, and <paramref name="int8File"/> as its int8 model (with its word-embedding table, if one lies beside it).</summary>
    private static string FolderWithInt8File(string directory, string int8File)
    {
        string folder = Directory.CreateTempSubdirectory("mcp-memory-ab-").FullName;
        foreach (var file in new[] { OnnxEncoder.VocabularyFile, OnnxModelConfig.FileName })
            File.CreateSymbolicLink(Path.Combine(folder, file), Path.Combine(directory, file));
        File.CreateSymbolicLink(Path.Combine(folder, OnnxEncoder.Int8ModelFile), Path.GetFullPath(int8File));
        // A build that took the word-embedding table out of the graph ships it beside the int8 file.
        var table = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(int8File))!, OnnxEncoder.WordEmbeddingsFile);
        if (File.Exists(table)) File.CreateSymbolicLink(Path.Combine(folder, OnnxEncoder.WordEmbeddingsFile), table);
        return folder;
    }

    private static double P50(Action action, int iterations, Func<double>? clockMs = null)
    {
        clockMs ??= () => Stopwatch.GetTimestamp() * 1e3 / Stopwatch.Frequency;
        for (int i = 0; i < 20; i++) action();
        var latencies = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            double t0 = clockMs();
            action();
            latencies[i] = clockMs() - t0;
        }
        Array.Sort(latencies);
        return latencies[iterations / 2];
    }
}

/// <summary>The calling thread's CPU time (Linux: clock_gettime(CLOCK_THREAD_CPUTIME_ID); elsewhere NaN).</summary>
internal static partial class ThreadCpu
{
    private const int ClockThreadCpuTime = 3;

    public static double Milliseconds() =>
        OperatingSystem.IsLinux() && clock_gettime(ClockThreadCpuTime, out var time) == 0 ? time.Seconds * 1e3 + time.Nanoseconds / 1e6 : double.NaN;

    [System.Runtime.InteropServices.LibraryImport("libc")]
    private static partial int clock_gettime(int clock, out TimeSpec time);

    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
