using System.Numerics.Tensors;
using System.Text.Json;
using FluentAssertions;
using McpMemory.Core.Embeddings;
using Xunit;
using Xunit.Abstractions;

namespace McpMemory.Tests.Embeddings;

[Collection(EncoderCollection.Name)]
public sealed class EncoderTests(EncoderFixture fixture, ITestOutputHelper output)
{
    private readonly UseLiteEncoder _encoder = fixture.Encoder;

    [Fact]
    public void Every_golden_vector_matches_the_reference()
    {
        var worst = GoldenData.All
            .Select(c => (Case: c, Cosine: (double)TensorPrimitives.CosineSimilarity(_encoder.Embed(c.Text), c.Vector)))
            .OrderBy(r => r.Cosine)
            .ToList();
        output.WriteLine($"{worst.Count} texts, lowest cosine {worst[0].Cosine:F9} for {JsonSerializer.Serialize(worst[0].Case.Text)}");
        worst.Where(r => r.Cosine < 0.9999)
            .Select(r => $"{JsonSerializer.Serialize(r.Case.Text)}: cosine {r.Cosine:F6}")
            .Should().BeEmpty();
    }

    [Fact]
    public void Vectors_have_the_declared_dimension_and_unit_length()
    {
        _encoder.Dimension.Should().Be(512);
        _encoder.ModelId.Should().Be("use-lite-en@0.2.0");
        foreach (string text in new[] { "a", "hello world", "🎉", new string('x', 5000) })
        {
            float[] v = _encoder.Embed(text);
            v.Should().HaveCount(512);
            TensorPrimitives.Norm(v).Should().BeApproximately(1f, 1e-5f);
        }
    }

    [Fact]
    public void A_batch_gives_the_same_vectors_as_single_calls()
    {
        var texts = GoldenData.All.Select(c => c.Text).Append("").Prepend("").ToList();
        float[][] batch = _encoder.EmbedBatch(texts);
        batch.Should().HaveCount(texts.Count);
        for (int i = 0; i < texts.Count; i++)
            batch[i].Should().Equal(_encoder.Embed(texts[i]), $"text {i} ({JsonSerializer.Serialize(texts[i])})");
    }

    [Fact]
    public void Concurrent_calls_give_the_same_vectors()
    {
        var texts = GoldenData.All.Select(c => c.Text).Take(64).ToList();
        float[][] expected = texts.Select(_encoder.Embed).ToArray();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            for (int round = 0; round < 3; round++)
            {
                for (int i = (t + round) % texts.Count; i < texts.Count; i += 3)
                    if (!_encoder.Embed(texts[i]).AsSpan().SequenceEqual(expected[i])) failures.Add($"thread {t}: Embed text {i}");
                float[][] batch = _encoder.EmbedBatch(texts);
                for (int i = 0; i < texts.Count; i++)
                    if (!batch[i].AsSpan().SequenceEqual(expected[i])) failures.Add($"thread {t}: EmbedBatch text {i}");
            }
        })).ToList();
        threads.ForEach(th => th.Start());
        threads.ForEach(th => th.Join());
        failures.Should().BeEmpty();
    }

    [Fact]
    public void Empty_text_embeds_to_the_documented_vector()
    {
        // Documented behaviour (the reference throws for [""]): l2norm(tanh(b_tanh)), what the reference graph
        // computes for an empty sentence inside a batch.
        float[] empty = _encoder.Embed("");
        empty.Should().HaveCount(512);
        TensorPrimitives.Norm(empty).Should().BeApproximately(1f, 1e-5f);
        _encoder.TokenIds("").Should().BeEmpty();
        _encoder.EmbedBatch(["", "hello", ""]).Should().AllSatisfy(v => v.Should().HaveCount(512));
        _encoder.EmbedBatch(["", "hello", ""])[2].Should().Equal(empty);

        // Whitespace-only text is not empty: it has tokens and its own vector.
        _encoder.TokenIds(" ").Should().Equal(30, 30);
        TensorPrimitives.CosineSimilarity(_encoder.Embed(" "), empty).Should().BeLessThan(0.999f);
    }

    [Fact]
    public void Tokens_beyond_the_cap_are_ignored()
    {
        string longText = string.Join(' ', Enumerable.Repeat("word", 300));
        string capped = string.Join(' ', Enumerable.Repeat("word", 128));
        _encoder.Tokenizer.Encode(longText).Length.Should().BeGreaterThan(UseLiteEncoder.MaxTokens);
        _encoder.TokenIds(longText).Should().HaveCount(UseLiteEncoder.MaxTokens).And.Equal(_encoder.TokenIds(capped));
        _encoder.Embed(longText).Should().Equal(_encoder.Embed(capped));
        string oneLess = string.Join(' ', Enumerable.Repeat("word", 127));
        _encoder.Embed(oneLess).Should().NotEqual(_encoder.Embed(capped));
    }

    [Fact]
    public void Self_check_passes_against_the_built_in_reference_vector()
    {
        EncoderSelfCheck check = _encoder.SelfCheck();
        check.TokenIdsMatch.Should().BeTrue();
        check.Cosine.Should().BeGreaterThanOrEqualTo(EncoderSelfCheck.MinimumCosine);
        check.Passed.Should().BeTrue();
        _encoder.LoadTime.Should().BePositive();
    }

    [Fact]
    public void A_missing_model_directory_is_reported_with_its_path()
    {
        string missing = Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid().ToString("N"));
        var act = () => UseLiteEncoder.Load(missing);
        act.Should().Throw<FileNotFoundException>().WithMessage($"*{missing}*");
    }

    [Fact]
    public void The_nginx_question_finds_the_deployment_memory()
    {
        const string query = "what's the deal with the nginx config on the portfolio site?";
        const string relevant = "website deployment uses cloudflare tunnel through docker compose with nginx reverse proxy";
        string[] unrelated =
        [
            "The user prefers tabs over spaces in Go files.",
            "Sarah's birthday is on March 3rd; she likes dark chocolate.",
            "The flaky test depends on wall-clock time and fails around midnight.",
            "Use pnpm instead of npm in the frontend workspace.",
            "The staging Postgres database listens on port 5433.",
            "Our release cadence is every second Tuesday.",
            "The cron job rotates logs older than 14 days.",
            "Rate limiting is 100 requests per minute per token.",
            "The GPU box has two RTX 4090 cards.",
            "Terraform state is stored in S3 with DynamoDB locking.",
            "Dark mode should be the default theme.",
            "The monolith still handles invoicing.",
            "I love hiking in the Alps in late September.",
            "The importer loads the whole CSV into memory.",
            "Meeting with the design team moved to Thursday.",
            "Never force-push to release branches.",
            "The bug only happens with the Turkish locale.",
            "She adopted a rescue greyhound last spring.",
            "Exports over ten thousand rows time out.",
            "The landing page font is Inter at weights 400 and 600.",
        ];
        float[] q = _encoder.Embed(query);
        float target = TensorPrimitives.Dot(q, _encoder.Embed(relevant));
        float[][] others = _encoder.EmbedBatch(unrelated);
        var closer = unrelated.Zip(others, (text, v) => (text, score: TensorPrimitives.Dot(q, v)))
            .Where(r => r.score >= target).Select(r => $"{r.text} ({r.score:F3} >= {target:F3})");
        closer.Should().BeEmpty();
        output.WriteLine($"relevant {target:F3}, best unrelated {others.Max(v => TensorPrimitives.Dot(q, v)):F3}");
    }
}
