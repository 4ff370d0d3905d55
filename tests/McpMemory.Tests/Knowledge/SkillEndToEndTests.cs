using System.Text.Json;
using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Memories;
using McpMemory.Tests.Support;
using ModelContextProtocol.Protocol;
using Xunit;

namespace McpMemory.Tests.Knowledge;

/// <summary>Skills through the built tool: over MCP (stdio, the SDK's client) and the CLI (child processes).</summary>
public class SkillEndToEndTests
{
    private static Dictionary<string, object?> Args(params (string Key, object? Value)[] pairs) => pairs.ToDictionary(p => p.Key, p => p.Value);

    [Theory, BothBackends]
    public async Task Over_mcp_a_skill_is_stored_found_by_its_trigger_rated_and_briefed(Backend backend)
    {
        using var database = new TestDatabase(backend);
        await using var client = await StdioMcpClient.StartAsync(database.Db, "project:e2e");
        var tools = (await client.ListToolsAsync()).ToDictionary(t => t.Name);
        tools["find_skills"].ProtocolTool.Annotations!.ReadOnlyHint.Should().BeTrue();
        tools["find_skills"].JsonSchema.GetProperty("properties").EnumerateObject().Should().OnlyContain(p => !string.IsNullOrWhiteSpace(p.Value.GetProperty("description").GetString()));
        tools["store_memory"].JsonSchema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Should().Contain(["trigger", "steps", "success_hint"]);

        var stored = await StdioMcpClient.CallAsync(client, "store_memory", Args(("content", "Fix a stale lock file after a crashed migration"),
            ("memory_type", "skill"), ("trigger", "migrations refuse to start because a lock file exists"),
            ("steps", new[] { "check no migration process runs", "delete db/.migrate.lock", "rerun make migrate" }), ("success_hint", "make migrate prints 'up to date'")));
        var id = stored.GetProperty("memory_id").GetString()!;
        await StdioMcpClient.CallAsync(client, "store_memory", Args(("content", "Migrations live in db/migrations and run in file name order with make migrate; a lock file guards them")));

        var found = await StdioMcpClient.CallAsync(client, "find_skills", Args(("task", "the migration will not start: lock file exists")));
        var skill = found.GetProperty("skills")[0];
        skill.GetProperty("memory_id").GetString().Should().Be(id);
        skill.GetProperty("steps").EnumerateArray().Select(s => s.GetString()).Should().Equal("check no migration process runs", "delete db/.migrate.lock", "rerun make migrate");
        skill.GetProperty("success_hint").GetString().Should().Be("make migrate prints 'up to date'");
        (skill.GetProperty("successes").GetInt64(), skill.GetProperty("failures").GetInt64()).Should().Be((0, 0));

        var search = await StdioMcpClient.CallAsync(client, "search_memory", Args(("query", "migrations refuse to start, lock file exists")));
        search.GetProperty("results")[0].GetProperty("memory_id").GetString().Should().Be(id, "a skill whose trigger matches comes first");

        await StdioMcpClient.CallAsync(client, "feedback", Args(("memory_id", id), ("signal", "success")));
        await StdioMcpClient.CallAsync(client, "feedback", Args(("memory_id", id), ("signal", "failure"), ("note", "the lock came back")));
        await StdioMcpClient.CallAsync(client, "feedback", Args(("memory_id", id), ("signal", "success")));
        var rated = (await StdioMcpClient.CallAsync(client, "find_skills", Args(("task", "lock file exists, migrations refuse to start")))).GetProperty("skills")[0];
        (rated.GetProperty("successes").GetInt64(), rated.GetProperty("failures").GetInt64(), rated.GetProperty("failing").GetBoolean()).Should().Be((2, 1, false));

        var briefing = await StdioMcpClient.CallAsync(client, "get_briefing", Args(("task", "migrations refuse to start")));
        briefing.GetProperty("markdown").GetString().Should().Contain("## Skills for the task").And.Contain("delete db/.migrate.lock").And.Contain("(2 worked, 1 failed)");

        var wrongType = await client.CallToolAsync("store_memory", Args(("content", "x"), ("trigger", "y")));
        wrongType.IsError.Should().BeTrue();
        wrongType.Content.OfType<TextContentBlock>().Single().Text.Should().StartWith("trigger: ");
    }

    [Theory, BothBackends]
    public async Task The_cli_stores_and_finds_skills_and_stats_flags_the_one_that_keeps_failing(Backend backend)
    {
        using var database = new TestDatabase(backend);
        var env = new Dictionary<string, string> { ["MCP_MEMORY_ENCODER"] = "off" };
        string[] db = ["--db", database.Db, "--namespace", "project:cli"];
        var stored = await ToolProcess.RunAsync(["store", "Clear the npm cache", "--type", "skill", "--trigger", "npm install fails with EINTEGRITY",
            "--steps", "npm cache clean --force", "--steps", "npm install", "--success-hint", "npm install exits 0", "--json", .. db], env);
        stored.ExitCode.Should().Be(0, stored.Stderr);
        var id = JsonDocument.Parse(stored.Stdout).RootElement.GetProperty("memory_id").GetString()!;

        var skills = await ToolProcess.RunAsync(["skills", "npm install fails: EINTEGRITY checksum", "--json", .. db], env);
        skills.ExitCode.Should().Be(0, skills.Stderr);
        var first = JsonDocument.Parse(skills.Stdout).RootElement.GetProperty("skills")[0];
        first.GetProperty("memory_id").GetString().Should().Be(id);
        first.GetProperty("steps").GetArrayLength().Should().Be(2);

        // Two failures recorded through the engine (the CLI has no feedback command), then stats in a new process.
        using (var service = MemoryService.Open(database.Db, limits: null))
        {
            var caller = new Caller("project:cli", "agent");
            service.Feedback(caller, Guid.Parse(id), "failure", null);
            service.Feedback(caller, Guid.Parse(id), "failed", null);
        }
        var stats = await ToolProcess.RunAsync(["stats", "--json", .. db], env);
        stats.ExitCode.Should().Be(0, stats.Stderr);
        var json = JsonDocument.Parse(stats.Stdout).RootElement;
        json.GetProperty("skills").GetInt32().Should().Be(1);
        json.GetProperty("failing_skills")[0].GetProperty("memory_id").GetString().Should().Be(id);
        json.GetProperty("failing_skills")[0].GetProperty("failures").GetInt64().Should().Be(2);
        var text = await ToolProcess.RunAsync(["stats", .. db], env);
        text.Stdout.Should().Contain("skills     1 (1 failing)").And.Contain($"failing {id} (0 succeeded, 2 failed)");
    }
}
