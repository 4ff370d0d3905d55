using System.Numerics.Tensors;
using System.Text.Json;
using FluentAssertions;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Memories;
using McpMemory.Tests.Embeddings;
using McpMemory.Tests.Embeddings.Onnx;
using McpMemory.Tests.Reliability;
using Xunit;
using Xunit.Abstractions;

namespace McpMemory.Tests.Core;

/// <summary>
/// The merge rule measured on <c>duplicate-pairs.json</c> with a real encoder: no pair of distinct facts may merge,
/// every restatement must. Run for every built-in encoder: each one's cosine floor is calibrated here.
/// </summary>
public static class DuplicateRuleMeasurement
{
    internal sealed record Pairs(string[][] Distinct, string[][] Same);

    internal static Pairs Load() => JsonSerializer.Deserialize<Pairs>(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Core", "duplicate-pairs.json")),
        new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;

    internal static void DistinctFactsNeverMergeAndRestatementsAlwaysDo(IEmbedder encoder, ITestOutputHelper output)
    {
        var pairs = Load();
        pairs.Distinct.Length.Should().BeGreaterThanOrEqualTo(60);
        pairs.Same.Length.Should().BeGreaterThanOrEqualTo(30);
        var floor = DuplicateRule.CosineFloor(encoder.ModelId);
        floor.Should().NotBeNull("every built-in encoder is calibrated");
        var similarFloor = DuplicateRule.SimilarFloor(encoder.ModelId);

        double Cosine(string a, string b) => TensorPrimitives.Dot(encoder.Embed(a), encoder.Embed(b));
        var falseMerges = new List<string>();
        var distinctCosines = new List<double>();
        // Distinct pairs with the same content words (they differ only in what the rule's word test cannot see): the
        // cosine floor alone keeps these apart, so the highest of them bounds the floor from below.
        var maxSameWordsDistinct = 0.0;
        foreach (var pair in pairs.Distinct)
        {
            var cosine = Cosine(pair[0], pair[1]);
            distinctCosines.Add(cosine);
            if (DuplicateRule.Judge(pair[0], pair[1], cosine, 0) == DuplicateVerdict.Restated) maxSameWordsDistinct = Math.Max(maxSameWordsDistinct, cosine);
            var verdict = DuplicateRule.Judge(pair[0], pair[1], cosine, floor);
            if (verdict != DuplicateVerdict.Distinct) falseMerges.Add($"{verdict} {cosine:0.000}: {pair[0]} | {pair[1]}");
        }
        var missed = new List<string>();
        var verdicts = new Dictionary<DuplicateVerdict, int>();
        var sameCosines = new List<double>();
        var minRestated = 1.0;
        foreach (var pair in pairs.Same)
        {
            var cosine = Cosine(pair[0], pair[1]);
            sameCosines.Add(cosine);
            var verdict = DuplicateRule.Judge(pair[0], pair[1], cosine, floor);
            verdicts[verdict] = verdicts.GetValueOrDefault(verdict) + 1;
            if (DuplicateRule.Judge(pair[0], pair[1], cosine, 0) == DuplicateVerdict.Restated) minRestated = Math.Min(minRestated, cosine);
            if (verdict == DuplicateVerdict.Distinct) missed.Add($"{cosine:0.000}: {pair[0]} | {pair[1]}");
        }
        static string Spread(List<double> c) => $"cosine {c.Min():0.000}–{c.Max():0.000}, median {c.Order().ElementAt(c.Count / 2):0.000}";
        var figures = $"merge rule ({encoder.ModelId}, cosine floor {floor}, similar floor {similarFloor}): {pairs.Distinct.Length} distinct pairs " +
                      $"({Spread(distinctCosines)}; {distinctCosines.Count(c => c >= similarFloor)} at or above the similar floor), {falseMerges.Count} merged " +
                      $"(highest cosine among those with the same content words {maxSameWordsDistinct:0.000}); {pairs.Same.Length} restatements ({Spread(sameCosines)}), " +
                      $"{pairs.Same.Length - missed.Count} merged ({string.Join(", ", verdicts.Select(v => $"{v.Key.ToString().ToLowerInvariant()} {v.Value}"))}; " +
                      $"lowest cosine among those needing the strict test {minRestated:0.000})";
        output.WriteLine(figures);
        Figures.Record(figures);
        falseMerges.Should().BeEmpty();
        missed.Should().BeEmpty();
    }
}

[Collection(EncoderCollection.Name)]
public class DuplicateRuleTests(EncoderFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public void Distinct_facts_never_merge_and_restatements_always_do_with_USE_lite() =>
        DuplicateRuleMeasurement.DistinctFactsNeverMergeAndRestatementsAlwaysDo(fixture.Encoder, output);
}

[Collection(ArcticCollection.Name)]
public class DuplicateRuleArcticTests(ArcticFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public void Distinct_facts_never_merge_and_restatements_always_do_with_arctic() =>
        DuplicateRuleMeasurement.DistinctFactsNeverMergeAndRestatementsAlwaysDo(fixture.Encoder, output);
}
