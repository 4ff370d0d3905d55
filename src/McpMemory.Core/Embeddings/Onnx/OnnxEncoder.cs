using System.Diagnostics;
using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace McpMemory.Core.Embeddings.Onnx;

/// <summary>
/// A BERT-family sentence encoder on ONNX Runtime: by default snowflake-arctic-embed-xs (384-d, CLS pooling), or any
/// sentence-transformers model exported to ONNX in a folder with model.onnx, vocab.txt and <see cref="OnnxModelConfig.FileName"/>.
/// See docs/encoder.md.
/// </summary>
/// <remarks>
/// <para>Threads: a call uses <see cref="OnnxRunSettings.IntraOpThreads"/> cores (the calling thread and pool threads); a
/// gate lets at most <see cref="Environment.ProcessorCount"/> / that many calls run at once, so concurrent searches queue
/// for a moment instead of oversubscribing the cores. A batch is cut by length into chunks with little padding that run
/// through the same gate.</para>
/// <para>Inputs and outputs are tensors over pinned buffers kept one set per thread (no per-call allocation of the
/// [batch, tokens, hidden] output); batches are sorted by length so padding stays small.</para>
/// </remarks>
public sealed class OnnxEncoder : IEmbedder, IDisposable
{
    /// <summary>The built-in model's folder name under models/.</summary>
    public const string DefaultFolder = "arctic-embed-xs";

    /// <summary>The ONNX graph inside a model folder.</summary>
    public const string ModelFile = "model.onnx";

    /// <summary>
    /// model.onnx with its MatMul weights quantized to int8 (<see cref="Int8WeightQuantizer"/>): run instead of quantizing
    /// at load when present. The build makes it for the built-in model, and the tool package carries only it.
    /// </summary>
    public const string Int8ModelFile = "model.int8.onnx";

    /// <summary>
    /// The word-embedding table of a model whose Gather of it was taken out of the graph (<see cref="WordEmbeddingSplitter"/>):
    /// the build does that for the built-in int8 model, so its 44.7 MiB table is read from the page cache, not held in memory.
    /// </summary>
    public const string WordEmbeddingsFile = "word-embeddings.f32";

    /// <summary>The WordPiece vocabulary inside a model folder (one token a line, id = line number).</summary>
    public const string VocabularyFile = "vocab.txt";

    // A chunk of a batch holds at most this many padded tokens (the output buffer: tokens × hidden floats per thread) and
    // pads at most 1/MaxPaddingFraction of its real tokens: padding is pure waste (attention even grows with its square).
    internal const int MaxTokensPerChunk = 2048;
    internal const int MaxTextsPerChunk = 32;
    internal const int MaxPaddingFraction = 8;

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly ITextTokenizer _tokenizer;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly bool _hasTokenTypes;
    // The model's output is [batch, 1, hidden] (ClsRowPruner: only the [CLS] row is computed), not [batch, tokens, hidden].
    private readonly bool _outputsClsRowOnly;
    private readonly WordEmbeddingRows? _wordEmbeddings;
    private readonly SemaphoreSlim _cores;
    private readonly int _concurrentRuns;
    private int _runsInFlight, _peakRunsInFlight;

    [ThreadStatic] private static Workspace? t_workspace;

    /// <summary>The built-in model's folder: models/arctic-embed-xs next to the app.</summary>
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "models", DefaultFolder);

    /// <inheritdoc />
    /// <remarks>The config's model_id, plus "/int8" when the weights were quantized at load: a vector space of its own.</remarks>
    public string ModelId { get; }

    /// <summary>Whether the weights run as stored or were quantized to int8 at load.</summary>
    public OnnxWeights Weights { get; }

    /// <inheritdoc />
    public int Dimension => Config.Dimension;

    /// <summary>The folder's <see cref="OnnxModelConfig.FileName"/>.</summary>
    public OnnxModelConfig Config { get; }

    /// <summary>Directory the model was loaded from.</summary>
    public string ModelDirectory { get; }

    /// <summary>Wall-clock time spent reading the config and vocabulary and creating the session.</summary>
    public TimeSpan LoadTime { get; }

    /// <summary>The thread settings the session was created with.</summary>
    public OnnxRunSettings Settings { get; }

    /// <summary>How many calls may be inside ONNX Runtime at once: <see cref="Environment.ProcessorCount"/> / <see cref="OnnxRunSettings.IntraOpThreads"/>, at least 1.</summary>
    public int ConcurrentRuns => _concurrentRuns;

    /// <summary>The most calls that were inside ONNX Runtime at the same moment since the encoder was loaded (never above <see cref="ConcurrentRuns"/>).</summary>
    public int PeakRunsInFlight => Volatile.Read(ref _peakRunsInFlight);

    private OnnxEncoder(string directory, OnnxModelConfig config, OnnxWeights weights, ITextTokenizer tokenizer, InferenceSession session,
        OnnxRunSettings settings, TimeSpan loadTime, WordEmbeddingRows? wordEmbeddings)
    {
        _wordEmbeddings = wordEmbeddings;
        Weights = weights;
        ModelId = weights == OnnxWeights.Int8 ? config.ModelId + "/int8" : config.ModelId;
        Settings = settings;
        _concurrentRuns = Math.Max(1, Environment.ProcessorCount / settings.IntraOpThreads);
        _cores = new SemaphoreSlim(_concurrentRuns, _concurrentRuns);
        ModelDirectory = directory;
        Config = config;
        _tokenizer = tokenizer;
        _session = session;
        LoadTime = loadTime;
        foreach (var required in new[] { "input_ids", "attention_mask" })
            if (!session.InputMetadata.ContainsKey(required))
                throw new InvalidDataException($"{Path.Combine(directory, ModelFile)}: the model has no input '{required}' (inputs: {string.Join(", ", session.InputNames)})");
        _hasTokenTypes = session.InputMetadata.ContainsKey("token_type_ids");
        _inputNames = _hasTokenTypes ? ["input_ids", "attention_mask", "token_type_ids"] : ["input_ids", "attention_mask"];
        if (wordEmbeddings is not null) _inputNames = [.. _inputNames, WordEmbeddingSplitter.InputName];
        if (session.InputNames.Count != _inputNames.Length)
            throw new InvalidDataException($"{Path.Combine(directory, ModelFile)}: unexpected inputs {string.Join(", ", session.InputNames)}");
        string output = session.OutputMetadata.ContainsKey("last_hidden_state") ? "last_hidden_state" : session.OutputNames[0];
        var shape = session.OutputMetadata[output].Dimensions;
        if (shape.Length != 3 || (shape[2] > 0 && shape[2] != config.Dimension))
            throw new InvalidDataException($"{Path.Combine(directory, OnnxModelConfig.FileName)}: dimension: the model's output '{output}' is [{string.Join(", ", shape)}], not [batch, tokens, {config.Dimension}]");
        _outputsClsRowOnly = shape[1] == 1;
        if (_outputsClsRowOnly && config.Pooling != Pooling.Cls)
            throw new InvalidDataException($"{Path.Combine(directory, OnnxModelConfig.FileName)}: pooling: the model's output '{output}' is the first token's row only ([{string.Join(", ", shape)}]), so it needs \"cls\" pooling");
        _outputNames = [output];
    }

    /// <summary>The built-in encoder (snowflake-arctic-embed-xs) from <see cref="DefaultDirectory"/>.</summary>
    public static OnnxEncoder LoadDefault() => Load(DefaultDirectory);

    /// <summary>
    /// Loads a model folder; a missing file, a bad config or a model that ONNX Runtime cannot load throws, naming it.
    /// <paramref name="weights"/>, if given, overrides the config's (arctic-embed-xs-fp32 runs the built-in file as stored).
    /// <paramref name="int8Cache"/>, if given, is a folder where int8 weights are kept once quantized (see <see cref="Int8Session"/>).
    /// </summary>
    public static OnnxEncoder Load(string directory, OnnxRunSettings? settings = null, OnnxWeights? weights = null, string? int8Cache = null)
    {
        settings ??= OnnxRunSettings.Default;
        var stopwatch = Stopwatch.StartNew();
        directory = Path.GetFullPath(directory);
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"The model folder '{directory}' does not exist.");
        string Required(string file)
        {
            string path = Path.Combine(directory, file);
            if (File.Exists(path)) return path;
            string onlyInt8 = file == ModelFile && File.Exists(Path.Combine(directory, Int8ModelFile))
                ? $"; this one has only int8 weights, {Int8ModelFile}: the tool package does not carry the fp32 file" : "";
            throw new FileNotFoundException($"The model file '{path}' is missing (a model folder holds {ModelFile}, {VocabularyFile} and {OnnxModelConfig.FileName}{onlyInt8}).", path);
        }
        string int8File = Path.Combine(directory, Int8ModelFile);
        if (!File.Exists(int8File)) Required(ModelFile);
        var config = OnnxModelConfig.Load(Required(OnnxModelConfig.FileName));
        string vocabulary = Required(VocabularyFile);
        var chosenWeights = weights ?? config.Weights;
        // int8 runs a quantized file when the folder has one (the tool package ships only that), else quantizes model.onnx.
        bool prequantized = chosenWeights == OnnxWeights.Int8 && File.Exists(int8File);
        string model = prequantized ? int8File : Required(ModelFile);
        // Hugging Face-exact uncased WordPiece (docs/bert-tokenizer.md).
        ITextTokenizer tokenizer = Bert.BertTokenizer.Load(vocabulary);
        using var options = settings.CreateSessionOptions();
        var session = chosenWeights == OnnxWeights.Int8 && !prequantized
            ? Int8Session(model, options, int8Cache, config.Pooling)
            : new InferenceSession(model, options);
        WordEmbeddingRows? wordEmbeddings = null;
        try
        {
            if (session.InputMetadata.TryGetValue(WordEmbeddingSplitter.InputName, out var rows))
                wordEmbeddings = WordEmbeddingRows.Open(Path.Combine(directory, WordEmbeddingsFile), rows.Dimensions[^1] > 0 ? rows.Dimensions[^1] : config.Dimension);
            return new OnnxEncoder(directory, config, chosenWeights, tokenizer, session, settings, stopwatch.Elapsed, wordEmbeddings);
        }
        catch
        {
            wordEmbeddings?.Dispose();
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A session over <paramref name="modelPath"/> with int8 weights (and, for CLS pooling, its output cut to the [CLS] row:
    /// <see cref="ClsRowPruner"/>). Quantizing takes a second and, from memory, leaves
    /// ONNX Runtime holding ~60 MB more than a session read from a file; so the quantized model is written once to
    /// <paramref name="cacheDirectory"/> (named by the source file's path, size and time: a new model file gets a new
    /// entry and the old one is removed) and read from there by every later load. A damaged entry is quantized again; a
    /// folder that cannot be written only costs the second.
    /// </summary>
    private static InferenceSession Int8Session(string modelPath, SessionOptions options, string? cacheDirectory, Pooling pooling)
    {
        string? cached = cacheDirectory is null ? null : Int8CachePath(modelPath, cacheDirectory, pooling);
        if (cached is not null && File.Exists(cached))
        {
            try { return new InferenceSession(cached, options); }
            catch (OnnxRuntimeException) { TryDelete(cached); }
        }
        var session = Quantize(modelPath, cached, options, pooling);
        // The fp32 file and the rewritten model (~150 MB) are garbage now: give that memory back to the system.
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return session;

        static InferenceSession Quantize(string modelPath, string? cached, SessionOptions options, Pooling pooling)
        {
            var model = QuantizedModel(modelPath, pooling);
            return cached is not null && TryWrite(cached, model) ? new InferenceSession(cached, options) : new InferenceSession(model, options);
        }
    }

    /// <summary>The cache entry for a model file: its folder's name plus a hash of its full path, size, modification time and pooling (CLS gets the pruned graph).</summary>
    internal static string Int8CachePath(string modelPath, string cacheDirectory, Pooling pooling)
    {
        var file = new FileInfo(modelPath);
        string key = $"{file.FullName}|{file.Length}|{file.LastWriteTimeUtc.Ticks}|int8-v{Int8WeightQuantizer.Version}|{pooling}";
        string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))[..16];
        return Path.Combine(cacheDirectory, $"{file.Directory!.Name}-{hash}.int8.onnx");
    }

    private static bool TryWrite(string path, byte[] model)
    {
        string directory = Path.GetDirectoryName(path)!, temporary = path + $".{Environment.ProcessId}.tmp";
        try
        {
            Directory.CreateDirectory(directory);
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(model);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
            string prefix = Path.GetFileName(path)[..(Path.GetFileName(path).LastIndexOf('-') + 1)];
            foreach (var stale in Directory.EnumerateFiles(directory, prefix + "*.int8.onnx"))
                if (stale != path) TryDelete(stale);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            return false;
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private static byte[] QuantizedModel(string path, Pooling pooling)
    {
        byte[] model;
        int quantized;
        try
        {
            (model, quantized) = Int8WeightQuantizer.Quantize(File.ReadAllBytes(path));
            if (quantized > 0 && pooling == Pooling.Cls) model = ClsRowPruner.Prune(model).Model;
        }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: not a valid ONNX model (protobuf parsing failed: {e.Message})", e); }
        if (quantized == 0)
            throw new InvalidDataException($"{path}: weights: int8 needs MatMul nodes with constant fp32 weights, and this model has none (use \"as-stored\")");
        return model;
    }

    /// <summary>The model's input ids for a stored text (document prefix, if any, included).</summary>
    public long[] DocumentTokenIds(string text) => _tokenizer.Encode(Config.DocumentPrefix + text, Config.MaxTokens);

    /// <summary>The model's input ids for a search query (query prefix included).</summary>
    public long[] QueryTokenIds(string text) => _tokenizer.Encode(Config.QueryPrefix + text, Config.MaxTokens);

    /// <inheritdoc />
    public float[] Embed(string text) => EmbedTokenIds([DocumentTokenIds(text)])[0];

    /// <inheritdoc />
    public float[] EmbedQuery(string text) => EmbedTokenIds([QueryTokenIds(text)])[0];

    /// <inheritdoc />
    public float[][] EmbedBatch(IReadOnlyList<string> texts) => EmbedTokenIds(texts.Select(DocumentTokenIds).ToList());

    /// <inheritdoc />
    public float[][] EmbedOnThisThread(IReadOnlyList<string> texts) => texts.Select(Embed).ToArray();

    /// <summary>
    /// Vectors for already tokenized inputs ([CLS] … [SEP], at most <see cref="OnnxModelConfig.MaxTokens"/> each):
    /// sorted by length, cut into chunks of similar length, chunks run in parallel.
    /// </summary>
    public float[][] EmbedTokenIds(IReadOnlyList<long[]> ids)
    {
        var results = new float[ids.Count][];
        if (ids.Count == 0) return results;
        foreach (var sequence in ids)
            if (sequence.Length == 0 || sequence.Length > Config.MaxTokens)
                throw new ArgumentException($"ids: each input needs 1 to {Config.MaxTokens} tokens (got {sequence.Length})", nameof(ids));
        if (ids.Count == 1)
        {
            Run(ids, new ArraySegment<int>([0]), results);
            return results;
        }
        // int8 weights: DynamicQuantizeMatMul quantizes a call's activations with one scale for the whole input, so a text
        // batched with others would get a slightly different vector (cosine ~0.998) than alone; one text a run keeps
        // every vector independent of its companions.
        var chunks = Weights == OnnxWeights.Int8
            ? Enumerable.Range(0, ids.Count).Select(i => new ArraySegment<int>([i])).ToList()
            : PlanChunks(ids.Select(sequence => sequence.Length).ToArray());
        if (chunks.Count == 1 || _concurrentRuns == 1) foreach (var chunk in chunks) Run(ids, chunk, results);
        else Parallel.ForEach(chunks, new ParallelOptions { MaxDegreeOfParallelism = _concurrentRuns }, chunk => Run(ids, chunk, results));
        return results;
    }

    /// <summary>
    /// Input indexes sorted by length and cut into chunks of at most <see cref="MaxTextsPerChunk"/> texts and
    /// <see cref="MaxTokensPerChunk"/> padded tokens that pad at most 1/<see cref="MaxPaddingFraction"/> of their real tokens.
    /// </summary>
    internal static List<ArraySegment<int>> PlanChunks(IReadOnlyList<int> lengths)
    {
        var order = Enumerable.Range(0, lengths.Count).OrderBy(i => lengths[i]).ToArray();
        var chunks = new List<ArraySegment<int>>();
        for (int start = 0; start < order.Length;)
        {
            int end = start + 1, realTokens = lengths[order[start]];
            while (end < order.Length && end - start < MaxTextsPerChunk)
            {
                int length = lengths[order[end]], padded = (end - start + 1) * length;
                if (padded > MaxTokensPerChunk || (padded - realTokens - length) * MaxPaddingFraction > realTokens + length) break;
                realTokens += length;
                end++;
            }
            chunks.Add(new ArraySegment<int>(order, start, end - start));
            start = end;
        }
        return chunks;
    }

    /// <summary>One forward pass over ids[members] (padded to the longest), pooled into results[members].</summary>
    private void Run(IReadOnlyList<long[]> ids, ArraySegment<int> members, float[][] results)
    {
        int batch = members.Count, hidden = Config.Dimension;
        int tokens = 0;
        foreach (int i in members) tokens = Math.Max(tokens, ids[i].Length);
        int cells = batch * tokens, outputRows = _outputsClsRowOnly ? 1 : tokens;
        var workspace = t_workspace ??= new Workspace();
        workspace.EnsureCapacity(cells, batch * outputRows * hidden, _wordEmbeddings?.Hidden ?? 0);
        var inputIds = workspace.InputIds.AsSpan(0, cells);
        var mask = workspace.Mask.AsSpan(0, cells);
        inputIds.Clear();
        mask.Clear();
        workspace.TokenTypes.AsSpan(0, cells).Clear();
        for (int b = 0; b < batch; b++)
        {
            var sequence = ids[members[b]];
            sequence.CopyTo(inputIds.Slice(b * tokens));
            mask.Slice(b * tokens, sequence.Length).Fill(1);
        }

        long[] shape = [batch, tokens];
        using var idsValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, workspace.InputIds.AsMemory(0, cells), shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, workspace.Mask.AsMemory(0, cells), shape);
        using var typesValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, workspace.TokenTypes.AsMemory(0, cells), shape);
        using var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, workspace.Hidden.AsMemory(0, batch * outputRows * hidden), [batch, outputRows, hidden]);
        OrtValue[] inputs = _hasTokenTypes ? [idsValue, maskValue, typesValue] : [idsValue, maskValue];
        using var rowsValue = _wordEmbeddings is { } table ? WordEmbeddingsValue(table, workspace, cells, shape) : null;
        if (rowsValue is not null) inputs = [.. inputs, rowsValue];
        _cores.Wait();
        try
        {
            int inFlight = Interlocked.Increment(ref _runsInFlight);
            for (int peak = _peakRunsInFlight; inFlight > peak; peak = _peakRunsInFlight)
                Interlocked.CompareExchange(ref _peakRunsInFlight, inFlight, peak);
            _session.Run(_runOptions, _inputNames, inputs, _outputNames, [output]);
        }
        finally
        {
            Interlocked.Decrement(ref _runsInFlight);
            _cores.Release();
        }

        var states = workspace.Hidden.AsSpan(0, batch * outputRows * hidden);
        for (int b = 0; b < batch; b++)
        {
            var vector = new float[hidden];
            var rows = states.Slice(b * outputRows * hidden, outputRows * hidden);
            if (Config.Pooling == Pooling.Cls) rows[..hidden].CopyTo(vector);
            else
            {
                int length = ids[members[b]].Length;
                for (int t = 0; t < length; t++) TensorPrimitives.Add(vector, rows.Slice(t * hidden, hidden), vector);
                TensorPrimitives.Divide(vector, length, vector);
            }
            if (Config.Normalize)
            {
                float norm = TensorPrimitives.Norm(vector);
                if (norm > 0) TensorPrimitives.Divide(vector, norm, vector);
            }
            results[members[b]] = vector;
        }
    }

    /// <summary>The word-embedding rows of the run's ids (padding's id included: the same values the graph's Gather gave).</summary>
    private static OrtValue WordEmbeddingsValue(WordEmbeddingRows table, Workspace workspace, int cells, long[] shape)
    {
        table.Read(workspace.InputIds.AsSpan(0, cells), workspace.WordEmbeddings.AsSpan(0, cells * table.Hidden));
        return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, workspace.WordEmbeddings.AsMemory(0, cells * table.Hidden), [shape[0], shape[1], table.Hidden]);
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose()
    {
        _session.Dispose();
        _wordEmbeddings?.Dispose();
        _runOptions.Dispose();
        _cores.Dispose();
    }

    /// <summary>One thread's input and output buffers, pinned (ONNX Runtime reads and writes them in place), grown on demand.</summary>
    private sealed class Workspace
    {
        public long[] InputIds = [], Mask = [], TokenTypes = [];
        public float[] Hidden = [], WordEmbeddings = [];

        public void EnsureCapacity(int cells, int hiddenCells, int wordEmbeddingWidth)
        {
            if (wordEmbeddingWidth > 0 && WordEmbeddings.Length < cells * wordEmbeddingWidth)
                WordEmbeddings = GC.AllocateUninitializedArray<float>(Math.Max(cells, 64) * wordEmbeddingWidth, pinned: true);
            if (InputIds.Length < cells)
            {
                int size = Math.Max(cells, 64);
                InputIds = GC.AllocateUninitializedArray<long>(size, pinned: true);
                Mask = GC.AllocateUninitializedArray<long>(size, pinned: true);
                TokenTypes = GC.AllocateArray<long>(size, pinned: true);
            }
            if (Hidden.Length < hiddenCells) Hidden = GC.AllocateUninitializedArray<float>(Math.Max(hiddenCells, 64 * 384), pinned: true);
        }
    }
}
