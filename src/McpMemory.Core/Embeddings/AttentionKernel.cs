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
/// A text has at most <see cref="UseLiteEncoder.MaxTokens"/> tokens, so scratch sizes are fixed.
/// </remarks>
internal static unsafe class AttentionKernel
{
    /// <summary>Floats of scratch the caller provides for the transposed keys.</summary>
    public const int KeysScratchSize = UseLiteEncoder.MaxTokens * 128;

    /// <param name="qkv">Row-major [n, qkvWidth] projections; Q, K, V of this head start at the given offsets.</param>
    /// <param name="output">Row-major [n, outputStride]; this head's channels start at <paramref name="outputOffset"/>.</param>
    public static void Run(float* qkv, int qkvWidth, int length, int headSize, int queryOffset, int keyOffset, int valueOffset,
        float queryScale, float* output, int outputStride, int outputOffset, float* keysT, float* scores, float* query)
    {
        int lanes = Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count;
        int paddedLength = (length + lanes - 1) / lanes * lanes;

        // keysT[d, j] = K[j, d]; columns past the text are zero and never read back as weights.
        for (int j = 0; j < length; j++)
        {
            float* key = qkv + (long)j * qkvWidth + keyOffset;
            for (int d = 0; d < headSize; d++) keysT[d * paddedLength + j] = key[d];
        }
        for (int d = 0; d < headSize; d++)
            for (int j = length; j < paddedLength; j++) keysT[d * paddedLength + j] = 0f;

        var scoreSpan = new Span<float>(scores, length);
        for (int i = 0; i < length; i++)
        {
            // The graph scales Q before the product.
            TensorPrimitives.Multiply(new ReadOnlySpan<float>(qkv + (long)i * qkvWidth + queryOffset, headSize), queryScale,
                new Span<float>(query, headSize));
            if (Vector512.IsHardwareAccelerated) Scores512(query, headSize, keysT, paddedLength, scores);
            else Scores256(query, headSize, keysT, paddedLength, scores);

            float max = TensorPrimitives.Max(scoreSpan);
            TensorPrimitives.Subtract(scoreSpan, max, scoreSpan);
            TensorPrimitives.Exp(scoreSpan, scoreSpan);
            TensorPrimitives.Divide(scoreSpan, TensorPrimitives.Sum(scoreSpan), scoreSpan);

            float* o = output + (long)i * outputStride + outputOffset;
            float* values = qkv + valueOffset;
            if (Vector512.IsHardwareAccelerated) WeightedSum512(scores, length, values, qkvWidth, headSize, o);
            else WeightedSum256(scores, length, values, qkvWidth, headSize, o);
        }
    }

    // Four independent accumulators (64 keys at a time) hide the FMA latency; the remaining keys go 16 at a time.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores512(float* query, int headSize, float* keysT, int paddedLength, float* scores)
    {
        const int lanes = 16;
        int j = 0;
        for (; j + 4 * lanes <= paddedLength; j += 4 * lanes)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            float* column = keysT + j;
            for (int d = 0; d < headSize; d++, column += paddedLength)
            {
                var q = Vector512.Create(query[d]);
                a0 = Vector512.FusedMultiplyAdd(q, Vector512.Load(column), a0);
                a1 = Vector512.FusedMultiplyAdd(q, Vector512.Load(column + lanes), a1);
                a2 = Vector512.FusedMultiplyAdd(q, Vector512.Load(column + 2 * lanes), a2);
                a3 = Vector512.FusedMultiplyAdd(q, Vector512.Load(column + 3 * lanes), a3);
            }
            a0.Store(scores + j); a1.Store(scores + j + lanes); a2.Store(scores + j + 2 * lanes); a3.Store(scores + j + 3 * lanes);
        }
        for (; j < paddedLength; j += lanes)
        {
            Vector512<float> acc = default;
            float* column = keysT + j;
            for (int d = 0; d < headSize; d++, column += paddedLength)
                acc = Vector512.FusedMultiplyAdd(Vector512.Create(query[d]), Vector512.Load(column), acc);
            acc.Store(scores + j);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores256(float* query, int headSize, float* keysT, int paddedLength, float* scores)
    {
        const int lanes = 8;
        int j = 0;
        for (; j + 4 * lanes <= paddedLength; j += 4 * lanes)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            float* column = keysT + j;
            for (int d = 0; d < headSize; d++, column += paddedLength)
            {
                var q = Vector256.Create(query[d]);
                a0 = Vector256.FusedMultiplyAdd(q, Vector256.Load(column), a0);
                a1 = Vector256.FusedMultiplyAdd(q, Vector256.Load(column + lanes), a1);
                a2 = Vector256.FusedMultiplyAdd(q, Vector256.Load(column + 2 * lanes), a2);
                a3 = Vector256.FusedMultiplyAdd(q, Vector256.Load(column + 3 * lanes), a3);
            }
            a0.Store(scores + j); a1.Store(scores + j + lanes); a2.Store(scores + j + 2 * lanes); a3.Store(scores + j + 3 * lanes);
        }
        for (; j < paddedLength; j += lanes)
        {
            Vector256<float> acc = default;
            float* column = keysT + j;
            for (int d = 0; d < headSize; d++, column += paddedLength)
                acc = Vector256.FusedMultiplyAdd(Vector256.Create(query[d]), Vector256.Load(column), acc);
            acc.Store(scores + j);
        }
    }

    // 64 output channels (four accumulators) per pass over the keys; head sizes are 64 and 128.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightedSum512(float* weights, int length, float* values, int stride, int headSize, float* output)
    {
        for (int c = 0; c < headSize; c += 64)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            float* v = values + c;
            for (int j = 0; j < length; j++, v += stride)
            {
                var w = Vector512.Create(weights[j]);
                a0 = Vector512.FusedMultiplyAdd(w, Vector512.Load(v), a0);
                a1 = Vector512.FusedMultiplyAdd(w, Vector512.Load(v + 16), a1);
                a2 = Vector512.FusedMultiplyAdd(w, Vector512.Load(v + 32), a2);
                a3 = Vector512.FusedMultiplyAdd(w, Vector512.Load(v + 48), a3);
            }
            a0.Store(output + c); a1.Store(output + c + 16); a2.Store(output + c + 32); a3.Store(output + c + 48);
        }
    }

    // 32 output channels (four accumulators) per pass over the keys.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightedSum256(float* weights, int length, float* values, int stride, int headSize, float* output)
    {
        for (int c = 0; c < headSize; c += 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            float* v = values + c;
            for (int j = 0; j < length; j++, v += stride)
            {
                var w = Vector256.Create(weights[j]);
                a0 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v), a0);
                a1 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(w, Vector256.Load(v + 24), a3);
            }
            a0.Store(output + c); a1.Store(output + c + 8); a2.Store(output + c + 16); a3.Store(output + c + 24);
        }
    }
}
