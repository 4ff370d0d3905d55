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
            .And.Contain("+ " + InstructionBlock.BeginMarker);
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
        result.Output.Should().Contain("Still up to you:").And.Contain("run `claude` in " + box.Project + " once and accept the trust dialog");

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

        result.Output.Should().NotContain("trust dialog");
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
    public void Each_changed_file_gets_one_timestamped_backup_per_changing_run()
    {
        using var box = new InstallSandbox();
        var config = box.ProjectFile(".cursor", "mcp.json");
        box.WriteFile(config, "{}\n");

        box.Install("--client", "cursor", "--command", "a", "--no-instructions");
        box.Install("--client", "cursor", "--command", "a", "--no-instructions");
        box.Install("--client", "cursor", "--command", "b", "--no-instructions");

        var backups = box.Backups(config).Select(Path.GetFileName).Order().ToList();
        backups.Should().HaveCount(2).And.AllSatisfy(b => b.Should().MatchRegex(@"^mcp\.json\.bak-\d{8}T\d{6}Z$"));
        File.ReadAllText(box.Backups(config).Order().First()).Should().Be("{}\n");
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
