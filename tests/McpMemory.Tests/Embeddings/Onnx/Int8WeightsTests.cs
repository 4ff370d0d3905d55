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
        var before = Int8WeightQuantizer.OperatorCounts(original);
        var after = Int8WeightQuantizer.OperatorCounts(model);
        after["DynamicQuantizeMatMul"].Should().Be(24, "per layer: query, key and value as one product, attention output, two feed-forward");
        after["Split"].Should().Be(6, "the joint product is split back into query, key and value");
        after["MatMul"].Should().Be(before["MatMul"] - 36, "attention's own two products per layer stay");
        after["Add"].Should().Be(before["Add"] - 36, "every quantized product took its bias in");
        var (again, none) = Int8WeightQuantizer.Quantize(model);
        none.Should().Be(0, "DynamicQuantizeMatMul nodes are not MatMuls");
        again.Should().BeSameAs(model);
        Int8WeightQuantizer.Quantize([]).Quantized.Should().Be(0);
    }

    /// <summary>
    /// A two-MatMul model built here: both read X, each adds a bias. They become one DynamicQuantizeMatMul with the biases
    /// and a Split, whose sizes are an attribute up to opset 12 and an input from opset 13 on; ONNX Runtime runs both.
    /// </summary>
    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    [InlineData(17)]
    public void MatMuls_of_one_input_become_one_product_with_their_biases_and_a_split(int opset)
    {
        var random = new Random(opset);
        float[] Values(int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[] x = Values(2 * 8), w1 = Values(8 * 3), b1 = Values(3), w2 = Values(8 * 5), b2 = Values(5);
        byte[] model = TinyModels.TwoProjections(opset, w1, b1, w2, b2);

        var (quantized, count) = Int8WeightQuantizer.Quantize(model);
        count.Should().Be(2);
        Int8WeightQuantizer.OperatorCounts(quantized).Should().BeEquivalentTo(new Dictionary<string, int> { ["DynamicQuantizeMatMul"] = 1, ["Split"] = 1 });

        var (y1, y2) = TinyModels.Run(quantized, x);
        var (e1, e2) = TinyModels.Run(model, x);
        y1.Should().HaveCount(2 * 3);
        y2.Should().HaveCount(2 * 5);
        // 7-bit weights and 8-bit activations over 8 products: within a few hundredths of the exact result.
        for (int i = 0; i < e1.Length; i++) y1[i].Should().BeApproximately(e1[i], 0.05f);
        for (int i = 0; i < e2.Length; i++) y2[i].Should().BeApproximately(e2[i], 0.05f);
        e1[0].Should().BeApproximately(x[..8].Select((v, k) => v * w1[k * 3]).Sum() + b1[0], 1e-5f, "the fp32 model computes X·W + b");
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

/// <summary>The quantized model is kept in a cache folder once, and read from there by later loads.</summary>
[Collection(ArcticCollection.Name)]
public class Int8CacheTests(ArcticFixture fixture)
{
    private const string Text = "The staging database moved to Postgres 16 on port 5433.";

    /// <summary>The built-in folder without its build-made int8 file: a folder whose weights must be quantized at load.</summary>
    private static string Fp32Folder(McpMemory.Tests.Support.TempDirectory dir)
    {
        var folder = Directory.CreateDirectory(dir.File("arctic-embed-xs")).FullName;
        foreach (var file in new[] { OnnxEncoder.ModelFile, OnnxEncoder.VocabularyFile, OnnxModelConfig.FileName })
            File.CreateSymbolicLink(Path.Combine(folder, file), Path.Combine(OnnxEncoder.DefaultDirectory, file));
        return folder;
    }

    [Fact]
    public void The_first_load_writes_the_entry_later_loads_read_it_and_a_damaged_one_is_made_again()
    {
        using var dir = new McpMemory.Tests.Support.TempDirectory();
        string cache = dir.File("models"), folder = Fp32Folder(dir);
        float[] expected = fixture.Int8.Embed(Text);

        using (var first = OnnxEncoder.Load(folder, int8Cache: cache)) first.Embed(Text).Should().Equal(expected);
        var entry = Directory.GetFiles(cache).Should().ContainSingle().Subject;
        Path.GetFileName(entry).Should().MatchRegex(@"^arctic-embed-xs-[0-9a-f]{16}\.int8\.onnx$");
        new FileInfo(entry).Length.Should().BeInRange(55_000_000, 62_000_000, "fp32 90 MB less the MatMul weights' three quarters");
        entry.Should().Be(OnnxEncoder.Int8CachePath(Path.Combine(folder, OnnxEncoder.ModelFile), cache, Pooling.Cls));

        var written = File.GetLastWriteTimeUtc(entry);
        using (var second = OnnxEncoder.Load(folder, int8Cache: cache)) second.Embed(Text).Should().Equal(expected);
        File.GetLastWriteTimeUtc(entry).Should().Be(written, "the second load read the entry");

        File.WriteAllBytes(entry, new byte[1000]);
        File.WriteAllText(Path.Combine(cache, "arctic-embed-xs-0123456789abcdef.int8.onnx"), "an entry of an older model file");
        using (var third = OnnxEncoder.Load(folder, int8Cache: cache)) third.Embed(Text).Should().Equal(expected);
        Directory.GetFiles(cache).Should().Equal([entry], "the damaged entry was made again and the stale one removed");
        new FileInfo(entry).Length.Should().BeGreaterThan(55_000_000);
    }

    [Fact]
    public void A_cache_folder_that_cannot_be_written_only_costs_the_quantizing()
    {
        using var dir = new McpMemory.Tests.Support.TempDirectory();
        string blocked = dir.File("a-file");
        File.WriteAllText(blocked, "not a folder");
        using var encoder = OnnxEncoder.Load(Fp32Folder(dir), int8Cache: Path.Combine(blocked, "models"));
        encoder.Embed(Text).Should().Equal(fixture.Int8.Embed(Text));
    }
}

/// <summary>The build's int8 file: what the tool package carries instead of the fp32 one.</summary>
[Collection(ArcticCollection.Name)]
public class PrequantizedModelTests(ArcticFixture fixture)
{
    [Fact]
    public void The_build_made_the_int8_file_and_its_word_embedding_table_and_the_default_runs_them()
    {
        string int8 = Path.Combine(OnnxEncoder.DefaultDirectory, OnnxEncoder.Int8ModelFile);
        var (quantized, _) = Int8WeightQuantizer.Quantize(File.ReadAllBytes(Path.Combine(OnnxEncoder.DefaultDirectory, OnnxEncoder.ModelFile)));
        quantized = ClsRowPruner.Prune(quantized).Model;
        var (model, table, rows, hidden) = WordEmbeddingSplitter.Split(quantized)!.Value;
        (rows, hidden).Should().Be((30522, 384));
        File.ReadAllBytes(int8).Should().Equal(model, "the build ran this quantizer, this pruner and this splitter on this model");
        File.ReadAllBytes(Path.Combine(OnnxEncoder.DefaultDirectory, OnnxEncoder.WordEmbeddingsFile)).Should().Equal(table);
        model.Length.Should().BeLessThan(quantized.Length - 46_000_000, "the 44.7 MiB table left the graph");
        Int8WeightQuantizer.OperatorCounts(model)["Identity"].Should().Be(Int8WeightQuantizer.OperatorCounts(quantized).GetValueOrDefault("Identity") + 1,
            "the table's Gather became an Identity of the new input");
    }

    [Fact]
    public void Word_embeddings_read_from_the_table_file_give_the_same_vectors_bit_for_bit()
    {
        // Quantized at load from the fp32 file (the Gather inside ONNX Runtime) against the build's split files (rows read
        // from word-embeddings.f32): the same fp32 rows feed the same graph.
        using var dir = new McpMemory.Tests.Support.TempDirectory();
        var folder = Directory.CreateDirectory(dir.File("arctic-embed-xs")).FullName;
        foreach (var file in new[] { OnnxEncoder.ModelFile, OnnxEncoder.VocabularyFile, OnnxModelConfig.FileName })
            File.CreateSymbolicLink(Path.Combine(folder, file), Path.Combine(OnnxEncoder.DefaultDirectory, file));
        using var inGraph = OnnxEncoder.Load(folder, weights: OnnxWeights.Int8);
        var texts = BertTokenizerTests.ReadTexts(Path.Combine(BertTokenizerTests.ReferenceDirectory(), "texts.json"));
        foreach (var text in texts)
        {
            fixture.Int8.Embed(text).Should().Equal(inGraph.Embed(text), text);
            fixture.Int8.EmbedQuery(text).Should().Equal(inGraph.EmbedQuery(text), text);
        }
        // A batch as stored (fp32 weights run padded chunks): padding reads row 0, as the Gather did.
        var padded = texts.Take(40).ToList();
        using var fp32Split = OnnxEncoder.Load(SplitFp32Folder(dir), weights: OnnxWeights.AsStored);
        var split = fp32Split.EmbedBatch(padded);
        var whole = fixture.Encoder.EmbedBatch(padded);
        for (int i = 0; i < padded.Count; i++) split[i].Should().Equal(whole[i], padded[i]);
    }

    [Fact]
    public void A_model_that_reads_its_word_embeddings_from_a_file_refuses_to_load_without_it_naming_it()
    {
        using var dir = new McpMemory.Tests.Support.TempDirectory();
        var folder = Directory.CreateDirectory(dir.File("arctic-embed-xs")).FullName;
        foreach (var file in new[] { OnnxEncoder.Int8ModelFile, OnnxEncoder.VocabularyFile, OnnxModelConfig.FileName })
            File.CreateSymbolicLink(Path.Combine(folder, file), Path.Combine(OnnxEncoder.DefaultDirectory, file));
        var load = () => OnnxEncoder.Load(folder);
        load.Should().Throw<FileNotFoundException>().Which.Message.Should().Contain(OnnxEncoder.WordEmbeddingsFile);
        File.WriteAllBytes(Path.Combine(folder, OnnxEncoder.WordEmbeddingsFile), new byte[1000]);
        load.Should().Throw<InvalidDataException>().Which.Message.Should().Contain("not a whole number of rows of 384 floats");
    }

    /// <summary>The fp32 model with its table split out (weights as stored): a folder of model.onnx, the table, vocabulary and config.</summary>
    private static string SplitFp32Folder(McpMemory.Tests.Support.TempDirectory dir)
    {
        var folder = Directory.CreateDirectory(dir.File("fp32-split")).FullName;
        var (model, table, _, _) = WordEmbeddingSplitter.Split(File.ReadAllBytes(Path.Combine(OnnxEncoder.DefaultDirectory, OnnxEncoder.ModelFile)))!.Value;
        File.WriteAllBytes(Path.Combine(folder, OnnxEncoder.ModelFile), model);
        File.WriteAllBytes(Path.Combine(folder, OnnxEncoder.WordEmbeddingsFile), table);
        foreach (var file in new[] { OnnxEncoder.VocabularyFile, OnnxModelConfig.FileName })
            File.CreateSymbolicLink(Path.Combine(folder, file), Path.Combine(OnnxEncoder.DefaultDirectory, file));
        return folder;
    }

    [Fact]
    public void A_folder_with_only_the_int8_file_runs_int8_and_refuses_fp32_saying_why()
    {
        using var dir = new McpMemory.Tests.Support.TempDirectory();
        var folder = Directory.CreateDirectory(dir.File("arctic-embed-xs")).FullName;
        foreach (var file in new[] { OnnxEncoder.Int8ModelFile, OnnxEncoder.WordEmbeddingsFile, OnnxEncoder.VocabularyFile, OnnxModelConfig.FileName })
            File.CreateSymbolicLink(Path.Combine(folder, file), Path.Combine(OnnxEncoder.DefaultDirectory, file));
        using (var packaged = OnnxEncoder.Load(folder))
        {
            packaged.ModelId.Should().Be(fixture.Int8.ModelId);
            const string text = "npm ci --prefix tests/clients";
            packaged.Embed(text).Should().Equal(fixture.Int8.Embed(text));
        }
        var fp32 = () => OnnxEncoder.Load(folder, weights: OnnxWeights.AsStored);
        fp32.Should().Throw<FileNotFoundException>().Which.Message.Should().Contain("model.onnx").And.Contain("only int8 weights");
    }
}

/// <summary>Small ONNX models written with the quantizer's own protobuf writer: X [2, 8] → X·W1 + b1 and X·W2 + b2.</summary>
internal static class TinyModels
{
    public static byte[] TwoProjections(int opset, float[] w1, float[] b1, float[] w2, float[] b2)
    {
        var graph = new Int8WeightQuantizer.Proto.Writer();
        graph.Bytes(1, Node("MatMul", ["X", "W1"], ["P1"]));
        graph.Bytes(1, Node("Add", ["B1", "P1"], ["Y1"]));
        graph.Bytes(1, Node("MatMul", ["X", "W2"], ["P2"]));
        graph.Bytes(1, Node("Add", ["P2", "B2"], ["Y2"]));
        graph.String(2, "two-projections");
        graph.Bytes(5, Tensor("W1", [8, 3], w1));
        graph.Bytes(5, Tensor("B1", [3], b1));
        graph.Bytes(5, Tensor("W2", [8, 5], w2));
        graph.Bytes(5, Tensor("B2", [5], b2));
        graph.Bytes(11, ValueInfo("X", [2, 8]));
        graph.Bytes(12, ValueInfo("Y1", [2, 3]));
        graph.Bytes(12, ValueInfo("Y2", [2, 5]));
        var model = new Int8WeightQuantizer.Proto.Writer();
        model.Varint(1, 8); // ir_version
        var opsetImport = new Int8WeightQuantizer.Proto.Writer();
        opsetImport.String(1, "");
        opsetImport.Varint(2, (ulong)opset);
        model.Message(8, opsetImport);
        model.Message(7, graph);
        return model.ToArray();
    }

    public static (float[] Y1, float[] Y2) Run(byte[] model, float[] x)
    {
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(model);
        using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(x, [2, 8]);
        using var outputs = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), new Dictionary<string, Microsoft.ML.OnnxRuntime.OrtValue> { ["X"] = input }, ["Y1", "Y2"]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[1].GetTensorDataAsSpan<float>().ToArray());
    }

    private static byte[] Node(string op, string[] inputs, string[] outputs)
    {
        var node = new Int8WeightQuantizer.Proto.Writer();
        foreach (var input in inputs) node.String(1, input);
        foreach (var output in outputs) node.String(2, output);
        node.String(3, op + "_" + outputs[0]);
        node.String(4, op);
        return node.ToArray();
    }

    private static byte[] Tensor(string name, long[] dims, float[] values)
    {
        var tensor = new Int8WeightQuantizer.Proto.Writer();
        foreach (long dim in dims) tensor.Varint(1, (ulong)dim);
        tensor.Varint(2, 1); // FLOAT
        tensor.String(8, name);
        tensor.Bytes(9, values.SelectMany(BitConverter.GetBytes).ToArray());
        return tensor.ToArray();
    }

    private static byte[] ValueInfo(string name, long[] dims)
    {
        var shape = new Int8WeightQuantizer.Proto.Writer();
        foreach (long dim in dims)
        {
            var dimension = new Int8WeightQuantizer.Proto.Writer();
            dimension.Varint(1, (ulong)dim);
            shape.Message(1, dimension);
        }
        var tensorType = new Int8WeightQuantizer.Proto.Writer();
        tensorType.Varint(1, 1); // FLOAT
        tensorType.Message(2, shape);
        var type = new Int8WeightQuantizer.Proto.Writer();
        type.Message(1, tensorType);
        var info = new Int8WeightQuantizer.Proto.Writer();
        info.String(1, name);
        info.Message(2, type);
        return info.ToArray();
    }
}
