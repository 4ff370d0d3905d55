using System.Numerics.Tensors;
using FluentAssertions;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Embeddings.Onnx;
using Xunit;

namespace McpMemory.Tests.Embeddings.Onnx;

/// <summary>The default encoder: arctic-embed-xs's fp32 file with its MatMul weights quantized to int8 at load.</summary>
[Collection(ArcticCollection.Name)]
public class Int8WeightsTests(ArcticFixture fixture)
{
    private readonly OnnxEncoder _int8 = fixture.Int8;
    private readonly OnnxEncoder _fp32 = fixture.Encoder;

    [Fact]
    public void The_default_is_int8_a_vector_space_of_its_own()
    {
        _int8.Weights.Should().Be(OnnxWeights.Int8);
        _int8.ModelId.Should().Be("snowflake-arctic-embed-xs@onnx/int8");
        _fp32.ModelId.Should().Be("snowflake-arctic-embed-xs@onnx");
        _int8.Config.Should().Be(_fp32.Config, "one folder, one config: only the weights differ");
    }

    [Fact]
    public void Every_reference_text_stays_within_cosine_0_99_of_the_fp32_reference_in_both_modes()
    {
        var cosines = ArcticGoldenCase.All
            .Select(c => (Case: c, Cosine: (double)TensorPrimitives.CosineSimilarity(_int8.EmbedTokenIds([c.Ids])[0], c.Vector)))
            .ToList();
        cosines.Where(c => c.Cosine < EncoderSelfCheck.MinimumInt8Cosine).Select(c => $"{c.Case}: {c.Cosine:F5}").Should().BeEmpty();
        cosines.Average(c => c.Cosine).Should().BeGreaterThan(0.997, "measured mean 0.998");
        cosines.Count(c => c.Cosine < 0.99999).Should().BeGreaterThan(cosines.Count / 2, "the weights really are quantized");
    }

    [Fact]
    public void Self_check_holds_int8_to_its_own_bound()
    {
        var check = EncoderSelfCheck.Run(_int8);
        check.Passed.Should().BeTrue();
        check.TokenIdsMatch.Should().BeTrue();
        check.Cosine.Should().BeInRange(EncoderSelfCheck.MinimumInt8Cosine, 1.0);
        check.Note.Should().BeNull();
    }

    [Fact]
    public void A_batch_equals_single_calls()
    {
        // The activations are quantized with one scale per run, so each text runs alone: its companions in a batch
        // would otherwise move its vector (cosine 0.998 measured).
        var texts = BertTokenizerTests.ReadTexts(Path.Combine(BertTokenizerTests.ReferenceDirectory(), "texts.json")).Take(60).ToList();
        var batch = _int8.EmbedBatch(texts);
        for (int i = 0; i < texts.Count; i++) batch[i].Should().Equal(_int8.Embed(texts[i]), texts[i]);
    }

    [Fact]
    public void The_quantizer_rewrites_each_constant_MatMul_and_shrinks_the_file()
    {
        byte[] original = File.ReadAllBytes(Path.Combine(OnnxEncoder.DefaultDirectory, OnnxEncoder.ModelFile));
        var (model, quantized) = Int8WeightQuantizer.Quantize(original);
        quantized.Should().Be(36, "6 layers × (query, key, value, attention output, two feed-forward) weights");
        // 36 weight matrices (10.6 M parameters) go from 4 bytes to 1, plus a scale and zero point per column.
        (original.Length - model.Length).Should().BeInRange(31_000_000, 32_500_000);
        var (again, none) = Int8WeightQuantizer.Quantize(model);
        none.Should().Be(0, "DynamicQuantizeMatMul nodes are not MatMuls");
        again.Should().BeSameAs(model);
        Int8WeightQuantizer.Quantize([]).Quantized.Should().Be(0);
    }

    [Fact]
    public void Columns_get_their_own_scale_and_every_weight_is_within_half_a_step()
    {
        var random = new Random(7);
        const int rows = 50, columns = 9;
        var weight = new float[rows * columns];
        for (int i = 0; i < weight.Length; i++) weight[i] = (float)(random.NextDouble() - 0.5) * (1 + i % columns * 10);
        for (int i = 0; i < rows; i++) weight[i * columns + 4] = 0; // an all-zero column
        var (levels, scales) = Int8WeightQuantizer.QuantizeColumns(weight, rows, columns);
        scales[4].Should().Be(1f);
        for (int j = 0; j < columns; j++)
        {
            var column = Enumerable.Range(0, rows).Select(i => (Weight: weight[i * columns + j], Level: levels[i * columns + j])).ToList();
            if (j != 4) column.Max(c => Math.Abs((int)c.Level)).Should().Be(Int8WeightQuantizer.MaxLevel, "the largest weight of a column takes the top level");
            foreach (var (w, level) in column) Math.Abs(w - level * scales[j]).Should().BeLessThanOrEqualTo(scales[j] / 2 + 1e-6f);
        }
    }
}
