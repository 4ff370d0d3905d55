using System.Text.Json;
using FluentAssertions;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Cli;

/// <summary>The CLI as a person runs it: separate processes sharing one database file.</summary>
public class CliTests
{
    [Fact]
    public async Task Memory_stored_by_one_process_is_found_got_and_deleted_by_others()
    {
        using var dir = new TempDirectory();
        var db = new[] { "--db", dir.File("m.db") };

        var stored = await ToolProcess.RunAsync(["store", "Use pnpm, not npm, in this repo", "--type", "preference", "--tags", "pnpm,tooling", "--json", .. db]);
        stored.ExitCode.Should().Be(0, stored.Stderr);
        var id = JsonDocument.Parse(stored.Stdout).RootElement.GetProperty("memory_id").GetString()!;

        var search = await ToolProcess.RunAsync(["search", "should I use npm or yarn here?", "--json", .. db]);
        search.ExitCode.Should().Be(0, search.Stderr);
        var results = JsonDocument.Parse(search.Stdout).RootElement.GetProperty("results");
        results.GetArrayLength().Should().Be(1);
        results[0].GetProperty("memory_id").GetString().Should().Be(id);
        results[0].GetProperty("memory_type").GetString().Should().Be("preference");

        var human = await ToolProcess.RunAsync(["search", "pnpm", .. db]);
        human.Stdout.Should().Contain(id).And.Contain("Use pnpm, not npm");

        var get = await ToolProcess.RunAsync(["get", id, "--json", .. db]);
        JsonDocument.Parse(get.Stdout).RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()).Should().Equal("pnpm", "tooling");

        (await ToolProcess.RunAsync(["delete", id, .. db])).ExitCode.Should().Be(0);
        var gone = await ToolProcess.RunAsync(["get", id, .. db]);
        gone.ExitCode.Should().Be(1);
        gone.Stderr.Should().Contain("no memory with id");
        gone.Stdout.Should().BeEmpty();
    }

    [Fact]
    public async Task Store_supersedes_search_hides_and_history_lists_the_versions()
    {
        using var dir = new TempDirectory();
        var db = new[] { "--db", dir.File("m.db"), "--json" };
        var env = new Dictionary<string, string> { ["MCP_MEMORY_ENCODER"] = "off" }; // supersedes and history need no vectors

        var old = await ToolProcess.RunAsync(["store", "The API server listens on port 8080", .. db], env);
        old.ExitCode.Should().Be(0, old.Stderr);
        var oldId = JsonDocument.Parse(old.Stdout).RootElement.GetProperty("memory_id").GetString()!;
        var replacement = await ToolProcess.RunAsync(["store", "The API server listens on port 9090", "--supersedes", oldId, .. db], env);
        replacement.ExitCode.Should().Be(0, replacement.Stderr);
        var newId = JsonDocument.Parse(replacement.Stdout).RootElement.GetProperty("memory_id").GetString()!;

        var search = await ToolProcess.RunAsync(["search", "API server port", .. db], env);
        JsonDocument.Parse(search.Stdout).RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("memory_id").GetString()).Should().Equal(newId);
        var all = await ToolProcess.RunAsync(["search", "API server port", "--include-superseded", .. db], env);
        JsonDocument.Parse(all.Stdout).RootElement.GetProperty("results").GetArrayLength().Should().Be(2);

        var history = await ToolProcess.RunAsync(["history", newId, .. db], env);
        history.ExitCode.Should().Be(0, history.Stderr);
        JsonDocument.Parse(history.Stdout).RootElement.GetProperty("versions").EnumerateArray()
            .Select(v => $"{v.GetProperty("kind").GetString()} {v.GetProperty("content").GetString()}")
            .Should().Equal("stored The API server listens on port 8080", "stored The API server listens on port 9090", "superseded The API server listens on port 8080");
        var human = await ToolProcess.RunAsync(["history", oldId, "--db", dir.File("m.db")], env);
        human.Stdout.Should().Contain("superseded").And.Contain($"→ {newId}");

        var bad = await ToolProcess.RunAsync(["store", "x", "--supersedes", Guid.Empty.ToString(), .. db], env);
        bad.ExitCode.Should().Be(1);
        bad.Stderr.Should().Contain("supersedes[0]: no memory with id");
    }

    [Fact]
    public async Task Database_and_namespace_come_from_the_environment_when_no_option_is_given()
    {
        using var dir = new TempDirectory();
        var env = new Dictionary<string, string> { ["MCP_MEMORY_DB"] = dir.File("env.db"), ["MCP_MEMORY_NAMESPACE"] = "agent:ci" };
        (await ToolProcess.RunAsync(["store", "from the environment"], env)).ExitCode.Should().Be(0);
        File.Exists(dir.File("env.db")).Should().BeTrue();

        var stats = await ToolProcess.RunAsync(["stats", "--json"], env);
        var byNamespace = JsonDocument.Parse(stats.Stdout).RootElement.GetProperty("by_namespace");
        byNamespace.GetProperty("agent:ci").GetInt64().Should().Be(1);
    }

    [Fact]
    public async Task State_set_and_get_with_versions_and_a_refused_stale_write()
    {
        using var dir = new TempDirectory();
        var db = new[] { "--db", dir.File("m.db") };
        (await ToolProcess.RunAsync(["state", "set", "todo", """["write tests"]""", .. db])).ExitCode.Should().Be(0);
        var stale = await ToolProcess.RunAsync(["state", "set", "todo", "[]", "--expected-version", "7", .. db]);
        stale.ExitCode.Should().Be(1);
        stale.Stderr.Should().Contain("expected_version").And.Contain("is 1");

        var get = await ToolProcess.RunAsync(["state", "get", "todo", "--json", .. db]);
        var state = JsonDocument.Parse(get.Stdout).RootElement;
        state.GetProperty("version").GetInt64().Should().Be(1);
        state.GetProperty("value")[0].GetString().Should().Be("write tests");
    }

    [Theory]
    [InlineData("store|", "content: must not be empty")]
    [InlineData("store|x|--importance|3", "importance: must be between 0 and 1")]
    [InlineData("store|x|--type|musing", "memory_type: \"musing\" is not a memory type")]
    [InlineData("store|x|--metadata|{oops", "metadata: is not valid JSON")]
    [InlineData("search|q|--top-k|0", "top_k: must be between 1 and 100")]
    [InlineData("get|123", "id: \"123\" is not a UUID")]
    [InlineData("state|set|k|{bad", "json: is not valid JSON")]
    public async Task Bad_input_gets_one_clear_error_line_and_exit_code_1(string args, string expected)
    {
        using var dir = new TempDirectory();
        using (McpMemory.Core.MemoryService.Open(dir.File("m.db"))) { } // reads need an existing database
        var result = await ToolProcess.RunAsync([.. args.Split('|'), "--db", dir.File("m.db")]);
        result.ExitCode.Should().Be(1);
        result.Stderr.Should().Contain("error: " + expected);
        result.Stderr.Should().NotContain("   at ", "no stack traces for bad input");
    }

    [Fact]
    public async Task Every_command_has_readable_help()
    {
        foreach (var command in new[] { "store", "search", "get", "delete", "state", "stats", "serve" })
        {
            var help = await ToolProcess.RunAsync([command, "--help"]);
            help.ExitCode.Should().Be(0);
            help.Stdout.Should().Contain("Usage:").And.Contain("--db");
        }
    }
}
