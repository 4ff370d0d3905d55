using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Core.Memories;
using McpMemory.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit;

namespace McpMemory.Tests.Reliability;

/// <summary>export → import round-trips every field exactly, a second import adds nothing, bad files write nothing.</summary>
public class PortabilityTests
{
    private static string Export(TestStore store)
    {
        var writer = new StringWriter();
        store.Service.ExportJsonl(writer);
        return writer.ToString();
    }

    private static List<JsonObject> Records(string jsonl, string kind) =>
        jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject())
            .Where(r => r["kind"]!.GetValue<string>() == kind).ToList();

    private static List<string> Lines(string jsonl, string kind) =>
        jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => JsonNode.Parse(l)!["kind"]!.GetValue<string>() == kind).ToList();

    private static void Sql(TestStore store, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={store.DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static System.Text.Json.JsonElement Json(string json) => System.Text.Json.JsonDocument.Parse(json).RootElement.Clone();

    /// <summary>A source database with every kind of record and every field set to something unusual.</summary>
    private static TestStore Source(out Guid deleted)
    {
        var source = new TestStore();
        var a = source.Store("Deploys go through the cloudflare tunnel; never expose 8080 ✓ «quoted» \"and\" \\ back\nslashes", "decision",
            ["deploy", "nginx", "ünïcode"], 0.123456789, "project:api", "session-7", new DateTimeOffset(2025, 1, 2, 3, 4, 5, 678, TimeSpan.Zero),
            new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), """{"file":"src/app.ts","nested":{"list":[1,2.5,"x",null,true]},"emoji":"🎉"}""");
        source.Store("The user prefers tabs", "preference", ns: "shared", importance: 1);
        source.Store("ctx with zero importance", "context", importance: 0, ns: "agent:bot-1");
        deleted = source.Store("this one is deleted before the export");
        source.Service.Delete(source.Caller, deleted);
        source.Service.SetState(source.Caller, "current_task", Json("""{"issue":6,"steps":["a","b"]}"""), null);
        source.Clock.Advance(TimeSpan.FromMinutes(3));
        source.Service.SetState(source.Caller, "current_task", Json("\"second\""), 1);
        source.Service.SetState(source.Caller, "todo", Json("null"), null, "shared");
        Sql(source, $"UPDATE memories SET access_count = 42, last_accessed = 1767225600123 WHERE id = '{a:D}'");
        Sql(source, $"INSERT INTO feedback (memory_id, namespace, signal, note, created_at) VALUES ('{a:D}', 'project:api', 'useful', 'saved an hour', 1767225600999)");
        Sql(source, $"INSERT INTO feedback (memory_id, namespace, signal, note, created_at) VALUES ('{a:D}', 'project:api', 'outdated', NULL, 1767225601000)");
        return source;
    }

    [Fact]
    public void Export_then_import_round_trips_every_field_and_a_second_import_adds_nothing()
    {
        using var source = Source(out var deleted);
        var exported = Export(source);
        Records(exported, "memory").Should().HaveCount(3).And.NotContain(r => r["id"]!.GetValue<string>() == deleted.ToString("D"));

        using var target = new TestStore();
        using var dir = new TempDirectory();
        var file = dir.File("export.jsonl");
        File.WriteAllText(file, exported);
        var first = target.Service.ImportJsonl(file);
        first.MemoriesAdded.Should().Be(3);
        first.StatesAdded.Should().Be(2);
        first.FeedbackAdded.Should().Be(2);
        first.EventsAdded.Should().Be(Lines(exported, "event").Count, "the event log comes whole into an empty database");
        first.Skipped.Should().Be(0, "nothing is already present in an empty database");
        var reexported = Export(target);

        reexported.Should().Be(exported, "export → import → export gives the same bytes");
        Lines(reexported, "event").Should().Contain(e => e.Contains(deleted.ToString("D")) && e.Contains("\"event\":\"delete\""),
            "a deleted memory's history travels with the log");
        Records(reexported, "memory").Should().OnlyContain(r => r["access_count"] != null);

        var again = target.Service.ImportJsonl(file);
        again.Added.Should().Be(0);
        again.MemoriesSkipped.Should().Be(3);
        again.StatesSkipped.Should().Be(2);
        again.FeedbackSkipped.Should().Be(2);
        again.EventsSkipped.Should().Be(Lines(exported, "event").Count);
        Export(target).Should().Be(reexported, "importing the same file twice adds nothing, not even an import event");

        var imported = target.Service.Get(new Caller("project:api", "x"), Guid.Parse(Records(exported, "memory")[0]["id"]!.GetValue<string>()));
        imported.HasEmbedding.Should().BeFalse("vectors are derived: an import leaves them to be rebuilt");
        imported.AccessCount.Should().Be(42);
    }

    [Fact]
    public void A_big_import_is_written_in_batches_and_reports_progress()
    {
        using var dir = new TempDirectory();
        var file = dir.File("big.jsonl");
        File.WriteAllLines(file, Enumerable.Range(0, 1200).Select(i => new JsonObject
        {
            ["kind"] = "memory", ["id"] = Guid.NewGuid().ToString("D"), ["namespace"] = "shared", ["memory_type"] = "fact",
            ["content"] = $"imported memory number {i}", ["tags"] = new JsonArray(), ["importance"] = 0.5,
            ["created_at"] = "2026-01-01T00:00:00.000Z", ["updated_at"] = "2026-01-01T00:00:00.000Z",
        }.ToJsonString()));
        using var target = new TestStore();
        var steps = new List<McpMemory.Core.Portability.ImportProgress>();

        var result = target.Service.ImportJsonl(file, new Recorder(steps));

        result.MemoriesAdded.Should().Be(1200);
        steps.Select(s => (s.Written, s.Total)).Should().Equal((500, 1200), (1000, 1200), (1200, 1200));
    }

    private sealed class Recorder(List<McpMemory.Core.Portability.ImportProgress> steps) : IProgress<McpMemory.Core.Portability.ImportProgress>
    {
        public void Report(McpMemory.Core.Portability.ImportProgress value) => steps.Add(value);
    }

    [Fact]
    public void A_bad_record_is_reported_with_its_line_and_field_and_nothing_is_written()
    {
        using var source = Source(out _);
        var lines = Export(source).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        var bad = JsonNode.Parse(lines[2])!.AsObject();
        bad["importance"] = 1.5;
        lines[2] = bad.ToJsonString();
        using var dir = new TempDirectory();
        var file = dir.File("bad.jsonl");
        File.WriteAllLines(file, lines);

        using var target = new TestStore();
        target.Invoking(t => t.Service.ImportJsonl(file)).Should().Throw<MemoryFileException>()
            .WithMessage("line 3: importance: must be between 0 and 1 (got 1.5)");
        target.Service.Stats().Memories.Should().Be(0, "line 2 was valid, but a bad file writes nothing");

        foreach (var (line, expected) in new[]
                 {
                     ("""{"kind":"memory"}""", "line 1: id: is required"),
                     ("""{"kind":"memo"}""", "line 1: kind: \"memo\" is not one of header, memory, vector, state, feedback, event"),
                     ("""{"kind":"header","format":"mcp-memory","version":9}""", "line 1: version: this mcp-memory reads export format version 1, not 9; upgrade mcp-memory"),
                     ("not json", "line 1: record: is not valid JSON*"),
                     ("""{"kind":"state","namespace":"shared","agent_id":"a","key":"k","value":1,"version":1,"updated_at":"2026-01-01T00:00:00Z","extra":1}""",
                         "line 1: extra: is not a field of this record kind"),
                 })
        {
            File.WriteAllText(file, line + "\n");
            target.Invoking(t => t.Service.ImportJsonl(file)).Should().Throw<MemoryFileException>().WithMessage(expected);
        }
    }

    [Fact]
    public async Task Cli_export_and_import_round_trip_through_files_and_stdout()
    {
        using var source = Source(out _);
        using var dir = new TempDirectory();
        var stdout = await ToolProcess.RunAsync(["export", "--db", source.DatabasePath]);
        stdout.ExitCode.Should().Be(0, stdout.Stderr);
        var toFile = await ToolProcess.RunAsync(["export", "--db", source.DatabasePath, "--out", dir.File("e.jsonl")]);
        toFile.ExitCode.Should().Be(0, toFile.Stderr);
        File.ReadAllText(dir.File("e.jsonl")).Should().Be(stdout.Stdout);

        var import = await ToolProcess.RunAsync(["import", dir.File("e.jsonl"), "--db", dir.File("copy.db")]);
        import.ExitCode.Should().Be(0, import.Stderr);
        import.Stdout.Should().Contain("added 3 memories, 2 state keys, 2 feedback");
        var twice = await ToolProcess.RunAsync(["import", dir.File("e.jsonl"), "--db", dir.File("copy.db")]);
        twice.Stdout.Should().Contain("added 0 memories, 0 state keys, 0 feedback, 0 events");

        var missing = await ToolProcess.RunAsync(["export", "--db", dir.File("nope.db")]);
        missing.ExitCode.Should().Be(1);
        missing.Stderr.Should().Contain("does not exist");
        File.Exists(dir.File("nope.db")).Should().BeFalse("export never creates a database");
    }

    [Fact]
    public async Task Markdown_export_is_one_readable_file_per_namespace_grouped_by_type_newest_first()
    {
        using var store = new TestStore();
        var day = new DateTimeOffset(2026, 10, 1, 9, 0, 0, TimeSpan.Zero);
        store.Store("older fact", "fact", createdAt: day);
        store.Store("newer fact", "fact", createdAt: day.AddDays(2), tags: ["x"]);
        store.Store("a decision", "decision", createdAt: day.AddDays(1));
        store.Store("shared knowledge", ns: "shared");
        store.Store("sneaky namespace", ns: "project:../../outside");
        using var dir = new TempDirectory();
        var folder = dir.File("md");

        var result = await ToolProcess.RunAsync(["export", "--db", store.DatabasePath, "--format", "markdown", "--out", folder]);
        result.ExitCode.Should().Be(0, result.Stderr);
        Directory.GetFileSystemEntries(dir.Path).Should().Equal(folder); // nothing escaped the folder
        Directory.GetFiles(folder).Select(Path.GetFileName).Should().BeEquivalentTo("project-test.md", "shared.md", "project-------outside.md");

        var text = File.ReadAllText(Path.Combine(folder, "project-test.md"));
        text.Should().StartWith("# project:test\n");
        text.IndexOf("## fact (2)", StringComparison.Ordinal).Should().BeLessThan(text.IndexOf("## decision (1)", StringComparison.Ordinal));
        text.IndexOf("newer fact", StringComparison.Ordinal).Should().BeLessThan(text.IndexOf("older fact", StringComparison.Ordinal));
        text.Should().Contain("### 2026-10-03 09:00 UTC · importance 0.5 · `x`");

        var toStdout = await ToolProcess.RunAsync(["export", "--db", store.DatabasePath, "-f", "markdown"]);
        toStdout.Stdout.Should().Contain("# shared\n").And.Contain("# project:test\n");
    }
}
