using System.Text.Json;
using FluentAssertions;
using McpMemory.Core.Briefing;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Core;

/// <summary>The briefing over a real store: its sections, its budget counted with cl100k_base, dedupe, namespaces.</summary>
public sealed class BriefingBuilderTests
{
    private static BriefingBuilder Builder(TestStore store) => new(store.Service, store.Clock);

    /// <summary>A store larger than any budget: state keys, preferences, corrections, decisions with reasons, facts, fixes.</summary>
    private static void Seed(TestStore store, int each = 60)
    {
        for (var i = 0; i < 8; i++)
            store.Service.SetState(store.Caller, $"task-{i}", JsonDocument.Parse($"{{\"step\": {i}, \"next\": \"finish part {i} of the migration\"}}").RootElement, null);
        for (var i = 0; i < each; i++)
        {
            store.Clock.Advance(TimeSpan.FromMinutes(1));
            store.Store($"The user wants style rule alpha{i} applied to every file under module{i}", "preference", importance: 0.5 + i % 5 / 10.0);
            store.Store($"Correction {i}: port{i} is not the staging port, staging listens on port{i + 1000}", "correction");
            store.Store($"Chose storage engine variant{i} for subsystem{i}", "decision", metadata: $"{{\"reason\": \"variant{i} keeps writes durable under crash{i}\"}}");
            store.Store($"Fact {i}: service{i} runs behind proxy{i} in compose file{i}", importance: i % 10 / 10.0);
            store.Store($"Fix {i}: timeout{i} in client{i} came from a missing keepalive{i}", "fix", importance: 0.9);
        }
    }

    [Theory]
    [InlineData(BriefingRequest.MinBudget)]
    [InlineData(500)]
    [InlineData(BriefingRequest.DefaultBudget)]
    [InlineData(4000)]
    public void The_briefing_stays_within_its_budget_counted_with_cl100k_and_says_what_was_left_out(int budget)
    {
        using var store = new TestStore();
        Seed(store);

        var briefing = Builder(store).Build(store.Caller, new BriefingRequest { BudgetTokens = budget });

        briefing.Tokenizer.Should().Be("cl100k_base");
        briefing.Tokens.Should().Be(TokenCounter.Count(briefing.Markdown)).And.BeLessThanOrEqualTo(budget);
        briefing.Tokens.Should().BeGreaterThan(budget * 6 / 10, "the store holds far more than the budget, so it is used");
        briefing.Markdown.Should().MatchRegex(@"and \d+ more decisions, search for them");
        var decisions = briefing.Sections.Single(s => s.Name == Briefing.Decisions);
        decisions.Omitted.Should().Be(60 - decisions.Items.Count - ShownElsewhere(briefing, "decision", Briefing.Decisions));
        decisions.OmittedNote.Should().Be($"and {decisions.Omitted} more decisions, search for them");
    }

    [Theory, BothBackends]
    public void Sections_hold_state_preferences_and_corrections_decisions_with_reasons_and_the_most_important_each_item_once_with_its_id(Backend backend)
    {
        using var store = new TestStore(backend);
        Seed(store, each: 3);

        var briefing = Builder(store).Build(store.Caller, new BriefingRequest());

        briefing.Sections.Select(s => s.Name).Should().Equal(Briefing.UnfinishedWork, Briefing.Preferences, Briefing.Decisions, Briefing.MostImportant);
        briefing.Sections[0].Items.Select(i => i.Key).Should().BeEquivalentTo(Enumerable.Range(0, 8).Select(i => $"task-{i}"));
        briefing.Sections[1].Items.Select(i => i.MemoryType).Distinct().Should().BeEquivalentTo("preference", "correction");
        var newest = briefing.Sections[2].Items[0];
        newest.Text.Should().Be("Chose storage engine variant2 for subsystem2", "recent decisions come newest first");
        newest.Reason.Should().Be("variant2 keeps writes durable under crash2");
        briefing.Markdown.Should().Contain($"Chose storage engine variant2 for subsystem2 (reason: variant2 keeps writes durable under crash2) (id {newest.MemoryId})");
        briefing.Sections[3].Items.Select(i => i.MemoryType).Should().OnlyContain(t => t == "fact" || t == "fix");
        briefing.Sections[3].Items[0].MemoryType.Should().Be("fix", "importance 0.9 leads");

        var ids = briefing.Sections.SelectMany(s => s.Items).Where(i => i.MemoryId is not null).Select(i => i.MemoryId!).ToList();
        ids.Should().OnlyHaveUniqueItems().And.HaveCount(15, "everything fits: 3 of each of five types");
        foreach (var id in ids) briefing.Markdown.Should().Contain($"(id {id})");
        briefing.Sections.Should().OnlyContain(s => s.Omitted == 0 && s.OmittedNote == null);

        // Stable: the same store gives the same briefing.
        Builder(store).Build(store.Caller, new BriefingRequest()).Markdown.Should().Be(briefing.Markdown);
    }

    [Theory, BothBackends]
    public void With_a_task_the_relevant_memories_come_from_search_and_a_decision_found_twice_is_shown_once(Backend backend)
    {
        using var store = new TestStore(backend);
        Seed(store, each: 3);
        var target = store.Store("Chose WAL journaling for the ledger database because readers must never block the writer", "decision");
        var fix = store.Store("The ledger database locked up because a reader held a transaction open; fixed by short read transactions", "fix");

        var briefing = Builder(store).Build(store.Caller, new BriefingRequest { Task = "ledger database locking" });

        briefing.SearchMode.Should().Be(SearchResponse.Fts, "this store has no encoder");
        var relevant = briefing.Sections.Single(s => s.Name == Briefing.Relevant);
        relevant.Items.Select(i => i.MemoryId).Should().Contain(fix.ToString("D"));
        var all = briefing.Sections.SelectMany(s => s.Items).Select(i => i.MemoryId).Where(id => id is not null).ToList();
        all.Should().OnlyHaveUniqueItems();
        all.Count(id => id == target.ToString("D")).Should().Be(1, "a decision that search also finds appears once");
        briefing.Markdown.Should().Contain("for the task \"ledger database locking\"");
    }

    [Theory, BothBackends]
    public void A_briefing_leaves_out_superseded_and_expired_memories_and_other_namespaces(Backend backend)
    {
        using var store = new TestStore(backend);
        var old = store.Store("Deploys go through the legacy jenkins pipeline", "decision");
        store.Service.Store(store.Caller, new NewMemory { Content = "Deploys go through GitHub Actions now", MemoryType = "decision", Supersedes = [old] });
        store.Store("Temporary freeze on the payments module", "decision", expiresAt: store.Clock.Now.AddMinutes(5));
        store.Store("The other project uses yarn workspaces", "preference", ns: "project:other");
        store.Store("Everyone prefers short commit subjects", "preference", ns: "shared");
        store.Clock.Advance(TimeSpan.FromMinutes(10));

        var briefing = Builder(store).Build(store.Caller, new BriefingRequest { Task = "deploys payments yarn" });

        briefing.Namespaces.Should().Equal("project:test", "shared");
        briefing.Markdown.Should().Contain("GitHub Actions").And.Contain("short commit subjects")
            .And.NotContain("jenkins").And.NotContain("freeze").And.NotContain("yarn workspaces");

        var other = Builder(store).Build(store.Caller, new BriefingRequest { Namespaces = ["project:other"] });
        other.Markdown.Should().Contain("yarn workspaces").And.NotContain("GitHub Actions");
    }

    [Theory, BothBackends]
    public void A_caller_limited_to_its_namespaces_cannot_brief_from_others(Backend backend)
    {
        using var store = new TestStore(backend);
        store.Store("Secret plan of the other team", "decision", ns: "project:other");
        var limited = new Caller("project:test", "agent-1", new HashSet<string> { "project:test" }, new HashSet<string> { "project:test" });

        Builder(store).Build(limited, new BriefingRequest()).Namespaces.Should().Equal(["project:test"], "shared is left out when it cannot be read");
        var refused = () => Builder(store).Build(limited, new BriefingRequest { Namespaces = ["project:other"] });
        refused.Should().Throw<MemoryValidationException>().WithMessage("namespaces: this caller may not read \"project:other\"");
    }

    [Theory]
    [InlineData(199)]
    [InlineData(20001)]
    [InlineData(0)]
    public void A_budget_out_of_range_is_refused_naming_the_field_and_the_limits(int budget)
    {
        using var store = new TestStore();
        var build = () => Builder(store).Build(store.Caller, new BriefingRequest { BudgetTokens = budget });
        build.Should().Throw<MemoryValidationException>().WithMessage($"budget_tokens: must be between 200 and 20000 (got {budget})");
    }

    [Theory, BothBackends]
    public void An_empty_store_gives_a_short_briefing_that_says_what_to_store(Backend backend)
    {
        using var store = new TestStore(backend);
        var briefing = Builder(store).Build(store.Caller, new BriefingRequest());
        briefing.Sections.Should().BeEmpty();
        briefing.Markdown.Should().Contain("Nothing stored here yet");
        briefing.Tokens.Should().BeLessThan(80);
    }

    [Theory, BothBackends]
    public void A_long_memory_is_clipped_and_marked(Backend backend)
    {
        using var store = new TestStore(backend);
        var id = store.Store(string.Join(' ', Enumerable.Range(0, 200).Select(i => $"word{i}")), "preference");
        var item = Builder(store).Build(store.Caller, new BriefingRequest()).Sections.Single().Items.Single();
        item.MemoryId.Should().Be(id.ToString("D"));
        item.Clipped.Should().BeTrue();
        item.Text.Should().EndWith("…");
        item.Text.Length.Should().BeLessThanOrEqualTo(320);
    }

    private static int ShownElsewhere(Briefing briefing, string type, string section) =>
        briefing.Sections.Where(s => s.Name != section).SelectMany(s => s.Items).Count(i => i.MemoryType == type);
}
