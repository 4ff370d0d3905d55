using System.CommandLine;
using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Install;
using Xunit;

namespace McpMemory.Tests.Install;

/// <summary>The command surface: options, scopes, dry run, approval gates, where files go.</summary>
public sealed class InstallCommandTests
{
    private static readonly string[] EveryClient = Clients.All.Select(c => c.Id).ToArray();

    [Fact]
    public void Dry_run_prints_every_file_and_change_and_writes_nothing()
    {
        using var box = new InstallSandbox();
        box.WriteFile(box.ProjectFile(".mcp.json"), "{\n  \"mcpServers\": {}\n}\n");
        var before = box.Snapshot();

        var result = box.Install("--client", string.Join(',', EveryClient), "--command", "mcp-memory", "--dry-run");

        result.ExitCode.Should().Be(0, result.ToString());
        box.Snapshot().Should().BeEquivalentTo(before);
        result.Output.Should().Contain("Dry run: nothing is written.")
            .And.Contain($"would update {box.ProjectFile(".mcp.json")}")
            .And.Contain("+     \"mcp-memory\": {")
            .And.Contain($"would create {box.ProjectFile(".codex", "config.toml")}")
            .And.Contain("+ [mcp_servers.mcp-memory]")
            .And.Contain($"would create {box.ProjectFile("CLAUDE.md")}")
            .And.Contain("+ " + InstructionBlock.BeginMarker)
            .And.Contain($"Backups would go to {box.BackupRoot}{Path.DirectorySeparatorChar}2026");
    }

    [Fact]
    public void Uninstall_dry_run_writes_nothing()
    {
        using var box = new InstallSandbox();
        box.Install("--client", "claude-code,codex", "--command", "mcp-memory").ExitCode.Should().Be(0);
        var before = box.Snapshot();

        var result = box.Uninstall("--client", "claude-code,codex", "--dry-run");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain($"would delete {box.ProjectFile(".mcp.json")}").And.Contain("- [mcp_servers.mcp-memory]");
        box.Snapshot().Should().BeEquivalentTo(before);
    }

    [Fact]
    public void Install_then_uninstall_of_every_client_in_both_scopes_leaves_no_file_behind()
    {
        using var box = new InstallSandbox();
        foreach (var scope in new[] { "project", "user" })
        {
            box.Install("--client", string.Join(',', EveryClient), "--scope", scope, "--command", "mcp-memory").ExitCode.Should().Be(0);
            box.Uninstall("--client", "all", "--scope", scope).ExitCode.Should().Be(0);
        }

        Directory.EnumerateFiles(box.Root, "*", SearchOption.AllDirectories).Should().BeEmpty();
        // Folders install created for its files go too; the clients' own homes (~/.codex, ~/.gemini, ...) may stay.
        Directory.EnumerateDirectories(box.Project).Select(Path.GetFileName).Should().Equal(".git");
    }

    [Fact]
    public void Claude_code_project_install_enables_the_server_next_to_the_users_own_choices()
    {
        using var box = new InstallSandbox();
        var settings = box.ProjectFile(".claude", "settings.local.json");
        const string original = "{\n  \"enabledMcpjsonServers\": [\n    \"theirs\"\n  ],\n  \"permissions\": {\n    \"allow\": [\n      \"Bash(ls)\"\n    ]\n  }\n}\n";
        box.WriteFile(settings, original);

        var result = box.Install("--client", "claude-code", "--command", "mcp-memory");

        result.ExitCode.Should().Be(0, result.ToString());
        JsonNode.Parse(File.ReadAllText(settings))!["enabledMcpjsonServers"]!.AsArray().Select(n => n!.GetValue<string>())
            .Should().Equal("theirs", "mcp-memory");
        result.Output.Should().Contain("Still up to you:").And.Contain("run `claude` in " + box.Project + " once, answer \"Yes, I trust this folder\"");

        box.Uninstall("--client", "claude-code").ExitCode.Should().Be(0);
        File.ReadAllText(settings).Should().Be(original);
    }

    [Fact]
    public void Claude_code_says_nothing_about_trust_once_the_folder_is_trusted()
    {
        using var box = new InstallSandbox();
        box.WriteFile(box.HomeFile(".claude.json"), new JsonObject
        {
            ["projects"] = new JsonObject { [box.Project] = new JsonObject { ["hasTrustDialogAccepted"] = true } },
        }.ToJsonString());

        var result = box.Install("--client", "claude-code", "--command", "mcp-memory");

        result.Output.Should().NotContain("Yes, I trust this folder");
    }

    [Fact]
    public void Codex_project_scope_tells_how_to_trust_the_project_until_it_is_trusted()
    {
        using var box = new InstallSandbox();

        var untrusted = box.Install("--client", "codex", "--command", "mcp-memory");
        untrusted.Output.Should().Contain("Codex CLI: .codex/config.toml is read only in trusted projects")
            .And.Contain($"[projects.\"{box.Project}\"]").And.Contain("trust_level = \"trusted\"");

        box.WriteFile(box.HomeFile(".codex", "config.toml"), $"[projects.\"{box.Project}\"]\ntrust_level = \"trusted\"\n");
        box.Install("--client", "codex", "--command", "mcp-memory").Output.Should().NotContain("only in trusted projects");
        box.Install("--client", "codex", "--scope", "user", "--command", "mcp-memory").Output.Should().NotContain("only in trusted projects");
    }

    [Theory]
    [InlineData("TRUST_FOLDER", "")]
    [InlineData("TRUST_PARENT", "/sub")]
    public void Gemini_reminds_about_folder_trust_unless_trustedFolders_covers_the_project(string rule, string suffix)
    {
        using var box = new InstallSandbox();

        box.Install("--client", "gemini", "--command", "mcp-memory").Output
            .Should().Contain("Gemini CLI: every MCP server is disabled in a folder Gemini does not trust");

        box.WriteFile(box.HomeFile(".gemini", "trustedFolders.json"), new JsonObject { [box.Project + suffix] = rule }.ToJsonString());
        box.Install("--client", "gemini", "--command", "mcp-memory").Output.Should().NotContain("does not trust");
    }

    [Fact]
    public void User_only_clients_say_that_project_scope_was_adjusted()
    {
        using var box = new InstallSandbox();

        var result = box.Install("--client", "claude-desktop,windsurf", "--scope", "project", "--command", "mcp-memory");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("Claude Desktop has no project-level config; using --scope user for it.")
            .And.Contain("Windsurf has no project-level config; using --scope user for it.");
        File.Exists(box.HomeFile(".config", "Claude", "claude_desktop_config.json")).Should().BeTrue();
    }

    [Fact]
    public void All_sets_up_only_the_clients_found_on_the_machine()
    {
        using var box = new InstallSandbox();
        Directory.CreateDirectory(box.HomeFile(".gemini"));

        var result = box.Install("--client", "all", "--command", "mcp-memory");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("Cursor: skipped, not found").And.Contain("use --client cursor to set it up anyway");
        File.Exists(box.ProjectFile(".gemini", "settings.json")).Should().BeTrue();
        File.Exists(box.ProjectFile(".cursor", "mcp.json")).Should().BeFalse();
    }

    [Fact]
    public void Each_changed_file_gets_one_backup_per_changing_run_in_a_timestamped_folder()
    {
        using var box = new InstallSandbox();
        var config = box.ProjectFile(".cursor", "mcp.json");
        box.WriteFile(config, "{}\n");

        box.Install("--client", "cursor", "--command", "a", "--no-instructions");
        box.Install("--client", "cursor", "--command", "a", "--no-instructions");
        box.Install("--client", "cursor", "--command", "b", "--no-instructions");

        var backups = box.Backups(config);
        backups.Should().HaveCount(2).And.AllSatisfy(b =>
            Path.GetRelativePath(box.BackupRoot, b).Should().MatchRegex(@"^\d{8}T\d{6}Z[/\\]").And.EndWith(Path.Combine("project", ".cursor", "mcp.json")));
        File.ReadAllText(backups[0]).Should().Be("{}\n");
    }

    [Fact]
    public void Backups_go_to_the_data_folder_and_never_into_the_project()
    {
        using var box = new InstallSandbox();
        var claudeMd = box.ProjectFile("CLAUDE.md");
        var agentsMd = box.ProjectFile("AGENTS.md");
        box.WriteFile(claudeMd, "# Claude rules\n");
        box.WriteFile(agentsMd, "# Agent rules\n");

        var install = box.Install("--client", "claude-code,codex", "--command", "mcp-memory");
        var uninstall = box.Uninstall("--client", "claude-code,codex");

        install.ExitCode.Should().Be(0, install.ToString());
        uninstall.ExitCode.Should().Be(0, uninstall.ToString());
        Directory.GetFiles(box.Project).Select(Path.GetFileName).Should().BeEquivalentTo(["CLAUDE.md", "AGENTS.md"], "no .bak files pile up in the repository");
        var runs = Directory.GetDirectories(box.BackupRoot).Order(StringComparer.Ordinal).ToList();
        runs.Should().HaveCount(2, "one folder per run that changed existing files");
        install.Output.Should().Contain($"Backups of the files as they were before this run: {runs[0]}")
            .And.Contain($"  backup:   {Path.Combine(runs[0], box.Project.TrimStart('/'), "CLAUDE.md")}");
        uninstall.Output.Should().Contain($"Backups of the files as they were before this run: {runs[1]}");
        File.ReadAllText(box.Backups(claudeMd)[0]).Should().Be("# Claude rules\n");
        File.ReadAllText(box.Backups(agentsMd)[0]).Should().Be("# Agent rules\n");
        File.ReadAllText(box.Backups(claudeMd)[1]).Should().Contain(InstructionBlock.BeginMarker, "uninstall backs up what it changes too");
    }

    [Theory]
    [InlineData(HostOs.Linux, null, "home/.local/share/mcp-memory")]
    [InlineData(HostOs.Linux, "XDG_DATA_HOME", "xdg/mcp-memory")]
    [InlineData(HostOs.Windows, null, "home/AppData/Local/mcp-memory")]
    [InlineData(HostOs.Windows, "LOCALAPPDATA", "xdg/mcp-memory")]
    [InlineData(HostOs.MacOS, null, "home/Library/Application Support/mcp-memory")]
    public void Without_MCP_MEMORY_DB_backups_go_to_the_default_database_folder(HostOs os, string? variable, string expected)
    {
        using var box = new InstallSandbox { Os = os };
        box.Environment.Remove("MCP_MEMORY_DB");
        if (variable is not null) box.Environment[variable] = Path.Combine(box.Root, "xdg");
        box.WriteFile(box.HomeFile(".cursor", "mcp.json"), "{}\n");

        var result = box.Install("--client", "cursor", "--scope", "user", "--command", "mcp-memory");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain($"Backups of the files as they were before this run: {Path.Combine(box.Root, expected, "backups", "install")}{Path.DirectorySeparatorChar}");
    }

    [Fact]
    public void The_default_data_folder_is_the_one_the_server_puts_its_database_in()
    {
        var paths = InstallPaths.Resolve(InstallHost.FromCurrentProcess(), projectDirOption: null);

        var db = Environment.GetEnvironmentVariable(McpMemory.Settings.DbVariable) is { Length: > 0 } set ? Path.GetFullPath(set) : McpMemory.Settings.DefaultDatabasePath();
        paths.DataFolder.Should().Be(Path.GetDirectoryName(db));
    }

    [Fact]
    public void A_tool_shim_not_on_PATH_is_registered_by_absolute_path_and_the_output_says_so()
    {
        using var box = new InstallSandbox();
        var shim = box.HomeFile(".dotnet", "tools", "mcp-memory");
        box.WriteFile(shim, "#!/bin/sh\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        box.ProcessPath = shim;
        box.Environment["PATH"] = Path.Combine(box.Root, "bin"); // a PATH without ~/.dotnet/tools

        var result = box.Install("--client", "cursor", "--no-instructions");

        result.ExitCode.Should().Be(0, result.ToString());
        JsonNode.Parse(File.ReadAllText(box.ProjectFile(".cursor", "mcp.json")))!["mcpServers"]!["mcp-memory"]!["command"]!
            .GetValue<string>().Should().Be(shim);
        result.Output.Should().Contain($"Server command: {shim} serve")
            .And.Contain($"Warning: `mcp-memory` is not on PATH here, so the clients get its absolute path: {shim}.");

        // Once ~/.dotnet/tools is on PATH, the portable name replaces the absolute path.
        box.Environment["PATH"] = Path.GetDirectoryName(shim)!;
        var again = box.Install("--client", "cursor", "--no-instructions");
        again.Output.Should().NotContain("Warning:");
        JsonNode.Parse(File.ReadAllText(box.ProjectFile(".cursor", "mcp.json")))!["mcpServers"]!["mcp-memory"]!["command"]!
            .GetValue<string>().Should().Be("mcp-memory");
    }

    [Fact]
    public void The_project_root_is_the_git_root_above_the_current_folder()
    {
        using var box = new InstallSandbox();
        var sub = box.ProjectFile("src", "deep");
        Directory.CreateDirectory(sub);
        var host = new InstallHost
        {
            GetEnvironmentVariable = name => box.Environment.GetValueOrDefault(name),
            Os = HostOs.Linux,
            CurrentDirectory = sub,
            Out = TextWriter.Null,
            Error = TextWriter.Null,
        };

        var paths = InstallPaths.Resolve(host, projectDirOption: null);

        paths.ProjectRoot.Should().Be(box.Project);
    }

    [Fact]
    public void Client_folders_follow_the_environment_variables_the_clients_honour()
    {
        using var box = new InstallSandbox();
        box.Environment["CLAUDE_CONFIG_DIR"] = Path.Combine(box.Root, "claude-cfg");
        box.Environment["GEMINI_CLI_HOME"] = Path.Combine(box.Root, "gem");
        box.Environment["XDG_CONFIG_HOME"] = Path.Combine(box.Root, "xdg");

        box.Install("--client", "claude-code,gemini,vscode,claude-desktop", "--scope", "user", "--command", "mcp-memory").ExitCode.Should().Be(0);

        File.Exists(Path.Combine(box.Root, "claude-cfg", ".claude.json")).Should().BeTrue();
        File.Exists(Path.Combine(box.Root, "claude-cfg", "CLAUDE.md")).Should().BeTrue();
        File.Exists(Path.Combine(box.Root, "gem", ".gemini", "settings.json")).Should().BeTrue();
        File.Exists(Path.Combine(box.Root, "xdg", "Code", "User", "mcp.json")).Should().BeTrue();
        File.Exists(Path.Combine(box.Root, "xdg", "Claude", "claude_desktop_config.json")).Should().BeTrue();
    }

    [Fact]
    public void Windows_uses_USERPROFILE_and_APPDATA()
    {
        using var box = new InstallSandbox { Os = HostOs.Windows };
        box.Environment.Remove("HOME");
        box.Environment["APPDATA"] = Path.Combine(box.Root, "Roaming");

        box.Install("--client", "claude-desktop,vscode,claude-code", "--scope", "user", "--command", "mcp-memory").ExitCode.Should().Be(0);

        File.Exists(Path.Combine(box.Root, "Roaming", "Claude", "claude_desktop_config.json")).Should().BeTrue();
        File.Exists(Path.Combine(box.Root, "Roaming", "Code", "User", "mcp.json")).Should().BeTrue();
        File.Exists(box.HomeFile(".claude.json")).Should().BeTrue();
    }

    [Fact]
    public void MacOS_desktop_apps_live_under_Library_Application_Support()
    {
        using var box = new InstallSandbox { Os = HostOs.MacOS };

        box.Install("--client", "claude-desktop", "--command", "mcp-memory").ExitCode.Should().Be(0);

        File.Exists(box.HomeFile("Library", "Application Support", "Claude", "claude_desktop_config.json")).Should().BeTrue();
    }

    [Theory]
    [InlineData(new string[0], "choose the clients with --client")]
    [InlineData(new[] { "--client", "emacs" }, "unknown client 'emacs'")]
    public void Missing_or_unknown_clients_are_errors_that_list_the_choices(string[] args, string message)
    {
        using var box = new InstallSandbox();

        var result = box.Install(args);

        result.ExitCode.Should().Be(1);
        result.Error.Should().Contain(message).And.Contain("claude-code|claude-desktop|cursor|vscode|codex|gemini|windsurf|all");
    }

    [Fact]
    public void Clients_can_be_repeated_or_comma_separated()
    {
        using var box = new InstallSandbox();

        box.Install("--client", "cursor", "-c", "gemini,codex", "--command", "mcp-memory", "--no-instructions").ExitCode.Should().Be(0);

        File.Exists(box.ProjectFile(".cursor", "mcp.json")).Should().BeTrue();
        File.Exists(box.ProjectFile(".gemini", "settings.json")).Should().BeTrue();
        File.Exists(box.ProjectFile(".codex", "config.toml")).Should().BeTrue();
    }

    [Fact]
    public void Project_dir_chooses_the_project_and_must_exist()
    {
        using var box = new InstallSandbox();
        var other = Path.Combine(box.Root, "other");
        Directory.CreateDirectory(other);

        box.Install("--client", "gemini", "--project-dir", other, "--command", "mcp-memory").ExitCode.Should().Be(0);
        File.Exists(Path.Combine(other, ".gemini", "settings.json")).Should().BeTrue();
        File.Exists(box.ProjectFile(".gemini", "settings.json")).Should().BeFalse();

        var missing = box.Install("--client", "gemini", "--project-dir", Path.Combine(box.Root, "nope"), "--command", "mcp-memory");
        missing.ExitCode.Should().Be(1);
        missing.Error.Should().Contain("--project-dir").And.Contain("does not exist");
    }

    [Fact]
    public void Reruns_and_uninstalls_that_find_nothing_say_so()
    {
        using var box = new InstallSandbox();
        box.Install("--client", "codex", "--scope", "user", "--command", "mcp-memory").ExitCode.Should().Be(0);

        box.Install("--client", "codex", "--scope", "user", "--command", "mcp-memory").Output.Should().Contain("Everything was already in place.");
        box.Uninstall("--client", "codex").Output.Should().Contain("installed with the other --scope");
        File.Exists(box.HomeFile(".codex", "config.toml")).Should().BeTrue();
    }

    [Fact]
    public void Arguments_for_the_server_may_look_like_options()
    {
        using var box = new InstallSandbox();

        var result = box.Install("--client", "cursor", "--command", "mcp-memory", "--arg", "serve", "--arg", "--verbose", "--db", "mem.db", "--no-instructions");

        result.ExitCode.Should().Be(0, result.ToString());
        JsonNode.Parse(File.ReadAllText(box.ProjectFile(".cursor", "mcp.json")))!["mcpServers"]!["mcp-memory"]!["args"]!.AsArray()
            .Select(a => a!.GetValue<string>()).Should().Equal("serve", "--verbose", "--db", box.ProjectFile("mem.db"));
    }

    [Fact]
    public void An_unknown_scope_is_a_parse_error()
    {
        using var box = new InstallSandbox();

        var result = box.Install("--client", "cursor", "--scope", "global");

        result.ExitCode.Should().NotBe(0);
        result.Error.Should().Contain("global");
        Directory.EnumerateFiles(box.Root, "*", SearchOption.AllDirectories).Should().BeEmpty();
    }

    [Fact]
    public void Every_option_has_help_text()
    {
        foreach (var command in InstallCommands.Create())
        {
            command.Description.Should().NotBeNullOrWhiteSpace();
            command.Options.Should().NotBeEmpty();
            foreach (var option in command.Options)
                option.Description.Should().NotBeNullOrWhiteSpace($"{command.Name} {option.Name} explains itself");
        }
        InstallCommands.Create().Select(c => c.Name).Should().Equal("install", "uninstall");
    }
}
