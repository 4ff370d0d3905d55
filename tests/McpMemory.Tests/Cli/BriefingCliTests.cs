using System.Text.Json;
using FluentAssertions;
using McpMemory.Core.Briefing;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Cli;

/// <summary>`mcp-memory briefing` through the built tool, and its --hook form as Claude Code and Gemini CLI run it.</summary>
public sealed class BriefingCliTests
{
    // Keyword-only, and the hook's deadline widened: these check what is printed, not how fast (the bench does that).
    private static readonly Dictionary<string, string> Env = new() { ["MCP_MEMORY_ENCODER"] = "off", ["MCP_MEMORY_HOOK_DEADLINE_MS"] = "20000" };

    private static async Task<string> SeedAsync(string db, int decisions = 1)
    {
        string id = "";
        for (var i = 0; i < decisions; i++)
        {
            var stored = await ToolProcess.RunAsync(["store", $"Chose rollout plan{i} for region{i} because canary{i} caught the regression", "--type", "decision",
                "--json", "--db", db, "-n", "project:cli"], Env);
            stored.ExitCode.Should().Be(0, stored.Stderr);
            id = JsonDocument.Parse(stored.Stdout).RootElement.GetProperty("memory_id").GetString()!;
        }
        return id;
    }

    [Fact]
    public async Task briefing_prints_markdown_or_the_tools_json_within_the_budget()
    {
        using var dir = new TempDirectory();
        var db = dir.File("m.db");
        var id = await SeedAsync(db);
        (await ToolProcess.RunAsync(["state", "set", "current_task", "\"ship the rollout\"", "--db", db, "-n", "project:cli"], Env)).ExitCode.Should().Be(0);

        var markdown = await ToolProcess.RunAsync(["briefing", "--db", db, "-n", "project:cli"], Env);
        markdown.ExitCode.Should().Be(0, markdown.Stderr);
        markdown.Stdout.Should().StartWith("# Memory briefing").And.Contain($"(id {id})").And.Contain("ship the rollout");

        var json = await ToolProcess.RunAsync(["briefing", "--format", "json", "--task", "rollout regression", "--budget", "300", "--db", db, "-n", "project:cli"], Env);
        json.ExitCode.Should().Be(0, json.Stderr);
        var result = JsonDocument.Parse(json.Stdout).RootElement;
        result.GetProperty("budget_tokens").GetInt32().Should().Be(300);
        result.GetProperty("tokens").GetInt32().Should().Be(TokenCounter.Count(result.GetProperty("markdown").GetString()!)).And.BeLessThanOrEqualTo(300);
        result.GetProperty("task").GetString().Should().Be("rollout regression");

        var bad = await ToolProcess.RunAsync(["briefing", "--budget", "100", "--db", db], Env);
        bad.ExitCode.Should().Be(1);
        bad.Stderr.Trim().Should().Be("error: budget_tokens: must be between 200 and 20000 (got 100)");
    }

    [Fact]
    public async Task The_hook_prints_the_session_start_json_with_the_briefing_as_additional_context()
    {
        using var dir = new TempDirectory();
        var db = dir.File("m.db");
        var id = await SeedAsync(db, decisions: 40);

        var hook = await ToolProcess.RunAsync(["briefing", "--hook", "--db", db, "-n", "project:cli"], Env,
            stdin: """{"session_id":"s1","hook_event_name":"SessionStart","source":"startup","cwd":"/tmp"}""");

        hook.ExitCode.Should().Be(0);
        hook.Stderr.Should().BeEmpty();
        var lines = hook.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().ContainSingle("stdout holds one JSON object and nothing else (Gemini CLI parses all of it)");
        var output = JsonDocument.Parse(lines[0]).RootElement.GetProperty("hookSpecificOutput");
        output.GetProperty("hookEventName").GetString().Should().Be("SessionStart");
        var context = output.GetProperty("additionalContext").GetString()!;
        context.Should().StartWith("# Memory briefing").And.Contain($"(id {id})").And.MatchRegex(@"and \d+ more decisions, search for them");
        TokenCounter.Count(context).Should().BeLessThanOrEqualTo(BriefingRequest.DefaultBudget);
    }

    [Fact]
    public async Task The_hook_never_breaks_a_session_no_database_or_a_damaged_one_gives_no_output_and_exit_0()
    {
        using var dir = new TempDirectory();
        var missing = await ToolProcess.RunAsync(["briefing", "--hook", "--db", dir.File("none.db")], Env);
        missing.ExitCode.Should().Be(0);
        missing.Stdout.Should().BeEmpty();
        File.Exists(dir.File("none.db")).Should().BeFalse("a hook never creates a database");

        File.WriteAllText(dir.File("broken.db"), "this is not a database, just text long enough to look like a header........");
        var broken = await ToolProcess.RunAsync(["briefing", "--hook", "--db", dir.File("broken.db")], Env);
        broken.ExitCode.Should().Be(0);
        broken.Stdout.Should().BeEmpty();
        broken.Stderr.Should().StartWith("mcp-memory briefing --hook: ");

        // Past its deadline it gives up silently too (1 ms: no briefing can be that fast, the runtime's start aside).
        var late = await ToolProcess.RunAsync(["briefing", "--hook", "--db", dir.File("broken.db")], new Dictionary<string, string> { ["MCP_MEMORY_HOOK_DEADLINE_MS"] = "1" });
        late.ExitCode.Should().Be(0);
        late.Stdout.Should().BeEmpty();
    }
}
