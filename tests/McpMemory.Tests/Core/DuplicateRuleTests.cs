using System.Numerics.Tensors;
using System.Text.Json;
using FluentAssertions;
using McpMemory.Core.Memories;
using McpMemory.Tests.Embeddings;
using McpMemory.Tests.Reliability;
using Xunit;
using Xunit.Abstractions;

namespace McpMemory.Tests.Core;

/// <summary>
/// The merge rule measured on <c>duplicate-pairs.json</c> with the real encoder: no pair of distinct facts may merge,
/// every restatement must. Also run when the encoder changes: its cosine floor is calibrated here.
/// </summary>
[Collection(EncoderCollection.Name)]
public class DuplicateRuleTests(EncoderFixture fixture, ITestOutputHelper output)
{
    internal sealed record Pairs(string[][] Distinct, string[][] Same);

    internal static Pairs Load() => JsonSerializer.Deserialize<Pairs>(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Core", "duplicate-pairs.json")),
        new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;

    [Fact]
    public void Distinct_facts_never_merge_and_restatements_always_do_with_the_real_encoder()
    {
        var pairs = Load();
        pairs.Distinct.Length.Should().BeGreaterThanOrEqualTo(60);
        pairs.Same.Length.Should().BeGreaterThanOrEqualTo(30);
        var floor = DuplicateRule.CosineFloor(fixture.Encoder.ModelId);
        floor.Should().NotBeNull("the built-in encoder is calibrated");

        double Cosine(string a, string b) => TensorPrimitives.Dot(fixture.Encoder.Embed(a), fixture.Encoder.Embed(b));
        var falseMerges = new List<string>();
        var oldRuleMerges = 0;
        var maxDistinct = 0.0;
        var aboveFloor = 0;
        foreach (var pair in pairs.Distinct)
        {
            var cosine = Cosine(pair[0], pair[1]);
            maxDistinct = Math.Max(maxDistinct, cosine);
            if (cosine >= 0.92) oldRuleMerges++;
            if (cosine >= floor) aboveFloor++;
            var verdict = DuplicateRule.Judge(pair[0], pair[1], cosine, floor);
            if (verdict != DuplicateVerdict.Distinct) falseMerges.Add($"{verdict} {cosine:0.000}: {pair[0]} | {pair[1]}");
        }
        var missed = new List<string>();
        var verdicts = new Dictionary<DuplicateVerdict, int>();
        var minRestated = 1.0;
        foreach (var pair in pairs.Same)
        {
            var cosine = Cosine(pair[0], pair[1]);
            var verdict = DuplicateRule.Judge(pair[0], pair[1], cosine, floor);
            verdicts[verdict] = verdicts.GetValueOrDefault(verdict) + 1;
            if (verdict == DuplicateVerdict.Restated) minRestated = Math.Min(minRestated, cosine);
            if (verdict == DuplicateVerdict.Distinct) missed.Add($"{cosine:0.000}: {pair[0]} | {pair[1]}");
        }
        var figures = $"merge rule ({fixture.Encoder.ModelId}, cosine floor {floor}): {pairs.Distinct.Length} distinct pairs, {falseMerges.Count} merged " +
                      $"(the old cosine >= 0.92 rule: {oldRuleMerges}; {aboveFloor} at or above the floor; highest cosine {maxDistinct:0.000}); {pairs.Same.Length} restatements, " +
                      $"{pairs.Same.Length - missed.Count} merged ({string.Join(", ", verdicts.Select(v => $"{v.Key.ToString().ToLowerInvariant()} {v.Value}"))}; lowest restated cosine {minRestated:0.000})";
        output.WriteLine(figures);
        Figures.Record(figures);
        falseMerges.Should().BeEmpty();
        missed.Should().BeEmpty();
    }
}
