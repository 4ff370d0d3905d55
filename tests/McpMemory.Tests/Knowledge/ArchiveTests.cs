using System.Text.Json;
using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Briefing;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Knowledge;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Embeddings;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Knowledge;

/// <summary>
/// Archiving stale memories: in process against every read path (hybrid, keyword, vector, the SQL search, find_skills,
/// the briefing, merge candidates), and end to end through the built tool: the CLI and an MCP server over stdio, each
/// seeing the other's archive and unarchive through the event log; export and import keep the flag.
/// </summary>
[Collection(EncoderCollection.Name)]
public class ArchiveTests(EncoderFixture fixture)
{
    private static Dictionary<string, object?> Args(params (string Key, object? Value)[] pairs) => pairs.ToDictionary(p => p.Key, p => p.Value);

    private static readonly Caller Caller = new("project:x", "agent");

    /// <summary>Memories written 200 days ago by a clock the test holds: old enough for the default 90 days.</summary>
    private sealed record OldStore(Guid Stale, Guid StaleSkill, Guid Important, Guid Rated, Guid Recent);

    /// <summary>The store keeps times in unix milliseconds.</summary>
    private static DateTimeOffset WholeMilliseconds(DateTimeOffset t) => DateTimeOffset.FromUnixTimeMilliseconds(t.ToUnixTimeMilliseconds());

    private static OldStore Fill(MemoryService service, ManualClock clock)
    {
        var stale = service.Store(Caller, new NewMemory { Content = "The legacy ftp mirror syncs nightly from the old build box", Importance = 0.2 }).MemoryId;
        var skill = service.Store(Caller, new SkillFields("the ftp mirror sync is stuck", ["systemctl restart ftp-mirror"], null)
            .ApplyTo(new NewMemory { Content = "Restart the ftp mirror sync", MemoryType = "skill", Importance = 0.2 })).MemoryId;
        var important = service.Store(Caller, new NewMemory { Content = "The ftp mirror credentials rotate every month", Importance = 0.9 }).MemoryId;
        var rated = service.Store(Caller, new NewMemory { Content = "The ftp mirror serves the nightly archives to partners", Importance = 0.2 }).MemoryId;
        service.Feedback(Caller, rated, "useful", null);
        clock.Now = WholeMilliseconds(DateTimeOffset.UtcNow);
        var recent = service.Store(Caller, new NewMemory { Content = "The ftp mirror disk was resized to 2 TB", Importance = 0.2 }).MemoryId;
        return new OldStore(stale, skill, important, rated, recent);
    }

    [Theory, BothBackends]
    public void An_archived_memory_leaves_every_default_read_is_no_merge_target_and_unarchive_brings_it_back(Backend backend)
    {
        using var db = new TestDatabase(backend);
        var clock = new ManualClock(WholeMilliseconds(DateTimeOffset.UtcNow.AddDays(-200)));
        using var service = MemoryService.Open(db.Db, MemoryOptions.Default with { Clock = clock, WriteBehind = false }, EmbedderProvider.Ready(fixture.Encoder));
        service.WaitForVectors(TimeSpan.FromMinutes(1)).Should().BeTrue();
        var m = Fill(service, clock);

        var dry = new Consolidator(service, clock).Run(Caller, new ConsolidateRequest { DryRun = true });
        dry.Archived.Select(a => a.MemoryId).Should().BeEquivalentTo([m.Stale, m.StaleSkill], "low importance, never accessed, 200 days old; not the important, rated or recent ones");
        service.Get(Caller, m.Stale).ArchivedAt.Should().BeNull("a dry run writes nothing");
        var report = new Consolidator(service, clock).Run(Caller, new ConsolidateRequest());
        report.Archived.Select(a => a.MemoryId).Should().BeEquivalentTo([m.Stale, m.StaleSkill]);
        service.Get(Caller, m.Stale).ArchivedAt.Should().Be(clock.Now, "get by id still returns it, saying since when it is archived");
        service.Get(Caller, m.Stale).Content.Should().Be("The legacy ftp mirror syncs nightly from the old build box");

        const string query = "legacy ftp mirror nightly sync build box";
        foreach (var mode in new[] { "hybrid", "fts", "vector" })
        {
            Ids(service, query, mode).Should().NotContain(m.Stale, mode).And.Contain(m.Important, mode);
            Ids(service, query, mode, includeArchived: true).Should().Contain(m.Stale, mode);
        }
        using (var sqlOnly = MemoryService.Open(db.Db, MemoryOptions.OneShot with { Clock = clock }))
        {
            // No in-memory keyword index: the SQL keyword search (FTS5 or tsvector), with the filter in the WHERE clause.
            Ids(sqlOnly, query, "fts").Should().NotContain(m.Stale).And.Contain(m.Important);
            Ids(sqlOnly, query, "fts", includeArchived: true).Should().Contain(m.Stale);
        }
        new SkillBook(service).Find(Caller, "the ftp mirror sync is stuck").Should().BeEmpty("an archived skill is not offered");
        BriefingIds(service, "ftp mirror nightly sync").Should().NotContain(m.Stale.ToString()).And.NotContain(m.StaleSkill.ToString());

        // Not a merge target: the same text stored again is a new live memory; the archived one stays as it was.
        var again = service.Store(Caller, new NewMemory { Content = "The legacy ftp mirror syncs nightly from the old build box", Importance = 0.2 });
        (again.Status, again.MemoryId == m.Stale).Should().Be((StoreResult.Stored, false));
        service.Get(Caller, m.Stale).ArchivedAt.Should().NotBeNull();
        service.Delete(Caller, again.MemoryId);

        var back = service.Unarchive(Caller, m.Stale);
        (back.WasArchived, back.ArchivedAt).Should().Be((true, clock.Now));
        service.Unarchive(Caller, m.StaleSkill).WasArchived.Should().BeTrue();
        service.Unarchive(Caller, m.Stale).WasArchived.Should().BeFalse("unarchiving twice changes nothing");
        Ids(service, query, "hybrid").Should().Contain(m.Stale);
        new SkillBook(service).Find(Caller, "the ftp mirror sync is stuck").Select(s => s.Skill.Memory.Id).Should().Contain(m.StaleSkill);
        BriefingIds(service, "ftp mirror nightly sync").Should().Contain(m.Stale.ToString());
        service.History(Caller, m.Stale).Select(v => v.Kind).Should().Equal("stored", "archived", "unarchived");

        new Consolidator(service, clock).Run(Caller, new ConsolidateRequest()).Archived.Should().BeEmpty("a memory brought back gets the whole age again");
        clock.Advance(TimeSpan.FromDays(91));
        new Consolidator(service, clock).Run(Caller, new ConsolidateRequest { Archive = ArchivePolicy.Off }).Archived.Should().BeEmpty("0 days: archiving off");
        new Consolidator(service, clock).Run(Caller, new ConsolidateRequest()).Archived.Select(a => a.MemoryId).Should().Contain(m.Stale, "still unused 91 days after");
    }

    private static List<Guid> Ids(MemoryService service, string query, string mode, bool includeArchived = false) =>
        service.Search(Caller, new SearchRequest { Query = query, Mode = mode, TopK = 20, IncludeArchived = includeArchived, TimeAware = false }, trackAccess: false)
            .Results.Select(h => h.Memory.Id).ToList();

    private static List<string?> BriefingIds(MemoryService service, string task) =>
        new BriefingBuilder(service).Build(Caller, new BriefingRequest { Task = task, BudgetTokens = 4000 }).Sections.SelectMany(s => s.Items).Select(i => i.MemoryId).ToList();

    [Theory, BothBackends]
    public async Task Archive_and_unarchive_over_the_CLI_and_MCP_reach_the_other_process_and_export_import_keeps_them(Backend backend)
    {
        using var dir = new TempDirectory();
        using var database = new TestDatabase(backend);
        var db = database.Db;
        var clock = new ManualClock(WholeMilliseconds(DateTimeOffset.UtcNow.AddDays(-200)));
        OldStore m;
        using (var service = MemoryService.Open(db, MemoryOptions.Default with { Clock = clock }))
            m = Fill(service, clock);
        var env = new Dictionary<string, string> { ["MCP_MEMORY_ENCODER"] = "off" };
        string[] On(params string[] args) => [.. args, "--db", db, "--namespace", "project:x"];

        await using var client = await StdioMcpClient.StartAsync(db, "project:x", env: env);
        async Task<List<string>> McpIds(string query = "legacy ftp mirror") =>
            (await StdioMcpClient.CallAsync(client, "search_memory", Args(("query", query), ("top_k", 20))))
            .GetProperty("results").EnumerateArray().Select(r => r.GetProperty("memory_id").GetString()!).ToList();
        async Task<List<string>> CliIds(params string[] extra)
        {
            var run = await ToolProcess.RunAsync(On(["search", "legacy ftp mirror", "--json", "-k", "20", .. extra]), env);
            run.ExitCode.Should().Be(0, run.Stderr);
            return JsonDocument.Parse(run.Stdout).RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("memory_id").GetString()!).ToList();
        }
        // The server builds its index now. (A search that returned the stale memory would count as an access: in use, never archived.)
        (await McpIds("credentials rotate")).Should().Equal(m.Important.ToString());

        var dry = await ToolProcess.RunAsync(On("consolidate", "--dry-run", "--json"), env);
        dry.ExitCode.Should().Be(0, dry.Stderr);
        var dryReport = JsonDocument.Parse(dry.Stdout).RootElement;
        dryReport.GetProperty("archived").EnumerateArray().Select(a => a.GetProperty("memory_id").GetString()).Should().BeEquivalentTo([m.Stale.ToString(), m.StaleSkill.ToString()]);
        (dryReport.GetProperty("archive_rule").GetProperty("after_days").GetInt32(), dryReport.GetProperty("archive_rule").GetProperty("below_importance").GetDouble()).Should().Be((90, 0.5));

        var text = await ToolProcess.RunAsync(On("consolidate"), env);
        text.ExitCode.Should().Be(0, text.Stderr);
        text.Stdout.Should().Contain($"archived {m.Stale} (fact, importance 0.2,").And.Contain("archived 2 stale memories (importance below 0.5, never accessed, older than 90 days)");

        // The server (another process) follows the archive through the event log.
        (await McpIds()).Should().NotContain(m.Stale.ToString()).And.Contain(m.Important.ToString());
        var shown = (await StdioMcpClient.CallAsync(client, "search_memory", Args(("query", "legacy ftp mirror"), ("include_archived", true))))
            .GetProperty("results").EnumerateArray().Single(r => r.GetProperty("memory_id").GetString() == m.Stale.ToString());
        shown.GetProperty("archived_at").GetString().Should().NotBeNull();
        var briefing = await StdioMcpClient.CallAsync(client, "get_briefing", Args(("task", "legacy ftp mirror sync"), ("budget_tokens", 4000)));
        briefing.GetProperty("markdown").GetString().Should().NotContain(m.Stale.ToString()).And.Contain(m.Important.ToString());
        (await StdioMcpClient.CallAsync(client, "find_skills", Args(("task", "the ftp mirror sync is stuck")))).GetProperty("skills").GetArrayLength().Should().Be(0);
        (await McpIds("restart the ftp mirror sync")).Should().NotContain(m.StaleSkill.ToString());
        var resource = await client.ReadResourceAsync($"memory://memories/{m.Stale}");
        JsonDocument.Parse(((ModelContextProtocol.Protocol.TextResourceContents)resource.Contents[0]).Text).RootElement.GetProperty("archived_at").GetString().Should().NotBeNull();
        (await CliIds()).Should().NotContain(m.Stale.ToString());
        (await CliIds("--include-archived")).Should().Contain(m.Stale.ToString());
        var get = await ToolProcess.RunAsync(On("get", m.Stale.ToString()), env);
        get.Stdout.Should().Contain("archived ").And.Contain($"mcp-memory unarchive {m.Stale}");

        // Export and import keep the flag exactly.
        var file = dir.File("export.jsonl");
        (await ToolProcess.RunAsync(On("export", "--out", file), env)).ExitCode.Should().Be(0);
        File.ReadLines(file).Single(l => l.Contains(m.Stale.ToString()) && l.Contains("\"kind\":\"memory\"")).Should().Contain("\"archived_at\":");
        var copy = dir.File("copy.db");
        var import = await ToolProcess.RunAsync(["import", file, "--db", copy], env);
        import.ExitCode.Should().Be(0, import.Stderr);
        string ArchivedAt(string path, Guid id) =>
            JsonDocument.Parse(ToolProcess.RunAsync(["get", id.ToString(), "--json", "--db", path], env).GetAwaiter().GetResult().Stdout).RootElement.GetProperty("archived_at").ToString();
        ArchivedAt(copy, m.Stale).Should().Be(ArchivedAt(db, m.Stale)).And.NotBeEmpty();
        ArchivedAt(copy, m.Important).Should().BeEmpty("a live memory stays live");
        var copied = await ToolProcess.RunAsync(["search", "legacy ftp mirror", "--json", "--db", copy, "--namespace", "project:x"], env);
        copied.Stdout.Should().NotContain(m.Stale.ToString()).And.Contain(m.Important.ToString());

        // unarchive over MCP: the CLI sees it back; unarchive over the CLI: the server sees it back.
        var back = await StdioMcpClient.CallAsync(client, "unarchive_memory", Args(("memory_id", m.Stale.ToString())));
        (back.GetProperty("unarchived").GetBoolean(), back.GetProperty("archived_at").GetString() is not null).Should().Be((true, true));
        (await CliIds()).Should().Contain(m.Stale.ToString());
        var cli = await ToolProcess.RunAsync(On("unarchive", m.StaleSkill.ToString()), env);
        cli.Stdout.Should().StartWith($"unarchived {m.StaleSkill} in project:x");
        (await McpIds("restart the ftp mirror sync")).Should().Contain(m.StaleSkill.ToString(), "the server's index follows the CLI's unarchive");
        (await StdioMcpClient.CallAsync(client, "find_skills", Args(("task", "the ftp mirror sync is stuck")))).GetProperty("skills")[0]
            .GetProperty("memory_id").GetString().Should().Be(m.StaleSkill.ToString());
        (await ToolProcess.RunAsync(On("unarchive", m.StaleSkill.ToString()), env)).Stdout.Should().Contain("is not archived: nothing changed");
        var history = await StdioMcpClient.CallAsync(client, "memory_history", Args(("memory_id", m.Stale.ToString())));
        history.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("kind").GetString()).Should().Equal("stored", "archived", "unarchived");

        // Archiving over MCP, with the rule given per call.
        var off = await StdioMcpClient.CallAsync(client, "consolidate_memories", Args(("archive_after_days", 0)));
        (off.GetProperty("archive_rule").GetProperty("after_days").GetInt32(), off.GetProperty("archived").GetArrayLength()).Should().Be((0, 0));
        var refused = await client.CallToolAsync("consolidate_memories", Args(("archive_after_days", -1)));
        refused.IsError.Should().BeTrue();
    }
}
