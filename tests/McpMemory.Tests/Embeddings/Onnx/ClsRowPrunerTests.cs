using System.Numerics.Tensors;
using FluentAssertions;
using McpMemory.Core.Embeddings.Onnx;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Embeddings.Onnx;

/// <summary>The last layer cut to the [CLS] row (<see cref="ClsRowPruner"/>): what the default int8 model runs.</summary>
[Collection(ArcticCollection.Name)]
public class ClsRowPrunerTests(ArcticFixture fixture)
{
    private static byte[] Fp32Model() => File.ReadAllBytes(Path.Combine(OnnxEncoder.DefaultDirectory, OnnxEncoder.ModelFile));

    /// <summary>A model folder over <paramref name="model"/> (written as <paramref name="file"/>) with the built-in vocabulary and the given config (the built-in one by default).</summary>
    private static string Folder(TempDirectory dir, string name, string file, byte[] model, string? config = null)
    {
        var folder = Directory.CreateDirectory(dir.File(name)).FullName;
        File.WriteAllBytes(Path.Combine(folder, file), model);
        File.CreateSymbolicLink(Path.Combine(folder, OnnxEncoder.VocabularyFile), Path.Combine(OnnxEncoder.DefaultDirectory, OnnxEncoder.VocabularyFile));
        if (config is null) File.CreateSymbolicLink(Path.Combine(folder, OnnxModelConfig.FileName), Path.Combine(OnnxEncoder.DefaultDirectory, OnnxModelConfig.FileName));
        else File.WriteAllText(Path.Combine(folder, OnnxModelConfig.FileName), config);
        return folder;
    }

    [Fact]
    public void The_last_layer_after_attention_sees_only_the_first_row_and_a_second_cut_changes_nothing()
    {
        var (quantized, _) = Int8WeightQuantizer.Quantize(Fp32Model());
        var (cut, nodes) = ClsRowPruner.Prune(quantized);
        // Attention output product + residual Add + layer norm (9 nodes before ONNX Runtime fuses them), two feed-forward
        // products, GELU (5 nodes), residual Add, layer norm (9): 28 nodes of the last layer.
        nodes.Should().Be(28);
        var before = Int8WeightQuantizer.OperatorCounts(quantized);
        var after = Int8WeightQuantizer.OperatorCounts(cut);
        after["Slice"].Should().Be(before.GetValueOrDefault("Slice") + 2, "the merged attention heads and the residual stream are cut to the first row");
        after.Where(p => p.Key != "Slice").Should().BeEquivalentTo(before.Where(p => p.Key != "Slice"), "no node is added or dropped but the slices");
        var (again, none) = ClsRowPruner.Prune(cut);
        none.Should().Be(0);
        again.Should().BeSameAs(cut);
        ClsRowPruner.Prune(TinyModels.TwoProjections(13, new float[24], new float[3], new float[40], new float[5])).Nodes
            .Should().Be(0, "a [rows, columns] output is not [batch, tokens, hidden]: its axis 1 is not the tokens");
    }

    [Fact]
    public void With_fp32_weights_the_cut_model_gives_the_same_vectors_alone_and_in_padded_batches()
    {
        // No quantization: the cut is exact, so the vectors equal the full model's (float sums in another order at most).
        using var dir = new TempDirectory();
        using var cut = OnnxEncoder.Load(Folder(dir, "fp32-cut", OnnxEncoder.ModelFile, ClsRowPruner.Prune(Fp32Model()).Model), weights: OnnxWeights.AsStored);
        var ids = ArcticGoldenCase.All.Where((_, i) => i % 5 == 0).Select(c => c.Ids).ToList();
        var expected = fixture.Encoder.EmbedTokenIds(ids);
        var batch = cut.EmbedTokenIds(ids);
        for (int i = 0; i < ids.Count; i++)
        {
            TensorPrimitives.CosineSimilarity(batch[i], expected[i]).Should().BeGreaterThan(0.999999f, $"input {i} ({ids[i].Length} tokens), batched");
            TensorPrimitives.CosineSimilarity(cut.EmbedTokenIds([ids[i]])[0], expected[i]).Should().BeGreaterThan(0.999999f, $"input {i} ({ids[i].Length} tokens), alone");
        }
    }

    [Fact]
    public void With_int8_weights_the_vectors_move_less_than_a_ten_thousandth_of_cosine()
    {
        // The cut products quantize the [CLS] row's activations with a scale of their own: over the 404 reference cases
        // measured lowest cosine 0.99994, mean 0.99997 (on 600 generated search queries: 1 − cosine ≤ 7.6e-5).
        using var dir = new TempDirectory();
        var (uncut, _) = Int8WeightQuantizer.Quantize(Fp32Model());
        using var whole = OnnxEncoder.Load(Folder(dir, "int8-uncut", OnnxEncoder.Int8ModelFile, uncut));
        var cosines = ArcticGoldenCase.All.Select(c => TensorPrimitives.CosineSimilarity(fixture.Int8.EmbedTokenIds([c.Ids])[0], whole.EmbedTokenIds([c.Ids])[0])).ToList();
        cosines.Min().Should().BeGreaterThan(0.9999f);
        cosines.Average().Should().BeGreaterThan(0.99995f);
        cosines.Count(c => c < 0.9999999f).Should().BeGreaterThan(0, "the default model really is cut");
    }

    [Fact]
    public void A_one_row_model_needs_cls_pooling_and_a_mean_pooled_folder_is_not_cut()
    {
        using var dir = new TempDirectory();
        const string mean = """{ "model_id": "arctic-xs-mean-int8-test", "dimension": 384, "pooling": "mean", "weights": "int8" }""";
        var refused = () => OnnxEncoder.Load(Folder(dir, "cut-mean", OnnxEncoder.ModelFile, ClsRowPruner.Prune(Fp32Model()).Model, mean));
        refused.Should().Throw<InvalidDataException>().Which.Message.Should().Contain("pooling").And.Contain("cls");

        var folder = Directory.CreateDirectory(dir.File("mean-int8")).FullName;
        File.CreateSymbolicLink(Path.Combine(folder, OnnxEncoder.ModelFile), Path.Combine(OnnxEncoder.DefaultDirectory, OnnxEncoder.ModelFile));
        File.CreateSymbolicLink(Path.Combine(folder, OnnxEncoder.VocabularyFile), Path.Combine(OnnxEncoder.DefaultDirectory, OnnxEncoder.VocabularyFile));
        File.WriteAllText(Path.Combine(folder, OnnxModelConfig.FileName), mean);
        using var pooled = OnnxEncoder.Load(folder, int8Cache: dir.File("cache"));
        var ids = ArcticGoldenCase.All.First(c => !c.Query && c.Ids.Length > 10).Ids;
        TensorPrimitives.CosineSimilarity(pooled.EmbedTokenIds([ids])[0], fixture.Int8.EmbedTokenIds([ids])[0]).Should().BeLessThan(0.98f, "every row is pooled, not the [CLS] row");
        OnnxEncoder.Int8CachePath(Path.Combine(folder, OnnxEncoder.ModelFile), dir.File("cache"), Pooling.Mean)
            .Should().NotBe(OnnxEncoder.Int8CachePath(Path.Combine(folder, OnnxEncoder.ModelFile), dir.File("cache"), Pooling.Cls), "the cut and the whole graph are kept apart");
    }
}
