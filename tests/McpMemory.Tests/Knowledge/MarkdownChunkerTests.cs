using FluentAssertions;
using McpMemory.Core.Knowledge;
using Xunit;

namespace McpMemory.Tests.Knowledge;

public class MarkdownChunkerTests
{
    [Fact]
    public void Each_section_is_a_chunk_with_its_heading_path_in_the_text_and_code_fences_are_not_headings()
    {
        const string doc = """
            # Shop
            Intro about the shop.

            ## Deploy
            ### Staging
            Push to main; the pipeline deploys staging.

            ```sh
            # not a heading: a shell comment
            ./deploy.sh staging
            ```

            ## Tests
            Run ./scripts/test.sh.
            """;
        var chunks = MarkdownChunker.Chunk("docs/ops.md", doc);
        chunks.Select(c => c.Heading).Should().Equal("Shop", "Shop › Deploy › Staging", "Shop › Tests");
        chunks[1].Text.Should().StartWith("docs/ops.md › Shop › Deploy › Staging\n\nPush to main").And.Contain("# not a heading: a shell comment");
        chunks[1].Key.Should().Be("doc:docs/ops.md#Shop › Deploy › Staging");
        chunks.Should().OnlyContain(c => c.Hash.Length == 16 && c.Source == "docs/ops.md");
        MarkdownChunker.Chunk("docs/ops.md", doc).Select(c => (c.Key, c.Hash)).Should().Equal(chunks.Select(c => (c.Key, c.Hash)), "the same text gives the same keys and hashes");
    }

    [Fact]
    public void A_long_section_is_split_at_paragraphs_into_parts_within_the_limit_and_repeated_headings_get_their_own_keys()
    {
        var paragraphs = Enumerable.Range(1, 12).Select(i => $"Paragraph {i}: " + string.Join(' ', Enumerable.Repeat("words about the deployment pipeline", 10)));
        var doc = "## Long\n" + string.Join("\n\n", paragraphs) + "\n## Example\none\n## Example\ntwo\n";
        var chunks = MarkdownChunker.Chunk("a.md", doc);
        var parts = chunks.Where(c => c.Heading == "Long").ToList();
        parts.Should().HaveCountGreaterThan(2);
        parts.Should().OnlyContain(p => p.Text.Length <= MarkdownChunker.MaxChunkChars + "a.md › Long (part 10)\n\n".Length);
        parts.Select(p => p.Part).Should().Equal(Enumerable.Range(1, parts.Count));
        parts[1].Text.Should().StartWith("a.md › Long (part 2)\n\nParagraph");
        string.Join(" ", parts.Select(p => p.Text)).Should().Contain("Paragraph 12:");
        chunks.Where(c => c.Heading == "Example").Select(c => c.Key).Should().Equal("doc:a.md#Example", "doc:a.md#Example#2");
    }
}
