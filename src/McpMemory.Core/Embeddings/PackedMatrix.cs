using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace McpMemory.Core.Embeddings;

/// <summary>What <see cref="PackedMatrix.Multiply"/> does with each result element <c>t = (a·W)[i,j] + bias[j]</c>.</summary>
internal enum GemmOutput
{
    /// <summary><c>c = t</c></summary>
    Store,
    /// <summary><c>c = max(t, 0)</c></summary>
    StoreRelu,
    /// <summary><c>c += t</c> (adds a sublayer to the residual stream)</summary>
    Accumulate,
}

/// <summary>
/// A dense layer's weight matrix <c>W[K,N]</c> (TF layout, <c>y = x·W + b</c>) repacked into column panels of
/// <see cref="PanelWidth"/> so that the micro-kernel streams one contiguous 256-byte row of a panel per k.
/// </summary>
/// <remarks>
/// Layout: panel p holds columns [64p, 64p+64); inside it, row k is 64 consecutive floats. The product walks the
/// panels in depth blocks of 128 rows (32 KB, resident in L1) and sweeps the input's rows over each depth block in
/// 6 × 64 register tiles (24 FMA accumulators; 4 × 64 for a remainder and on AVX2), prefetching the next depth
/// block meanwhile.
/// The kernel computes each output row with the same instruction sequence whatever the other rows are, so a text
/// gets bit-identical results alone or inside a batch.
/// </remarks>
internal sealed unsafe class PackedMatrix
{
    /// <summary>Columns per packed panel: four Vector512 or eight Vector256 registers.</summary>
    public const int PanelWidth = 64;

    /// <summary>
    /// The row count <see cref="Multiply"/> takes for <paramref name="rows"/> rows of input: at least 4, even with the
    /// 512-bit kernels (tiles of 6 and 4 rows cover every even count from 4) and a multiple of 4 with the 256-bit one.
    /// Callers pad their activation buffers to it; padding rows must hold finite values and their results are discarded.
    /// </summary>
    public static int PaddedRows(int rows)
    {
        int block = Vector512.IsHardwareAccelerated ? 2 : 4;
        return Math.Max(4, (rows + block - 1) / block * block);
    }

    // Rows of the input processed against one panel before moving to the next panel; bounds the working set of
    // A to 128 * K floats (768 KB at K = 1536) so that it and the output rows stay in a 2 MB L2.
    private const int RowChunk = 128;

    private readonly float[] _panels;
    private readonly float[] _bias;

    public int InputSize { get; }
    public int OutputSize { get; }

    public PackedMatrix(ReadOnlySpan<float> rowMajor, int inputSize, int outputSize, ReadOnlySpan<float> bias)
    {
        if (outputSize % PanelWidth != 0) throw new ArgumentException($"Output size {outputSize} is not a multiple of {PanelWidth}.");
        if (rowMajor.Length != inputSize * outputSize) throw new ArgumentException("Weight size does not match its shape.");
        if (bias.Length != outputSize) throw new ArgumentException("Bias size does not match the output size.");
        InputSize = inputSize;
        OutputSize = outputSize;
        _bias = bias.ToArray();
        _panels = GC.AllocateUninitializedArray<float>(inputSize * outputSize, pinned: true);
        int panels = outputSize / PanelWidth;
        for (int p = 0; p < panels; p++)
            for (int k = 0; k < inputSize; k++)
                rowMajor.Slice(k * outputSize + p * PanelWidth, PanelWidth)
                    .CopyTo(_panels.AsSpan((p * inputSize + k) * PanelWidth, PanelWidth));
    }

    /// <summary>Whether the 512-bit kernel is used (AVX-512 present and not throttled by the runtime).</summary>
    public static bool Uses512BitKernel => Vector512.IsHardwareAccelerated;

    /// <summary>
    /// <c>c[i,:] (op)= a[i,:]·W + bias</c> for rows 0..rows-1. <paramref name="rows"/> must be a count that
    /// <see cref="PaddedRows"/> returns; a and c are row-major with leading dimensions lda and ldc (in floats).
    /// </summary>
    public void Multiply(ReadOnlySpan<float> a, int lda, int rows, Span<float> c, int ldc, GemmOutput output)
    {
        if (rows == 0) return;
        if (rows != PaddedRows(rows)) throw new ArgumentException($"Row count {rows} is not padded: expected {PaddedRows(rows)}.");
        if (a.Length < (rows - 1) * lda + InputSize || c.Length < (rows - 1) * ldc + OutputSize)
            throw new ArgumentException("Buffers are smaller than the product.");

        fixed (float* pa = a)
        fixed (float* pc = c)
        fixed (float* pw = _panels)
        fixed (float* pb = _bias)
        {
            int panels = OutputSize / PanelWidth;
            int tileRows = Vector512.IsHardwareAccelerated ? 6 : 4; // most tiles; a 512-bit remainder uses 4
            for (int chunk = 0, chunkEnd; chunk < rows; chunk = chunkEnd)
            {
                // A last chunk of fewer than 4 rows joins the one before: no tile is smaller than 4 rows.
                chunkEnd = rows - (chunk + RowChunk) < 4 ? rows : chunk + RowChunk;
                for (int p = 0; p < panels; p++)
                {
                    float* bias = pb + p * PanelWidth;
                    // The depth is split into blocks of DepthBlock rows of the panel (32 KB) that stay in L1 while
                    // all row blocks of the chunk use them; partial sums live in c between depth blocks.
                    for (int k0 = 0; k0 < InputSize; k0 += DepthBlock)
                    {
                        int depth = Math.Min(DepthBlock, InputSize - k0);
                        var step = new Step(k0 == 0, k0 + depth == InputSize, output);
                        float* panel = pw + ((long)p * InputSize + k0) * PanelWidth;

                        // The packed weights are one contiguous stream (depth blocks, then panels). The row blocks
                        // of this depth block share the work of prefetching the next one into L2, so the first row
                        // block there does not wait for memory.
                        float* next = panel + depth * PanelWidth;
                        long nextLines = Math.Min(DepthBlock * PanelWidth, _panels.Length - (next - pw)) / FloatsPerLine;
                        int rowBlocks = (chunkEnd - chunk + tileRows - 1) / tileRows; // kernel calls
                        int linesPerStep = nextLines <= 0 ? 0 : (int)Math.Min(4, (nextLines + (long)rowBlocks * depth - 1) / ((long)rowBlocks * depth));
                        for (int i = chunk, block = 0; i < chunkEnd; block++)
                        {
                            float* aRows = pa + (long)i * lda + k0;
                            float* cRows = pc + (long)i * ldc + p * PanelWidth;
                            long firstLine = (long)block * depth * linesPerStep;
                            var prefetch = new Prefetch(next + firstLine * FloatsPerLine, firstLine < nextLines ? linesPerStep : 0);
                            // 6-row tiles keep more accumulators busy per weight load. The chunk's row count is
                            // even and at least 4, so a remainder of 4 or 8 goes to 4-row tiles and no 2 is left.
                            int left = chunkEnd - i;
                            if (!Vector512.IsHardwareAccelerated)
                            {
                                for (int half = 0; half < PanelWidth; half += 32)
                                    Kernel256(aRows, lda, panel + half, depth, bias + half, cRows + half, ldc, step,
                                        half == 0 ? prefetch : default);
                                i += 4;
                            }
                            else if (left == 4 || left == 8)
                            {
                                Kernel512(aRows, lda, panel, depth, bias, cRows, ldc, step, prefetch);
                                i += 4;
                            }
                            else
                            {
                                Kernel512x6(aRows, lda, panel, depth, bias, cRows, ldc, step, prefetch);
                                i += 6;
                            }
                        }
                    }
                }
            }
        }
    }

    // Panel rows per depth block: 128 × 64 floats = 32 KB, within a 48 KB L1 data cache.
    private const int DepthBlock = 128;

    private const int FloatsPerLine = 16; // 64-byte cache line

    /// <summary>Cache lines of upcoming weights to request per k step of a kernel (0 = none).</summary>
    private readonly struct Prefetch(float* address, int linesPerStep)
    {
        public readonly float* Address = address;
        // Only x86 has the prefetch intrinsic here; elsewhere the hardware prefetcher alone has to do.
        public readonly int LinesPerStep = Sse.IsSupported ? linesPerStep : 0;
    }

    /// <summary>Where a depth block sits in the sum: the first starts from the bias, the last applies the output op.</summary>
    private readonly record struct Step(bool First, bool Last, GemmOutput Output);

    // 4 rows × 64 columns: 16 zmm accumulators, 4 panel loads and 4 broadcasts per k.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512(float* a, int lda, float* panel, int depth, float* bias, float* c, int ldc, Step step, Prefetch prefetch)
    {
        Load512(c, bias, step, out var c00, out var c01, out var c02, out var c03);
        Load512(c + ldc, bias, step, out var c10, out var c11, out var c12, out var c13);
        Load512(c + 2 * ldc, bias, step, out var c20, out var c21, out var c22, out var c23);
        Load512(c + 3 * ldc, bias, step, out var c30, out var c31, out var c32, out var c33);
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda;
        float* w = panel;
        float* pf = prefetch.Address;
        int pfLines = prefetch.LinesPerStep;
        for (int kk = 0; kk < depth; kk++, w += PanelWidth)
        {
            for (int l = 0; l < pfLines; l++, pf += FloatsPerLine) if (Sse.IsSupported) Sse.Prefetch1(pf);
            Vector512<float> w0 = Vector512.Load(w), w1 = Vector512.Load(w + 16), w2 = Vector512.Load(w + 32), w3 = Vector512.Load(w + 48);
            Vector512<float> x = Vector512.Create(a0[kk]);
            c00 = Vector512.FusedMultiplyAdd(x, w0, c00); c01 = Vector512.FusedMultiplyAdd(x, w1, c01);
            c02 = Vector512.FusedMultiplyAdd(x, w2, c02); c03 = Vector512.FusedMultiplyAdd(x, w3, c03);
            x = Vector512.Create(a1[kk]);
            c10 = Vector512.FusedMultiplyAdd(x, w0, c10); c11 = Vector512.FusedMultiplyAdd(x, w1, c11);
            c12 = Vector512.FusedMultiplyAdd(x, w2, c12); c13 = Vector512.FusedMultiplyAdd(x, w3, c13);
            x = Vector512.Create(a2[kk]);
            c20 = Vector512.FusedMultiplyAdd(x, w0, c20); c21 = Vector512.FusedMultiplyAdd(x, w1, c21);
            c22 = Vector512.FusedMultiplyAdd(x, w2, c22); c23 = Vector512.FusedMultiplyAdd(x, w3, c23);
            x = Vector512.Create(a3[kk]);
            c30 = Vector512.FusedMultiplyAdd(x, w0, c30); c31 = Vector512.FusedMultiplyAdd(x, w1, c31);
            c32 = Vector512.FusedMultiplyAdd(x, w2, c32); c33 = Vector512.FusedMultiplyAdd(x, w3, c33);
        }
        Store512(c, c00, c01, c02, c03, step);
        Store512(c + ldc, c10, c11, c12, c13, step);
        Store512(c + 2 * ldc, c20, c21, c22, c23, step);
        Store512(c + 3 * ldc, c30, c31, c32, c33, step);
    }

    // 6 rows × 64 columns: 24 zmm accumulators, 4 panel loads and 6 broadcasts per k.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512x6(float* a, int lda, float* panel, int depth, float* bias, float* c, int ldc, Step step, Prefetch prefetch)
    {
        Load512(c, bias, step, out var c00, out var c01, out var c02, out var c03);
        Load512(c + ldc, bias, step, out var c10, out var c11, out var c12, out var c13);
        Load512(c + 2 * ldc, bias, step, out var c20, out var c21, out var c22, out var c23);
        Load512(c + 3 * ldc, bias, step, out var c30, out var c31, out var c32, out var c33);
        Load512(c + 4 * ldc, bias, step, out var c40, out var c41, out var c42, out var c43);
        Load512(c + 5 * ldc, bias, step, out var c50, out var c51, out var c52, out var c53);
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda;
        float* w = panel;
        float* pf = prefetch.Address;
        int pfLines = prefetch.LinesPerStep;
        for (int kk = 0; kk < depth; kk++, w += PanelWidth)
        {
            for (int l = 0; l < pfLines; l++, pf += FloatsPerLine) if (Sse.IsSupported) Sse.Prefetch1(pf);
            Vector512<float> w0 = Vector512.Load(w), w1 = Vector512.Load(w + 16), w2 = Vector512.Load(w + 32), w3 = Vector512.Load(w + 48);
            Vector512<float> x = Vector512.Create(a0[kk]);
            c00 = Vector512.FusedMultiplyAdd(x, w0, c00); c01 = Vector512.FusedMultiplyAdd(x, w1, c01);
            c02 = Vector512.FusedMultiplyAdd(x, w2, c02); c03 = Vector512.FusedMultiplyAdd(x, w3, c03);
            x = Vector512.Create(a1[kk]);
            c10 = Vector512.FusedMultiplyAdd(x, w0, c10); c11 = Vector512.FusedMultiplyAdd(x, w1, c11);
            c12 = Vector512.FusedMultiplyAdd(x, w2, c12); c13 = Vector512.FusedMultiplyAdd(x, w3, c13);
            x = Vector512.Create(a2[kk]);
            c20 = Vector512.FusedMultiplyAdd(x, w0, c20); c21 = Vector512.FusedMultiplyAdd(x, w1, c21);
            c22 = Vector512.FusedMultiplyAdd(x, w2, c22); c23 = Vector512.FusedMultiplyAdd(x, w3, c23);
            x = Vector512.Create(a3[kk]);
            c30 = Vector512.FusedMultiplyAdd(x, w0, c30); c31 = Vector512.FusedMultiplyAdd(x, w1, c31);
            c32 = Vector512.FusedMultiplyAdd(x, w2, c32); c33 = Vector512.FusedMultiplyAdd(x, w3, c33);
            x = Vector512.Create(a4[kk]);
            c40 = Vector512.FusedMultiplyAdd(x, w0, c40); c41 = Vector512.FusedMultiplyAdd(x, w1, c41);
            c42 = Vector512.FusedMultiplyAdd(x, w2, c42); c43 = Vector512.FusedMultiplyAdd(x, w3, c43);
            x = Vector512.Create(a5[kk]);
            c50 = Vector512.FusedMultiplyAdd(x, w0, c50); c51 = Vector512.FusedMultiplyAdd(x, w1, c51);
            c52 = Vector512.FusedMultiplyAdd(x, w2, c52); c53 = Vector512.FusedMultiplyAdd(x, w3, c53);
        }
        Store512(c, c00, c01, c02, c03, step);
        Store512(c + ldc, c10, c11, c12, c13, step);
        Store512(c + 2 * ldc, c20, c21, c22, c23, step);
        Store512(c + 3 * ldc, c30, c31, c32, c33, step);
        Store512(c + 4 * ldc, c40, c41, c42, c43, step);
        Store512(c + 5 * ldc, c50, c51, c52, c53, step);
    }

    // First depth block: bias (plus the existing c when accumulating into the residual stream); later: the partial sum.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Load512(float* c, float* bias, Step step,
        out Vector512<float> v0, out Vector512<float> v1, out Vector512<float> v2, out Vector512<float> v3)
    {
        if (step.First)
        {
            v0 = Vector512.Load(bias); v1 = Vector512.Load(bias + 16); v2 = Vector512.Load(bias + 32); v3 = Vector512.Load(bias + 48);
            if (step.Output != GemmOutput.Accumulate) return;
        }
        else
        {
            v0 = v1 = v2 = v3 = Vector512<float>.Zero;
        }
        v0 += Vector512.Load(c); v1 += Vector512.Load(c + 16); v2 += Vector512.Load(c + 32); v3 += Vector512.Load(c + 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3, Step step)
    {
        if (step.Last && step.Output == GemmOutput.StoreRelu)
        {
            v0 = Vector512.Max(v0, Vector512<float>.Zero); v1 = Vector512.Max(v1, Vector512<float>.Zero);
            v2 = Vector512.Max(v2, Vector512<float>.Zero); v3 = Vector512.Max(v3, Vector512<float>.Zero);
        }
        v0.Store(c); v1.Store(c + 16); v2.Store(c + 32); v3.Store(c + 48);
    }

    // 4 rows × 32 columns (half a panel) for AVX2: 12 ymm accumulators for rows 0..2 plus 4 panel registers fill the
    // 16 registers, so row 3 takes a second pass over the same (L1-resident) depth block.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel256(float* a, int lda, float* panel, int depth, float* bias, float* c, int ldc, Step step, Prefetch prefetch)
    {
        Load256(c, bias, step, out var c00, out var c01, out var c02, out var c03);
        Load256(c + ldc, bias, step, out var c10, out var c11, out var c12, out var c13);
        Load256(c + 2 * ldc, bias, step, out var c20, out var c21, out var c22, out var c23);
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda;
        float* w = panel;
        float* pf = prefetch.Address;
        int pfLines = prefetch.LinesPerStep;
        for (int kk = 0; kk < depth; kk++, w += PanelWidth)
        {
            for (int l = 0; l < pfLines; l++, pf += FloatsPerLine) if (Sse.IsSupported) Sse.Prefetch1(pf);
            Vector256<float> w0 = Vector256.Load(w), w1 = Vector256.Load(w + 8), w2 = Vector256.Load(w + 16), w3 = Vector256.Load(w + 24);
            Vector256<float> x = Vector256.Create(a0[kk]);
            c00 = Vector256.FusedMultiplyAdd(x, w0, c00); c01 = Vector256.FusedMultiplyAdd(x, w1, c01);
            c02 = Vector256.FusedMultiplyAdd(x, w2, c02); c03 = Vector256.FusedMultiplyAdd(x, w3, c03);
            x = Vector256.Create(a1[kk]);
            c10 = Vector256.FusedMultiplyAdd(x, w0, c10); c11 = Vector256.FusedMultiplyAdd(x, w1, c11);
            c12 = Vector256.FusedMultiplyAdd(x, w2, c12); c13 = Vector256.FusedMultiplyAdd(x, w3, c13);
            x = Vector256.Create(a2[kk]);
            c20 = Vector256.FusedMultiplyAdd(x, w0, c20); c21 = Vector256.FusedMultiplyAdd(x, w1, c21);
            c22 = Vector256.FusedMultiplyAdd(x, w2, c22); c23 = Vector256.FusedMultiplyAdd(x, w3, c23);
        }
        Store256(c, c00, c01, c02, c03, step);
        Store256(c + ldc, c10, c11, c12, c13, step);
        Store256(c + 2 * ldc, c20, c21, c22, c23, step);

        float* c3 = c + 3 * ldc;
        Load256(c3, bias, step, out c00, out c01, out c02, out c03);
        float* a3 = a + 3 * lda;
        w = panel;
        for (int kk = 0; kk < depth; kk++, w += PanelWidth)
        {
            Vector256<float> x = Vector256.Create(a3[kk]);
            c00 = Vector256.FusedMultiplyAdd(x, Vector256.Load(w), c00);
            c01 = Vector256.FusedMultiplyAdd(x, Vector256.Load(w + 8), c01);
            c02 = Vector256.FusedMultiplyAdd(x, Vector256.Load(w + 16), c02);
            c03 = Vector256.FusedMultiplyAdd(x, Vector256.Load(w + 24), c03);
        }
        Store256(c3, c00, c01, c02, c03, step);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Load256(float* c, float* bias, Step step,
        out Vector256<float> v0, out Vector256<float> v1, out Vector256<float> v2, out Vector256<float> v3)
    {
        if (step.First)
        {
            v0 = Vector256.Load(bias); v1 = Vector256.Load(bias + 8); v2 = Vector256.Load(bias + 16); v3 = Vector256.Load(bias + 24);
            if (step.Output != GemmOutput.Accumulate) return;
        }
        else
        {
            v0 = v1 = v2 = v3 = Vector256<float>.Zero;
        }
        v0 += Vector256.Load(c); v1 += Vector256.Load(c + 8); v2 += Vector256.Load(c + 16); v3 += Vector256.Load(c + 24);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3, Step step)
    {
        if (step.Last && step.Output == GemmOutput.StoreRelu)
        {
            v0 = Vector256.Max(v0, Vector256<float>.Zero); v1 = Vector256.Max(v1, Vector256<float>.Zero);
            v2 = Vector256.Max(v2, Vector256<float>.Zero); v3 = Vector256.Max(v3, Vector256<float>.Zero);
        }
        v0.Store(c); v1.Store(c + 8); v2.Store(c + 16); v3.Store(c + 24);
    }
}
