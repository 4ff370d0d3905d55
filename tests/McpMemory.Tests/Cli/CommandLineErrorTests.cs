using System.Text.Json;
using FluentAssertions;
using McpMemory.Core.Memories;
using McpMemory.Tests.Support;
using Xunit;
using static McpMemory.Tests.Reliability.ReliabilityChecks;

namespace McpMemory.Tests.Cli;

/// <summary>
/// The command line on files it cannot use (not a database, a folder, damaged, missing), files it must not clobber,
/// what a clean exit leaves on disk, and names with emoji.
/// </summary>
public class CommandLineErrorTests
{
    /// <summary>Exit code 1 and exactly one line on stderr, an "error:" line, never a stack trace.</summary>
    private static void OneErrorLine(ToolProcess.Result result, string command)
    {
        result.ExitCode.Should().Be(1, $"{command}: stdout {result.Stdout} stderr {result.Stderr}");
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().ContainSingle($"{command} must report one line, got: {result.Stderr}");
        lines[0].Should().StartWith("error: ", command);
        result.Stderr.Should().NotContain("   at ", command);
    }

    private static string Truncated(TempDirectory dir)
    {
        var db = dir.File("damaged.db");
        using (var service = McpMemory.Core.MemoryService.Open(db))
            for (var i = 0; i < 60; i++)
                service.Store(new Caller("shared", "t"), new NewMemory { Content = $"memory number {i} " + new string('x', 300) });
        using (var file = new FileStream(db, FileMode.Open)) file.SetLength(20000);
        return db;
    }

    [Fact]
    public async Task Every_command_on_a_file_it_cannot_use_reports_one_line_and_exit_1()
    {
        using var dir = new TempDirectory();
        var text = dir.File("notadb.txt");
        File.WriteAllText(text, "just some notes\n");
        var damaged = Truncated(dir);
        var noise = dir.File("noise.db");
        File.WriteAllBytes(noise, Enumerable.Range(0, 8192).Select(i => (byte)(i * 37 + 11)).ToArray());
        var env = new Dictionary<string, string> { ["MCP_MEMORY_ENCODER"] = "off" };

        foreach (var db in new[] { text, dir.Path, damaged, noise })
        {
            var before = File.Exists(db) ? File.ReadAllBytes(db) : null;
            foreach (var command in new[] { "stats", "export", "search|memory", "get|00000000-0000-0000-0000-000000000001", "state|get|k", "store|x", "import|" + text })
            {
                var result = await ToolProcess.RunAsync([.. command.Split('|'), "--db", db], env);
                OneErrorLine(result, $"{command} --db {db}");
            }
            var serve = await ToolProcess.RunAsync(["serve", "--db", db], env, stdin: "");
            OneErrorLine(serve, $"serve --db {db}");
            if (before is not null) File.ReadAllBytes(db).Should().Equal(before, "a command that fails leaves the file as it was");
        }

        var named = await ToolProcess.RunAsync(["stats", "--db", text], env);
        named.Stderr.Should().Contain("is not an SQLite database");
        (await ToolProcess.RunAsync(["stats", "--db", dir.Path], env)).Stderr.Should().Contain("is a folder");
        (await ToolProcess.RunAsync(["export", "--db", damaged], env)).Stderr.Should().Contain("is damaged").And.Contain("mcp-memory restore");
    }

    [Fact]
    public async Task Only_the_default_data_folder_is_created_and_a_read_on_a_missing_file_is_an_error()
    {
        using var dir = new TempDirectory();
        var env = new Dictionary<string, string> { ["MCP_MEMORY_ENCODER"] = "off", ["XDG_DATA_HOME"] = dir.File("data"), ["HOME"] = dir.Path };
        var nested = dir.File("no/such/dir/x.db");

        foreach (var command in new[] { "stats", "search|q", "export", "state|get|k", "store|x", "state|set|k|1" })
        {
            var result = await ToolProcess.RunAsync([.. command.Split('|'), "--db", nested], env);
            OneErrorLine(result, command);
            result.Stderr.Should().Contain("does not exist");
        }
        Directory.Exists(dir.File("no")).Should().BeFalse("no folder is created for a --db path");

        var missing = dir.File("missing.db");
        foreach (var command in new[] { "stats", "search|q", "get|00000000-0000-0000-0000-000000000001", "delete|00000000-0000-0000-0000-000000000001", "state|get|k", "doctor" })
        {
            var result = await ToolProcess.RunAsync([.. command.Split('|'), "--db", missing], env);
            result.ExitCode.Should().Be(1, command);
            (result.Stdout + result.Stderr).Should().Contain($"database {missing} does not exist", command);
        }
        File.Exists(missing).Should().BeFalse("a read never creates a database");

        (await ToolProcess.RunAsync(["store", "a first memory", "--db", missing], env)).ExitCode.Should().Be(0, "a write creates the file in an existing folder");
        File.Exists(missing).Should().BeTrue();

        var byDefault = await ToolProcess.RunAsync(["stats", "--json"], env);
        byDefault.ExitCode.Should().Be(0, byDefault.Stderr);
        JsonDocument.Parse(byDefault.Stdout).RootElement.GetProperty("path").GetString().Should().Be(dir.File("data/mcp-memory/memory.db"));
        File.Exists(dir.File("data/mcp-memory/memory.db")).Should().BeTrue("the default data folder is created on demand");
    }

    [Fact]
    public async Task Export_never_overwrites_a_file_without_force()
    {
        using var store = new TestStore();
        store.Store("a memory to export");
        using var dir = new TempDirectory();
        var existing = dir.File("existing.txt");
        File.WriteAllText(existing, "precious");

        var refused = await ToolProcess.RunAsync(["export", "--db", store.DatabasePath, "--out", existing]);
        OneErrorLine(refused, "export --out existing");
        refused.Stderr.Should().Contain("already exists; pass --force");
        File.ReadAllText(existing).Should().Be("precious");

        var forced = await ToolProcess.RunAsync(["export", "--db", store.DatabasePath, "--out", existing, "--force"]);
        forced.ExitCode.Should().Be(0, forced.Stderr);
        File.ReadAllText(existing).Should().Contain("a memory to export");

        var folder = dir.File("md");
        (await ToolProcess.RunAsync(["export", "--db", store.DatabasePath, "-f", "markdown", "--out", folder])).ExitCode.Should().Be(0);
        var page = Directory.GetFiles(folder).Should().ContainSingle().Subject;
        File.WriteAllText(page, "edited by hand");
        OneErrorLine(await ToolProcess.RunAsync(["export", "--db", store.DatabasePath, "-f", "markdown", "--out", folder]), "markdown export over a file");
        File.ReadAllText(page).Should().Be("edited by hand");
        (await ToolProcess.RunAsync(["export", "--db", store.DatabasePath, "-f", "markdown", "--out", folder, "--force"])).ExitCode.Should().Be(0);
        File.ReadAllText(page).Should().Contain("a memory to export");
    }

    [Fact]
    public async Task A_clean_exit_leaves_no_wal_behind()
    {
        using var dir = new TempDirectory();
        var db = dir.File("m.db");
        await using (var server = await RawMcpServer.StartAsync(db, "project:wal", env: RawMcpServer.NoMerging))
        {
            for (var i = 0; i < 30; i++)
                ToolResult(await server.CallToolAsync("store_memory", Args(("content", $"a memory written through the WAL {i} " + new string('w', 2000)))));
            ToolResult(await server.CallToolAsync("search_memory", Args(("query", "memory"))));
            new FileInfo(db + "-wal").Length.Should().BeGreaterThan(0, "the server writes through the WAL");
        } // stdin closed: the server shuts down cleanly

        WalBytes(db).Should().Be(0, "a clean shutdown checkpoints the WAL into the database");
        Memories(db).Should().HaveCount(30);
        Consistent(db);

        (await ToolProcess.RunAsync(["store", "from the command line", "--db", db])).ExitCode.Should().Be(0);
        WalBytes(db).Should().Be(0);
        (await ToolProcess.RunAsync(["verify", db])).ExitCode.Should().Be(0);
        (await ToolProcess.RunAsync(["backup", "--db", db, "--to", dir.File("b.db")])).ExitCode.Should().Be(0);
        Directory.GetFiles(dir.Path).Select(Path.GetFileName).Should().BeEquivalentTo(["m.db", "b.db"],
            "a command that exits cleanly leaves no -wal or -shm beside the database (nor beside its backup)");
    }

    private static long WalBytes(string db) => File.Exists(db + "-wal") ? new FileInfo(db + "-wal").Length : 0;

    [Fact]
    public async Task Emoji_in_state_keys_and_session_ids_is_accepted_control_characters_and_lone_surrogates_are_not()
    {
        using var dir = new TempDirectory();
        await using (var server = await RawMcpServer.StartAsync(dir.File("m.db"), "project:emoji"))
        {
            var state = ToolResult(await server.CallToolAsync("set_agent_state", Args(("key", "todo 😀"), ("value", "ship it"))));
            state["key"]!.GetValue<string>().Should().Be("todo 😀");
            ToolResult(await server.CallToolAsync("get_agent_state", Args(("key", "todo 😀"))))["value"]!.GetValue<string>().Should().Be("ship it");
            var stored = ToolResult(await server.CallToolAsync("store_memory", Args(("content", "emoji session"), ("session_id", "s😀"))));
            var found = ToolResult(await server.CallToolAsync("search_memory", Args(("query", "emoji session"), ("session_id", "s😀"))));
            found["results"]!.AsArray().Should().ContainSingle().Which!["memory_id"]!.GetValue<string>().Should().Be(stored["memory_id"]!.GetValue<string>());
        }

        using var store = new TestStore();
        var value = JsonDocument.Parse("1").RootElement;
        foreach (var (key, shown) in new[] { ("todo \ud83d", "\\uD83D"), ("\ude00 todo", "\\uDE00"), ("to\u0001do", "\\u0001"), ("\ud83d\ud83d", "\\uD83D") })
            store.Invoking(s => s.Service.SetState(s.Caller, key, value, null)).Should().Throw<MemoryValidationException>()
                .WithMessage($"key: contains '{shown}'; control characters and lone surrogates are not allowed");
        store.Invoking(s => s.Service.Store(s.Caller, new NewMemory { Content = "x", SessionId = "s\ud83d" })).Should().Throw<MemoryValidationException>()
            .WithMessage("session_id: contains '\\uD83D'*");
        store.Service.SetState(store.Caller, "🎉 done 😀", value, null).Key.Should().Be("🎉 done 😀");
    }
}
