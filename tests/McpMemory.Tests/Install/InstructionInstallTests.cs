using System.Text.RegularExpressions;
using FluentAssertions;
using McpMemory.Install;
using Xunit;

namespace McpMemory.Tests.Install;

public sealed class InstructionInstallTests
{
    private const string UserNotes = "# Project rules\n\nUse tabs.\n";

    private static int BlockCount(string text) => Regex.Matches(text, Regex.Escape(InstructionBlock.BeginMarker)).Count;

    [Theory]
    [InlineData("claude-code", "project", "project/CLAUDE.md")]
    [InlineData("claude-code", "user", "home/.claude/CLAUDE.md")]
    [InlineData("codex", "project", "project/AGENTS.md")]
    [InlineData("codex", "user", "home/.codex/AGENTS.md")]
    [InlineData("gemini", "project", "project/GEMINI.md")]
    [InlineData("gemini", "user", "home/.gemini/GEMINI.md")]
    [InlineData("vscode", "project", "project/.github/copilot-instructions.md")]
    [InlineData("windsurf", "user", "home/.codeium/windsurf/memories/global_rules.md")]
    public void The_snippet_goes_in_once_between_markers_is_replaced_in_place_and_comes_out_exactly(string client, string scope, string relative)
    {
        using var box = new InstallSandbox();
        var file = Path.Combine(box.Root, relative);
        box.WriteFile(file, UserNotes);

        box.Install("--client", client, "--scope", scope, "--command", "mcp-memory").ExitCode.Should().Be(0);
        var installed = File.ReadAllText(file);
        installed.Should().StartWith(UserNotes + "\n" + InstructionBlock.BeginMarker + "\n## Memory (mcp-memory)");
        installed.Should().EndWith(InstructionBlock.EndMarker + "\n");
        BlockCount(installed).Should().Be(1);

        // An older snippet, with the user's text after it: re-install replaces only the block.
        var stale = installed.Replace("Start with `get_briefing`", "Look first") + "\nMore rules.\n";
        File.WriteAllText(file, stale);
        box.Install("--client", client, "--scope", scope, "--command", "mcp-memory").ExitCode.Should().Be(0);
        File.ReadAllText(file).Should().Be(installed + "\nMore rules.\n");

        box.Uninstall("--client", client, "--scope", scope).ExitCode.Should().Be(0);
        File.ReadAllText(file).Should().Be(UserNotes + "\nMore rules.\n");
    }

    [Fact]
    public void An_instruction_file_created_by_install_is_deleted_by_uninstall()
    {
        using var box = new InstallSandbox();

        box.Install("--client", "gemini", "--command", "mcp-memory").ExitCode.Should().Be(0);
        File.Exists(box.ProjectFile("GEMINI.md")).Should().BeTrue();

        box.Uninstall("--client", "gemini").ExitCode.Should().Be(0);
        File.Exists(box.ProjectFile("GEMINI.md")).Should().BeFalse();
    }

    [Fact]
    public void Crlf_files_stay_crlf()
    {
        using var box = new InstallSandbox();
        var file = box.ProjectFile("AGENTS.md");
        box.WriteFile(file, "# Rules\r\n\r\nBe brief.\r\n");

        box.Install("--client", "codex", "--command", "mcp-memory").ExitCode.Should().Be(0);
        var text = File.ReadAllText(file);
        text.Replace("\r\n", "").Should().NotContain("\n");

        box.Uninstall("--client", "codex").ExitCode.Should().Be(0);
        File.ReadAllText(file).Should().Be("# Rules\r\n\r\nBe brief.\r\n");
    }

    [Fact]
    public void Claude_code_uses_an_existing_AGENTS_md_rather_than_hiding_it_behind_a_new_CLAUDE_md()
    {
        using var box = new InstallSandbox();
        box.WriteFile(box.ProjectFile("AGENTS.md"), UserNotes);

        box.Install("--client", "claude-code,codex", "--command", "mcp-memory").ExitCode.Should().Be(0);

        File.Exists(box.ProjectFile("CLAUDE.md")).Should().BeFalse();
        BlockCount(File.ReadAllText(box.ProjectFile("AGENTS.md"))).Should().Be(1, "both clients share the one block");

        box.Uninstall("--client", "claude-code,codex").ExitCode.Should().Be(0);
        File.ReadAllText(box.ProjectFile("AGENTS.md")).Should().Be(UserNotes);
    }

    [Fact]
    public void A_CLAUDE_md_symlinked_to_AGENTS_md_stays_a_symlink_and_gets_one_block()
    {
        if (OperatingSystem.IsWindows()) return; // creating symlinks needs developer mode there
        using var box = new InstallSandbox();
        box.WriteFile(box.ProjectFile("AGENTS.md"), UserNotes);
        File.CreateSymbolicLink(box.ProjectFile("CLAUDE.md"), "AGENTS.md");

        box.Install("--client", "claude-code,codex,gemini", "--command", "mcp-memory").ExitCode.Should().Be(0);

        new FileInfo(box.ProjectFile("CLAUDE.md")).LinkTarget.Should().Be("AGENTS.md");
        BlockCount(File.ReadAllText(box.ProjectFile("AGENTS.md"))).Should().Be(1);

        box.Uninstall("--client", "claude-code,codex,gemini").ExitCode.Should().Be(0);
        new FileInfo(box.ProjectFile("CLAUDE.md")).LinkTarget.Should().Be("AGENTS.md");
        File.ReadAllText(box.ProjectFile("AGENTS.md")).Should().Be(UserNotes);
    }

    [Fact]
    public void Codex_writes_into_AGENTS_override_md_when_the_project_has_one()
    {
        using var box = new InstallSandbox();
        box.WriteFile(box.ProjectFile("AGENTS.md"), UserNotes);
        box.WriteFile(box.ProjectFile("AGENTS.override.md"), "Override.\n");

        box.Install("--client", "codex", "--command", "mcp-memory").ExitCode.Should().Be(0);

        File.ReadAllText(box.ProjectFile("AGENTS.md")).Should().Be(UserNotes);
        BlockCount(File.ReadAllText(box.ProjectFile("AGENTS.override.md"))).Should().Be(1);
    }

    [Fact]
    public void Cursor_gets_its_own_always_applied_rule_file_which_uninstall_deletes()
    {
        using var box = new InstallSandbox();
        var rule = box.ProjectFile(".cursor", "rules", "mcp-memory.mdc");

        box.Install("--client", "cursor", "--command", "mcp-memory").ExitCode.Should().Be(0);

        var text = File.ReadAllText(rule);
        text.Should().StartWith("---\ndescription: ").And.Contain("\nalwaysApply: true\n---\n" + InstructionBlock.BeginMarker);
        BlockCount(text).Should().Be(1);
        box.Install("--client", "cursor", "--command", "mcp-memory").Output.Should().Contain("unchanged");

        box.Uninstall("--client", "cursor").ExitCode.Should().Be(0);
        File.Exists(rule).Should().BeFalse();
        File.Exists(box.ProjectFile(".cursor", "mcp.json")).Should().BeFalse();
    }

    [Fact]
    public void VS_Code_user_scope_gets_a_copilot_instructions_file_applied_everywhere()
    {
        using var box = new InstallSandbox();
        var file = box.HomeFile(".copilot", "instructions", "mcp-memory.instructions.md");

        box.Install("--client", "vscode", "--scope", "user", "--command", "mcp-memory").ExitCode.Should().Be(0);
        File.ReadAllText(file).Should().Contain("applyTo: '**'").And.Contain(InstructionBlock.BeginMarker);

        box.Uninstall("--client", "vscode", "--scope", "user").ExitCode.Should().Be(0);
        File.Exists(file).Should().BeFalse();
    }

    [Fact]
    public void A_damaged_block_is_refused_rather_than_guessed_at()
    {
        using var box = new InstallSandbox();
        var file = box.ProjectFile("GEMINI.md");
        box.WriteFile(file, $"Intro\n{InstructionBlock.BeginMarker}\nhalf a block\n");

        var result = box.Install("--client", "gemini", "--command", "mcp-memory");

        result.ExitCode.Should().Be(1);
        result.Error.Should().Contain($"{file}:2: the mcp-memory block is damaged");
        File.ReadAllText(file).Should().Be($"Intro\n{InstructionBlock.BeginMarker}\nhalf a block\n");
        File.Exists(box.ProjectFile(".gemini", "settings.json")).Should().BeFalse();
    }

    [Fact]
    public void No_instructions_leaves_instruction_files_alone()
    {
        using var box = new InstallSandbox();

        box.Install("--client", "claude-code,codex,gemini,cursor,vscode", "--command", "mcp-memory", "--no-instructions").ExitCode.Should().Be(0);

        Directory.EnumerateFiles(box.Root, "*.md*", SearchOption.AllDirectories).Should().BeEmpty();
    }

    [Fact]
    public void The_snippet_is_short_and_names_every_memory_tool()
    {
        var body = Snippets.Read(Snippets.Body);

        Regex.Matches(body, @"\S+").Count.Should().BeLessThan(250, "every agent pays for it at every session start");
        foreach (var tool in new[] { "store_memory", "search_memory", "get_agent_state", "set_agent_state", "delete_memory", "feedback" })
            body.Should().Contain($"`{tool}`");
    }

    [Fact]
    public void Snippet_templates_embed_the_one_shared_body()
    {
        foreach (var template in new[] { Snippets.CursorRule, Snippets.CopilotInstructions })
        {
            var own = Snippets.OwnFile(template);
            own.Should().StartWith("---\n").And.Contain(Snippets.Read(Snippets.Body).Trim());
            own.Should().NotContain("{{snippet}}");
        }
    }
}
