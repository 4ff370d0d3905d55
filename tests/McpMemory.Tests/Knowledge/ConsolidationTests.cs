using System.Text.Json;
using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Knowledge;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Core;
using McpMemory.Tests.Embeddings;
using McpMemory.Tests.Support;
using ModelContextProtocol.Protocol;
using Xunit;

namespace McpMemory.Tests.Knowledge;

/// <summary>
/// Consolidation against a real store whose duplicates got in (stored with merging off, as by an older version or an
/// import), with the USE-lite encoder (calibrated floors) in process, and through the built tool (CLI, MCP over stdio).
/// </summary>
[Collection(EncoderCollection.Name)]
public class ConsolidationTests(EncoderFixture fixture)
{
    private static Dictionary<string, object?> Args(params (string Key, object? Value)[] pairs) => pairs.ToDictionary(p => p.Key, p => p.Value);

    private MemoryService Open(string path, bool merge = false) =>
        MemoryService.Open(path, MemoryOptions.Default with { MergeDuplicates = merge }, EmbedderProvider.Ready(fixture.Encoder));

    [Theory, BothBackends]
    public void Every_restatement_of_the_calibration_pairs_is_merged_and_no_distinct_fact_is(Backend backend)
    {
        using var database = new TestDatabase(backend);
        using var service = Open(database.Db);
        service.WaitForVectors(TimeSpan.FromMinutes(1)).Should().BeTrue();
        var caller = new Caller("project:x", "agent");
        var pairs = DuplicateRuleMeasurement.Load();
        // One namespace per pair: texts of different pairs are not part of the calibration.
        void Store(string kind, int i, string[] pair) => service.StoreMany(caller,
            pair.Select(text => new NewMemory { Content = text, Namespace = $"project:{kind}-{i}" }).ToList());
        for (var i = 0; i < pairs.Distinct.Length; i++) Store("distinct", i, pairs.Distinct[i]);
        for (var i = 0; i < pairs.Same.Length; i++) Store("same", i, pairs.Same[i]);

        var report = new Consolidator(service).Run(caller, new ConsolidateRequest { AllNamespaces = true });
        report.Scanned.Should().Be(2 * (pairs.Distinct.Length + pairs.Same.Length));
        report.Groups.Where(g => g.Namespace.StartsWith("project:distinct-")).Should().BeEmpty("distinct facts are never merged");
        report.Groups.Select(g => g.Namespace).Where(n => n.StartsWith("project:same-")).Should().HaveCount(pairs.Same.Length, "every restatement is merged");
        report.Merged.Should().Be(pairs.Same.Length);

        new Consolidator(service).Run(caller, new ConsolidateRequest { AllNamespaces = true }).Merged.Should().Be(0, "a second run finds nothing left");
    }

    [Theory, BothBackends]
    public void The_canonical_memory_keeps_merged_tags_the_highest_importance_and_summed_access_and_the_rest_is_superseded_with_history(Backend backend)
    {
        using var database = new TestDatabase(backend);
        using var service = Open(database.Db);
        service.WaitForVectors(TimeSpan.FromMinutes(1)).Should().BeTrue();
        var caller = new Caller("project:x", "agent");
        Guid Store(string text, string[] tags, double importance) =>
            service.Store(caller, new NewMemory { Content = text, Tags = tags, Importance = importance }).MemoryId;
        var full = Store("The staging deploy runs from the release branch through the cloudflare tunnel", ["deploy"], 0.4);
        var part = Store("the staging deploy runs from the release branch", ["staging"], 0.9);
        var same = Store("The staging deploy runs from the release branch through the Cloudflare tunnel.", ["tunnel"], 0.5);
        var other = Store("The production deploy runs from the main branch through the cloudflare tunnel", ["deploy"], 0.5);
        foreach (var _ in Enumerable.Range(0, 3)) service.Search(caller, new SearchRequest { Query = "staging release branch", TopK = 3 });
        service.Dispose(); // flushes the access counts
        using var reopened = Open(database.Db);
        reopened.WaitForVectors(TimeSpan.FromMinutes(1)).Should().BeTrue();
        var before = new[] { full, part, same }.Sum(id => reopened.Get(caller, id).AccessCount);
        before.Should().BeGreaterThan(0);

        var dry = new Consolidator(reopened).Run(caller, new ConsolidateRequest { DryRun = true });
        dry.Merged.Should().Be(2);
        reopened.Get(caller, part).SupersededBy.Should().BeNull("a dry run writes nothing");

        var report = new Consolidator(reopened).Run(caller, new ConsolidateRequest());
        var group = report.Groups.Should().ContainSingle().Subject;
        new[] { full, same }.Should().Contain(group.CanonicalId, "the fullest text is kept");
        var canonical = reopened.Get(caller, group.CanonicalId);
        canonical.Tags.Should().BeEquivalentTo(["deploy", "staging", "tunnel"]);
        canonical.Importance.Should().Be(0.9);
        canonical.AccessCount.Should().Be(before);
        group.Members.Select(m => m.Reason).Should().Contain("contained");
        foreach (var member in group.Members) reopened.Get(caller, member.MemoryId).SupersededBy.Should().Be(group.CanonicalId);
        reopened.Get(caller, other).SupersededBy.Should().BeNull("the production deploy is a different fact");

        var history = reopened.History(caller, group.CanonicalId);
        history.Should().Contain(v => v.Kind == "superseded" && v.MemoryId == part && v.Content == "the staging deploy runs from the release branch");
        var results = reopened.Search(caller, new SearchRequest { Query = "staging deploy release branch" }).Results.Select(h => h.Memory.Id).ToList();
        results.Should().Contain(group.CanonicalId).And.NotContain(part);
    }

    [Theory, BothBackends]
    public async Task The_cli_and_consolidate_memories_over_mcp_merge_what_got_in_twice(Backend backend)
    {
        using var database = new TestDatabase(backend);
        var db = database.Db;
        Guid first, second;
        using (var service = Open(db))
        {
            var caller = new Caller("project:e2e", "agent");
            first = service.Store(caller, new NewMemory { Content = "Run the migrations with make migrate before the tests" }).MemoryId;
            second = service.Store(caller, new NewMemory { Content = "run the migrations with `make migrate` before the tests!" }).MemoryId;
            service.Store(caller, new NewMemory { Content = "Run the seed script with make seed before the demo" });
            service.Store(caller, new NewMemory { Content = "Chose Postgres for the job queue", Namespace = "project:other" });
            service.Store(caller, new NewMemory { Content = "chose postgres for the job queue", Namespace = "project:other" });
        }
        var env = new Dictionary<string, string> { ["MCP_MEMORY_MODEL"] = "use-lite" };
        var dry = await ToolProcess.RunAsync(["consolidate", "--dry-run", "--json", "--db", db, "--namespace", "project:e2e"], env);
        dry.ExitCode.Should().Be(0, dry.Stderr);
        var dryReport = JsonDocument.Parse(dry.Stdout).RootElement;
        (dryReport.GetProperty("dry_run").GetBoolean(), dryReport.GetProperty("merged").GetInt32(), dryReport.GetProperty("scanned").GetInt32()).Should().Be((true, 1, 3));
        var text = await ToolProcess.RunAsync(["consolidate", "--db", db, "--namespace", "project:e2e"], env);
        text.ExitCode.Should().Be(0, text.Stderr);
        text.Stdout.Should().Contain("merged 1 of 3 memories into 1 group(s) in project:e2e").And.Contain("(identical, ");
        var merged = await ToolProcess.RunAsync(["get", second.ToString(), "--json", "--db", db], env);
        JsonDocument.Parse(merged.Stdout).RootElement.GetProperty("superseded_by").GetString().Should().Be(first.ToString(), "equal texts: the older one is kept");

        await using var client = await StdioMcpClient.StartAsync(db, "project:e2e");
        var tool = (await client.ListToolsAsync()).Single(t => t.Name == "consolidate_memories");
        tool.JsonSchema.GetProperty("properties").EnumerateObject().Should().OnlyContain(p => !string.IsNullOrWhiteSpace(p.Value.GetProperty("description").GetString()));
        var again = await StdioMcpClient.CallAsync(client, "consolidate_memories", Args());
        again.GetProperty("merged").GetInt32().Should().Be(0, "the CLI merged them already");
        var other = await StdioMcpClient.CallAsync(client, "consolidate_memories", Args(("namespace", "project:other")));
        other.GetProperty("merged").GetInt32().Should().Be(1);
        other.GetProperty("groups")[0].GetProperty("members")[0].GetProperty("reason").GetString().Should().Be("identical");
        var refused = await client.CallToolAsync("consolidate_memories", Args(("namespace", "nope")));
        refused.IsError.Should().BeTrue();
        refused.Content.OfType<TextContentBlock>().Single().Text.Should().StartWith("namespace:");
    }

    [Fact]
    public async Task A_server_with_a_consolidation_schedule_merges_duplicates_on_its_own()
    {
        using var dir = new TempDirectory();
        var db = dir.File("m.db");
        Guid kept, twice;
        using (var service = Open(db))
        {
            var caller = new Caller("project:e2e", "agent");
            kept = service.Store(caller, new NewMemory { Content = "The nightly backup runs at 02:00 UTC from the ops host" }).MemoryId;
            twice = service.Store(caller, new NewMemory { Content = "the nightly backup runs at 02:00 UTC from the ops host." }).MemoryId;
        }
        await using var client = await StdioMcpClient.StartAsync(db, "project:e2e",
            env: new Dictionary<string, string> { ["MCP_MEMORY_CONSOLIDATE_SECONDS"] = "1", ["MCP_MEMORY_MODEL"] = "use-lite" });
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string? successor = null;
        while (successor is null && DateTime.UtcNow < deadline)
        {
            var history = await StdioMcpClient.CallAsync(client, "memory_history", Args(("memory_id", twice.ToString())));
            successor = history.GetProperty("versions").EnumerateArray().Where(v => v.GetProperty("kind").GetString() == "superseded")
                .Select(v => v.GetProperty("superseded_by").GetString()).FirstOrDefault();
            if (successor is null) await Task.Delay(250);
        }
        successor.Should().Be(kept.ToString(), "the schedule (every second) merged the duplicate into the older memory");
    }
}
