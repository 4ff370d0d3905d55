using FluentAssertions;
using McpMemory.Core.Memories;
using Xunit;

namespace McpMemory.Tests.Core;

/// <summary>The merge rule's pure parts: normalisation, containment, the strict test's guards, the per-encoder floors.</summary>
public class DuplicateRuleUnitTests
{
    [Theory]
    [InlineData("Kubernetes namespace is billing-prod", "  kubernetes NAMESPACE is\tbilling-prod. ")]
    [InlineData("Use pnpm, not npm, for this repo", "use pnpm not npm for this repo!")]
    [InlineData("Café menu", "Cafe\u0301 menu")]
    [InlineData("The ﬁle watcher", "The file watcher")]
    public void Identical_after_normalisation(string a, string b)
    {
        DuplicateRule.Normalize(a).Should().Be(DuplicateRule.Normalize(b));
        DuplicateRule.Judge(a, b, 0, null).Should().Be(DuplicateVerdict.Identical);
    }

    [Theory]
    [InlineData("Kubernetes namespace is billing-prod", "Kubernetes namespace is billing-staging")]
    [InlineData("port 8080", "port 9090")]
    [InlineData("The service uses v1.2.3", "The service uses v1.2.4")]
    [InlineData("Meeting with Roger", "Meeting with Rogers")]
    [InlineData("The cache is shared between workers", "The cache is not shared between workers")]
    [InlineData("The cache is shared between workers", "It is not true that the cache is shared between workers")]
    [InlineData("Thanks!", "Thanks! The deploy failed again")]
    [InlineData("The api service calls the auth service", "The auth service calls the api service")]
    [InlineData("The service is stateless", "The service is stateful")]
    public void Different_facts_are_distinct_even_at_cosine_one(string a, string b) =>
        DuplicateRule.Judge(a, b, 1.0, 0.5).Should().Be(DuplicateVerdict.Distinct);

    [Fact]
    public void Containment_and_restatement()
    {
        DuplicateRule.Judge("Redis runs on port 6379", "Redis runs on port 6379 with persistence off", 0.1, null).Should().Be(DuplicateVerdict.Contained);
        DuplicateRule.Judge("The cache isn't shared", "The cache is not shared", 0.1, null).Should().Be(DuplicateVerdict.Identical);
        DuplicateRule.Judge("The worker restarts when memory exceeds 2 GB", "The worker restarted when memory exceeded 2 GB", 0.9, 0.75).Should().Be(DuplicateVerdict.Restated);
        DuplicateRule.Judge("The worker restarts when memory exceeds 2 GB", "The worker restarted when memory exceeded 2 GB", 0.7, 0.75)
            .Should().Be(DuplicateVerdict.Distinct, "below the cosine floor");
        DuplicateRule.Judge("The worker restarts when memory exceeds 2 GB", "The worker restarted when memory exceeded 2 GB", 1.0, null)
            .Should().Be(DuplicateVerdict.Distinct, "an uncalibrated encoder merges only identical or contained texts");
    }

    [Fact]
    public void Floors_are_keyed_by_the_encoders_model_id()
    {
        DuplicateRule.CosineFloor("use-lite-en@0.2.0").Should().NotBeNull();
        DuplicateRule.CosineFloor("snowflake-arctic-embed-xs@onnx/int8").Should().BeGreaterThan(DuplicateRule.CosineFloor("use-lite-en@0.2.0")!.Value,
            "arctic's cosines are compressed towards 1");
        DuplicateRule.SimilarFloor("snowflake-arctic-embed-xs@onnx/int8").Should().BeGreaterThan(DuplicateRule.DefaultSimilarFloor);
        DuplicateRule.CosineFloor("some-other-model@1").Should().BeNull("not calibrated: only identical or contained texts merge");
        DuplicateRule.CosineFloor(null).Should().BeNull();
        DuplicateRule.SimilarFloor("some-other-model@1").Should().Be(DuplicateRule.DefaultSimilarFloor);
    }
}
