using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Tests.Support;
using Xunit;
using static McpMemory.Tests.Reliability.ReliabilityChecks;

namespace McpMemory.Tests.Reliability;

/// <summary>
/// `migrate --from --to` copies a whole database (vectors, state, feedback, the event log with deleted memories'
/// history) so that the copy exports exactly as the source, refuses a non-empty target without --merge, and leaves no
/// scratch files behind.
/// </summary>
public class MigrateTests
{
    /// <summary>A source with every kind of record: memories with vectors, feedback, a deleted memory, agent state.</summary>
    private static async Task<List<string>> Fill(string db)
    {
        var ids = new List<string>();
        foreach (var text in new[]
                 {
                     "the staging database is rebuilt every night from the production snapshot at 02:00 UTC",
                     "Maria prefers small pull requests with one topic each",
                     "flaky login test fixed by waiting for the session cookie before navigating",
                 })
            ids.Add(Id(await RunCli("store", text, "--db", db, "--namespace", "project:move", "--json")));
        await using var server = await RawMcpServer.StartAsync(db, "project:move");
        ToolResult(await server.CallToolAsync("feedback", Args(("memory_id", ids[0]), ("signal", "useful"), ("note", "right on time"))));
        ToolResult(await server.CallToolAsync("delete_memory", Args(("memory_id", ids[2]))));
        ToolResult(await server.CallToolAsync("set_agent_state", Args(("key", "current_task"), ("value", new JsonObject { ["issue"] = 18 }))));
        return ids;
    }

    private static string[] ScratchFiles() => Directory.GetFiles(Path.GetTempPath(), "mcp-memory-migrate-*");

    [Fact]
    public async Task A_migration_copies_everything_and_the_copy_exports_byte_for_byte_as_the_source()
    {
        using var dir = new TempDirectory();
        var source = dir.File("source.db");
        var ids = await Fill(source);
        var scratchBefore = ScratchFiles();

        var target = dir.File("target.db");
        var migrated = await RunCli("migrate", "--from", source, "--to", target, "--json");
        var result = JsonDocument.Parse(migrated.Stdout).RootElement;
        result.GetProperty("memories").GetInt64().Should().Be(2);
        result.GetProperty("vectors").GetInt64().Should().Be(2, "the vectors travel with their model id");
        result.GetProperty("states").GetInt64().Should().Be(1);
        result.GetProperty("feedback").GetInt64().Should().Be(1);
        result.GetProperty("events").GetInt64().Should().BeGreaterThan(5, "the whole log: stores, feedback, the delete, the state");
        result.GetProperty("merged").GetBoolean().Should().BeFalse();
        result.GetProperty("verified").GetString().Should().Contain("byte for byte");

        // Checked independently of the command's own check: both exports, compared here.
        await RunCli("export", "--db", source, "--out", dir.File("source.jsonl"));
        await RunCli("export", "--db", target, "--out", dir.File("target.jsonl"));
        File.ReadAllBytes(dir.File("target.jsonl")).Should().Equal(File.ReadAllBytes(dir.File("source.jsonl")));
        File.ReadAllText(dir.File("target.jsonl")).Should().Contain(ids[2], "the deleted memory's history came along");
        Consistent(target);

        var search = await RunCli("search", "when is staging refreshed?", "--mode", "vector", "--db", target, "--namespace", "project:move", "--json");
        JsonDocument.Parse(search.Stdout).RootElement.GetProperty("results")[0].GetProperty("memory_id").GetString().Should().Be(ids[0],
            "the copied vectors answer a vector search at once");
        ScratchFiles().Should().BeEquivalentTo(scratchBefore, "the scratch exports are deleted");
    }

    [Fact]
    public async Task A_target_with_records_is_refused_without_merge_and_merged_with_it()
    {
        using var dir = new TempDirectory();
        var source = dir.File("source.db");
        await Fill(source);
        var target = dir.File("target.db");
        var own = Id(await RunCli("store", "the target's own memory: deploys go out on Tuesdays", "--db", target, "--namespace", "project:move", "--json"));
        await RunCli("export", "--db", target, "--out", dir.File("before.jsonl"));

        var refused = await ToolProcess.RunAsync(["migrate", "--from", source, "--to", target]);
        refused.ExitCode.Should().Be(1);
        refused.Stderr.Should().Contain("--to:").And.Contain("already has 1 memories").And.Contain("--merge");
        await RunCli("export", "--db", target, "--out", dir.File("after-refusal.jsonl"));
        File.ReadAllBytes(dir.File("after-refusal.jsonl")).Should().Equal(File.ReadAllBytes(dir.File("before.jsonl")), "a refused migration writes nothing");

        var merged = JsonDocument.Parse((await RunCli("migrate", "--from", source, "--to", target, "--merge", "--json")).Stdout).RootElement;
        merged.GetProperty("merged").GetBoolean().Should().BeTrue();
        merged.GetProperty("memories").GetInt64().Should().Be(2);
        merged.GetProperty("verified").GetString().Should().Contain("every source record");

        var again = JsonDocument.Parse((await RunCli("migrate", "--from", source, "--to", target, "--merge", "--json")).Stdout).RootElement;
        again.GetProperty("memories").GetInt64().Should().Be(0, "a second merge finds everything already there");
        again.GetProperty("skipped").GetInt64().Should().BeGreaterThan(0);

        var get = await RunCli("get", own, "--db", target, "--json");
        JsonDocument.Parse(get.Stdout).RootElement.GetProperty("content").GetString().Should().Contain("Tuesdays", "the target's own records are kept");
        Consistent(target);
    }

    [Fact]
    public async Task A_migration_to_PostgreSQL_and_back_gives_the_same_export()
    {
        using var dir = new TempDirectory();
        var source = dir.File("source.db");
        await Fill(source);
        var postgres = PostgresServer.Shared.CreateDatabase();
        try
        {
            var there = JsonDocument.Parse((await RunCli("migrate", "--from", source, "--to", postgres, "--json")).Stdout).RootElement;
            there.GetProperty("memories").GetInt64().Should().Be(2);
            there.GetProperty("verified").GetString().Should().Contain("byte for byte");
            var back = dir.File("back.db");
            await RunCli("migrate", "--from", postgres, "--to", back);

            await RunCli("export", "--db", source, "--out", dir.File("source.jsonl"));
            await RunCli("export", "--db", back, "--out", dir.File("back.jsonl"));
            File.ReadAllBytes(dir.File("back.jsonl")).Should().Equal(File.ReadAllBytes(dir.File("source.jsonl")),
                "SQLite → PostgreSQL → SQLite loses nothing: vectors, state versions, feedback, the event log");
            Consistent(back);
        }
        finally { PostgresServer.Shared.DropDatabase(postgres); }
    }

    [Fact]
    public async Task Bad_locations_are_named()
    {
        using var dir = new TempDirectory();
        var missing = await ToolProcess.RunAsync(["migrate", "--from", dir.File("nope.db"), "--to", dir.File("t.db")]);
        missing.ExitCode.Should().Be(1);
        missing.Stderr.Should().Contain("--from:").And.Contain("does not exist");
        File.Exists(dir.File("t.db")).Should().BeFalse("nothing is created when the source is missing");

        var db = dir.File("same.db");
        await RunCli("store", "a memory", "--db", db);
        var same = await ToolProcess.RunAsync(["migrate", "--from", db, "--to", db]);
        same.ExitCode.Should().Be(1);
        same.Stderr.Should().Contain("--to:").And.Contain("itself");
    }
}
