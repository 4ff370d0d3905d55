using FluentAssertions;
using McpMemory.Core.Embeddings;
using Xunit;

namespace McpMemory.Tests.Embeddings;

/// <summary>The encoder's two hand-written kernels against plain double-precision loops.</summary>
public sealed unsafe class KernelTests
{
    // Row counts cover every mix of 6- and 4-row tiles and cross the 128-row chunk (130: a 2-row tail joins the chunk
    // before it); K = 200 leaves a partial depth block. Counts the kernels of this CPU do not take are left out.
    public static TheoryData<int, int> GemmCases()
    {
        var cases = new TheoryData<int, int>(); // (rows, GemmOutput), which is internal
        foreach (int rows in new[] { 4, 6, 8, 10, 12, 14, 16, 20, 24, 28, 30, 44, 128, 130, 132, 134, 140 }.Where(r => PackedMatrix.PaddedRows(r) == r))
            foreach (var output in Enum.GetValues<GemmOutput>())
                cases.Add(rows, (int)output);
        return cases;
    }

    [Theory]
    [MemberData(nameof(GemmCases))]
    public void Packed_product_matches_a_plain_product(int rows, int outputKind)
    {
        var output = (GemmOutput)outputKind;
        const int k = 200, n = 128;
        var random = new Random(rows);
        float[] w = RandomValues(random, k * n), bias = RandomValues(random, n), a = RandomValues(random, rows * k);
        float[] c = RandomValues(random, rows * n), before = (float[])c.Clone();

        new PackedMatrix(w, k, n, bias).Multiply(a, k, rows, c, n, output);

        for (int i = 0; i < rows; i++)
            for (int j = 0; j < n; j++)
            {
                double t = bias[j];
                for (int kk = 0; kk < k; kk++) t += (double)a[i * k + kk] * w[kk * n + j];
                double expected = output switch
                {
                    GemmOutput.Store => t,
                    GemmOutput.StoreRelu => Math.Max(t, 0),
                    _ => before[i * n + j] + t,
                };
                c[i * n + j].Should().BeApproximately((float)expected, 1e-4f, $"row {i}, column {j}");
            }
    }

    [Fact]
    public void Row_counts_are_padded_to_what_the_kernels_take()
    {
        PackedMatrix.PaddedRows(0).Should().Be(4);
        PackedMatrix.PaddedRows(1).Should().Be(4);
        PackedMatrix.PaddedRows(5).Should().BeOneOf(6, 8);
        var matrix = new PackedMatrix(new float[4 * 64], 4, 64, new float[64]);
        var odd = () => matrix.Multiply(new float[7 * 4], 4, 7, new float[7 * 64], 64, GemmOutput.Store);
        odd.Should().Throw<ArgumentException>().WithMessage("*not padded*");
    }

    [Fact]
    public void A_row_gets_bit_identical_results_whatever_rows_surround_it()
    {
        const int k = 256, n = 64;
        var random = new Random(7);
        float[] w = RandomValues(random, k * n), bias = RandomValues(random, n), a = RandomValues(random, 140 * k);
        var matrix = new PackedMatrix(w, k, n, bias);
        float[] all = new float[140 * n];
        matrix.Multiply(a, k, 140, all, n, GemmOutput.Store);

        // Every padded batch size the encoder can produce puts a given row into a different tile position.
        for (int rows = 4; rows <= 140; rows += 2)
        {
            if (PackedMatrix.PaddedRows(rows) != rows) continue;
            float[] part = new float[rows * n];
            matrix.Multiply(a, k, rows, part, n, GemmOutput.Store);
            part.Should().Equal(all.AsSpan(0, rows * n).ToArray(), $"first {rows} rows alone");
        }
    }

    [Theory]
    [InlineData(1, 64)]
    [InlineData(2, 64)]
    [InlineData(3, 128)]
    [InlineData(17, 64)]
    [InlineData(64, 128)]
    [InlineData(65, 64)]
    [InlineData(128, 128)]
    public void Attention_matches_a_plain_softmax_attention(int length, int headSize)
    {
        // One head whose Q, K, V sit side by side in a row, as in the encoder's fused projection.
        int qkvWidth = 3 * headSize;
        const float scale = 0.125f;
        var random = new Random(length);
        float[] qkv = RandomValues(random, length * qkvWidth);
        float[] output = new float[length * headSize];
        float[] keysT = new float[AttentionKernel.KeysScratchSize], scratch = new float[AttentionKernel.PairScratchSize];
        fixed (float* pQkv = qkv)
        fixed (float* pOut = output)
        fixed (float* pKeys = keysT)
        fixed (float* pScratch = scratch)
            AttentionKernel.Run(pQkv, qkvWidth, length, headSize, queryOffset: 0, keyOffset: headSize, valueOffset: 2 * headSize,
                scale, pOut, headSize, 0, pKeys, pScratch);

        for (int i = 0; i < length; i++)
        {
            var scores = new double[length];
            for (int j = 0; j < length; j++)
                for (int d = 0; d < headSize; d++)
                    scores[j] += (double)(qkv[i * qkvWidth + d] * scale) * qkv[j * qkvWidth + headSize + d];
            double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
            for (int d = 0; d < headSize; d++)
            {
                double expected = 0;
                for (int j = 0; j < length; j++) expected += Math.Exp(scores[j] - max) / sum * qkv[j * qkvWidth + 2 * headSize + d];
                output[i * headSize + d].Should().BeApproximately((float)expected, 1e-5f, $"query {i}, channel {d}");
            }
        }
    }

    private static float[] RandomValues(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
}
