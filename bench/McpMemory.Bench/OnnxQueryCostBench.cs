using System.Diagnostics;
using System.Numerics.Tensors;
using System.Text.Json;
using McpMemory.Core.Embeddings.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace McpMemory.Bench;

/// <summary>
/// Where one search query's embedding goes (the built-in int8 arctic-embed-xs), on distinct queries as search sees them:
/// tokenizing, the word-embedding rows, the OrtValues, ONNX Runtime's Run, pooling; the Run with the weights in the caches
/// or not; ONNX Runtime's own profile of the Run by op type; and variants (the model before the [CLS] cut, session
/// settings) against the encoder's model, query by query in rotating order (same queries, same process).
/// </summary>
/// <remarks>dotnet run -c Release --project bench/McpMemory.Bench -- encoder --model arctic-embed-xs --query-cost [--queries 300] [--parts stages,residency,profile,variants]</remarks>
internal static class OnnxQueryCostBench
{
    public static int Run(string[] args, string directory)
    {
        int count = int.Parse(EncoderBench.Option(args, "--queries") ?? "300");
        using var encoder = OnnxEncoder.Load(directory);
        var queries = Queries(count + 30);
        Console.WriteLine($"query cost: {count} distinct queries (CorpusGenerator.DistinctQueries), {encoder.ModelId}; load average {LoadAverage()}");
        var lengths = queries.Select(q => encoder.QueryTokenIds(q).Length).Order().ToArray();
        Console.WriteLine($"tokens with the prefix: min {lengths[0]}, p50 {lengths[lengths.Length / 2]}, max {lengths[^1]}");
        // --parts stages,residency,profile,variants (default: all)
        var parts = (EncoderBench.Option(args, "--parts") ?? "stages,residency,profile,variants").Split(',');
        if (parts.Contains("stages")) Stages(encoder, directory, queries, count);
        if (parts.Contains("residency")) Residency(encoder, directory, queries, count);
        if (parts.Contains("profile")) Profile(encoder, directory, queries, count);
        if (parts.Contains("variants")) Variants(encoder, directory, queries, count, args);
        Console.WriteLine($"load average at the end {LoadAverage()}");
        return 0;
    }

    private static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static List<string> Queries(int count)
    {
        var generator = new CorpusGenerator.DistinctQueries(new CorpusGenerator(seed: 10001));
        return Enumerable.Range(0, count).Select(_ => generator.Next()).ToList();
    }

    /// <summary>One query's steps timed one by one (the encoder's own pipeline rebuilt over a session of the same file).</summary>
    private static void Stages(OnnxEncoder encoder, string directory, List<string> queries, int count)
    {
        using var pipeline = new Pipeline(directory, OnnxRunSettings.Default.CreateSessionOptions());
        string[] names = ["tokenize", "word-embedding rows", "OrtValues", "Run", "pool + normalise", "whole (rebuilt)", "EmbedQuery (encoder)"];
        var wall = names.ToDictionary(n => n, _ => new List<double>());
        var cpu = names.ToDictionary(n => n, _ => new List<double>());
        double maxDifference = 0;
        for (int i = 0; i < queries.Count; i++)
        {
            string q = queries[i];
            long[] ids = [];
            Time("tokenize", () => ids = encoder.QueryTokenIds(q));
            Time("word-embedding rows", () => pipeline.ReadRows(ids));
            Time("OrtValues", () => pipeline.CreateValues(ids.Length));
            Time("Run", pipeline.RunOnly);
            float[] vector = [];
            Time("pool + normalise", () => vector = pipeline.Pool());
            pipeline.DisposeValues();
            float[] rebuilt = [], production = [];
            Time("whole (rebuilt)", () => rebuilt = pipeline.Embed(encoder.QueryTokenIds(q)));
            Time("EmbedQuery (encoder)", () => production = encoder.EmbedQuery(q));
            for (int d = 0; d < vector.Length; d++)
                maxDifference = Math.Max(maxDifference, Math.Max(Math.Abs(vector[d] - production[d]), Math.Abs(rebuilt[d] - production[d])));

            void Time(string name, Action action)
            {
                double c0 = ThreadCpu.Milliseconds();
                long t0 = Stopwatch.GetTimestamp();
                action();
                double elapsed = Stopwatch.GetElapsedTime(t0).TotalMicroseconds, used = (ThreadCpu.Milliseconds() - c0) * 1e3;
                if (i < queries.Count - count) return;
                wall[name].Add(elapsed);
                cpu[name].Add(used);
            }
        }
        Console.WriteLine($"\nstages (the rebuilt pipeline's vectors equal EmbedQuery's: max |difference| {maxDifference:G3}); wall and calling thread's CPU:");
        foreach (var name in names)
            Console.WriteLine($"  {name,-22} wall {Measure.Summarise([.. wall[name]])}   CPU p50 {Measure.Fmt(Measure.Summarise([.. cpu[name]]).P50)}");
    }

    /// <summary>
    /// The same Run with the weights hot in the caches (the previous run was the same query, or another), and after reading
    /// 64 MiB of other memory (what a search's other work, or another process, does to the last-level cache between queries).
    /// </summary>
    private static void Residency(OnnxEncoder encoder, string directory, List<string> queries, int count)
    {
        using var pipeline = new Pipeline(directory, OnnxRunSettings.Default.CreateSessionOptions());
        var sweep = new long[64 << 20 >> 3];
        long sink = 0;
        string[] names = ["after 64 MiB of other reads", "same query again (hot)", "next query (hot)", "the encoder bench's query"];
        long[] benchQuery = encoder.QueryTokenIds("which port does staging postgres use?");
        var byLength = new SortedDictionary<int, List<double>>();
        var wall = names.Select(_ => new List<double>()).ToArray();
        var cpu = names.Select(_ => new List<double>()).ToArray();
        for (int i = 0; i + 1 < queries.Count; i++)
        {
            long[] ids = encoder.QueryTokenIds(queries[i]), next = encoder.QueryTokenIds(queries[i + 1]);
            for (int j = 0; j < sweep.Length; j += 8) sink += sweep[j]++;
            Time(0, ids);
            Time(1, ids);
            Time(2, next);
            Time(3, benchQuery);

            void Time(int n, long[] input)
            {
                double c0 = ThreadCpu.Milliseconds();
                long t0 = Stopwatch.GetTimestamp();
                pipeline.Embed(input);
                double elapsed = Stopwatch.GetElapsedTime(t0).TotalMicroseconds, used = (ThreadCpu.Milliseconds() - c0) * 1e3;
                if (i < queries.Count - count) return;
                wall[n].Add(elapsed);
                cpu[n].Add(used);
                if (n == 2) (byLength.TryGetValue(input.Length, out var list) ? list : byLength[input.Length] = []).Add(used);
            }
        }
        GC.KeepAlive(sink);
        Console.WriteLine($"\ncache residency (one session, the same queries); load average {LoadAverage()}:");
        for (int n = 0; n < names.Length; n++)
            Console.WriteLine($"  {names[n],-28} wall {Measure.Summarise([.. wall[n]])}   CPU p50 {Measure.Fmt(Measure.Summarise([.. cpu[n]]).P50)}");
        Console.WriteLine($"  the bench's query has {benchQuery.Length} tokens; next query's CPU p50 by token count: " +
                          string.Join(", ", byLength.Where(p => p.Value.Count >= 5).Select(p => $"{p.Key}: {Measure.Fmt(Measure.Summarise([.. p.Value]).P50)} (n={p.Value.Count})")));
    }

    /// <summary>ONNX Runtime's profile of the runs, summed by op type, against the Run's total (the rest is per-node and per-run overhead).</summary>
    private static void Profile(OnnxEncoder encoder, string directory, List<string> queries, int count, string? modelFile = null)
    {
        string prefix = Path.Combine(Path.GetTempPath(), $"mcp-memory-ort-profile-{Environment.ProcessId}");
        using var options = OnnxRunSettings.Default.CreateSessionOptions();
        options.EnableProfiling = true;
        options.ProfileOutputPathPrefix = prefix;
        string file;
        using (var pipeline = new Pipeline(directory, options, modelFile))
        {
            foreach (var q in queries) pipeline.Embed(encoder.QueryTokenIds(q));
            file = pipeline.Session.EndProfiling();
        }
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            var runs = new List<double>();
            var byOp = new Dictionary<string, (double Micros, int Nodes)>();
            var events = json.RootElement.EnumerateArray().ToList();
            // The first runs warm up: keep the last `count` runs' events (events are in time order).
            var runEvents = events.Where(e => e.GetProperty("name").GetString() == "model_run").ToList();
            long from = runEvents[^count].GetProperty("ts").GetInt64();
            foreach (var e in events)
            {
                if (e.GetProperty("ts").GetInt64() < from) continue;
                string name = e.GetProperty("name").GetString()!;
                if (name == "model_run") runs.Add(e.GetProperty("dur").GetInt64());
                else if (e.GetProperty("cat").GetString() == "Node" && name.EndsWith("_kernel_time"))
                {
                    string op = e.GetProperty("args").GetProperty("op_name").GetString()!;
                    var (micros, nodes) = byOp.GetValueOrDefault(op);
                    byOp[op] = (micros + e.GetProperty("dur").GetInt64(), nodes + 1);
                }
            }
            double runTotal = runs.Sum(), nodeTotal = byOp.Values.Sum(v => v.Micros);
            Console.WriteLine($"\nONNX Runtime profile of {modelFile ?? "the encoder's model"} ({runs.Count} runs): model_run mean {runTotal / runs.Count:F0} µs, of which kernels {nodeTotal / runs.Count:F0} µs " +
                              $"({byOp.Values.Sum(v => v.Nodes) / runs.Count} nodes a run); the rest ({(runTotal - nodeTotal) / runs.Count:F0} µs) is the executor's own");
            foreach (var (op, (micros, nodes)) in byOp.OrderByDescending(p => p.Value.Micros))
                Console.WriteLine($"  {op,-28} {nodes / runs.Count,3} a run  {micros / runs.Count,7:F0} µs a run  {100 * micros / runTotal,5:F1} %  {micros / nodes,6:F1} µs a node");
        }
        finally { File.Delete(file); }
    }

    /// <summary>Session settings against the encoder's, query by query in rotating order, each on the same queries.</summary>
    private static void Variants(OnnxEncoder encoder, string directory, List<string> queries, int count, string[] args)
    {
        SessionOptions With(Action<SessionOptions> change, OnnxRunSettings? settings = null)
        {
            var options = (settings ?? OnnxRunSettings.Default).CreateSessionOptions();
            change(options);
            return options;
        }
        // The int8 model as it was before the last layer was cut to the [CLS] row: quantized and split, not pruned.
        string whole = Path.Combine(Path.GetTempPath(), $"mcp-memory-whole-{Environment.ProcessId}.onnx");
        File.WriteAllBytes(whole, WordEmbeddingSplitter.Split(Int8WeightQuantizer.Quantize(File.ReadAllBytes(Path.Combine(directory, OnnxEncoder.ModelFile))).Model)!.Value.Model);
        var pipelines = new List<(string Name, Pipeline Pipeline)>
        {
            ("whole last layer (before)", new Pipeline(directory, With(_ => { }), whole)),
            ("last layer cut to [CLS] (now)", new Pipeline(directory, With(_ => { }))),
            ("cached OrtValues per length", new Pipeline(directory, With(_ => { })) { CacheValues = true }),
            ("denormals as zero", new Pipeline(directory, With(o => o.AddSessionConfigEntry("session.set_denormal_as_zero", "1")))),
            ("ORT_ENABLE_EXTENDED", new Pipeline(directory, With(o => o.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_EXTENDED))),
            ("ORT_ENABLE_BASIC", new Pipeline(directory, With(o => o.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC))),
            ("2 intra-op threads", new Pipeline(directory, With(_ => { }, new OnnxRunSettings(2, false)))),
            ("2 intra-op threads, spinning", new Pipeline(directory, With(_ => { }, new OnnxRunSettings(2, true)))),
        };
        // --variants a,b: only the variants whose names start with these (the first two always run)
        if (EncoderBench.Option(args, "--variants") is { } chosen)
            pipelines = [.. pipelines.Take(2), .. pipelines.Skip(2).Where(p => chosen.Split(',').Any(c => p.Name.StartsWith(c, StringComparison.OrdinalIgnoreCase)))];
        Console.WriteLine($"\nvariants, {count} queries, rotating order; load average {LoadAverage()}");
        var wall = pipelines.Select(_ => new List<double>()).ToArray();
        var cpu = pipelines.Select(_ => new List<double>()).ToArray();
        var worst = new double[pipelines.Count];
        var vectors = new float[pipelines.Count][];
        for (int i = 0; i < queries.Count; i++)
        {
            long[] ids = encoder.QueryTokenIds(queries[i]);
            for (int k = 0; k < pipelines.Count; k++)
            {
                int v = (i + k) % pipelines.Count;
                double c0 = ThreadCpu.Milliseconds();
                long t0 = Stopwatch.GetTimestamp();
                vectors[v] = pipelines[v].Pipeline.Embed(ids);
                double elapsed = Stopwatch.GetElapsedTime(t0).TotalMicroseconds, used = (ThreadCpu.Milliseconds() - c0) * 1e3;
                if (i < queries.Count - count) continue;
                wall[v].Add(elapsed);
                cpu[v].Add(used);
            }
            for (int v = 1; v < pipelines.Count; v++) worst[v] = Math.Max(worst[v], 1 - TensorPrimitives.CosineSimilarity(vectors[v], vectors[0]));
        }
        double baseWall = Measure.Summarise([.. wall[0]]).P50, baseCpu = Measure.Summarise([.. cpu[0]]).P50;
        for (int v = 0; v < pipelines.Count; v++)
        {
            var w = Measure.Summarise([.. wall[v]]);
            double c = Measure.Summarise([.. cpu[v]]).P50;
            // The median of each query's own ratio to the default: steadier than a ratio of medians when the load drifts.
            double pairedCpu = Measure.Summarise(cpu[v].Select((x, q) => x / cpu[0][q]).ToArray()).P50;
            Console.WriteLine($"  {pipelines[v].Name,-30} wall {w}  ×{w.P50 / baseWall:F2}   calling thread's CPU p50 {Measure.Fmt(c)} ×{c / baseCpu:F2} (paired ×{pairedCpu:F2})   1 − cosine ≤ {worst[v]:G2}");
            pipelines[v].Pipeline.Dispose();
        }
        File.Delete(whole);
    }

    /// <summary>The encoder's single-text path over a session of its own (same file, same inputs, CLS pooling, L2 norm).</summary>
    private sealed class Pipeline : IDisposable
    {
        private const int Hidden = 384, Capacity = 512;
        private readonly WordEmbeddingRows _rows;
        private readonly RunOptions _runOptions = new();
        private readonly string[] _inputNames = ["input_ids", "attention_mask", "token_type_ids", WordEmbeddingSplitter.InputName];
        private readonly string[] _outputNames = ["last_hidden_state"];
        private readonly long[] _ids = GC.AllocateArray<long>(Capacity, pinned: true), _mask = GC.AllocateArray<long>(Capacity, pinned: true), _types = GC.AllocateArray<long>(Capacity, pinned: true);
        private readonly float[] _embeddings = GC.AllocateArray<float>(Capacity * Hidden, pinned: true), _hidden = GC.AllocateArray<float>(Capacity * Hidden, pinned: true);
        private readonly Dictionary<int, (OrtValue[] Inputs, OrtValue Output)> _cached = [];
        private OrtValue[]? _inputs;
        private OrtValue? _output;
        private int _tokens;
        private readonly bool _outputRows;

        public InferenceSession Session { get; }
        public bool CacheValues { get; init; }

        public Pipeline(string directory, SessionOptions options, string? modelFile = null)
        {
            Session = new InferenceSession(modelFile ?? Path.Combine(directory, OnnxEncoder.Int8ModelFile), options);
            options.Dispose();
            _outputRows = Session.OutputMetadata[_outputNames[0]].Dimensions[1] == 1;
            _rows = WordEmbeddingRows.Open(Path.Combine(directory, OnnxEncoder.WordEmbeddingsFile), Hidden);
        }

        public void ReadRows(long[] ids)
        {
            _tokens = ids.Length;
            ids.CopyTo(_ids, 0);
            _mask.AsSpan(0, ids.Length).Fill(1);
            _rows.Read(ids, _embeddings.AsSpan(0, ids.Length * Hidden));
        }

        public void CreateValues(int tokens)
        {
            if (CacheValues && _cached.TryGetValue(tokens, out var cached))
            {
                (_inputs, _output) = cached;
                return;
            }
            long[] shape = [1, tokens];
            _inputs =
            [
                OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _ids.AsMemory(0, tokens), shape),
                OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _mask.AsMemory(0, tokens), shape),
                OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _types.AsMemory(0, tokens), shape),
                OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _embeddings.AsMemory(0, tokens * Hidden), [1, tokens, Hidden]),
            ];
            int rows = _outputRows ? 1 : tokens;
            _output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _hidden.AsMemory(0, rows * Hidden), [1, rows, Hidden]);
            if (CacheValues) _cached[tokens] = (_inputs, _output);
        }

        public void RunOnly() => Session.Run(_runOptions, _inputNames, _inputs!, _outputNames, [_output!]);

        public float[] Pool()
        {
            var vector = _hidden.AsSpan(0, Hidden).ToArray();
            TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
            return vector;
        }

        public void DisposeValues()
        {
            if (CacheValues) return;
            foreach (var value in _inputs!) value.Dispose();
            _output!.Dispose();
        }

        public float[] Embed(long[] ids)
        {
            ReadRows(ids);
            CreateValues(ids.Length);
            RunOnly();
            DisposeValues();
            return Pool();
        }

        public void Dispose()
        {
            foreach (var (inputs, output) in _cached.Values)
            {
                foreach (var value in inputs) value.Dispose();
                output.Dispose();
            }
            Session.Dispose();
            _rows.Dispose();
            _runOptions.Dispose();
        }
    }
}
