using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace McpMemory.Core.Embeddings;

/// <summary>
/// Scaled dot-product attention of one head over one text: <c>softmax((s·Q)·Kᵀ)·V</c>, keys restricted to the
/// text's own tokens (what the reference's −1e9 padding bias amounts to: an exact zero weight).
/// </summary>
/// <remarks>
/// K is transposed into a scratch buffer first so that the scores of one query against 16 keys are one register of
/// FMAs over the head dimension, and the weighted sum of V keeps 16 output channels in one register over the keys.
/// Queries go in pairs: with four key (or channel) registers per query, eight independent FMA chains hide the FMA
/// latency, and each load of K or V serves both queries. Every score and output is the same chain of FMAs, in the
/// same order, as one query alone would compute. A text has at most <see cref="UseLiteEncoder.MaxTokens"/> tokens,
/// so scratch sizes are fixed.
/// </remarks>
internal static unsafe class AttentionKernel
{
    /// <summary>Floats of scratch the caller provides for the transposed keys.</summary>
    public const int KeysScratchSize = UseLiteEncoder.MaxTokens * MaxHeadSize;

    /// <summary>Floats of scratch the caller provides for two queries' scores, scaled queries and a discarded output row.</summary>
    public const int PairScratchSize = 2 * UseLiteEncoder.MaxTokens + 3 * MaxHeadSize;

    private const int MaxHeadSize = 128;

    /// <param name="qkv">Row-major [n, qkvWidth] projections; Q, K, V of this head start at the given offsets.</param>
    /// <param name="output">Row-major [n, outputStride]; this head's channels start at <paramref name="outputOffset"/>.</param>
    public static void Run(float* qkv, int qkvWidth, int length, int headSize, int queryOffset, int keyOffset, int valueOffset,
        float queryScale, float* output, int outputStride, int outputOffset, float* keysT, float* pairScratch)
    {
        int lanes = Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count;
        int keyBlock = 4 * lanes; // four registers of keys (or output channels) per query
        if (headSize > MaxHeadSize || headSize % keyBlock != 0 || length > UseLiteEncoder.MaxTokens)
            throw new ArgumentException($"Head size {headSize} or length {length} is outside the kernel's range.");
        int paddedLength = (length + keyBlock - 1) / keyBlock * keyBlock;

        // keysT[d, j] = K[j, d]; columns past the text are zero and never read back as weights.
        for (int j = 0; j < length; j++)
        {
            float* key = qkv + (long)j * qkvWidth + keyOffset;
            for (int d = 0; d < headSize; d++) keysT[d * paddedLength + j] = key[d];
        }
        for (int d = 0; d < headSize; d++)
            new Span<float>(keysT + d * paddedLength + length, paddedLength - length).Clear();

        float* scores0 = pairScratch, scores1 = pairScratch + UseLiteEncoder.MaxTokens;
        float* query0 = scores1 + UseLiteEncoder.MaxTokens, query1 = query0 + MaxHeadSize, discarded = query1 + MaxHeadSize;
        float* values = qkv + valueOffset;
        for (int i = 0; i < length; i += 2)
        {
            // An odd last query is paired with itself; the duplicate's output goes to scratch.
            bool pair = i + 1 < length;
            int i1 = pair ? i + 1 : i;
            // The graph scales Q before the product.
            TensorPrimitives.Multiply(new ReadOnlySpan<float>(qkv + (long)i * qkvWidth + queryOffset, headSize), queryScale,
                new Span<float>(query0, headSize));
            TensorPrimitives.Multiply(new ReadOnlySpan<float>(qkv + (long)i1 * qkvWidth + queryOffset, headSize), queryScale,
                new Span<float>(query1, headSize));
            if (Vector512.IsHardwareAccelerated) Scores512(query0, query1, headSize, keysT, paddedLength, scores0, scores1);
            else Scores256(query0, query1, headSize, keysT, paddedLength, scores0, scores1);
            Softmax(new Span<float>(scores0, length));
            Softmax(new Span<float>(scores1, length));

            float* o0 = output + (long)i * outputStride + outputOffset;
            float* o1 = pair ? o0 + outputStride : discarded;
            if (Vector512.IsHardwareAccelerated) WeightedSum512(scores0, scores1, length, values, qkvWidth, headSize, o0, o1);
            else WeightedSum256(scores0, scores1, length, values, qkvWidth, headSize, o0, o1);
        }
    }

    private static void Softmax(Span<float> scores)
    {
        float max = TensorPrimitives.Max(scores);
        TensorPrimitives.Subtract(scores, max, scores);
        TensorPrimitives.Exp(scores, scores);
        TensorPrimitives.Divide(scores, TensorPrimitives.Sum(scores), scores);
    }

    // Two queries × 64 keys: eight accumulators over the head dimension.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores512(float* query0, float* query1, int headSize, float* keysT, int paddedLength, float* scores0, float* scores1)
    {
        const int lanes = 16;
        for (int j = 0; j < paddedLength; j += 4 * lanes)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
            float* column = keysT + j;
            for (int d = 0; d < headSize; d++, column += paddedLength)
            {
                Vector512<float> k0 = Vector512.Load(column), k1 = Vector512.Load(column + lanes),
                    k2 = Vector512.Load(column + 2 * lanes), k3 = Vector512.Load(column + 3 * lanes);
                var q = Vector512.Create(query0[d]);
                a0 = Vector512.FusedMultiplyAdd(q, k0, a0); a1 = Vector512.FusedMultiplyAdd(q, k1, a1);
                a2 = Vector512.FusedMultiplyAdd(q, k2, a2); a3 = Vector512.FusedMultiplyAdd(q, k3, a3);
                q = Vector512.Create(query1[d]);
                b0 = Vector512.FusedMultiplyAdd(q, k0, b0); b1 = Vector512.FusedMultiplyAdd(q, k1, b1);
                b2 = Vector512.FusedMultiplyAdd(q, k2, b2); b3 = Vector512.FusedMultiplyAdd(q, k3, b3);
            }
            a0.Store(scores0 + j); a1.Store(scores0 + j + lanes); a2.Store(scores0 + j + 2 * lanes); a3.Store(scores0 + j + 3 * lanes);
            b0.Store(scores1 + j); b1.Store(scores1 + j + lanes); b2.Store(scores1 + j + 2 * lanes); b3.Store(scores1 + j + 3 * lanes);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores256(float* query0, float* query1, int headSize, float* keysT, int paddedLength, float* scores0, float* scores1)
    {
        const int lanes = 8;
        for (int j = 0; j < paddedLength; j += 4 * lanes)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
            float* column = keysT + j;
            for (int d = 0; d < headSize; d++, column += paddedLength)
            {
                Vector256<float> k0 = Vector256.Load(column), k1 = Vector256.Load(column + lanes),
                    k2 = Vector256.Load(column + 2 * lanes), k3 = Vector256.Load(column + 3 * lanes);
                var q = Vector256.Create(query0[d]);
                a0 = Vector256.FusedMultiplyAdd(q, k0, a0); a1 = Vector256.FusedMultiplyAdd(q, k1, a1);
                a2 = Vector256.FusedMultiplyAdd(q, k2, a2); a3 = Vector256.FusedMultiplyAdd(q, k3, a3);
                q = Vector256.Create(query1[d]);
                b0 = Vector256.FusedMultiplyAdd(q, k0, b0); b1 = Vector256.FusedMultiplyAdd(q, k1, b1);
                b2 = Vector256.FusedMultiplyAdd(q, k2, b2); b3 = Vector256.FusedMultiplyAdd(q, k3, b3);
            }
            a0.Store(scores0 + j); a1.Store(scores0 + j + lanes); a2.Store(scores0 + j + 2 * lanes); a3.Store(scores0 + j + 3 * lanes);
            b0.Store(scores1 + j); b1.Store(scores1 + j + lanes); b2.Store(scores1 + j + 2 * lanes); b3.Store(scores1 + j + 3 * lanes);
        }
    }

    // Two queries × 64 output channels: eight accumulators over the keys; head sizes are 64 and 128.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightedSum512(float* weights0, float* weights1, int length, float* values, int stride, int headSize,
        float* output0, float* output1)
    {
        for (int c = 0; c < headSize; c += 64)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
            float* v = values + c;
            for (int j = 0; j < length; j++, v += stride)
            {
                Vector512<float> v0 = Vector512.Load(v), v1 = Vector512.Load(v + 16), v2 = Vector512.Load(v + 32), v3 = Vector512.Load(v + 48);
                var w = Vector512.Create(weights0[j]);
                a0 = Vector512.FusedMultiplyAdd(w, v0, a0); a1 = Vector512.FusedMultiplyAdd(w, v1, a1);
                a2 = Vector512.FusedMultiplyAdd(w, v2, a2); a3 = Vector512.FusedMultiplyAdd(w, v3, a3);
                w = Vector512.Create(weights1[j]);
                b0 = Vector512.FusedMultiplyAdd(w, v0, b0); b1 = Vector512.FusedMultiplyAdd(w, v1, b1);
                b2 = Vector512.FusedMultiplyAdd(w, v2, b2); b3 = Vector512.FusedMultiplyAdd(w, v3, b3);
            }
            a0.Store(output0 + c); a1.Store(output0 + c + 16); a2.Store(output0 + c + 32); a3.Store(output0 + c + 48);
            b0.Store(output1 + c); b1.Store(output1 + c + 16); b2.Store(output1 + c + 32); b3.Store(output1 + c + 48);
        }
    }

    // Two queries × 32 output channels per pass over the keys.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightedSum256(float* weights0, float* weights1, int length, float* values, int stride, int headSize,
        float* output0, float* output1)
    {
        for (int c = 0; c < headSize; c += 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
            float* v = values + c;
            for (int j = 0; j < length; j++, v += stride)
            {
                Vector256<float> v0 = Vector256.Load(v), v1 = Vector256.Load(v + 8), v2 = Vector256.Load(v + 16), v3 = Vector256.Load(v + 24);
                var w = Vector256.Create(weights0[j]);
                a0 = Vector256.FusedMultiplyAdd(w, v0, a0); a1 = Vector256.FusedMultiplyAdd(w, v1, a1);
                a2 = Vector256.FusedMultiplyAdd(w, v2, a2); a3 = Vector256.FusedMultiplyAdd(w, v3, a3);
                w = Vector256.Create(weights1[j]);
                b0 = Vector256.FusedMultiplyAdd(w, v0, b0); b1 = Vector256.FusedMultiplyAdd(w, v1, b1);
                b2 = Vector256.FusedMultiplyAdd(w, v2, b2); b3 = Vector256.FusedMultiplyAdd(w, v3, b3);
            }
            a0.Store(output0 + c); a1.Store(output0 + c + 8); a2.Store(output0 + c + 16); a3.Store(output0 + c + 24);
            b0.Store(output1 + c); b1.Store(output1 + c + 8); b2.Store(output1 + c + 16); b3.Store(output1 + c + 24);
        }
    }
}
