using System.Text.Json;
using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Memories;
using Xunit;

namespace McpMemory.Tests.Install;

/// <summary>
/// The real `claude` (pinned in tests/clients) reads the settings install wrote, runs the SessionStart hook and takes
/// its briefing; after uninstall it runs no hook of ours. `claude -p --output-format stream-json --verbose` reports each
/// hook's run (hook_response: its stdout, exit code, outcome) before it would call the model, so this needs no network.
/// </summary>
[Trait("Category", "RealClients")]
public sealed class ClaudeSessionHookTests
{
    [Theory]
    [InlineData("project")]
    [InlineData("user")]
    public void Claude_runs_the_installed_hook_at_session_start_and_gets_the_briefing_and_none_after_uninstall(string scope)
    {
        using var box = new InstallSandbox();
        // The hook's deadline is widened for a loaded test machine: this checks the wiring, the bench checks the speed.
        box.Environment["MCP_MEMORY_HOOK_DEADLINE_MS"] = "30000";
        var marker = $"marker{Guid.NewGuid():N}";
        Guid id;
        // The namespace the hook computes in the project: project:<name of the git root>.
        using (var service = MemoryService.Open(box.Environment["MCP_MEMORY_DB"], (MemoryLimits?)null))
            id = service.Store(new Caller("project:project", Caller.DefaultAgentId),
                new NewMemory { Content = $"Chose {marker} for the release train", MemoryType = "decision" }).MemoryId;

        box.Install("--client", "claude-code", "--scope", scope, "--command", box.ServerExecutable).ExitCode.Should().Be(0);

        var listed = RealClients.Run(box, "claude", box.Project, "mcp", "list");
        listed.ExitCode.Should().Be(0, listed.ToString());
        listed.LineFor("mcp-memory:").Should().NotBeNull("claude still reads the settings with the hook in them: " + listed);

        var hook = SessionStartHookRuns(box).Should().ContainSingle().Subject;
        hook.GetProperty("exit_code").GetInt32().Should().Be(0);
        hook.GetProperty("outcome").GetString().Should().Be("success");
        var output = JsonDocument.Parse(hook.GetProperty("stdout").GetString()!).RootElement.GetProperty("hookSpecificOutput");
        output.GetProperty("hookEventName").GetString().Should().Be("SessionStart");
        output.GetProperty("additionalContext").GetString().Should().Contain($"Chose {marker} for the release train (id {id:D})");

        box.Uninstall("--client", "claude-code", "--scope", scope).ExitCode.Should().Be(0);
        SessionStartHookRuns(box).Should().BeEmpty();
    }

    /// <summary>The SessionStart hook runs `claude -p` reports (stream-json), bounded by RealClients' timeout.</summary>
    private static List<JsonElement> SessionStartHookRuns(InstallSandbox box)
    {
        var run = RealClients.Run(box, "claude", box.Project, "-p", "hello", "--output-format", "stream-json", "--verbose");
        var events = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => { try { return JsonDocument.Parse(line).RootElement; } catch (JsonException) { return (JsonElement?)null; } })
            .OfType<JsonElement>().ToList();
        events.Should().Contain(e => e.GetProperty("type").GetString() == "system", "claude -p printed its events: " + run);
        return events.Where(e => e.GetProperty("type").GetString() == "system" && e.TryGetProperty("subtype", out var s) && s.GetString() == "hook_response"
                                 && e.GetProperty("hook_event").GetString() == "SessionStart").ToList();
    }
}
