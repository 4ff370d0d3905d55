using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Embeddings.Onnx;
using McpMemory.Core.Knowledge;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace McpMemory.Tests.Knowledge;

/// <summary>
/// Seeding this repository's own documents, then asking ten questions a newcomer would, with the default encoder
/// (arctic-embed-xs, int8) and hybrid search, as the server runs them: the section that answers is in the top 3.
/// </summary>
public class SeedRepositoryTests(ITestOutputHelper output)
{
    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "McpMemory.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("McpMemory.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>A question, and what the right chunk contains (mostly its first line: file › heading path).</summary>
    public static readonly (string Question, string Chunk)[] Questions =
    [
        ("how do I run the tests", "README.md › McpMemory › Quick start (from source)"),
        ("where does the encoder live", "docs/encoder.md › Sentence encoders › Which encoder runs"),
        ("what is the merge rule for duplicate memories", "**The merge rule** (`src/McpMemory.Core/Memories/DuplicateRule.cs`)"),
        ("how do API keys limit namespaces over HTTP", "docs/http.md › Install, HTTP serving, API keys, and the figures › Security › Keys"),
        ("how do I register the server with Claude Code", "mcp-memory install --client claude-code"),
        ("which time phrases are understood in queries", "Time in queries"),
        ("how do I back up and restore the database", "docs/reliability.md › Reliability: nothing lost, nobody let in › Backup, verify, restore"),
        ("what does the briefing contain", "README.md › McpMemory › Use it from an agent › Briefing: what to know before starting"),
        ("how do I use Ollama embeddings", "Use your own embeddings (Ollama, LM Studio, OpenAI)"),
        ("where is the WordPiece tokenizer", "docs/bert-tokenizer.md › BERT WordPiece tokenizer"),
    ];

    [Fact]
    public void Ten_questions_about_this_repository_find_the_right_section_in_the_top_3_after_seeding_it()
    {
        using var dir = new TempDirectory();
        using var service = MemoryService.Open(dir.File("m.db"), MemoryOptions.Default, EmbedderProvider.Ready(OnnxEncoder.LoadDefault()));
        service.WaitForVectors(TimeSpan.FromMinutes(2)).Should().BeTrue();
        service.WaitForKeywordIndex(TimeSpan.FromMinutes(2)).Should().BeTrue();
        var caller = new Caller("project:mcp-memory", "agent-1");

        var report = new Seeder(service).Run(caller, new SeedRequest { Paths = [RepoRoot()] });
        output.WriteLine(Seeder.Summary(report));
        report.Files.Should().BeGreaterThan(5);
        report.Refused.Should().BeEmpty();

        var found = 0;
        foreach (var (question, chunk) in Questions)
        {
            var response = service.Search(caller, new SearchRequest { Query = question, TopK = 3 });
            response.Mode.Should().Be("hybrid");
            var firstLines = response.Results.Select(r => r.Memory.Content.Split('\n')[0]).ToList();
            var hit = response.Results.ToList().FindIndex(r => r.Memory.Content.Contains(chunk, StringComparison.Ordinal));
            output.WriteLine($"{(hit >= 0 ? $"#{hit + 1}" : "miss")}  {question}\n    " + string.Join("\n    ", firstLines));
            if (hit >= 0) found++;
        }
        found.Should().Be(Questions.Length);
    }
}
