using System.Diagnostics;
using System.Numerics.Tensors;

namespace McpMemory.Core.Embeddings;

/// <summary>
/// The built-in sentence encoder: Universal Sentence Encoder lite (English, 512-d) running in managed code.
/// Output matches the TensorFlow.js reference (cosine ≥ 0.9999, identical token ids); see docs/encoder.md.
/// </summary>
/// <remarks>
/// <para>Texts are cut to their first <see cref="MaxTokens"/> tokens, as the reference graph does.</para>
/// <para>Empty input (a text whose NFKC form is empty, i.e. <c>""</c>) has no tokens and embeds to the documented
/// vector <c>l2norm(tanh(b_tanh))</c>, the value the reference graph computes for an empty sentence that is not the
/// last of its batch. The reference itself throws for <c>[""]</c> and drops trailing empty sentences; we return a
/// vector for every input instead. Whitespace-only text is not empty: <c>" "</c> is two tokens.</para>
/// <para>Batches: the tokens of several texts are packed into one matrix (no padding rows) so that every dense
/// layer is one large matrix product; attention and pooling run per text over that text's own rows, which is what
/// the reference's padding mask (bias −1e9, an exact zero weight after exp) computes. Each row is computed with the
/// same instruction sequence wherever it sits, so a text gets bit-identical vectors alone or in any batch.</para>
/// <para>Thread-safe: weights are immutable and each call rents its own scratch buffers.</para>
/// </remarks>
public sealed class UseLiteEncoder : IEmbedder
{
    /// <summary>Identifier stored with every vector this encoder produces.</summary>
    public const string DefaultModelId = "use-lite-en@0.2.0";

    /// <summary>Tokens beyond this many are dropped, as in the reference graph (ClipToMaxLength).</summary>
    public const int MaxTokens = 128;

    private const int Width = UseLiteWeights.ModelSize;
    private const int EmbeddingWidth = UseLiteWeights.EmbeddingSize;
    private const int FfnWidth = UseLiteWeights.FfnSize;
    private const float LayerNormEpsilon = 1e-6f;
    private const float L2Epsilon = 1e-12f;

    // Upper bound on the token rows of one packed forward pass; keeps scratch buffers and the L2 working set bounded.
    private const int MaxRowsPerPass = 128;

    private readonly UseLiteWeights _weights;
    private readonly float[] _timingSignal; // [MaxTokens, 256]: sin block then cos block
    // Scratch buffers of one forward pass (~2.5 MB), one set per thread that runs passes: no locking, and under load,
    // when more threads than cores embed at once, no large buffers are dropped and reallocated (that garbage used to
    // trigger ~2 gen2 collections per second). A thread's workspace goes with the thread when the pool retires it.
    [ThreadStatic] private static Workspace? t_workspace;

    /// <inheritdoc />
    public string ModelId { get; }

    /// <inheritdoc />
    public int Dimension => Width;

    /// <summary>The tokenizer (exposed for diagnostics and tests).</summary>
    public SentencePieceTokenizer Tokenizer { get; }

    /// <summary>Directory the model was loaded from.</summary>
    public string ModelDirectory { get; }

    /// <summary>Wall-clock time spent reading and packing the model.</summary>
    public TimeSpan LoadTime { get; }

    private UseLiteEncoder(string modelDirectory, SentencePieceTokenizer tokenizer, UseLiteWeights weights, TimeSpan loadTime)
    {
        ModelId = DefaultModelId;
        ModelDirectory = modelDirectory;
        Tokenizer = tokenizer;
        _weights = weights;
        LoadTime = loadTime;
        if (tokenizer.VocabularySize > weights.VocabularyRows)
            throw new InvalidDataException($"The vocabulary has {tokenizer.VocabularySize} entries but the embedding matrix only {weights.VocabularyRows} rows.");

        _timingSignal = new float[MaxTokens * EmbeddingWidth];
        int channels = UseLiteWeights.TimingChannels;
        for (int position = 0; position < MaxTokens; position++)
        {
            for (int k = 0; k < channels; k++)
            {
                float angle = position * weights.InverseTimescales[k]; // float32 product, as in the graph
                _timingSignal[position * EmbeddingWidth + k] = MathF.Sin(angle);
                _timingSignal[position * EmbeddingWidth + channels + k] = MathF.Cos(angle);
            }
        }
    }

    /// <summary>
    /// Loads the model shipped with the application (<see cref="UseLiteModelFiles.DefaultDirectory"/>:
    /// <c>models/use-lite-en</c> next to the app; the app's MCP_MEMORY_MODEL_DIR picks another through <see cref="Load"/>). Throws
    /// <see cref="FileNotFoundException"/> naming the missing path.
    /// </summary>
    public static UseLiteEncoder LoadDefault() => Load(UseLiteModelFiles.DefaultDirectory);

    /// <summary>Loads the model from a directory holding model.json, its weight shards and vocab.json.</summary>
    public static UseLiteEncoder Load(string modelDirectory)
    {
        var stopwatch = Stopwatch.StartNew();
        UseLiteModelFiles.EnsurePresent(modelDirectory);
        var tokenizer = SentencePieceTokenizer.FromVocabularyFile(Path.Combine(modelDirectory, UseLiteModelFiles.VocabularyFile));
        var weights = UseLiteWeights.Load(modelDirectory);
        return new UseLiteEncoder(modelDirectory, tokenizer, weights, stopwatch.Elapsed);
    }

    /// <summary>Token ids fed to the network for <paramref name="text"/>: the tokenizer's ids cut to <see cref="MaxTokens"/>.</summary>
    public int[] TokenIds(string text)
    {
        int[] ids = Tokenizer.Encode(text);
        return ids.Length <= MaxTokens ? ids : ids[..MaxTokens];
    }

    /// <inheritdoc />
    public float[] Embed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int[][] tokens = [TokenIds(text)];
        float[][] vectors = new float[1][];
        RunPass(tokens, 0, 1, vectors);
        return vectors[0];
    }

    /// <inheritdoc />
    public float[][] EmbedOnThisThread(IReadOnlyList<string> texts) => texts.Select(Embed).ToArray();

    /// <inheritdoc />
    public float[][] EmbedBatch(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        int count = texts.Count;
        var vectors = new float[count][];
        if (count == 0) return vectors;

        for (int i = 0; i < count; i++)
            if (texts[i] is null) throw new ArgumentException($"Text {i} is null.", nameof(texts));
        // Tokenizing costs ~1 µs per token, a few percent of the forward pass: worth spreading over the cores too.
        var tokens = new int[count][];
        if (count >= 16 && Environment.ProcessorCount > 1)
            Parallel.For(0, count, i => tokens[i] = TokenIds(texts[i]));
        else
            for (int i = 0; i < count; i++) tokens[i] = TokenIds(texts[i]);

        // Consecutive texts form passes of at most MaxRowsPerPass rows. The number of passes is a multiple of the
        // core count so that the cores get equal shares of the work.
        long totalRows = tokens.Sum(t => (long)t.Length);
        int cores = Environment.ProcessorCount;
        long rounds = Math.Max(1, (totalRows + (long)cores * MaxRowsPerPass - 1) / ((long)cores * MaxRowsPerPass));
        int rowsPerPass = (int)Math.Clamp((totalRows + cores * rounds - 1) / (cores * rounds), UseLiteEncoder.MaxTokens / 4, MaxRowsPerPass);
        var passes = new List<(int Start, int End)>();
        for (int start = 0; start < count;)
        {
            int end = start, rows = 0;
            while (end < count && (end == start || rows + tokens[end].Length <= rowsPerPass))
                rows += tokens[end++].Length;
            passes.Add((start, end));
            start = end;
        }

        if (passes.Count == 1 || cores == 1)
            foreach (var (start, end) in passes) RunPass(tokens, start, end, vectors);
        else
            Parallel.ForEach(passes, new ParallelOptions { MaxDegreeOfParallelism = cores },
                pass => RunPass(tokens, pass.Start, pass.End, vectors));
        return vectors;
    }

    /// <summary>
    /// Embeds a fixed sentence and compares the result with the reference vector built into the program, for
    /// <c>mcp-memory doctor</c>. Never throws for a numerical mismatch; it reports it.
    /// </summary>
    public EncoderSelfCheck SelfCheck() => EncoderSelfCheck.Run(this);

    /// <summary>Embeds texts [start, end) of <paramref name="tokens"/> in one packed forward pass.</summary>
    private void RunPass(int[][] tokens, int start, int end, float[][] vectors)
    {
        int rows = 0;
        for (int i = start; i < end; i++) rows += tokens[i].Length;
        int paddedRows = PackedMatrix.PaddedRows(rows);
        int texts = end - start;

        // Taken out while in use, so a pass nested on the same thread (none today) would get a workspace of its own.
        Workspace workspace = t_workspace ?? new Workspace();
        t_workspace = null;
        try
        {
            workspace.EnsureCapacity(paddedRows, PackedMatrix.PaddedRows(texts));
            Forward(tokens, start, end, rows, paddedRows, workspace);
            for (int i = 0; i < texts; i++)
                vectors[start + i] = workspace.Output.AsSpan(i * Width, Width).ToArray();
        }
        finally
        {
            t_workspace = workspace;
        }
    }

    private void Forward(int[][] tokens, int start, int end, int rows, int paddedRows, Workspace ws)
    {
        var w = _weights;

        // Layer-0 input: 2·E[id] + timing(position). The graph adds the embedding twice (once as the residual of
        // its AddTimingSignal layer); the timing signal restarts at 0 for every text.
        Span<float> input = ws.Input.AsSpan(0, paddedRows * EmbeddingWidth);
        int row = 0;
        for (int t = start; t < end; t++)
        {
            int[] ids = tokens[t];
            for (int position = 0; position < ids.Length; position++, row++)
            {
                ReadOnlySpan<float> embedding = w.Embeddings.AsSpan(ids[position] * EmbeddingWidth, EmbeddingWidth);
                TensorPrimitives.FusedMultiplyAdd(embedding, 2f,
                    _timingSignal.AsSpan(position * EmbeddingWidth, EmbeddingWidth),
                    input.Slice(row * EmbeddingWidth, EmbeddingWidth));
            }
        }
        input[(rows * EmbeddingWidth)..].Clear(); // block-padding rows: finite values, results discarded

        Span<float> stream = ws.Stream.AsSpan(0, paddedRows * Width);
        Span<float> normed = ws.Normed.AsSpan(0, paddedRows * Width);
        Span<float> qkv = ws.Qkv.AsSpan(0, paddedRows * 3 * Width);
        Span<float> heads = ws.Heads.AsSpan(0, paddedRows * Width);
        Span<float> ffn = ws.Ffn.AsSpan(0, paddedRows * FfnWidth);

        // Layer 0 (256 → 512). The residual path projects the un-normalised input.
        var l0 = w.Layer0;
        LayerNorm(input, EmbeddingWidth, paddedRows, l0.AttentionNormScale, l0.AttentionNormBias, normed);
        w.ResidualProjection.Multiply(input, EmbeddingWidth, paddedRows, stream, Width, GemmOutput.Store);
        AttentionBlock(l0, normed, EmbeddingWidth, tokens, start, end, paddedRows, qkv, heads, stream, ws);
        FeedForwardBlock(l0, stream, paddedRows, normed, ffn);

        // Layer 1 (512 → 512), pre-norm, residual is the layer input.
        var l1 = w.Layer1;
        LayerNorm(stream, Width, paddedRows, l1.AttentionNormScale, l1.AttentionNormBias, normed);
        AttentionBlock(l1, normed, Width, tokens, start, end, paddedRows, qkv, heads, stream, ws);

        // Layer 1's FFN, then the mean over each text's tokens. Only that mean is used and the FFN's output projection
        // is linear, so it runs once per text on the pooled hidden activations rather than once per token:
        // mean(h + f·W2 + c2) = mean(h) + mean(f)·W2 + c2. That skips 17 % of the pass's FLOPs.
        LayerNorm(stream, Width, paddedRows, l1.FfnNormScale, l1.FfnNormBias, normed);
        l1.FfnIn.Multiply(normed, Width, paddedRows, ffn, FfnWidth, GemmOutput.StoreRelu);
        int texts = end - start;
        int paddedTexts = PackedMatrix.PaddedRows(texts);
        Span<float> pooled = ws.Pooled.AsSpan(0, paddedTexts * Width);
        Span<float> pooledFfn = ws.PooledFfn.AsSpan(0, paddedTexts * FfnWidth);
        MeanPool(stream, Width, tokens, start, end, pooled);
        MeanPool(ffn, FfnWidth, tokens, start, end, pooledFfn);
        l1.FfnOut.Multiply(pooledFfn, FfnWidth, paddedTexts, pooled, Width, GemmOutput.Accumulate);
        for (int t = 0; t < texts; t++)
            if (tokens[start + t].Length == 0) pooled.Slice(t * Width, Width).Clear(); // an empty text pools to zero

        // tanh(p·Wt + bt), then L2 normalisation.
        Span<float> output = ws.Output.AsSpan(0, paddedTexts * Width);
        w.TanhLayer.Multiply(pooled, Width, paddedTexts, output, Width, GemmOutput.Store);
        for (int t = 0; t < texts; t++)
        {
            Span<float> y = output.Slice(t * Width, Width);
            TensorPrimitives.Tanh(y, y);
            float norm = MathF.Sqrt(MathF.Max(TensorPrimitives.SumOfSquares(y), L2Epsilon));
            TensorPrimitives.Divide(y, norm, y);
        }
    }

    /// <summary>Row t of <paramref name="pooled"/> = mean of text t's rows of <paramref name="rows"/>; rows past the texts are zero.</summary>
    private static void MeanPool(Span<float> rows, int width, int[][] tokens, int start, int end, Span<float> pooled)
    {
        pooled.Clear();
        int row = 0;
        for (int t = 0; t < end - start; t++)
        {
            int length = tokens[start + t].Length;
            Span<float> sum = pooled.Slice(t * width, width);
            for (int j = 0; j < length; j++, row++) TensorPrimitives.Add(sum, rows.Slice(row * width, width), sum);
            if (length > 0) TensorPrimitives.Divide(sum, length, sum);
        }
    }

    // h = residual + MHA(normed)·Wo + bo, accumulated into the residual stream.
    private static unsafe void AttentionBlock(TransformerLayerWeights layer, Span<float> normed, int inputWidth,
        int[][] tokens, int start, int end, int paddedRows, Span<float> qkv, Span<float> heads, Span<float> stream, Workspace ws)
    {
        int headSize = layer.HeadSize;
        int projected = UseLiteWeights.Heads * headSize; // width of each of Q, K, V
        int qkvWidth = 3 * projected;
        layer.QueryKeyValue.Multiply(normed, inputWidth, paddedRows, qkv, qkvWidth, GemmOutput.Store);

        // Attention runs per text over its own rows (no padding keys).
        int first = 0;
        fixed (float* pQkv = qkv)
        fixed (float* pHeads = heads)
        fixed (float* keysT = ws.KeysTransposed)
        fixed (float* pairScratch = ws.AttentionScratch)
        {
            for (int t = start; t < end; t++)
            {
                int length = tokens[t].Length;
                for (int h = 0; h < UseLiteWeights.Heads; h++)
                {
                    AttentionKernel.Run(pQkv + (long)first * qkvWidth, qkvWidth, length, headSize,
                        queryOffset: h * headSize, keyOffset: projected + h * headSize, valueOffset: 2 * projected + h * headSize,
                        layer.QueryScale, pHeads + (long)first * projected, projected, h * headSize, keysT, pairScratch);
                }
                first += length;
            }
        }
        heads[(first * projected)..(paddedRows * projected)].Clear();
        layer.AttentionOutput.Multiply(heads, projected, paddedRows, stream, Width, GemmOutput.Accumulate);
    }

    // x = h + ReLU(LN(h)·W1 + c1)·W2 + c2, accumulated into the residual stream.
    private static void FeedForwardBlock(TransformerLayerWeights layer, Span<float> stream, int paddedRows, Span<float> normed, Span<float> ffn)
    {
        LayerNorm(stream, Width, paddedRows, layer.FfnNormScale, layer.FfnNormBias, normed);
        layer.FfnIn.Multiply(normed, Width, paddedRows, ffn, FfnWidth, GemmOutput.StoreRelu);
        layer.FfnOut.Multiply(ffn, FfnWidth, paddedRows, stream, Width, GemmOutput.Accumulate);
    }

    // y = g ⊙ (x − μ) ⊙ rsqrt(σ² + ε) + b per row, biased variance, ε inside the square root.
    private static void LayerNorm(ReadOnlySpan<float> x, int width, int rows, float[] scale, float[] bias, Span<float> y)
    {
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> source = x.Slice(r * width, width);
            Span<float> target = y.Slice(r * width, width);
            float mean = TensorPrimitives.Sum(source) / width;
            TensorPrimitives.Subtract(source, mean, target);
            float variance = TensorPrimitives.SumOfSquares(target) / width;
            float inverse = 1f / MathF.Sqrt(variance + LayerNormEpsilon);
            TensorPrimitives.Multiply(target, inverse, target);
            TensorPrimitives.FusedMultiplyAdd(target, scale, bias, target);
        }
    }

    /// <summary>Scratch buffers of one forward pass; one per thread (<see cref="t_workspace"/>), so calls neither share nor reallocate them.</summary>
    private sealed class Workspace
    {
        public float[] Input = [], Stream = [], Normed = [], Qkv = [], Heads = [], Ffn = [], Pooled = [], PooledFfn = [], Output = [];
        public readonly float[] KeysTransposed = new float[AttentionKernel.KeysScratchSize];
        public readonly float[] AttentionScratch = new float[AttentionKernel.PairScratchSize];
        private int _rows, _texts;

        public void EnsureCapacity(int rows, int texts)
        {
            if (rows > _rows)
            {
                // Full size at once: growing in steps would leave large-object-heap garbage behind.
                _rows = Math.Max(rows, MaxRowsPerPass);
                Input = new float[_rows * EmbeddingWidth];
                Stream = new float[_rows * Width];
                Normed = new float[_rows * Width];
                Qkv = new float[_rows * 3 * Width];
                Heads = new float[_rows * Width];
                Ffn = new float[_rows * FfnWidth];
            }
            if (texts > _texts)
            {
                _texts = Math.Max(texts, 4);
                Pooled = new float[_texts * Width];
                PooledFfn = new float[_texts * FfnWidth];
                Output = new float[_texts * Width];
            }
        }
    }
}
