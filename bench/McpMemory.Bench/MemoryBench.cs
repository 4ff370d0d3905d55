using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using McpMemory.Core;
using McpMemory.Core.Briefing;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Embeddings.Onnx;
using McpMemory.Core.Memories;

namespace McpMemory.Bench;

/// <summary>
/// Where a server's memory goes (issue 20's breakdown), part by part, each measured as the growth of this process's RSS
/// and managed heap when the part is added, in a fresh child process per variant:
/// runtime baseline → a store of --size memories opened (managed heap, keyword and vector indexes, SQLite's cache) →
/// the ONNX encoder loaded (weights, session) → after a workload (single queries, single documents, a batch: arenas,
/// buffers) → cl100k loaded (the briefing's token counter).
/// Variants of ONNX Runtime's session options run interleaved (--rounds), each with its speed, so a setting's memory
/// saving is seen against its latency cost in the same run.
///   dotnet run -c Release --project bench/McpMemory.Bench -- memory [--size 10000] [--rounds 2] [--variants default,no-arena,...]
/// </summary>
internal static class MemoryBench
{
    private static readonly Dictionary<string, OnnxRunSettings> Variants = new()
    {
        ["default"] = OnnxRunSettings.Default,
        ["arena-on"] = OnnxRunSettings.Default with { CpuMemArena = true },
        ["no-arena"] = OnnxRunSettings.Default with { CpuMemArena = false },
        ["no-pattern"] = OnnxRunSettings.Default with { MemoryPattern = false },
        ["no-prepack"] = OnnxRunSettings.Default with { Prepacking = false },
        ["init-outside"] = OnnxRunSettings.Default with { InitializersOutsideArena = true },
        ["all-off"] = OnnxRunSettings.Default with { CpuMemArena = false, MemoryPattern = false, Prepacking = false },
    };

    public static async Task<int> RunAsync(string[] args)
    {
        if (ToolUnderTest.Option(args, "--child") is { } variant) return Child(variant, args);
        var size = ToolUnderTest.IntOption(args, "--size", 10_000);
        var rounds = ToolUnderTest.IntOption(args, "--rounds", 2);
        var variants = (ToolUnderTest.Option(args, "--variants") ?? "default,no-arena,no-pattern,no-prepack,all-off").Split(',');
        Console.WriteLine($"memory: {size:N0} memories, variants {string.Join(", ", variants)}, {rounds} rounds interleaved; {Environment.ProcessorCount} cores, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        var db = FillStore(size);
        try
        {
            var results = variants.ToDictionary(v => v, _ => new List<Dictionary<string, double>>());
            for (var round = 0; round < rounds; round++)
                foreach (var v in round % 2 == 0 ? variants : variants.Reverse())
                    results[v].Add(await RunChildAsync(v, db));
            Console.WriteLine("\nmedians over rounds (MiB of RSS; managed heap in brackets; speed single-threaded):");
            foreach (var v in variants)
            {
                double M(string key) => results[v].Select(r => r[key]).Order().ElementAt(results[v].Count / 2);
                Console.WriteLine($"{v,-11} runtime {M("rss0"),5:F0} | store +{M("store") ,4:F0} [heap +{M("storeHeap"),3:F0}] | encoder load +{M("load"),4:F0} | " +
                                  $"after workload +{M("work"),4:F0} | cl100k +{M("cl100k"),3:F0} [heap +{M("cl100kHeap"),3:F0}] | total {M("rss"),4:F0} (peak {M("hwm"),4:F0}) || " +
                                  $"query p50 {M("query"),5:F2} ms  doc p50 {M("doc"),5:F2} ms  batch {M("batch"),4:F0} texts/s");
            }
            return 0;
        }
        finally { File.Delete(db); }
    }

    private static async Task<Dictionary<string, double>> RunChildAsync(string variant, string db)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        // The server keeps gen0 at 16 MiB (Gen0Pacer); without the same cap here, the GC's own budget (half the L3: ~130 MiB
        // on this host) would show up as garbage in whichever part allocates.
        start.Environment["DOTNET_GCgen0size"] = "0x1000000";
        foreach (var a in new[] { typeof(MemoryBench).Assembly.Location, "memory", "--child", variant, "--db", db }) start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        var output = await child.StandardOutput.ReadToEndAsync();
        await child.WaitForExitAsync();
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith('{')) ?? throw new InvalidOperationException($"child {variant} failed: {output}");
        var figures = JsonSerializer.Deserialize<Dictionary<string, double>>(line)!;
        Console.WriteLine($"  {variant}: {line}");
        return figures;
    }

    /// <summary>A store of <paramref name="size"/> memories with 384-d vectors (a hash stand-in: the index is the same size).</summary>
    private static string FillStore(int size)
    {
        var path = Path.Combine(ToolUnderTest.TempFolder(), "memory.db");
        var corpus = new CorpusGenerator(seed: 20);
        using var service = MemoryService.Open(path, MemoryOptions.Default with { MergeDuplicates = false, EmbeddingInterval = TimeSpan.Zero },
            EmbedderProvider.Ready(new Stand384()));
        var caller = new Caller("project:bench", "bench");
        for (var done = 0; done < size; done += 500)
            service.StoreMany(caller, Enumerable.Range(done, Math.Min(500, size - done)).Select(i => new NewMemory { Content = $"{corpus.Next()} (note {i})" }).ToList());
        return path;
    }

    private static int Child(string variant, string[] args)
    {
        var figures = new Dictionary<string, double>();
        var rss0 = RssMiB();
        figures["rss0"] = rss0;

        // The store, opened as the server opens it (indexes built), with no encoder: only its own memory.
        var heap0 = HeapMiB();
        var before = RssMiB();
        var service = MemoryService.Open(ToolUnderTest.Option(args, "--db")!, MemoryOptions.Default with { EmbeddingInterval = TimeSpan.Zero },
            EmbedderProvider.Ready(new Stand384()));
        service.WaitForKeywordIndex(TimeSpan.FromMinutes(5));
        service.WaitForVectors(TimeSpan.FromMinutes(5));
        figures["store"] = RssMiB() - before;
        figures["storeHeap"] = HeapMiB() - heap0;

        before = RssMiB();
        using var encoder = OnnxEncoder.Load(OnnxEncoder.DefaultDirectory, Variants[variant]);
        figures["load"] = RssMiB() - before;

        before = RssMiB();
        var corpus = new CorpusGenerator(seed: 7);
        var docs = Enumerable.Range(0, 300).Select(_ => corpus.Next()).ToArray();
        var queries = Enumerable.Range(0, 300).Select(_ => corpus.Query()).ToArray();
        figures["query"] = Measure.Calls(300, i => encoder.EmbedQuery(queries[i]), warmup: 30).P50 / 1000;
        figures["doc"] = Measure.Calls(300, i => encoder.Embed(docs[i]), warmup: 30).P50 / 1000;
        var watch = Stopwatch.StartNew();
        encoder.EmbedBatch(docs);
        figures["batch"] = docs.Length / watch.Elapsed.TotalSeconds;
        encoder.EmbedQuery(string.Join(' ', Enumerable.Repeat("long text to the token limit", 120))); // a 512-token input
        figures["work"] = RssMiB() - before;

        heap0 = HeapMiB();
        before = RssMiB();
        TokenCounter.Load();
        figures["cl100k"] = RssMiB() - before;
        figures["cl100kHeap"] = HeapMiB() - heap0;
        figures["rss"] = RssMiB();
        figures["hwm"] = StatusMiB("VmHWM");
        figures["heap"] = HeapMiB();
        GC.KeepAlive(service);
        Console.WriteLine(JsonSerializer.Serialize(figures.ToDictionary(f => f.Key, f => Math.Round(f.Value, 2))));
        return 0;
    }

    private static double RssMiB() => StatusMiB("VmRSS");

    /// <summary>Managed heap after a full blocking collection (what is live, plus fragmentation), in MiB.</summary>
    private static double HeapMiB()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0;
    }

    private static double StatusMiB(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }

    /// <summary>384-d stand-in vectors (arctic-embed-xs's dimension), so the vector index has the real one's size.</summary>
    private sealed class Stand384 : IEmbedder
    {
        private readonly ScaleBench.HashEmbedder _hash = new();
        public string ModelId => "bench-hash-384@1";
        public int Dimension => 384;
        public float[] Embed(string text) => _hash.Embed(text)[..384];
        public float[][] EmbedBatch(IReadOnlyList<string> texts) => texts.Select(Embed).ToArray();
    }
}
