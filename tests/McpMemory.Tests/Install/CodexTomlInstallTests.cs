using FluentAssertions;
using McpMemory.Install;
using Xunit;

namespace McpMemory.Tests.Install;

public sealed class CodexTomlInstallTests
{
    private const string ExistingConfig = """
        # Codex settings
        model = "gpt-5"
        approval_policy = "on-request"   # ask first

        [mcp_servers.other]
        command = "node"
        args = [
          "server.js", # the entry point
          "--port", "3",
        ]
        env = { TOKEN = "x" }

        # a note about the next table
        [projects."/home/me/repo"]
        trust_level = "trusted"
        notes = '''
        [mcp_servers.mcp-memory]
        this is text, not a table
        '''

        """;

    [Theory]
    [InlineData("user", "home/.codex/config.toml")]
    [InlineData("project", "project/.codex/config.toml")]
    public void Install_adds_one_table_and_uninstall_restores_the_file_byte_for_byte(string scope, string relative)
    {
        using var box = new InstallSandbox();
        var config = Path.Combine(box.Root, relative);
        box.WriteFile(config, ExistingConfig);

        box.Install("--client", "codex", "--scope", scope, "--command", "mcp-memory", "--no-instructions").ExitCode.Should().Be(0);

        File.ReadAllText(config).Should().Be(ExistingConfig + """

            [mcp_servers.mcp-memory]
            command = "mcp-memory"
            args = ["serve"]

            """);
        box.Backups(config).Should().ContainSingle();

        var second = box.Install("--client", "codex", "--scope", scope, "--command", "mcp-memory", "--no-instructions");
        second.Output.Should().Contain("unchanged");
        box.Backups(config).Should().ContainSingle();

        box.Uninstall("--client", "codex", "--scope", scope, "--no-instructions").ExitCode.Should().Be(0);
        File.ReadAllText(config).Should().Be(ExistingConfig);
    }

    [Fact]
    public void Codex_home_is_taken_from_CODEX_HOME()
    {
        using var box = new InstallSandbox();
        var codexHome = Path.Combine(box.Root, "elsewhere");
        box.Environment["CODEX_HOME"] = codexHome;

        box.Install("--client", "codex", "--scope", "user", "--command", "mcp-memory").ExitCode.Should().Be(0);

        File.ReadAllText(Path.Combine(codexHome, "config.toml")).Should().Contain("[mcp_servers.mcp-memory]");
        File.ReadAllText(Path.Combine(codexHome, "AGENTS.md")).Should().Contain(InstructionBlock.BeginMarker);
        File.Exists(box.HomeFile(".codex", "config.toml")).Should().BeFalse();
    }

    [Fact]
    public void A_changed_command_is_rewritten_in_place_and_other_keys_of_our_table_stay()
    {
        using var box = new InstallSandbox();
        var config = box.HomeFile(".codex", "config.toml");
        box.WriteFile(config, """
            [mcp_servers.mcp-memory]
            command = "/old/mcp-memory"
            startup_timeout_sec = 30
            args = ["serve"]

            [mcp_servers.mcp-memory.env]
            MCP_MEMORY_LOG = "debug"

            [other]
            a = 1

            """);

        box.Install("--client", "codex", "--scope", "user", "--command", @"C:\tools\mcp-memory.exe", "--no-instructions").ExitCode.Should().Be(0);

        File.ReadAllText(config).Should().Be("""
            [mcp_servers.mcp-memory]
            command = 'C:\tools\mcp-memory.exe'
            startup_timeout_sec = 30
            args = ["serve"]

            [mcp_servers.mcp-memory.env]
            MCP_MEMORY_LOG = "debug"

            [other]
            a = 1

            """);

        box.Uninstall("--client", "codex", "--scope", "user", "--no-instructions").ExitCode.Should().Be(0);
        File.ReadAllText(config).Should().Be("""
            [other]
            a = 1

            """);
    }

    [Theory]
    [InlineData("model = \"gpt-5\nargs = 1\n", 1, "unterminated string")]
    [InlineData("[mcp_servers.other]\ncommand = node\n", 2, "is not a TOML value")]
    [InlineData("a = [1, 2\n", 2, "unterminated array")]
    [InlineData("[a]\nx = 1\n[a]\n", 3, "defined twice")]
    [InlineData("a = 1\na = 2\n", 2, "defined twice")]
    [InlineData("path = \"C:\\Users\\me\"\n", 1, "invalid escape")]
    [InlineData("[table\n", 1, "expected ]")]
    [InlineData("a = 1 b = 2\n", 1, "unexpected text after the value")]
    [InlineData("text = '''\nnever closed\n", 1, "unterminated multi-line string")]
    public void Malformed_toml_is_refused_with_the_line_and_left_untouched(string content, int line, string reason)
    {
        using var box = new InstallSandbox();
        var config = box.HomeFile(".codex", "config.toml");
        box.WriteFile(config, content);

        var result = box.Install("--client", "codex", "--scope", "user", "--command", "mcp-memory");

        result.ExitCode.Should().Be(1, result.ToString());
        result.Error.Should().Contain($"{config}:{line}:").And.Contain(reason).And.Contain("nothing was changed");
        File.ReadAllText(config).Should().Be(content);
        File.Exists(box.HomeFile(".codex", "AGENTS.md")).Should().BeFalse();
    }

    [Theory]
    [InlineData("mcp_servers = { other = { command = \"x\" } }\n", "inline table")]
    [InlineData("mcp_servers.mcp-memory.command = \"x\"\n", "dotted keys")]
    [InlineData("[mcp_servers]\nmcp-memory = { command = \"x\" }\n", "dotted keys or an inline table")]
    public void Server_tables_in_forms_a_line_edit_cannot_handle_are_refused(string content, string reason)
    {
        using var box = new InstallSandbox();
        var config = box.HomeFile(".codex", "config.toml");
        box.WriteFile(config, content);

        var result = box.Install("--client", "codex", "--scope", "user", "--command", "mcp-memory");

        result.ExitCode.Should().Be(1, result.ToString());
        result.Error.Should().Contain(reason);
        File.ReadAllText(config).Should().Be(content);
    }

    [Fact]
    public void The_scanner_accepts_the_toml_codex_users_write()
    {
        const string valid = """
            model_reasoning_effort = "high"
            "quoted key" = 'literal \ no escapes'
            date = 1979-05-27T07:32:00Z
            local = 1979-05-27 07:32:00
            hex = 0xDEAD_BEEF
            float = -3.14e+2
            inf = +inf
            multi = \"\"\"
            line "one"
            [not.a.table]
            \"\"\"
            nested = [[1, 2], ["a", 'b'], { x = 1, y = { z = true } }]
            [[profiles.list]]
            name = "one"
            [[profiles.list]]
            name = "two"
            [mcp_servers."quoted.name"]
            url = "https://example.com/mcp"
            http_headers = { "X-Client" = "installer" }
            """;

        var toml = TomlConfig.Parse("config.toml", valid.Replace("\\\"", "\""));

        toml.Headers.Select(h => string.Join('.', h.Key)).Should().Equal("profiles.list", "profiles.list", "mcp_servers.quoted.name");
        toml.Headers[2].Key.Should().Equal("mcp_servers", "quoted.name");
        toml.Entries.Should().Contain(e => e.Key.SequenceEqual(new[] { "quoted key" }));
        toml.Entries.Single(e => e.Key[0] == "multi").LastLine.Should().Be(10);
    }

    [Fact]
    public void Project_trust_is_read_from_the_user_config()
    {
        var toml = TomlConfig.Parse("config.toml", "[projects.\"/work/repo\"]\ntrust_level = \"trusted\"\n[projects.\"/work/other\"]\ntrust_level = \"untrusted\"\n");

        toml.IsProjectTrusted("/work/repo").Should().BeTrue();
        toml.IsProjectTrusted("/work/other").Should().BeFalse();
        toml.IsProjectTrusted("/work").Should().BeFalse();
    }

    [Theory]
    [InlineData("mcp-memory", "\"mcp-memory\"")]
    [InlineData(@"C:\Program Files\mcp-memory.exe", @"'C:\Program Files\mcp-memory.exe'")]
    [InlineData("it's \"quoted\"", "\"it's \\\"quoted\\\"\"")]
    [InlineData(@"C:\it's", "\"C:\\\\it's\"")]
    public void Strings_are_rendered_as_valid_toml(string value, string expected)
    {
        TomlConfig.RenderString(value).Should().Be(expected);
        var parsed = TomlConfig.Parse("t.toml", $"k = {expected}\n");
        parsed.Entries.Single().ValueText.Should().Be(expected);
    }
}
