using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Install;
using Xunit;

namespace McpMemory.Tests.Install;

/// <summary>
/// The clients' own CLIs read what `mcp-memory install` wrote: `claude mcp list`,
/// `codex mcp list [--json]`, `gemini mcp list`, each in a temporary HOME and project.
/// </summary>
[Trait("Category", "RealClients")]
public sealed class RealClientTests
{
    private const string Claude = "claude", Codex = "codex", Gemini = "gemini";

    [Fact]
    public void Claude_mcp_list_shows_a_user_scope_install_and_forgets_it_after_uninstall()
    {
        using var box = new InstallSandbox();

        // No --command: the default resolution, as a newcomer would run it (here: the built tool's path).
        box.Install("--client", "claude-code", "--scope", "user").ExitCode.Should().Be(0);

        var listed = RealClients.Run(box, Claude, box.Project, "mcp", "list");
        listed.ExitCode.Should().Be(0, listed.ToString());
        var line = listed.LineFor("mcp-memory:");
        line.Should().StartWith($"mcp-memory: {box.ServerExecutable} serve - ", listed.ToString());
        AssertHealthChecked(line!);

        // Claude Code rewrote ~/.claude.json meanwhile; uninstall must still take out just our entry.
        box.Uninstall("--client", "claude-code", "--scope", "user").ExitCode.Should().Be(0);
        var after = RealClients.Run(box, Claude, box.Project, "mcp", "list");
        after.LineFor("mcp-memory").Should().BeNull(after.ToString());
        File.Exists(box.HomeFile(".claude.json")).Should().BeTrue("Claude Code's own state stays");
    }

    [Fact]
    public void Claude_connects_to_a_tool_installed_outside_PATH()
    {
        if (OperatingSystem.IsWindows()) return; // the stand-in launcher below is a shell script
        using var box = new InstallSandbox();
        // Stands in for the launcher `dotnet tool install -g` puts in ~/.dotnet/tools, a folder not on
        // this PATH (the sandbox gives the installer none; claude runs with the test process's PATH).
        var shim = box.HomeFile(".dotnet", "tools", "mcp-memory");
        box.WriteFile(shim, $"#!/bin/sh\nexec '{box.ServerExecutable}' \"$@\"\n");
        File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        box.ProcessPath = shim;

        box.Install("--client", "claude-code", "--scope", "user").ExitCode.Should().Be(0);

        var listed = RealClients.Run(box, Claude, box.Project, "mcp", "list");
        var line = listed.LineFor("mcp-memory:");
        line.Should().StartWith($"mcp-memory: {shim} serve - ", listed.ToString());
        AssertHealthChecked(line!);
    }

    [Fact]
    public void Claude_mcp_list_shows_a_project_install_pending_until_the_folder_is_trusted_then_enabled()
    {
        using var box = new InstallSandbox();
        var install = box.Install("--client", "claude-code", "--command", box.ServerExecutable);
        install.ExitCode.Should().Be(0);
        install.Output.Should().Contain("answer \"Yes, I trust this folder\"");

        var untrusted = RealClients.Run(box, Claude, box.Project, "mcp", "list");
        untrusted.LineFor("mcp-memory:").Should().Contain("Pending approval", untrusted.ToString());

        // What the user does once in `claude`: accept the workspace trust dialog. The installer's
        // enabledMcpjsonServers entry then counts, so no approval is pending any more.
        AcceptClaudeTrustDialog(box);
        var trusted = RealClients.Run(box, Claude, box.Project, "mcp", "list");
        var line = trusted.LineFor("mcp-memory:");
        line.Should().StartWith($"mcp-memory: {box.ServerExecutable} serve - ", trusted.ToString()).And.NotContain("Pending approval");
        AssertHealthChecked(line!);

        box.Uninstall("--client", "claude-code").ExitCode.Should().Be(0);
        RealClients.Run(box, Claude, box.Project, "mcp", "list").LineFor("mcp-memory").Should().BeNull();
    }

    [Fact]
    public void The_readmes_quote_what_claude_mcp_list_prints_until_the_folder_is_trusted_and_the_step_that_ends_it()
    {
        using var box = new InstallSandbox();
        // As a newcomer with the tool on PATH would have it: the portable name.
        box.Install("--client", "claude-code", "--command", "mcp-memory").ExitCode.Should().Be(0);

        var listed = RealClients.Run(box, Claude, box.Project, "mcp", "list");
        var line = listed.LineFor("mcp-memory:");
        line.Should().Contain("Pending approval", listed.ToString());

        // "Yes, I trust this folder" is the confirm label of the pinned claude's folder trust dialog.
        foreach (var readme in new[] { "README.md", Path.Combine("src", "McpMemory", "Install", "README.md") })
            File.ReadAllText(Path.Combine(RealClients.RepoRoot, readme)).Should()
                .Contain(line, readme).And.Contain("\"Yes, I trust this folder\"", readme);
    }

    [Fact]
    public void Codex_mcp_list_shows_a_user_scope_install_with_our_command_and_not_after_uninstall()
    {
        using var box = new InstallSandbox();
        box.Install("--client", "codex", "--scope", "user", "--command", box.ServerExecutable).ExitCode.Should().Be(0);

        var table = RealClients.Run(box, Codex, box.Project, "mcp", "list");
        table.ExitCode.Should().Be(0, table.ToString());
        table.LineFor("mcp-memory").Should().MatchRegex($@"^mcp-memory\s+{System.Text.RegularExpressions.Regex.Escape(box.ServerExecutable)}\s+serve\s+.*enabled");

        var entry = CodexServers(box).Should().ContainSingle(s => s["name"]!.GetValue<string>() == Clients.ServerName).Subject;
        entry["enabled"]!.GetValue<bool>().Should().BeTrue();
        entry["transport"]!["type"]!.GetValue<string>().Should().Be("stdio");
        entry["transport"]!["command"]!.GetValue<string>().Should().Be(box.ServerExecutable);
        entry["transport"]!["args"]!.AsArray().Select(a => a!.GetValue<string>()).Should().Equal("serve");

        box.Uninstall("--client", "codex", "--scope", "user").ExitCode.Should().Be(0);
        CodexServers(box).Should().BeEmpty();
    }

    [Fact]
    public void Codex_reads_a_project_install_only_once_the_project_is_trusted()
    {
        using var box = new InstallSandbox();
        var install = box.Install("--client", "codex", "--command", box.ServerExecutable);
        install.ExitCode.Should().Be(0);

        CodexServers(box).Should().BeEmpty("Codex ignores .codex/config.toml in an untrusted project");

        // Exactly the lines the installer's reminder tells the user to add.
        install.Output.Should().Contain($"[projects.\"{box.Project}\"]");
        box.WriteFile(box.HomeFile(".codex", "config.toml"), $"[projects.\"{box.Project}\"]\ntrust_level = \"trusted\"\n");
        CodexServers(box).Select(s => s["name"]!.GetValue<string>()).Should().Equal(Clients.ServerName);

        box.Uninstall("--client", "codex").ExitCode.Should().Be(0);
        CodexServers(box).Should().BeEmpty();
    }

    [Theory]
    [InlineData("user")]
    [InlineData("project")]
    public void Gemini_mcp_list_shows_the_install_in_a_trusted_folder_and_not_after_uninstall(string scope)
    {
        using var box = new InstallSandbox();
        box.Install("--client", "gemini", "--scope", scope, "--command", box.ServerExecutable).ExitCode.Should().Be(0);

        var untrusted = RealClients.Run(box, Gemini, box.Project, "mcp", "list");
        untrusted.ExitCode.Should().Be(0, untrusted.ToString());
        untrusted.LineFor("mcp-memory:").Should().Contain("Disabled", "Gemini disables every server in an untrusted folder: " + untrusted);

        // What the user does when `gemini` asks whether to trust the folder.
        box.WriteFile(box.HomeFile(".gemini", "trustedFolders.json"), new JsonObject { [box.Project] = "TRUST_FOLDER" }.ToJsonString());
        var trusted = RealClients.Run(box, Gemini, box.Project, "mcp", "list");
        var line = trusted.LineFor("mcp-memory:");
        line.Should().Contain($"mcp-memory: {box.ServerExecutable} serve (stdio) - ", trusted.ToString()).And.NotContain("Disabled");
        line.Should().EndWith("- Connected", "Gemini connects to the real server over stdio");

        box.Uninstall("--client", "gemini", "--scope", scope).ExitCode.Should().Be(0);
        var after = RealClients.Run(box, Gemini, box.Project, "mcp", "list");
        after.LineFor("mcp-memory").Should().BeNull(after.ToString());
        after.All.Should().Contain("No MCP servers configured.");
    }

    private static List<JsonObject> CodexServers(InstallSandbox box)
    {
        var result = RealClients.Run(box, Codex, box.Project, "mcp", "list", "--json");
        result.ExitCode.Should().Be(0, result.ToString());
        return JsonNode.Parse(result.Output)!.AsArray().Select(n => n!.AsObject()).ToList();
    }

    /// <summary>Claude Code started the real server and completed the MCP handshake with it.</summary>
    private static void AssertHealthChecked(string line) => line.Should().EndWith("✔ Connected");

    /// <summary>The flag Claude Code stores in ~/.claude.json when the user accepts the trust dialog.</summary>
    private static void AcceptClaudeTrustDialog(InstallSandbox box)
    {
        var stateFile = box.HomeFile(".claude.json");
        var state = File.Exists(stateFile) ? JsonNode.Parse(File.ReadAllText(stateFile))!.AsObject() : new JsonObject();
        var projects = state["projects"] as JsonObject ?? new JsonObject();
        state["projects"] = projects;
        var project = projects[box.Project] as JsonObject ?? new JsonObject();
        projects[box.Project] = project;
        project["hasTrustDialogAccepted"] = true;
        File.WriteAllText(stateFile, state.ToJsonString());
    }
}
