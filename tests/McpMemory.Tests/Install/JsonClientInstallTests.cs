using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Install;
using Xunit;

namespace McpMemory.Tests.Install;

/// <summary>Every JSON-configured client: merge, idempotence, backups, exact uninstall.</summary>
public sealed class JsonClientInstallTests
{
    /// <summary>client id, scope, config file relative to the sandbox root, servers key, whether entries carry "type".</summary>
    public static TheoryData<string, string, string, string, bool> JsonClients => new()
    {
        { "claude-code", "project", "project/.mcp.json", "mcpServers", true },
        { "claude-code", "user", "home/.claude.json", "mcpServers", true },
        { "claude-desktop", "user", "home/.config/Claude/claude_desktop_config.json", "mcpServers", false },
        { "cursor", "project", "project/.cursor/mcp.json", "mcpServers", false },
        { "cursor", "user", "home/.cursor/mcp.json", "mcpServers", false },
        { "vscode", "project", "project/.vscode/mcp.json", "servers", true },
        { "vscode", "user", "home/.config/Code/User/mcp.json", "servers", true },
        { "gemini", "project", "project/.gemini/settings.json", "mcpServers", false },
        { "gemini", "user", "home/.gemini/settings.json", "mcpServers", false },
        { "windsurf", "user", "home/.codeium/windsurf/mcp_config.json", "mcpServers", false },
    };

    private static string ExistingConfig(string serversKey) => $$"""
        {
          "theme": "dark",
          "{{serversKey}}": {
            "other": {
              "command": "node",
              "args": [
                "server.js",
                "--port",
                "3"
              ],
              "env": {
                "TOKEN": "${MY_TOKEN}"
              }
            }
          },
          "nested": {
            "list": [
              1,
              2
            ],
            "empty": {},
            "unicode": "café <b> + é"
          }
        }

        """;

    [Theory]
    [MemberData(nameof(JsonClients))]
    public void Install_merges_into_existing_config_and_uninstall_restores_it_byte_for_byte(
        string client, string scope, string relativeConfig, string serversKey, bool writesType)
    {
        using var box = new InstallSandbox();
        var config = Path.Combine(box.Root, relativeConfig);
        var original = ExistingConfig(serversKey).Replace("\r\n", "\n");
        box.WriteFile(config, original);

        var first = box.Install("--client", client, "--scope", scope, "--command", box.ServerExecutable, "--no-instructions");
        first.ExitCode.Should().Be(0, first.ToString());

        var root = JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        var ours = root[serversKey]![Clients.ServerName]!.AsObject();
        ours["command"]!.GetValue<string>().Should().Be(box.ServerExecutable);
        ours["args"]!.AsArray().Select(a => a!.GetValue<string>()).Should().Equal("serve");
        (ours["type"]?.GetValue<string>()).Should().Be(writesType ? "stdio" : null);
        var originalRoot = JsonNode.Parse(original)!.AsObject();
        JsonNode.DeepEquals(root[serversKey]!["other"], originalRoot[serversKey]!["other"]).Should().BeTrue();
        JsonNode.DeepEquals(root["nested"], originalRoot["nested"]).Should().BeTrue();
        root["theme"]!.GetValue<string>().Should().Be("dark");
        File.ReadAllText(config).Should().Contain("\"unicode\": \"café <b> + é\"", "non-ASCII and HTML characters are kept as written");
        box.Backups(config).Should().ContainSingle().Which.Should().Match(b => File.ReadAllText(b) == original);

        var afterFirst = File.ReadAllBytes(config);
        var second = box.Install("--client", client, "--scope", scope, "--command", box.ServerExecutable, "--no-instructions");
        second.ExitCode.Should().Be(0, second.ToString());
        second.Output.Should().Contain("unchanged").And.NotContain("updated");
        File.ReadAllBytes(config).Should().Equal(afterFirst);
        box.Backups(config).Should().HaveCount(1, "an unchanged file gets no new backup");

        var removed = box.Uninstall("--client", client, "--scope", scope, "--no-instructions");
        removed.ExitCode.Should().Be(0, removed.ToString());
        File.ReadAllText(config).Should().Be(original);
    }

    [Theory]
    [MemberData(nameof(JsonClients))]
    public void Install_into_a_fresh_machine_creates_the_config_and_uninstall_deletes_it(
        string client, string scope, string relativeConfig, string serversKey, bool writesType)
    {
        using var box = new InstallSandbox();
        var config = Path.Combine(box.Root, relativeConfig);

        box.Install("--client", client, "--scope", scope, "--command", "mcp-memory", "--no-instructions").ExitCode.Should().Be(0);

        var expectedEntry = writesType
            ? """{ "type": "stdio", "command": "mcp-memory", "args": ["serve"] }"""
            : """{ "command": "mcp-memory", "args": ["serve"] }""";
        JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(config))![serversKey]![Clients.ServerName], JsonNode.Parse(expectedEntry))
            .Should().BeTrue(File.ReadAllText(config));
        box.Backups(config).Should().BeEmpty("there was nothing to back up");

        box.Uninstall("--client", client, "--scope", scope, "--no-instructions").ExitCode.Should().Be(0);
        File.Exists(config).Should().BeFalse("the file held nothing but our server");
    }

    [Fact]
    public void Keys_the_user_added_to_our_entry_survive_a_reinstall_with_a_new_command()
    {
        using var box = new InstallSandbox();
        var config = box.ProjectFile(".mcp.json");
        box.WriteFile(config, """
            {
              "mcpServers": {
                "mcp-memory": {
                  "type": "stdio",
                  "command": "old-path",
                  "args": ["serve"],
                  "env": { "MCP_MEMORY_LOG": "debug" }
                }
              }
            }
            """);

        box.Install("--client", "claude-code", "--command", "mcp-memory", "--no-instructions").ExitCode.Should().Be(0);

        var entry = JsonNode.Parse(File.ReadAllText(config))!["mcpServers"]!["mcp-memory"]!;
        entry["command"]!.GetValue<string>().Should().Be("mcp-memory");
        entry["env"]!["MCP_MEMORY_LOG"]!.GetValue<string>().Should().Be("debug");
    }

    [Fact]
    public void Four_space_indented_files_stay_four_space_indented()
    {
        using var box = new InstallSandbox();
        var config = box.ProjectFile(".cursor", "mcp.json");
        box.WriteFile(config, "{\n    \"mcpServers\": {}\n}\n");

        box.Install("--client", "cursor", "--command", "mcp-memory", "--no-instructions").ExitCode.Should().Be(0);

        File.ReadAllText(config).Should().StartWith("{\n    \"mcpServers\": {\n        \"mcp-memory\": {\n            \"command\": \"mcp-memory\",");
    }

    [Fact]
    public void Gemini_settings_with_comments_are_parsed_and_the_loss_of_comments_is_announced()
    {
        using var box = new InstallSandbox();
        var config = box.ProjectFile(".gemini", "settings.json");
        box.WriteFile(config, """
            {
              // my theme
              "theme": "GitHub",
              /* servers */
              "mcpServers": {}
            }
            """);

        var result = box.Install("--client", "gemini", "--command", "mcp-memory", "--no-instructions");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain($"{config} has comments; rewriting it drops them (the backup keeps them).");
        var root = JsonNode.Parse(File.ReadAllText(config))!;
        root["theme"]!.GetValue<string>().Should().Be("GitHub");
        root["mcpServers"]!["mcp-memory"].Should().NotBeNull();
        File.ReadAllText(box.Backups(config).Single()).Should().Contain("// my theme");
    }

    [Theory]
    [InlineData("claude-code", ".mcp.json")]
    [InlineData("cursor", ".cursor/mcp.json")]
    [InlineData("gemini", ".gemini/settings.json")]
    public void A_malformed_config_is_refused_with_its_line_and_nothing_anywhere_is_written(string client, string relative)
    {
        using var box = new InstallSandbox();
        var config = box.ProjectFile(relative.Split('/'));
        box.WriteFile(config, "{\n  \"mcpServers\": {\n    \"other\": { \"command\": \"node\" },,\n  }\n}\n");
        var before = box.Snapshot();

        // Codex first: its file would be written if the run did not plan everything before writing.
        var result = box.Install("--client", "codex," + client, "--command", "mcp-memory");

        result.ExitCode.Should().Be(1);
        result.Error.Should().Contain($"{config}:3:").And.Contain("not valid JSON").And.Contain("nothing was changed");
        box.Snapshot().Should().BeEquivalentTo(before);
    }

    [Theory]
    [InlineData("{\n  \"a\": 1,\n  \"a\": 2\n}\n")]
    [InlineData("{\n  \"mcpServers\": {\n    \"x\": {},\n    \"x\": {}\n  }\n}\n")]
    public void Duplicate_keys_are_refused(string content)
    {
        using var box = new InstallSandbox();
        var config = box.ProjectFile(".mcp.json");
        box.WriteFile(config, content);

        var result = box.Install("--client", "claude-code", "--command", "mcp-memory");

        result.ExitCode.Should().Be(1, result.ToString());
        result.Error.Should().Contain(config + ":").And.Contain("Duplicate").And.Contain("nothing was changed");
        File.ReadAllText(config).Should().Be(content);
    }

    [Fact]
    public void A_servers_key_that_is_not_an_object_is_refused()
    {
        using var box = new InstallSandbox();
        var config = box.ProjectFile(".mcp.json");
        box.WriteFile(config, """{ "mcpServers": [] }""");

        var result = box.Install("--client", "claude-code", "--command", "mcp-memory");

        result.ExitCode.Should().Be(1);
        result.Error.Should().Contain($"{config}: \"mcpServers\" is not a JSON object");
        File.ReadAllText(config).Should().Be("""{ "mcpServers": [] }""");
    }
}
