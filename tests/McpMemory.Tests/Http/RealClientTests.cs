using System.Text.Json;
using FluentAssertions;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Http;

/// <summary>
/// The official TypeScript MCP SDK client (tests/mcp-clients/all-tools.mjs) calling every tool over stdio,
/// Streamable HTTP and legacy SSE, and the MCP Inspector CLI listing them: real clients against the built server.
/// </summary>
public class RealClientTests
{
    private static readonly string[] AllTools = ["consolidate_memories", "delete_memory", "feedback", "find_skills", "get_agent_state", "get_briefing", "memory_history", "search_memory", "seed_memories", "set_agent_state", "store_memory", "unarchive_memory"];

    private static JsonElement Report(ToolProcess.Result run, string transport)
    {
        run.ExitCode.Should().Be(0, $"the TypeScript client over {transport} must finish cleanly; stderr:\n{run.Stderr}");
        var report = JsonDocument.Parse(run.Stdout.Trim()).RootElement;
        report.GetProperty("tools").EnumerateArray().Select(t => t.GetString()).Should().Equal(AllTools);
        var stored = report.GetProperty("stored");
        stored.GetProperty("status").GetString().Should().Be("stored");
        var id = stored.GetProperty("memory_id").GetString();
        report.GetProperty("found_ids").EnumerateArray().Select(e => e.GetString()).Should().Contain(id);
        report.GetProperty("state_value").GetProperty("transport").GetString().Should().Be(transport);
        report.GetProperty("feedback").GetProperty("memory_id").GetString().Should().Be(id);
        (report.GetProperty("skill_found").GetBoolean(), report.GetProperty("consolidate_dry_run").GetBoolean(), report.GetProperty("seed_dry_run").GetBoolean())
            .Should().Be((true, true, true));
        report.GetProperty("feedback").GetProperty("signal").GetString().Should().Be("useful");
        report.GetProperty("deleted").GetProperty("deleted").GetBoolean().Should().BeTrue();
        report.GetProperty("after_delete").GetInt32().Should().Be(0);
        report.GetProperty("history_kinds").EnumerateArray().Select(e => e.GetString()).Should().Equal("stored", "deleted");
        report.GetProperty("briefing_ids").EnumerateArray().Select(e => e.GetString()).Should().Contain(id, "the stored decision is in the briefing");
        report.GetProperty("briefing_tokens").GetInt32().Should().BeInRange(1, 800);
        report.GetProperty("prompt_has_marker").GetBoolean().Should().BeTrue();
        report.GetProperty("briefing_resource_has_marker").GetBoolean().Should().BeTrue();
        report.GetProperty("memory_resource_id").GetString().Should().Be(id);
        report.GetProperty("state_resource_transport").GetString().Should().Be(transport);
        return report;
    }

    [Fact]
    public async Task TypeScript_client_calls_every_tool_over_streamable_http()
    {
        using var dir = new TempDirectory();
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"));
        var report = Report(await NodeClients.AllToolsAsync("http", [$"{server.BaseUrl}/mcp"]), "http");
        report.GetProperty("protocol").GetString().Should().Be("2025-11-25");
        report.GetProperty("session").GetString().Should().NotBeNullOrEmpty();
        report.GetProperty("stored").GetProperty("namespace").GetString().Should().Be("project:http");
    }

    [Fact]
    public async Task TypeScript_client_calls_every_tool_over_legacy_sse()
    {
        using var dir = new TempDirectory();
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"));
        Report(await NodeClients.AllToolsAsync("sse", [$"{server.BaseUrl}/sse"]), "sse");
    }

    [Fact]
    public async Task TypeScript_client_calls_every_tool_over_stdio()
    {
        using var dir = new TempDirectory();
        Report(await NodeClients.AllToolsAsync("stdio", ["dotnet", ToolProcess.Dll, "serve", "--db", dir.File("m.db"), "--namespace", "project:stdio"]), "stdio");
    }

    [Fact]
    public async Task TypeScript_client_with_an_api_key_works_and_without_it_is_refused()
    {
        using var dir = new TempDirectory();
        const string key = "test-key-0123456789abcdef";
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"), ["--api-key", key]);
        Report(await NodeClients.AllToolsAsync("http", [$"{server.BaseUrl}/mcp"], key), "http");
        Report(await NodeClients.AllToolsAsync("sse", [$"{server.BaseUrl}/sse"], key), "sse");

        var refused = await NodeClients.AllToolsAsync("http", [$"{server.BaseUrl}/mcp"]);
        refused.ExitCode.Should().NotBe(0);
        refused.Stderr.Should().Contain("a valid API key is required");
    }

    [Fact]
    public async Task Inspector_cli_lists_the_tools_over_stdio()
    {
        using var dir = new TempDirectory();
        var run = await NodeClients.InspectorAsync(["dotnet", ToolProcess.Dll, "serve", "--db", dir.File("m.db"), "--method", "tools/list"]);
        run.ExitCode.Should().Be(0, run.Stderr);
        var tools = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("tools");
        tools.EnumerateArray().Select(t => t.GetProperty("name").GetString()).Order().Should().Equal(AllTools);
        tools.EnumerateArray().Select(t => t.TryGetProperty("outputSchema", out var schema) && schema.ValueKind == JsonValueKind.Object).Should().AllSatisfy(has => has.Should().BeTrue());
    }
}
