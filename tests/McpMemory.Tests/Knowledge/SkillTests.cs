using FluentAssertions;
using McpMemory.Core.Briefing;
using McpMemory.Core.Knowledge;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Support;
using McpMemory.Core.Storage;
using Xunit;

namespace McpMemory.Tests.Knowledge;

/// <summary>Skills against a real store (SQLite in a temp folder; keyword matching, no encoder).</summary>
public class SkillTests
{
    private static Guid StoreSkill(TestStore store, string content, string trigger, string[] steps, string? hint = null) =>
        store.Service.Store(store.Caller, new SkillFields(trigger, steps, hint).ApplyTo(new NewMemory { Content = content, MemoryType = "skill" })).MemoryId;

    /// <summary>SQLite only: it reads SQLite's query plan (PostgreSQL has no index hint; its planner picks by statistics).</summary>
    [Fact]
    public void Search_reads_the_live_skills_through_their_index_not_every_memory_of_the_namespace()
    {
        using var store = new TestStore();
        store.Service.StoreMany(store.Caller, Enumerable.Range(0, 300).Select(i => new NewMemory { Content = $"deploy note {i}: restart the worker pool after {i} minutes" }).ToList());
        StoreSkill(store, "Restart the worker pool", "the worker pool hangs after a deploy", ["systemctl restart workers"]);

        // search_memory asks for the skills of the caller's namespaces on every call: the plan must use the partial index.
        var plan = store.Service.Database.Read(session =>
        {
            var command = session.Command("EXPLAIN QUERY PLAN " + McpMemory.Core.Storage.SkillQueries.LiveSql(store.Service.Database.Engine, byNamespace: true));
            command.Parameters.AddWithValue("@now", 0L);
            command.Parameters.AddWithValue("@namespaces", "[\"project:test\"]");
            using var reader = command.ExecuteReader();
            var details = new List<string>();
            while (reader.Read()) details.Add(reader.GetString(3));
            return string.Join(" | ", details);
        });
        plan.Should().Contain("ix_memories_skills").And.NotContain("ix_memories_namespace_created");

        var hits = new SkillBook(store.Service).Search(store.Caller, new SearchRequest { Query = "the worker pool hangs after a deploy" });
        hits.Results[0].Memory.MemoryType.Should().Be("skill");
    }

    [Theory, BothBackends]
    public void A_skill_keeps_its_trigger_steps_and_success_hint_in_metadata_and_in_its_text(Backend backend)
    {
        using var store = new TestStore(backend);
        var id = StoreSkill(store, "Unblock a NuGet restore on the offline runner", "restore fails with NU1101 package not found offline",
            ["point nuget.config at the local feed", "dotnet restore --no-cache"], "restore prints 'All projects are up-to-date'");
        var memory = store.Service.Get(store.Caller, id);
        memory.MemoryType.Should().Be("skill");
        memory.Metadata!["trigger"]!.GetValue<string>().Should().Be("restore fails with NU1101 package not found offline");
        memory.Metadata["steps"]!.AsArray().Select(s => s!.GetValue<string>()).Should().Equal("point nuget.config at the local feed", "dotnet restore --no-cache");
        memory.Metadata["success_hint"]!.GetValue<string>().Should().Contain("up-to-date");
        memory.Content.Should().Be("Unblock a NuGet restore on the offline runner\n\nWhen: restore fails with NU1101 package not found offline\n" +
                                   "Steps:\n1. point nuget.config at the local feed\n2. dotnet restore --no-cache\nSuccess: restore prints 'All projects are up-to-date'");

        var notASkill = () => new SkillFields("when x", null, null).ApplyTo(new NewMemory { Content = "a fact", MemoryType = "fact" });
        notASkill.Should().Throw<MemoryValidationException>().WithMessage("trigger: *memory_type \"skill\"*");
        var tooMany = () => new SkillFields("t", Enumerable.Repeat("step", 51).ToArray(), null).ApplyTo(new NewMemory { Content = "c", MemoryType = "skill" });
        tooMany.Should().Throw<MemoryValidationException>().WithMessage("steps: has 51 steps; the limit is 50");
    }

    [Theory, BothBackends]
    public void Find_skills_matches_triggers_counts_outcomes_and_a_skill_that_keeps_failing_sinks_and_is_flagged(Backend backend)
    {
        using var store = new TestStore(backend);
        var flaky = StoreSkill(store, "Restart the database container", "integration tests time out connecting to postgres", ["docker compose restart db"]);
        var solid = StoreSkill(store, "Recreate the database volume", "integration tests time out connecting to postgres", ["docker compose down -v", "docker compose up -d db"]);
        var other = StoreSkill(store, "Regenerate the API client", "the OpenAPI spec changed", ["npm run gen:api"]);
        var book = new SkillBook(store.Service, store.Clock);

        var found = book.Find(store.Caller, "integration tests time out while connecting to postgres");
        found.Select(m => m.Skill.Memory.Id).Should().BeEquivalentTo([flaky, solid], "the third trigger shares nothing with the task");
        found.First().Match.Should().Be(1.0);

        foreach (var _ in Enumerable.Range(0, 3)) store.Service.Feedback(store.Caller, flaky, "failure", "still times out");
        store.Service.Feedback(store.Caller, solid, "success", null);
        store.Service.Feedback(store.Caller, solid, "worked", null);

        var after = book.Find(store.Caller, "integration tests time out while connecting to postgres");
        after[0].Skill.Memory.Id.Should().Be(solid);
        (after[0].Skill.Successes, after[0].Skill.Failures, after[0].Skill.Failing).Should().Be((2, 0, false));
        var sunk = after.Single(m => m.Skill.Memory.Id == flaky);
        (sunk.Skill.Successes, sunk.Skill.Failures, sunk.Skill.Failing).Should().Be((0, 3, true));
        sunk.Score.Should().BeLessThan(after[0].Score);
        book.Failing().Select(s => s.Memory.Id).Should().Equal(flaky);
    }

    [Theory, BothBackends]
    public void Search_puts_a_skill_whose_trigger_matches_first_and_leaves_filtered_searches_alone(Backend backend)
    {
        using var store = new TestStore(backend);
        for (var i = 0; i < 5; i++) store.Store($"The release build fails on the CI runner when the NuGet cache is cold, seen on build {i} of the release pipeline");
        var skill = StoreSkill(store, "Warm the cache first", "release build fails on CI", ["dotnet restore --locked-mode"]);
        var book = new SkillBook(store.Service, store.Clock);

        var results = book.Search(store.Caller, new SearchRequest { Query = "the release build fails on CI", TopK = 3 }).Results;
        results.Should().HaveCount(3);
        results[0].Memory.Id.Should().Be(skill);
        book.Search(store.Caller, new SearchRequest { Query = "the release build fails on CI", MemoryType = "fact" }).Results.Should().NotContain(h => h.Memory.Id == skill);
    }

    [Theory, BothBackends]
    public void The_briefing_offers_the_skills_that_work_and_leaves_out_the_failing_ones(Backend backend)
    {
        using var store = new TestStore(backend);
        var good = StoreSkill(store, "Rotate the staging TLS certificate", "staging certificate expired", ["certbot renew", "systemctl reload nginx"], "curl -v shows the new expiry");
        var bad = StoreSkill(store, "Reboot staging", "staging certificate expired", ["sudo reboot"]);
        store.Service.Feedback(store.Caller, bad, "failure", null);
        store.Service.Feedback(store.Caller, bad, "failure", null);
        store.Service.Feedback(store.Caller, good, "success", null);

        var builder = new BriefingBuilder(store.Service, store.Clock);
        foreach (var task in new string?[] { null, "the staging certificate expired again" })
        {
            var briefing = builder.Build(store.Caller, new BriefingRequest { Task = task });
            var section = briefing.Sections.Single(s => s.Name == Briefing.Skills);
            section.Items.Select(i => i.MemoryId).Should().Equal(good.ToString("D"));
            briefing.Markdown.Should().Contain("- skill: when staging certificate expired → 1. certbot renew; 2. systemctl reload nginx (worked when: curl -v shows the new expiry) (1 worked, 0 failed)");
            if (task is null) briefing.Markdown.Should().NotContain("sudo reboot", "a skill that keeps failing is not offered");
        }
    }
}
