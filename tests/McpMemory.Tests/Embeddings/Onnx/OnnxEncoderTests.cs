using System.Numerics.Tensors;
using System.Text.Json;
using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Embeddings.Onnx;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Embeddings.Onnx;

/// <summary>The arctic-embed-xs sessions shared by all ONNX encoder tests (creating one takes ~1 s).</summary>
public sealed class ArcticFixture : IDisposable
{
    /// <summary>The weights as stored (fp32): the exact pipeline, held to the reference vectors at cosine 0.9999.</summary>
    public OnnxEncoder Encoder { get; } = OnnxEncoder.Load(OnnxEncoder.DefaultDirectory, weights: OnnxWeights.AsStored);

    /// <summary>The default: the same file with int8 weights.</summary>
    public OnnxEncoder Int8 { get; } = OnnxEncoder.LoadDefault();

    public void Dispose()
    {
        Encoder.Dispose();
        Int8.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ArcticCollection : ICollectionFixture<ArcticFixture>
{
    public const string Name = "arctic";
}

/// <summary>One line of arctic-golden.jsonl: Hugging Face's ids for a reference text (document or query mode) and the model's vector for them.</summary>
public sealed record ArcticGoldenCase(int Index, bool Query, long[] Ids, float[] Vector)
{
    /// <summary>
    /// /work/shared/tools/bert-reference ids.jsonl + vectors.jsonl (202 texts × document/query mode; ids from Hugging Face
    /// tokenizers, vectors from model.onnx on ONNX Runtime 1.31.1, CLS pooling, L2 norm), vectors as base64 float32.
    /// </summary>
    public static IReadOnlyList<ArcticGoldenCase> All { get; } = File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Embeddings", "Onnx", "arctic-golden.jsonl"))
        .Where(line => line.Length > 0)
        .Select(line =>
        {
            var root = JsonDocument.Parse(line).RootElement;
            byte[] raw = Convert.FromBase64String(root.GetProperty("vector").GetString()!);
            var vector = new float[raw.Length / sizeof(float)];
            Buffer.BlockCopy(raw, 0, vector, 0, raw.Length);
            return new ArcticGoldenCase(root.GetProperty("index").GetInt32(), root.GetProperty("query").GetBoolean(),
                root.GetProperty("ids").EnumerateArray().Select(e => e.GetInt64()).ToArray(), vector);
        }).ToList();

    public override string ToString() => $"text {Index} ({(Query ? "query" : "document")}, {Ids.Length} tokens)";
}

[Collection(ArcticCollection.Name)]
public class OnnxEncoderTests(ArcticFixture fixture)
{
    private readonly OnnxEncoder _encoder = fixture.Encoder;

    [Fact]
    public void Reference_ids_give_the_reference_vector_for_every_text_and_mode()
    {
        var cases = ArcticGoldenCase.All;
        cases.Should().HaveCount(404);
        cases.Max(c => c.Ids.Length).Should().Be(512, "the set includes texts cut at the 512-token limit");
        var cosines = cases.Select(c => (Case: c, Cosine: (double)TensorPrimitives.CosineSimilarity(_encoder.EmbedTokenIds([c.Ids])[0], c.Vector))).ToList();
        cosines.Where(c => c.Cosine < EncoderSelfCheck.MinimumCosine).Select(c => $"{c.Case}: {c.Cosine:F6}").Should().BeEmpty();
    }

    [Fact]
    public void Reference_texts_give_the_reference_vector_through_the_exact_tokenizer()
    {
        // Text → ids → vector end to end: the 202 shared texts as documents (Embed, one batch) and as queries (EmbedQuery).
        var texts = BertTokenizerTests.ReadTexts(Path.Combine(BertTokenizerTests.ReferenceDirectory(), "texts.json"));
        var documents = _encoder.EmbedBatch(texts);
        var failures = new List<string>();
        foreach (var c in ArcticGoldenCase.All)
        {
            float[] vector = c.Query ? _encoder.EmbedQuery(texts[c.Index]) : documents[c.Index];
            double cosine = TensorPrimitives.CosineSimilarity(vector, c.Vector);
            if (cosine < EncoderSelfCheck.MinimumCosine) failures.Add($"{c}: {cosine:F6}");
        }
        failures.Should().BeEmpty();
    }

    [Fact]
    public void A_batch_equals_single_calls_whatever_the_order_and_padding()
    {
        var cases = ArcticGoldenCase.All.Where((_, i) => i % 3 == 0).ToList(); // 135 inputs of 2 to 512 tokens, unsorted
        float[][] batch = _encoder.EmbedTokenIds(cases.Select(c => c.Ids).ToList());
        batch.Should().HaveCount(cases.Count);
        for (int i = 0; i < cases.Count; i++)
        {
            float[] single = _encoder.EmbedTokenIds([cases[i].Ids])[0];
            // Padding changes the matrix shapes ONNX Runtime multiplies, not the result: masked positions get zero weight.
            TensorPrimitives.CosineSimilarity(batch[i], single).Should().BeGreaterThan(0.99999f, cases[i].ToString());
            TensorPrimitives.CosineSimilarity(batch[i], cases[i].Vector).Should().BeGreaterThanOrEqualTo((float)EncoderSelfCheck.MinimumCosine, cases[i].ToString());
        }
        var texts = new[] { "short", "a somewhat longer sentence about deployment with nginx and docker compose", "" };
        var fromText = _encoder.EmbedBatch(texts);
        for (int i = 0; i < texts.Length; i++) TensorPrimitives.CosineSimilarity(fromText[i], _encoder.Embed(texts[i])).Should().BeGreaterThan(0.99999f);
    }

    [Fact]
    public void Concurrent_callers_get_the_same_vectors_as_one_caller()
    {
        var cases = ArcticGoldenCase.All.Take(24).ToList();
        var expected = cases.Select(c => _encoder.EmbedTokenIds([c.Ids])[0]).ToList();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 6, new ParallelOptions { MaxDegreeOfParallelism = 6 }, t =>
        {
            for (int round = 0; round < 2; round++)
                for (int i = t % 3; i < cases.Count; i += 3)
                    if (!_encoder.EmbedTokenIds([cases[i].Ids])[0].AsSpan().SequenceEqual(expected[i])) failures.Add($"thread {t}: {cases[i]}");
        });
        failures.Should().BeEmpty();
    }

    [Fact]
    public void Concurrent_callers_never_have_more_runs_inside_onnx_runtime_than_cores_per_intra_op_threads()
    {
        // An encoder of its own, so the peak counts only these calls. 8 callers on (usually) 2 cores.
        using var encoder = OnnxEncoder.Load(OnnxEncoder.DefaultDirectory);
        encoder.ConcurrentRuns.Should().Be(Math.Max(1, Environment.ProcessorCount / encoder.Settings.IntraOpThreads));
        var ids = ArcticGoldenCase.All.Take(16).Select(c => c.Ids).ToList();
        using var start = new Barrier(8);
        var callers = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
        {
            start.SignalAndWait(TimeSpan.FromSeconds(30));
            foreach (var sequence in ids) encoder.EmbedTokenIds([sequence]);
        })).ToList();
        callers.ForEach(t => t.Start());
        callers.ForEach(t => t.Join(TimeSpan.FromSeconds(120)).Should().BeTrue());
        encoder.PeakRunsInFlight.Should().BeInRange(1, encoder.ConcurrentRuns);
        // A batch goes through the same gate.
        encoder.EmbedBatch(Enumerable.Range(0, 20).Select(i => $"memory number {i} about deploys").ToList());
        encoder.PeakRunsInFlight.Should().BeInRange(1, encoder.ConcurrentRuns);
    }

    [Fact]
    public void Batch_chunks_keep_padding_small_and_cover_every_input_once()
    {
        var random = new Random(19);
        int[] lengths = Enumerable.Range(0, 500).Select(_ => random.Next(3, 513)).Concat(Enumerable.Repeat(7, 100)).ToArray();
        var chunks = OnnxEncoder.PlanChunks(lengths);
        chunks.SelectMany(chunk => chunk).Order().Should().Equal(Enumerable.Range(0, lengths.Length));
        foreach (var chunk in chunks)
        {
            int longest = chunk.Max(i => lengths[i]), real = chunk.Sum(i => lengths[i]);
            chunk.Count.Should().BeLessThanOrEqualTo(OnnxEncoder.MaxTextsPerChunk);
            if (chunk.Count > 1)
            {
                (chunk.Count * longest).Should().BeLessThanOrEqualTo(OnnxEncoder.MaxTokensPerChunk);
                ((chunk.Count * longest - real) * OnnxEncoder.MaxPaddingFraction).Should().BeLessThanOrEqualTo(real, "padding is at most 1/8 of the real tokens");
            }
        }
        chunks.Count(chunk => chunk.Any(i => lengths[i] == 7)).Should().BeLessThanOrEqualTo(5, "100 equal lengths pack into full chunks of 32");
    }

    [Fact]
    public async Task Two_intra_op_threads_give_the_single_thread_vectors_and_zero_threads_are_refused()
    {
        using var twoThreads = OnnxEncoder.Load(OnnxEncoder.DefaultDirectory, new OnnxRunSettings(2, AllowSpinning: false), OnnxWeights.AsStored);
        twoThreads.Settings.IntraOpThreads.Should().Be(2);
        var texts = BertTokenizerTests.ReadTexts(Path.Combine(BertTokenizerTests.ReferenceDirectory(), "texts.json")).Take(40).ToList();
        var expected = _encoder.EmbedBatch(texts);
        var tasks = Enumerable.Range(0, 4).Select(_ => Task.Run(() => twoThreads.EmbedBatch(texts))).ToArray();
        var results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(2));
        foreach (var actual in results.Append(texts.Select(twoThreads.Embed).ToArray()))
            for (int i = 0; i < texts.Count; i++)
                TensorPrimitives.CosineSimilarity(actual[i], expected[i]).Should().BeGreaterThan(0.99999f, texts[i]);
        var act = () => OnnxEncoder.Load(OnnxEncoder.DefaultDirectory, new OnnxRunSettings(0, AllowSpinning: false));
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*IntraOpThreads: must be at least 1 (got 0)*");
    }

    [Fact]
    public void Queries_carry_the_instruction_prefix_and_documents_do_not()
    {
        const string text = "John: Yup, it's a yoga studio I go to often. The vibe is really chill and the instructors are awesome.";
        var reference = ArcticGoldenCase.All.Where(c => c.Index == 1).ToDictionary(c => c.Query);
        _encoder.ModelId.Should().Be("snowflake-arctic-embed-xs@onnx");
        _encoder.Dimension.Should().Be(384);
        _encoder.DocumentTokenIds(text).Should().Equal(reference[false].Ids);
        _encoder.QueryTokenIds(text).Should().Equal(reference[true].Ids);

        TensorPrimitives.CosineSimilarity(_encoder.EmbedQuery(text), reference[true].Vector).Should().BeGreaterThanOrEqualTo(0.9999f);
        TensorPrimitives.CosineSimilarity(_encoder.Embed(text), reference[false].Vector).Should().BeGreaterThanOrEqualTo(0.9999f);
        TensorPrimitives.CosineSimilarity(_encoder.EmbedQuery(text), _encoder.Embed(text)).Should().BeLessThan(0.99f);
        // The symmetric encoders' default: a query is embedded like a document.
        IEmbedder symmetric = UseLiteEncoder.LoadDefault();
        symmetric.EmbedQuery(text).Should().Equal(symmetric.Embed(text));
    }

    [Fact]
    public void Long_texts_are_cut_to_512_tokens_ending_with_sep()
    {
        string longText = string.Join(' ', Enumerable.Repeat("deployment", 700));
        long[] ids = _encoder.DocumentTokenIds(longText);
        ids.Should().HaveCount(512);
        ids[0].Should().Be(101);
        ids[^1].Should().Be(102);
        _encoder.Embed(longText).Should().HaveCount(384);
        _encoder.QueryTokenIds(longText).Should().HaveCount(512);
    }

    [Fact]
    public void Self_check_compares_text_to_vector_with_the_reference()
    {
        var check = EncoderSelfCheck.Run(_encoder);
        check.Passed.Should().BeTrue();
        check.TokenIdsMatch.Should().BeTrue();
        check.Cosine.Should().BeGreaterThanOrEqualTo(EncoderSelfCheck.MinimumCosine);
        check.Note.Should().BeNull();
    }

    [Fact]
    public void Search_embeds_the_query_with_the_query_prefix()
    {
        using var dir = new TempDirectory();
        using var service = MemoryService.Open(dir.File("m.db"), MemoryOptions.Default with { EmbeddingInterval = TimeSpan.Zero }, EmbedderProvider.Ready(_encoder));
        service.WaitForVectors(TimeSpan.FromSeconds(30)).Should().BeTrue();
        var caller = new Caller("project:test", "agent");
        const string memory = "website deployment uses cloudflare tunnel through docker compose with nginx reverse proxy";
        const string query = "what's the deal with the nginx config on the portfolio site?";
        service.Store(caller, new NewMemory { Content = memory });
        var hit = service.Search(caller, new SearchRequest { Query = query, Mode = SearchResponse.Vector }).Results.Should().ContainSingle().Subject;
        float[] stored = _encoder.Embed(memory);
        hit.Similarity.Should().BeApproximately(TensorPrimitives.Dot(_encoder.EmbedQuery(query), stored), 0.002);
        Math.Abs(hit.Similarity!.Value - TensorPrimitives.Dot(_encoder.Embed(query), stored)).Should().BeGreaterThan(0.01);
    }

    [Fact]
    public void A_mean_pooling_folder_over_the_same_model_is_its_own_vector_space()
    {
        using var dir = new TempDirectory();
        var folder = Directory.CreateDirectory(dir.File("arctic-mean")).FullName;
        File.CreateSymbolicLink(Path.Combine(folder, OnnxEncoder.ModelFile), Path.Combine(OnnxEncoder.DefaultDirectory, OnnxEncoder.ModelFile));
        File.Copy(Path.Combine(OnnxEncoder.DefaultDirectory, OnnxEncoder.VocabularyFile), Path.Combine(folder, OnnxEncoder.VocabularyFile));
        File.WriteAllText(Path.Combine(folder, OnnxModelConfig.FileName), """
            { "model_id": "arctic-xs-mean-test", "dimension": 384, "pooling": "mean", "normalize": true, "max_tokens": 128,
              "query_prefix": "query: ", "document_prefix": "passage: " }
            """);
        using var mean = OnnxEncoder.Load(folder);
        mean.ModelId.Should().Be("arctic-xs-mean-test");
        mean.Config.Pooling.Should().Be(Pooling.Mean);

        var texts = ArcticGoldenCase.All.Where(c => !c.Query).Take(20).Select(c => c.Ids).ToList();
        var pooled = mean.EmbedTokenIds(texts);
        var cls = _encoder.EmbedTokenIds(texts);
        for (int i = 0; i < texts.Count; i++)
        {
            TensorPrimitives.Norm(pooled[i]).Should().BeApproximately(1f, 1e-4f);
            TensorPrimitives.CosineSimilarity(pooled[i], cls[i]).Should().BeLessThan(0.98f, $"text {i}: mean pooling is not the [CLS] row");
            TensorPrimitives.CosineSimilarity(pooled[i], mean.EmbedTokenIds([texts[i]])[0]).Should().BeGreaterThan(0.99999f, "padding is excluded from the mean");
        }
        mean.DocumentTokenIds("hello").Should().Equal(_encoder.DocumentTokenIds("passage: hello"));
        mean.QueryTokenIds("hello").Should().Equal(_encoder.DocumentTokenIds("query: hello"));
        mean.DocumentTokenIds(string.Join(' ', Enumerable.Repeat("word", 300))).Should().HaveCount(128);
        var check = EncoderSelfCheck.Run(mean);
        check.Passed.Should().BeTrue();
        check.Note.Should().Contain("no reference vector");
    }

    [Theory]
    [InlineData("""{ "dimension": 384 }""", "model_id: required")]
    [InlineData("""{ "model_id": "x", "dimension": 384, "pooling": "max" }""", "pooling: must be \"cls\" or \"mean\" (got \"max\")")]
    [InlineData("""{ "model_id": "x" }""", "dimension: required, between 8 and 4096 (got null)")]
    [InlineData("""{ "model_id": "x", "dimension": 384, "max_tokens": 100000 }""", "max_tokens: must be between 3 and 8192 (got 100000)")]
    [InlineData("""{ "model_id": "x", "dimension": 384, "poolin": "cls" }""", "poolin")]
    [InlineData("""{ "model_id": "x", "dimension": 384, "weights": "int4" }""", "weights: must be \"as-stored\" or \"int8\" (got \"int4\")")]
    [InlineData("""{ "model_id": "x", "dimension": 512 }""", "dimension: the model's output 'last_hidden_state' is")]
    public void A_bad_config_is_refused_naming_the_field(string json, string message)
    {
        using var dir = new TempDirectory();
        var folder = Directory.CreateDirectory(dir.File("model")).FullName;
        File.CreateSymbolicLink(Path.Combine(folder, OnnxEncoder.ModelFile), Path.Combine(OnnxEncoder.DefaultDirectory, OnnxEncoder.ModelFile));
        File.Copy(Path.Combine(OnnxEncoder.DefaultDirectory, OnnxEncoder.VocabularyFile), Path.Combine(folder, OnnxEncoder.VocabularyFile));
        File.WriteAllText(Path.Combine(folder, OnnxModelConfig.FileName), json);
        var act = () => OnnxEncoder.Load(folder);
        act.Should().Throw<InvalidDataException>().Which.Message.Should().Contain(OnnxModelConfig.FileName).And.Contain(message);
    }

    [Fact]
    public void A_folder_without_the_model_is_refused_naming_the_file()
    {
        using var dir = new TempDirectory();
        var act = () => OnnxEncoder.Load(dir.Path);
        act.Should().Throw<FileNotFoundException>().Which.Message.Should().Contain(Path.Combine(dir.Path, "model.onnx"));
    }
}
