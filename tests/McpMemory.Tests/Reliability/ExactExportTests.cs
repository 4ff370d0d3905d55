using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Core.Memories;
using McpMemory.Tests.Support;
using Xunit;
using static McpMemory.Tests.Reliability.ReliabilityChecks;

namespace McpMemory.Tests.Reliability;

/// <summary>
/// export → import → export gives the same bytes: the whole event log (deleted memories' history included) and the
/// vectors with their model id travel, so a vector search works in the imported database at once.
/// </summary>
public class ExactExportTests
{
    [Fact]
    public async Task Export_import_export_is_byte_identical_and_vector_search_works_after_the_import()
    {
        using var dir = new TempDirectory();
        var source = dir.File("source.db");
        var texts = new[]
        {
            "website deployment uses cloudflare tunnel through docker compose with nginx reverse proxy",
            "the integration tests need a running postgres container started with make db-up",
            "Maria prefers small pull requests with one topic each",
            "flaky login test fixed by waiting for the session cookie before navigating",
            "release notes are generated from conventional commit messages",
        };
        var ids = new List<string>();
        foreach (var text in texts) ids.Add(Id(await RunCli("store", text, "--db", source, "--namespace", "project:exact", "--json")));

        await using (var server = await RawMcpServer.StartAsync(source, "project:exact"))
        {
            ToolResult(await server.CallToolAsync("feedback", Args(("memory_id", ids[0]), ("signal", "useful"), ("note", "saved a deploy"))));
            ToolResult(await server.CallToolAsync("delete_memory", Args(("memory_id", ids[4]))));
            ToolResult(await server.CallToolAsync("set_agent_state", Args(("key", "current_task"), ("value", new JsonObject { ["issue"] = 13 }))));
        }

        var first = dir.File("first.jsonl");
        await RunCli("export", "--db", source, "--out", first);
        var lines = File.ReadAllLines(first);
        var vectors = lines.Select(l => JsonNode.Parse(l)!.AsObject()).Where(r => r["kind"]!.GetValue<string>() == "vector").ToList();
        vectors.Should().HaveCount(4, "every live memory has a vector, and it is exported");
        vectors.Should().OnlyContain(v => v["model"]!.GetValue<string>().Length > 0 && v["dimension"]!.GetValue<int>() > 0);
        lines.Should().Contain(l => l.Contains("\"event\":\"delete\"") && l.Contains(ids[4]), "the deleted memory's history is exported");

        var target = dir.File("target.db");
        var imported = await RunCli("import", first, "--db", target);
        imported.Stdout.Should().Contain("added 4 memories, 1 state keys, 1 feedback").And.Contain("4 vectors").And.Contain("skipped 0 already present");

        var second = dir.File("second.jsonl");
        await RunCli("export", "--db", target, "--out", second);
        File.ReadAllBytes(second).Should().Equal(File.ReadAllBytes(first), "export → import → export gives identical files");
        Consistent(target);

        var again = await RunCli("import", first, "--db", target);
        again.Stdout.Should().Contain("added 0 memories, 0 state keys, 0 feedback, 0 events, 0 vectors");
        await RunCli("export", "--db", target, "--out", dir.File("third.jsonl"));
        File.ReadAllBytes(dir.File("third.jsonl")).Should().Equal(File.ReadAllBytes(first), "a second import adds nothing");

        var search = await RunCli("search", "what's the deal with the nginx config on the portfolio site?", "--mode", "vector",
            "--db", target, "--namespace", "project:exact", "--json");
        var answer = JsonDocument.Parse(search.Stdout).RootElement;
        answer.GetProperty("mode").GetString().Should().Be("vector");
        answer.GetProperty("results").EnumerateArray().First().GetProperty("memory_id").GetString().Should().Be(ids[0],
            "the imported vectors answer a vector search at once");
    }

    [Fact]
    public async Task An_export_without_vector_records_still_imports_and_says_the_vectors_will_be_rebuilt()
    {
        using var store = new TestStore();
        store.Store("an older export carried no vectors");
        store.Store("and only the history of what it imported");
        using var dir = new TempDirectory();
        var file = dir.File("old.jsonl");
        var writer = new StringWriter();
        store.Service.ExportJsonl(writer);
        File.WriteAllText(file, writer.ToString());
        File.ReadAllText(file).Should().NotContain("\"kind\":\"vector\"", "no encoder: nothing to export");

        var imported = await RunCli("import", file, "--db", dir.File("new.db"));
        imported.Stdout.Should().Contain("added 2 memories");
        imported.Stderr.Should().Contain("2 imported memories have no vector").And.Contain("reindex");
    }

    [Theory, BothBackends]
    public void Imported_history_never_hides_a_live_memory_from_a_running_index(Backend backend)
    {
        using var target = new TestStore(backend);
        var live = new[] { "alpha lives here", "bravo lives here", "charlie lives here" }.Select(t => target.Store(t)).ToList();
        target.Service.WaitForKeywordIndex(TimeSpan.FromSeconds(30)).Should().BeTrue();
        Found(target, "bravo").Should().Contain(live[1]);

        using var source = new TestStore();
        source.Store("one from elsewhere");
        source.Service.Delete(source.Caller, source.Store("deleted elsewhere at the seq bravo has here"));
        source.Store("three from elsewhere");
        using var dir = new TempDirectory();
        var file = dir.File("e.jsonl");
        var writer = new StringWriter();
        source.Service.ExportJsonl(writer);
        File.WriteAllText(file, writer.ToString());

        var result = target.Service.ImportJsonl(file);
        result.EventsAdded.Should().Be(4, "three stores and the delete, whose seq is bravo's seq in this database");

        Found(target, "bravo").Should().Contain(live[1], "a delete event from another database must not remove a live memory from the index");
        Found(target, "three elsewhere").Should().NotBeEmpty("the imported memories are indexed");
    }

    private static List<Guid> Found(TestStore store, string query) =>
        store.Service.Search(store.Caller, new McpMemory.Core.Search.SearchRequest { Query = query, Mode = "fts", Namespaces = ["project:test"] })
            .Results.Select(r => r.Memory.Id).ToList();
}
