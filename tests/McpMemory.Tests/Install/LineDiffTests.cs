using FluentAssertions;
using McpMemory.Install;
using Xunit;

namespace McpMemory.Tests.Install;

public sealed class LineDiffTests
{
    [Fact]
    public void Shows_removals_then_additions_with_two_lines_of_context()
    {
        var before = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        var after = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";

        LineDiff.Unified(before, after).Should().Equal("...", "  3", "  4", "- 5", "+ five", "  6", "  7", "...");
    }

    [Fact]
    public void A_new_file_is_all_additions()
    {
        LineDiff.Unified("", "a\nb\n").Should().Equal("+ a", "+ b");
    }

    [Fact]
    public void Huge_rewrites_fall_back_to_removed_then_added_without_quadratic_work()
    {
        var before = string.Join('\n', Enumerable.Range(0, 3000).Select(i => $"old {i}"));
        var after = string.Join('\n', Enumerable.Range(0, 3000).Select(i => $"new {i}"));

        var lines = LineDiff.Unified(before, after).ToList();

        lines.Should().HaveCount(6000);
        lines[0].Should().Be("- old 0");
        lines[3000].Should().Be("+ new 0");
    }
}
