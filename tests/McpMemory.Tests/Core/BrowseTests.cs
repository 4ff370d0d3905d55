using System.Text.Json;
using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Knowledge;
using McpMemory.Core.Memories;
using McpMemory.Core.Storage;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Core;

/// <summary>
/// What the dashboard reads and changes through the engine's front door: pages of memories with filters and sorts, the
/// overview's counts, an edit as a new version, a curator's supersede, the state keys; each within the caller's namespaces.
/// </summary>
public class BrowseTests
{
    [Theory, BothBackends]
    public void An_archived_memory_leaves_the_list_unless_archived_ones_are_asked_for(Backend backend)
    {
        using var dir = new TestDatabase(backend);
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddDays(-200).ToUnixTimeMilliseconds()));
        using var service = MemoryService.Open(dir.Db, MemoryOptions.Default with { Clock = clock });
        var caller = new Caller("project:x", "agent");
        var stale = service.Store(caller, new NewMemory { Content = "the old ftp mirror syncs nightly", Importance = 0.2 }).MemoryId;
        clock.Now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        service.Store(caller, new NewMemory { Content = "the new object store replaced the mirror", Importance = 0.2 });
        new Consolidator(service, clock).Run(caller, new ConsolidateRequest { Archive = ArchivePolicy.Default }).Archived.Select(a => a.MemoryId).Should().Equal(stale);

        service.Browse(caller, new BrowseRequest()).Items.Select(m => m.Id).Should().NotContain(stale, "the list hides archived memories, as search does");
        var all = service.Browse(caller, new BrowseRequest { IncludeArchived = true });
        all.Total.Should().Be(2);
        all.Items.Single(m => m.Id == stale).ArchivedAt.Should().NotBeNull();
    }

    [Theory, BothBackends]
    public void Browse_pages_filters_and_sorts_within_the_callers_namespaces(Backend backend)
    {
        using var t = new TestStore(backend);
        var start = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 7; i++)
            t.Store($"memory number {i}", type: i % 2 == 0 ? "fact" : "decision", tags: i < 3 ? ["deploy"] : ["ci"], importance: i / 10.0, createdAt: start.AddDays(i));
        t.Store("elsewhere", ns: "project:other");
        var restricted = new Caller("project:test", "agent-1", new HashSet<string> { "project:test" }, new HashSet<string>());

        var first = t.Service.Browse(restricted, new BrowseRequest { PageSize = 3 });
        first.Total.Should().Be(7, "project:other is not the caller's");
        first.Items.Select(m => m.Content).Should().Equal("memory number 6", "memory number 5", "memory number 4");
        t.Service.Browse(restricted, new BrowseRequest { PageSize = 3, Page = 3 }).Items.Select(m => m.Content).Should().Equal("memory number 0");
        t.Service.Browse(t.Caller, new BrowseRequest()).Total.Should().Be(8, "an unrestricted caller sees every namespace");

        t.Service.Browse(restricted, new BrowseRequest { MemoryType = "decision" }).Items.Should().OnlyContain(m => m.MemoryType == "decision").And.HaveCount(3);
        t.Service.Browse(restricted, new BrowseRequest { Tags = ["deploy"] }).Total.Should().Be(3);
        t.Service.Browse(restricted, new BrowseRequest { Since = start.AddDays(2), Until = start.AddDays(4) }).Total.Should().Be(2);
        t.Service.Browse(restricted, new BrowseRequest { MinImportance = 0.5 }).Total.Should().Be(2);
        t.Service.Browse(restricted, new BrowseRequest { Sort = BrowseSort.Importance }).Items[0].Content.Should().Be("memory number 6");

        var refused = () => t.Service.Browse(restricted, new BrowseRequest { Namespaces = ["project:other"] });
        refused.Should().Throw<MemoryValidationException>().WithMessage("namespaces: this caller may not read \"project:other\"");
        ((Action)(() => t.Service.Browse(t.Caller, new BrowseRequest { PageSize = 500 }))).Should().Throw<MemoryValidationException>().WithMessage("page_size:*");
    }

    [Theory, BothBackends]
    public void An_edit_is_a_new_version_that_supersedes_the_old_one(Backend backend)
    {
        using var t = new TestStore(backend);
        var old = t.Store("the api listens on port 8080", type: "fact", tags: ["api"], metadata: """{"reason": "config"}""");
        var edited = t.Service.Edit(t.Caller, old, "the api listens on port 9090 since the proxy change", null, ["api", "ports"], 0.9);

        edited.MemoryId.Should().NotBe(old);
        var now = t.Service.Get(t.Caller, edited.MemoryId);
        now.Tags.Should().Equal("api", "ports");
        now.Importance.Should().Be(0.9);
        now.Metadata!["reason"]!.GetValue<string>().Should().Be("config");
        t.Service.Get(t.Caller, old).SupersededBy.Should().Be(edited.MemoryId);
        t.Service.History(t.Caller, edited.MemoryId).Select(v => (v.Kind, v.Content)).Should().Contain(
            [("stored", "the api listens on port 8080"), ("stored", "the api listens on port 9090 since the proxy change"), ("superseded", "the api listens on port 8080")]);
        t.Service.Browse(t.Caller, new BrowseRequest()).Items.Select(m => m.Id).Should().Equal(edited.MemoryId);

        var readOnly = new Caller("project:test", "agent-1", new HashSet<string> { "project:test" }, new HashSet<string>());
        ((Action)(() => t.Service.Edit(readOnly, edited.MemoryId, "x", null, null, null))).Should().Throw<MemoryValidationException>().WithMessage("*read-only*");
    }

    [Theory, BothBackends]
    public void A_curator_supersedes_one_memory_with_another_and_search_hides_it(Backend backend)
    {
        using var t = new TestStore(backend);
        var older = t.Store("staging database is db-staging");
        var newer = t.Store("staging database is db-staging-2 since november");
        t.Service.Supersede(t.Caller, older, newer);

        t.Service.Get(t.Caller, older).SupersededBy.Should().Be(newer);
        t.Service.Search(t.Caller, new() { Query = "staging database" }).Results.Select(h => h.Memory.Id).Should().Equal(newer);
        ((Action)(() => t.Service.Supersede(t.Caller, newer, newer))).Should().Throw<MemoryValidationException>();
    }

    [Theory, BothBackends]
    public void Overview_counts_and_state_list_cover_only_readable_namespaces(Backend backend)
    {
        using var t = new TestStore(backend);
        t.Store("one", type: "fact", tags: ["a", "b"]);
        t.Store("two", type: "decision", tags: ["a"]);
        t.Store("three", ns: "project:other", tags: ["secret"]);
        t.Service.SetState(t.Caller, "task", JsonDocument.Parse("1").RootElement, null);
        t.Service.SetState(t.Caller, "hidden", JsonDocument.Parse("2").RootElement, null, "project:other");
        var restricted = new Caller("project:test", "agent-1", new HashSet<string> { "project:test" }, new HashSet<string> { "project:test" });

        var overview = t.Service.Overview(restricted);
        overview.Memories.Should().Be(2);
        overview.TopTags.Should().Equal(("a", 2L), ("b", 1L));
        overview.Namespaces.Should().Equal(("project:test", 2L));
        overview.PerWeek.Sum(w => w.Count).Should().Be(2);
        overview.NeverAccessed.Should().Be(2);
        t.Service.ListState(restricted).Select(s => s.Key).Should().Equal("task");
        t.Service.ListState(t.Caller).Should().HaveCount(2);

        var before = t.Service.ChangeMark(restricted);
        t.Store("four");
        t.Service.ChangeMark(restricted).Should().BeGreaterThan(before);
    }
}
