using System.Diagnostics;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;

namespace McpMemory.Bench;

/// <summary>
/// Issue 4's scale figures: stores of 1K … 500K memories of varied text; get-by-id, FTS, vector and hybrid
/// latency p50/p95, batched writes/s, bytes per memory with vectors, RSS, and insert + embed end to end with the
/// real encoder. Vectors of the big stores come from a cheap deterministic generator (as the issue allows) but
/// are stored, loaded and scanned for real. Baseline in the same run: an exact float32 brute-force scan.
///   dotnet run -c Release --project bench/McpMemory.Bench -- scale [--sizes 1000,10000,100000,500000]
/// </summary>
internal static class ScaleBench
{
    public static Task<int> Run(string[] args)
    {
        var sizes = StorageBench.Option(args, "--sizes")?.Split(',').Select(int.Parse).ToArray() ?? [1_000, 10_000, 100_000, 500_000];
        var caller = new Caller("project:bench", "bench");
        Console.WriteLine($"scale bench — {Environment.ProcessorCount} cores; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        InsertAndEmbed(caller, args.Contains("--use-lite") ? UseLiteEncoder.LoadDefault() : McpMemory.Core.Embeddings.Onnx.OnnxEncoder.LoadDefault());

        foreach (var size in sizes)
        {
            var dir = Directory.CreateTempSubdirectory("mcp-memory-scale-");
            try
            {
                var path = Path.Combine(dir.FullName, "scale.db");
                var embedder = new HashEmbedder();
                var options = MemoryOptions.Default with { MergeDuplicates = false, EmbeddingInterval = TimeSpan.Zero };
                var corpus = new CorpusGenerator(seed: size);
                var writesPerSecond = Fill(path, size, options, embedder, corpus, caller);
                var bytes = new FileInfo(path).Length + (File.Exists(path + "-wal") ? new FileInfo(path + "-wal").Length : 0);

                // Reopen: the indexes are rebuilt from the file, as a server does at start.
                GC.Collect();
                var rssBefore = Measure.RssBytes();
                var open = Stopwatch.StartNew();
                using var reopened = MemoryService.Open(path, options, EmbedderProvider.Ready(embedder));
                reopened.WaitForKeywordIndex(TimeSpan.FromMinutes(5));
                var keywordLoad = open.Elapsed;
                reopened.WaitForVectors(TimeSpan.FromMinutes(5));
                var indexLoad = open.Elapsed;
                var heap = GC.GetTotalMemory(forceFullCollection: true); // live objects: both indexes and the caches
                var rss = Measure.RssBytes();

                Console.WriteLine($"\n== {size:N0} memories == batched writes (with vectors) {writesPerSecond:N0}/s; {bytes / (double)size:N0} B per memory with vectors; " +
                                  $"indexes loaded in {indexLoad.TotalSeconds:0.0} s (keywords {keywordLoad.TotalSeconds:0.0} s, both in the background); RSS {rss / 1048576.0:N0} MB (+{(rss - rssBefore) / 1048576.0:N0} MB for this store), live managed heap {heap / 1048576.0:N0} MB");
                var queries = Enumerable.Range(0, 100).Select(_ => corpus.Query()).ToArray();
                var ids = reopened.Search(caller, new SearchRequest { Query = "cache", TopK = 100, Mode = "fts" }, trackAccess: false).Results.Select(r => r.Memory.Id).ToArray();
                var calls = size >= 100_000 ? 200 : 1000;
                Console.WriteLine($"  get-by-id  {Measure.Calls(5000, i => reopened.Get(caller, ids[i % ids.Length]))}");
                foreach (var mode in new[] { "fts", "vector", "hybrid" })
                    Console.WriteLine($"  {mode,-10} {Measure.Calls(calls, i => reopened.Search(caller, new SearchRequest { Query = queries[i % queries.Length], Mode = mode }, trackAccess: false), warmup: calls)}");
                using (var sqlOnly = MemoryService.Open(path, options with { KeywordIndex = false }))
                    Console.WriteLine($"  baseline: the same keyword search in FTS5 (no keyword index) {Measure.Calls(calls, i => sqlOnly.Search(caller, new SearchRequest { Query = queries[i % queries.Length], Mode = "fts" }, trackAccess: false), warmup: calls)}");
                var (exact, recall) = ExactScan(path, embedder, queries, calls, reopened, caller);
                Console.WriteLine($"  baseline: exact float32 brute-force scan of every stored vector {exact}\n  vector search recall@10 against that exact top-10 ({queries.Length} queries): {recall:0.000}   (issue 4: ≥ 0.99)");
            }
            finally { dir.Delete(recursive: true); }
        }
        return Task.FromResult(0);
    }

    /// <summary>
    /// Writes the store in batches of 2,000; returns writes per second. A method of its own so that the writing
    /// service is unreachable once it returns (a local of a long method stays rooted in unoptimised code).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static double Fill(string path, int size, MemoryOptions options, IEmbedder embedder, CorpusGenerator corpus, Caller caller)
    {
        var load = Stopwatch.StartNew();
        using var service = MemoryService.Open(path, options, EmbedderProvider.Ready(embedder));
        service.WaitForVectors(TimeSpan.FromMinutes(1));
        for (var done = 0; done < size; done += 2000)
            service.StoreMany(caller, Enumerable.Range(0, Math.Min(2000, size - done)).Select(_ => new NewMemory { Content = corpus.Next() }).ToList());
        return size / load.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Store + embed one memory at a time with the real encoder into a 10K store (the agent's write path): the default
    /// encoder (arctic-embed-xs, int8 weights), or USE-lite with --use-lite.
    /// </summary>
    private static void InsertAndEmbed(Caller caller, IEmbedder encoder)
    {
        var dir = Directory.CreateTempSubdirectory("mcp-memory-scale-");
        try
        {
            using var service = MemoryService.Open(Path.Combine(dir.FullName, "e2e.db"), MemoryOptions.Default with { EmbeddingInterval = TimeSpan.Zero }, EmbedderProvider.Ready(encoder));
            service.WaitForVectors(TimeSpan.FromMinutes(1));
            var corpus = new CorpusGenerator(seed: 7);
            for (var done = 0; done < 10_000; done += 500)
                service.StoreMany(caller, Enumerable.Range(0, 500).Select(_ => new NewMemory { Content = corpus.Next() }).ToList());
            // Prose of about 150 characters (the length of the LoCoMo turns issue 3 measures the encoder on), made unique
            // by a short counter; then the same with a GUID appended, whose hex tokenizes into ~25 more pieces.
            var n = 0;
            var prose = Measure.Calls(200, _ => service.Store(caller, new NewMemory { Content = $"{corpus.Next()} (note {++n})" }), warmup: 10);
            var embedProse = Measure.Calls(200, _ => encoder.Embed($"{corpus.Next()} (note {++n})"), warmup: 10);
            var withGuid = Measure.Calls(200, _ => service.Store(caller, new NewMemory { Content = corpus.Next() + " " + Guid.NewGuid() }), warmup: 10);
            var embedGuid = Measure.Calls(200, _ => encoder.Embed(corpus.Next() + " " + Guid.NewGuid()), warmup: 10);
            Console.WriteLine($"insert + embed ({encoder.ModelId}, dedup check, fsync) into a 10K store, ~150-char prose: {prose}   target ≤ 8 ms (issue 19); Memori 18 ms");
            Console.WriteLine($"  of which embedding such a text alone: {embedProse}");
            Console.WriteLine($"  the same with a GUID appended: {withGuid}; embedding alone {embedGuid}");
        }
        finally { dir.Delete(recursive: true); }
    }

    /// <summary>
    /// The baseline: an exact float32 scan of every stored vector (latency), and the recall@10 of the engine's vector
    /// search (int8 scan, exact re-rank) against that exact top-10 over the same queries.
    /// </summary>
    private static (Measure.Latency Latency, double Recall) ExactScan(string path, IEmbedder embedder, string[] queries, int calls,
        MemoryService service, Caller caller)
    {
        var seqs = new List<long>();
        var vectors = new List<float[]>();
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT seq, vector FROM memory_vectors";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                seqs.Add(reader.GetInt64(0));
                vectors.Add(Core.Indexes.Vectors.VectorCodec.FromBlob((byte[])reader[1]));
            }
        }
        var embedded = queries.Select(embedder.Embed).ToArray();
        var latency = Measure.Calls(Math.Min(calls, 100), i => Top10(embedded[i % embedded.Length]), warmup: 3);
        var found = 0;
        for (var i = 0; i < queries.Length; i++)
        {
            var exact = Top10(embedded[i]).Select(j => seqs[j]).ToHashSet();
            var engine = service.Search(caller, new SearchRequest { Query = queries[i], Mode = "vector", TopK = 10 }, trackAccess: false);
            found += engine.Results.Count(r => exact.Contains(r.Memory.Seq));
        }
        return (latency, found / (10.0 * queries.Length));

        List<int> Top10(float[] q)
        {
            var best = new PriorityQueue<int, float>();
            for (var j = 0; j < vectors.Count; j++)
            {
                var score = System.Numerics.Tensors.TensorPrimitives.Dot(q, vectors[j]);
                if (best.Count < 10) best.Enqueue(j, score);
                else if (best.TryPeek(out _, out var worst) && score > worst) best.EnqueueDequeue(j, score);
            }
            return [.. best.UnorderedItems.Select(x => x.Element)];
        }
    }

    /// <summary>Cheap deterministic unit vectors from the text's words (similar texts share components), for big stores.</summary>
    internal sealed class HashEmbedder : IEmbedder
    {
        public string ModelId => "bench-hash@1";
        public int Dimension => 512;

        public float[] Embed(string text)
        {
            var v = new float[Dimension];
            foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var random = new Random(StringComparer.Ordinal.GetHashCode(word.ToLowerInvariant()) & 0x7fffffff);
                for (var k = 0; k < 8; k++) v[random.Next(Dimension)] += (float)(random.NextDouble() * 2 - 1);
            }
            var norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares(v));
            if (norm > 0) System.Numerics.Tensors.TensorPrimitives.Divide(v, norm, v);
            return v;
        }

        public float[][] EmbedBatch(IReadOnlyList<string> texts) => texts.Select(Embed).ToArray();
    }
}
