using FluentAssertions;
using Xunit;

namespace McpMemory.Tests.Install;

/// <summary>
/// Install then uninstall gives every file back byte for byte, whatever its layout: compact or
/// indented JSON, LF or CRLF, with or without a final newline.
/// </summary>
public sealed class LayoutRoundTripTests
{
    /// <summary>The same two JSON files (.mcp.json and Claude Code's settings) written in one layout.</summary>
    public static TheoryData<string, string, string> JsonLayouts => new()
    {
        { "compact", """{"mcpServers":{"other":{"command":"node","args":["s.js"]}},"theme":"dark"}""" + "\n", """{"permissions":{"allow":["Bash(ls)"]}}""" },
        { "compact-crlf-no-final-newline", """{"mcpServers":{"other":{"command":"node","args":[]}}}""", """{"permissions":{"allow":[]}}""" + "\r\n" },
        { "2-space", "{\n  \"mcpServers\": {\n    \"other\": {\n      \"command\": \"node\",\n      \"args\": [\n        \"s.js\"\n      ]\n    }\n  }\n}\n", "{\n  \"permissions\": {\n    \"allow\": [\n      \"Bash(ls)\"\n    ]\n  }\n}\n" },
        { "4-space", "{\n    \"mcpServers\": {\n        \"other\": {\n            \"command\": \"node\",\n            \"args\": []\n        }\n    }\n}\n", "{\n    \"permissions\": {\n        \"allow\": [\n            \"Bash(ls)\"\n        ]\n    }\n}" },
        { "tab-crlf", "{\r\n\t\"mcpServers\": {\r\n\t\t\"other\": {\r\n\t\t\t\"command\": \"node\"\r\n\t\t}\r\n\t}\r\n}\r\n", "{\r\n\t\"permissions\": {}\r\n}" },
    };

    [Theory]
    [MemberData(nameof(JsonLayouts))]
    public void Json_configs_keep_their_layout_and_come_back_byte_for_byte(string layout, string mcpJson, string settingsJson)
    {
        using var box = new InstallSandbox();
        var config = box.ProjectFile(".mcp.json");
        var settings = box.ProjectFile(".claude", "settings.local.json");
        WriteBytes(config, mcpJson);
        WriteBytes(settings, settingsJson);

        var install = box.Install("--client", "claude-code", "--command", "mcp-memory", "--no-instructions");
        install.ExitCode.Should().Be(0, install.ToString());
        install.Output.Should().NotContain("rewritten as", "every layout here is one the installer reproduces");
        foreach (var (path, original) in new[] { (config, mcpJson), (settings, settingsJson) })
        {
            var written = File.ReadAllText(path);
            written.Should().Contain("mcp-memory", layout);
            if (layout.StartsWith("compact", StringComparison.Ordinal))
                written.TrimEnd('\r', '\n').Should().NotContain("\n", $"{layout}: a one-line file stays one line");
            if (layout.Contains("crlf", StringComparison.Ordinal))
                written.Replace("\r\n", "").Should().NotContain("\n", $"{layout}: no bare LF in a CRLF file");
            written.EndsWith('\n').Should().Be(original.EndsWith('\n'), $"{layout}: the final newline is kept as it was");
        }
        if (layout == "4-space") File.ReadAllText(config).Should().Contain("\n        \"mcp-memory\": {\n            \"type\": \"stdio\",");
        if (layout.StartsWith("tab", StringComparison.Ordinal)) File.ReadAllText(config).Should().Contain("\r\n\t\t\"mcp-memory\": {\r\n\t\t\t\"type\": \"stdio\",");

        box.Uninstall("--client", "claude-code", "--no-instructions").ExitCode.Should().Be(0);

        File.ReadAllBytes(config).Should().Equal(System.Text.Encoding.UTF8.GetBytes(mcpJson), layout);
        File.ReadAllBytes(settings).Should().Equal(System.Text.Encoding.UTF8.GetBytes(settingsJson), layout);
    }

    [Fact]
    public void A_json_file_in_mixed_layouts_is_normalised_and_the_user_is_told()
    {
        using var box = new InstallSandbox();
        var config = box.ProjectFile(".cursor", "mcp.json");
        WriteBytes(config, "{\n  \"theme\": \"dark\",\n      \"font\": 12\n}\n");

        var result = box.Install("--client", "cursor", "--command", "mcp-memory", "--no-instructions");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain($"{config}: its layout cannot be kept exactly (mixed indentation?); it is rewritten as 2-space JSON (the backup keeps the original).");
        File.ReadAllText(config).Should().StartWith("{\n  \"theme\": \"dark\",\n  \"font\": 12,\n  \"mcpServers\": {");
    }

    [Theory]
    [InlineData("claude-code", "CLAUDE.md", "# Rules\r\n\r\nBe brief.")]
    [InlineData("claude-code", "CLAUDE.md", "# Rules\n\nBe brief.")]
    [InlineData("claude-code", "CLAUDE.md", "# Rules\r\n\r\nBe brief.\r\n")]
    [InlineData("codex", "AGENTS.md", "# Rules\r\nBe brief.\r\n\r\n")]
    [InlineData("gemini", "GEMINI.md", "Be brief.")]
    public void Instruction_files_keep_their_newlines_and_come_back_byte_for_byte(string client, string file, string original)
    {
        using var box = new InstallSandbox();
        var path = box.ProjectFile(file);
        WriteBytes(path, original);

        box.Install("--client", client, "--command", "mcp-memory").ExitCode.Should().Be(0);
        var written = File.ReadAllText(path);
        written.Should().Contain("<!-- mcp-memory:end -->");
        written.EndsWith('\n').Should().Be(original.EndsWith('\n'), "a file without a final newline gets none");
        if (original.Contains("\r\n", StringComparison.Ordinal)) written.Replace("\r\n", "").Should().NotContain("\n");

        box.Uninstall("--client", client).ExitCode.Should().Be(0);

        File.ReadAllBytes(path).Should().Equal(System.Text.Encoding.UTF8.GetBytes(original));
    }

    [Theory]
    [InlineData("model = \"gpt-5\"\r\n\r\n[mcp_servers.other]\r\ncommand = \"node\"\r\n")]
    [InlineData("model = \"gpt-5\"\r\n[mcp_servers.other]\r\ncommand = \"node\"")]
    [InlineData("model = \"gpt-5\"\n# no final newline")]
    [InlineData("model = \"gpt-5\"\n\n")]
    public void Codex_toml_keeps_its_newlines_and_comes_back_byte_for_byte(string original)
    {
        using var box = new InstallSandbox();
        var config = box.HomeFile(".codex", "config.toml");
        WriteBytes(config, original);

        box.Install("--client", "codex", "--scope", "user", "--command", "mcp-memory", "--no-instructions").ExitCode.Should().Be(0);
        var written = File.ReadAllText(config);
        written.Should().Contain("[mcp_servers.mcp-memory]");
        written.EndsWith('\n').Should().Be(original.EndsWith('\n'));
        if (original.Contains("\r\n", StringComparison.Ordinal)) written.Replace("\r\n", "").Should().NotContain("\n");

        box.Uninstall("--client", "codex", "--scope", "user", "--no-instructions").ExitCode.Should().Be(0);

        File.ReadAllBytes(config).Should().Equal(System.Text.Encoding.UTF8.GetBytes(original));
    }

    private static void WriteBytes(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(content));
    }
}
