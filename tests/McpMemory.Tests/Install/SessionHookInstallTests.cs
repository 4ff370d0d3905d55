using System.Text.Json.Nodes;
using FluentAssertions;
using Xunit;

namespace McpMemory.Tests.Install;

/// <summary>install adds a SessionStart hook running `briefing --hook` (Claude Code, Gemini CLI); uninstall takes exactly it out.</summary>
public sealed class SessionHookInstallTests
{
    private static JsonArray SessionStart(string file) => JsonNode.Parse(File.ReadAllText(file))!["hooks"]!["SessionStart"]!.AsArray();

    [Fact]
    public void Claude_code_project_install_appends_our_hook_beside_the_users_and_uninstall_gives_the_file_back_byte_for_byte()
    {
        using var box = new InstallSandbox();
        var settings = box.ProjectFile(".claude", "settings.local.json");
        const string users = "{\r\n    \"permissions\": {\r\n        \"allow\": [\r\n            \"Bash(ls:*)\"\r\n        ]\r\n    },\r\n    \"hooks\": {\r\n" +
                             "        \"SessionStart\": [\r\n            {\r\n                \"matcher\": \"startup\",\r\n                \"hooks\": [\r\n" +
                             "                    {\r\n                        \"type\": \"command\",\r\n                        \"command\": \"echo hello\"\r\n" +
                             "                    }\r\n                ]\r\n            }\r\n        ]\r\n    }\r\n}";
        box.WriteFile(settings, users);

        var install = box.Install("--client", "claude-code", "--command", "mcp-memory");
        install.ExitCode.Should().Be(0, install.Error);
        install.Output.Should().Contain("SessionStart hook");
        var groups = SessionStart(settings);
        groups.Should().HaveCount(2);
        groups[0]!["hooks"]![0]!["command"]!.GetValue<string>().Should().Be("echo hello");
        JsonNode.DeepEquals(groups[1], JsonNode.Parse("""{"hooks":[{"type":"command","command":"mcp-memory briefing --hook","timeout":10}]}""")).Should().BeTrue(groups[1]!.ToJsonString());
        File.ReadAllText(settings).Should().Contain("\r\n        \"SessionStart\"", "the file keeps its 4-space CRLF layout");

        box.Install("--client", "claude-code", "--command", "mcp-memory").Output.Should().Contain("Everything was already in place.");

        box.Uninstall("--client", "claude-code").ExitCode.Should().Be(0);
        File.ReadAllText(settings).Should().Be(users);
    }

    [Fact]
    public void The_hook_runs_the_same_program_database_and_namespace_as_the_server_quoted_for_the_shell()
    {
        using var box = new InstallSandbox();
        var db = Path.Combine(box.Root, "my data", "memory.db");

        box.Install("--client", "claude-code", "--scope", "user", "--command", "/opt/mcp memory/mcp-memory", "--db", db, "--namespace", "project:web").ExitCode.Should().Be(0);

        var hook = SessionStart(box.HomeFile(".claude", "settings.json")).Single()!["hooks"]![0]!;
        hook["command"]!.GetValue<string>().Should().Be($"'/opt/mcp memory/mcp-memory' briefing --db '{db}' --namespace project:web --hook");

        box.Uninstall("--client", "claude-code", "--scope", "user").ExitCode.Should().Be(0);
        File.Exists(box.HomeFile(".claude", "settings.json")).Should().BeFalse("it held only our hook");
    }

    [Fact]
    public void No_hooks_skips_them_on_install_and_keeps_them_on_uninstall()
    {
        using var box = new InstallSandbox();
        box.Install("--client", "claude-code,gemini", "--command", "mcp-memory", "--no-hooks").ExitCode.Should().Be(0);
        JsonNode.Parse(File.ReadAllText(box.ProjectFile(".claude", "settings.local.json")))!.AsObject().Select(p => p.Key).Should().Equal("enabledMcpjsonServers");
        JsonNode.Parse(File.ReadAllText(box.ProjectFile(".gemini", "settings.json")))!["hooks"].Should().BeNull();

        box.Install("--client", "claude-code", "--command", "mcp-memory").ExitCode.Should().Be(0);
        box.Uninstall("--client", "claude-code", "--no-hooks").ExitCode.Should().Be(0);
        SessionStart(box.ProjectFile(".claude", "settings.local.json")).Should().ContainSingle();
        box.Uninstall("--client", "claude-code").ExitCode.Should().Be(0);
        File.Exists(box.ProjectFile(".claude", "settings.local.json")).Should().BeFalse();
    }

    [Fact]
    public void Gemini_gets_a_named_hook_with_a_timeout_in_milliseconds_in_its_settings_and_uninstall_removes_the_file_it_created()
    {
        using var box = new InstallSandbox();
        box.Install("--client", "gemini", "--command", "mcp-memory").ExitCode.Should().Be(0);

        var settings = box.ProjectFile(".gemini", "settings.json");
        var hook = SessionStart(settings).Single()!["hooks"]!.AsArray().Single()!;
        JsonNode.DeepEquals(hook, JsonNode.Parse("""{"name":"mcp-memory-briefing","type":"command","command":"mcp-memory briefing --hook","timeout":10000}""")).Should().BeTrue(hook.ToJsonString());

        box.Uninstall("--client", "gemini").ExitCode.Should().Be(0);
        File.Exists(settings).Should().BeFalse();
    }

    [Fact]
    public void Clients_without_hooks_get_none_and_a_launch_without_serve_gets_a_note_instead_of_a_hook()
    {
        using var box = new InstallSandbox();
        box.Install("--client", "cursor", "--command", "mcp-memory").ExitCode.Should().Be(0);
        File.ReadAllText(box.ProjectFile(".cursor", "mcp.json")).Should().NotContain("hooks");
        File.ReadAllText(box.ProjectFile(".cursor", "rules", "mcp-memory.mdc")).Should().Contain("get_briefing", "the snippet asks for the briefing instead");

        var custom = box.Install("--client", "claude-code", "--command", "my-wrapper", "--arg", "--stdio");
        custom.ExitCode.Should().Be(0);
        custom.Output.Should().Contain("Claude Code: no SessionStart hook");
        File.ReadAllText(box.ProjectFile(".claude", "settings.local.json")).Should().NotContain("hooks");
    }
}
