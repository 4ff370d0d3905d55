using System.Text.Json;
using FluentAssertions;
using McpMemory.Tests.Support;
using ModelContextProtocol.Protocol;
using Xunit;

namespace McpMemory.Tests.Knowledge;

/// <summary>Seeding through the built tool: the CLI (child processes) and seed_memories over MCP (stdio, the SDK's client).</summary>
public class SeedEndToEndTests
{
    private static Dictionary<string, object?> Args(params (string Key, object? Value)[] pairs) => pairs.ToDictionary(p => p.Key, p => p.Value);

    private static void Docs(string project)
    {
        SeederTests.Git(project, "init", "-q");
        File.WriteAllText(Path.Combine(project, "README.md"), "# Shop\nA web shop.\n## Tests\nRun ./scripts/test.sh before every push.\n");
        Directory.CreateDirectory(Path.Combine(project, "docs"));
        File.WriteAllText(Path.Combine(project, "docs", "deploy.md"), "# Deploy\nStaging deploys from main through the tunnel.\n");
        File.WriteAllBytes(Path.Combine(project, "docs", "logo.md"), [0x00, 0xFF, 0x10]);
    }

    [Fact]
    public async Task Cli_seed_reports_added_then_unchanged_in_json_dry_run_writes_nothing_and_refusals_go_to_stderr()
    {
        using var dir = new TempDirectory();
        var project = Path.Combine(dir.Path, "project");
        Directory.CreateDirectory(project);
        Docs(project);
        // Keywords only: this test is about the files and the counts, not the encoder (which the repository test uses).
        var env = new Dictionary<string, string> { ["MCP_MEMORY_ENCODER"] = "off" };
        string[] db = ["--db", dir.File("m.db"), "--namespace", "project:shop"];

        var dry = await ToolProcess.RunAsync(["seed", project, "--dry-run", "--json", .. db], env);
        dry.ExitCode.Should().Be(0, dry.Stderr);
        JsonDocument.Parse(dry.Stdout).RootElement.GetProperty("added").GetInt32().Should().Be(3);
        var none = await ToolProcess.RunAsync(["stats", "--json", .. db], env);
        JsonDocument.Parse(none.Stdout).RootElement.GetProperty("memories").GetInt64().Should().Be(0);

        var first = await ToolProcess.RunAsync(["seed", project, "--json", .. db], env);
        first.ExitCode.Should().Be(0, first.Stderr);
        var report = JsonDocument.Parse(first.Stdout).RootElement;
        (report.GetProperty("files").GetInt32(), report.GetProperty("added").GetInt32(), report.GetProperty("unchanged").GetInt32()).Should().Be((2, 3, 0));
        report.GetProperty("refused")[0].GetProperty("reason").GetString().Should().Contain("binary");
        first.Stderr.Should().Contain("refused").And.Contain("logo.md").And.Contain("binary");

        var again = await ToolProcess.RunAsync(["seed", project, .. db], env);
        again.ExitCode.Should().Be(0, again.Stderr);
        again.Stdout.Trim().Should().Be("seeded project:shop from 2 file(s): 0 added, 0 updated, 0 removed, 3 unchanged, 1 refused");

        var search = await ToolProcess.RunAsync(["search", "tunnel staging", "--json", .. db], env);
        var hit = JsonDocument.Parse(search.Stdout).RootElement.GetProperty("results")[0];
        hit.GetProperty("content").GetString().Should().Be("docs/deploy.md › Deploy\n\nStaging deploys from main through the tunnel.");
        hit.GetProperty("memory_type").GetString().Should().Be("context");

        var missing = await ToolProcess.RunAsync(["seed", Path.Combine(project, "nope"), .. db], env);
        missing.ExitCode.Should().Be(1);
        missing.Stderr.Should().Contain("paths:").And.Contain("nope: no such file or folder");
    }

    [Fact]
    public async Task Seed_memories_over_mcp_seeds_the_project_folder_is_idempotent_and_refuses_paths_outside_it()
    {
        using var dir = new TempDirectory();
        var project = Path.Combine(dir.Path, "project");
        Directory.CreateDirectory(project);
        Docs(project);
        // Inline embedding: the search below judges the seeded chunk's rank by meaning too, so its vector must be there
        // when seed_memories answers (write-behind search during the gap has tests of its own).
        await using var client = await StdioMcpClient.StartAsync(dir.File("m.db"), "project:shop", env: RawMcpServer.InlineEmbedding, workingDirectory: project);

        var tool = (await client.ListToolsAsync()).Single(t => t.Name == "seed_memories");
        tool.JsonSchema.GetProperty("properties").EnumerateObject().Should().OnlyContain(p => !string.IsNullOrWhiteSpace(p.Value.GetProperty("description").GetString()));

        var first = await StdioMcpClient.CallAsync(client, "seed_memories", Args());
        (first.GetProperty("added").GetInt32(), first.GetProperty("files").GetInt32()).Should().Be((3, 2));
        var again = await StdioMcpClient.CallAsync(client, "seed_memories", Args(("paths", new[] { "." })));
        (again.GetProperty("added").GetInt32(), again.GetProperty("unchanged").GetInt32()).Should().Be((0, 3));

        File.WriteAllText(Path.Combine(project, "docs", "deploy.md"), "# Deploy\nStaging deploys from the release branch through the tunnel.\n");
        var changed = await StdioMcpClient.CallAsync(client, "seed_memories", Args(("paths", new[] { "docs" })));
        (changed.GetProperty("updated").GetInt32(), changed.GetProperty("unchanged").GetInt32()).Should().Be((1, 0));
        var newId = changed.GetProperty("changes")[0].GetProperty("memory_id").GetString()!;
        var history = await StdioMcpClient.CallAsync(client, "memory_history", Args(("memory_id", newId)));
        history.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("content").GetString()).Should()
            .Contain(c => c!.Contains("from main")).And.Contain(c => c!.Contains("release branch"));

        var found = await StdioMcpClient.CallAsync(client, "search_memory", Args(("query", "which branch does staging deploy from")));
        found.GetProperty("results")[0].GetProperty("memory_id").GetString().Should().Be(newId);

        var outside = await client.CallToolAsync("seed_memories", Args(("paths", new[] { dir.Path })));
        outside.IsError.Should().BeTrue();
        outside.Content.OfType<TextContentBlock>().Single().Text.Should().StartWith($"paths: {dir.Path}: outside {project}");
    }
}
