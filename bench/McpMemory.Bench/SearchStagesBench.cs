using System.Diagnostics;
using System.Reflection;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Embeddings.Onnx;
using McpMemory.Core.Indexes;
using McpMemory.Core.Indexes.Keywords;
using McpMemory.Core.Indexes.Vectors;
using McpMemory.Core.Knowledge;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;

namespace McpMemory.Bench;

/// <summary>
/// Where one search_memory's time goes inside the server, stage by stage, at each size: the query embedding (the real
/// arctic-embed-xs encoder), the keyword index, the int8 vector scan, the whole hybrid search with its query embedded
/// (distinct queries: no query-vector cache hit) and without (the same query again: a cache hit), and search_memory's
/// skills-first step on top.
/// Stages run interleaved query by query, so the machine's load falls on all alike. The
/// stored vectors come from a cheap generator with the encoder's dimension (the scan's cost depends on count and
/// dimension, not on the values), so a 50K store fills in seconds. Wall p50 per stage, and the process CPU per call.
///   dotnet run -c Release --project bench/McpMemory.Bench -- searchstages [--sizes 10000,50000] [--queries 300]
/// </summary>
internal static class SearchStagesBench
{
    public static Task<int> RunAsync(string[] args)
    {
        var sizes = (ToolUnderTest.Option(args, "--sizes") ?? "10000,50000").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        var count = ToolUnderTest.IntOption(args, "--queries", 300);
        var encoder = OnnxEncoder.LoadDefault();
        var caller = new Caller("project:bench", "bench");
        Console.WriteLine($"searchstages — {Environment.ProcessorCount} cores; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}; encoder {encoder.ModelId}");
        DotProductPaths(encoder.Dimension);
        foreach (var size in sizes)
        {
            var dir = Directory.CreateTempSubdirectory("mcp-memory-stages-");
            try
            {
                var path = Path.Combine(dir.FullName, "stages.db");
                var embedder = new QueryEncoderEmbedder(encoder);
                var options = MemoryOptions.Default with { MergeDuplicates = false, EmbeddingInterval = TimeSpan.Zero };
                var corpus = new CorpusGenerator(seed: size);
                using (var fill = MemoryService.Open(path, options, EmbedderProvider.Ready(embedder)))
                {
                    fill.WaitForVectors(TimeSpan.FromMinutes(1));
                    for (var done = 0; done < size; done += 2000)
                        fill.StoreMany(caller, Enumerable.Range(0, Math.Min(2000, size - done)).Select(_ => new NewMemory { Content = corpus.Next() }).ToList());
                }
                using var service = MemoryService.Open(path, options, EmbedderProvider.Ready(embedder));
                service.WaitForKeywordIndex(TimeSpan.FromMinutes(5));
                service.WaitForVectors(TimeSpan.FromMinutes(5));
                var indexes = (MemoryIndexes)typeof(MemoryService).GetField("_indexes", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(service)!;
                var skills = new SkillBook(service);
                var filter = new IndexFilter(caller.DefaultSearchNamespaces(), null, 0, null, null, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), null, []);
                var queries = new CorpusGenerator.DistinctQueries(new CorpusGenerator(seed: size + 1));
                var stages = new[] { "embed query", "keyword index", "vector scan", "hybrid search (embeds)", "hybrid search (cached vector)", "search_memory (skills first)" };
                var wall = stages.ToDictionary(s => s, _ => new List<double>());
                var cpu = stages.ToDictionary(s => s, _ => TimeSpan.Zero);
                var n = service.Ranking.CandidatesPerSource;
                // The first 100 warm up: with 20, the first size still ran on partly unoptimised (tier-0) code (its non-scan
                // stages measured ~2× their steady state; a Native AOT server has no such phase).
                for (var i = -100; i < count; i++)
                {
                    var q = queries.Next();
                    float[] vector = [];
                    Time("embed query", () => vector = encoder.EmbedQuery(q));
                    Time("keyword index", () => indexes.Keywords.Index!.Search(KeywordIndex.QueryTerms(q), n, filter));
                    Time("vector scan", () => indexes.Vectors.Ready!.Value.Index.Search(vector, n * 2, filter));
                    Time("hybrid search (embeds)", () => service.Search(caller, new SearchRequest { Query = q }, trackAccess: false));
                    Time("hybrid search (cached vector)", () => service.Search(caller, new SearchRequest { Query = q }, trackAccess: false));
                    var q2 = queries.Next();
                    Time("search_memory (skills first)", () => skills.Search(caller, new SearchRequest { Query = q2 }, trackAccess: false));

                    void Time(string stage, Action action)
                    {
                        using var self = Process.GetCurrentProcess();
                        var cpuBefore = self.TotalProcessorTime;
                        var started = Stopwatch.GetTimestamp();
                        action();
                        var elapsed = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
                        self.Refresh();
                        if (i < 0) return;
                        wall[stage].Add(elapsed);
                        cpu[stage] += self.TotalProcessorTime - cpuBefore;
                    }
                }
                Console.WriteLine($"\n== {size:N0} memories, {count} distinct queries; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} ==");
                foreach (var stage in stages)
                {
                    var latency = Measure.Summarise([.. wall[stage]]);
                    Console.WriteLine($"  {stage,-30} {latency}   CPU {Measure.Fmt(cpu[stage].TotalMicroseconds / count)}/call");
                }
            }
            finally { dir.Delete(recursive: true); }
        }
        return Task.FromResult(0);
    }

    /// <summary>
    /// The int8 dot product per stored vector on each path this CPU has, interleaved pass by pass over 10,000 vectors
    /// (3.8 MB at 384 dimensions: the scan's working set at 10K), median ns per vector and the ratio to the scalar loop.
    /// </summary>
    private static void DotProductPaths(int dimension)
    {
        const int slots = 10_000;
        var random = new Random(7);
        var codes = new byte[slots * dimension];
        random.NextBytes(codes);
        for (var i = 0; i < codes.Length; i++) codes[i] = (byte)Math.Clamp((int)codes[i], 1, 255);
        var query = new sbyte[dimension];
        var sum = 0;
        for (var i = 0; i < dimension; i++) sum += query[i] = (sbyte)random.Next(-127, 128);
        var paths = new List<(string Name, Func<ReadOnlySpan<byte>, int> Dot)> { ("scalar", u => VectorCodec.DotScalar(u, query, sum)) };
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported) paths.Add(("avx2", u => VectorCodec.DotAvx2(u, query)));
        if (System.Runtime.Intrinsics.X86.AvxVnni.IsSupported) paths.Add(("avx-vnni", u => VectorCodec.DotAvxVnni(u, query, sum)));
        paths.Add(("DotInt8 (dispatch)", u => VectorCodec.DotInt8(u, query, sum)));
        var samples = paths.ToDictionary(p => p.Name, _ => new List<double>());
        var check = new Dictionary<string, long>();
        var deadline = Stopwatch.StartNew();
        for (var round = 0; round < 60 && deadline.Elapsed < TimeSpan.FromSeconds(20); round++)
            foreach (var (name, dot) in paths)
            {
                var started = Stopwatch.GetTimestamp();
                long total = 0;
                for (var slot = 0; slot < slots; slot++) total += dot(codes.AsSpan(slot * dimension, dimension));
                samples[name].Add(Stopwatch.GetElapsedTime(started).TotalNanoseconds / slots);
                check[name] = total;
            }
        var scalar = Median(samples["scalar"]);
        Console.WriteLine($"int8 dot product, {dimension} dimensions, ns per vector (median of {samples["scalar"].Count} passes over {slots:N0}):");
        foreach (var (name, _) in paths)
            Console.WriteLine($"  {name,-20} {Median(samples[name]),7:0.0} ns   {scalar / Median(samples[name]),5:0.0}× scalar{(check[name] == check["scalar"] ? "" : "   SUM DIFFERS")}");

        static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
    }

    /// <summary>
    /// Stored texts get cheap generated vectors of the encoder's dimension; a query goes through the real encoder, so the
    /// query embedding costs what it costs in the server.
    /// </summary>
    private sealed class QueryEncoderEmbedder(IEmbedder encoder) : IEmbedder
    {
        private readonly ScaleBench.HashEmbedder _hash = new();
        public string ModelId => encoder.ModelId;
        public int Dimension => encoder.Dimension;

        public float[] Embed(string text) => _hash.Embed(text).AsSpan(0, Dimension).ToArray() is var v && Normalize(v) ? v : v;
        public float[] EmbedQuery(string text) => encoder.EmbedQuery(text);
        public float[][] EmbedBatch(IReadOnlyList<string> texts) => texts.Select(Embed).ToArray();

        private static bool Normalize(float[] v)
        {
            var norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares(v));
            if (norm > 0) System.Numerics.Tensors.TensorPrimitives.Divide(v, norm, v);
            return true;
        }
    }
}
