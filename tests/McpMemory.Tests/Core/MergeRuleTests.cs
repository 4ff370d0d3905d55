using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Embeddings;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Core;

/// <summary>
/// Issue 13: a store never replaces a memory that says something different. Distinct facts are both kept (the older
/// one comes back as similar), the same memory stored again updates it, supersedes hides the old one from default
/// search (every retrieval path), and memory_history rebuilds every version from the event log.
/// </summary>
[Collection(EncoderCollection.Name)]
public class MergeRuleTests(EncoderFixture fixture)
{
    private readonly Caller _caller = new("project:test", "agent-1");

    private MemoryService Open(TempDirectory dir, bool keywordIndex = true, string file = "m.db")
    {
        var service = MemoryService.Open(dir.File(file), MemoryOptions.Default with { EmbeddingInterval = TimeSpan.Zero, KeywordIndex = keywordIndex },
            EmbedderProvider.Ready(fixture.Encoder));
        service.WaitForVectors(TimeSpan.FromMinutes(1)).Should().BeTrue();
        if (keywordIndex) service.WaitForKeywordIndex(TimeSpan.FromMinutes(1)).Should().BeTrue();
        return service;
    }

    private MemoryService Open(TestDatabase db, bool keywordIndex = true)
    {
        var service = MemoryService.Open(db.Db, MemoryOptions.Default with { EmbeddingInterval = TimeSpan.Zero, KeywordIndex = keywordIndex },
            EmbedderProvider.Ready(fixture.Encoder));
        service.WaitForVectors(TimeSpan.FromMinutes(1)).Should().BeTrue();
        if (keywordIndex) service.WaitForKeywordIndex(TimeSpan.FromMinutes(1)).Should().BeTrue();
        return service;
    }

    private StoreResult Store(MemoryService service, string content, params Guid[] supersedes) =>
        service.Store(_caller, new NewMemory { Content = content, Supersedes = supersedes });

    [Theory]
    [InlineData(Backend.Sqlite, "Kubernetes namespace is billing-prod", "Kubernetes namespace is billing-staging", "Kubernetes namespace")]
    [InlineData(Backend.Sqlite, "The API server listens on port 8080", "The API server listens on port 9090", "API server port")]
    [InlineData(Backend.Postgres, "Kubernetes namespace is billing-prod", "Kubernetes namespace is billing-staging", "Kubernetes namespace")]
    [InlineData(Backend.Postgres, "The API server listens on port 8080", "The API server listens on port 9090", "API server port")]
    public void Two_different_facts_are_both_kept_and_the_first_comes_back_as_similar(Backend backend, string first, string second, string query)
    {
        using var dir = new TestDatabase(backend);
        using var service = Open(dir);
        var a = Store(service, first);
        var b = Store(service, second);

        a.Status.Should().Be(StoreResult.Stored);
        b.Status.Should().Be(StoreResult.Stored, "a different environment or port is a different memory");
        b.MemoryId.Should().NotBe(a.MemoryId);
        b.Similar.Should().ContainSingle().Which.Should().Match<SimilarMemory>(s => s.MemoryId == a.MemoryId && s.Content == first && s.Similarity >= b.SimilarThreshold);
        b.SimilarThreshold.Should().Be(DuplicateRule.SimilarFloor(fixture.Encoder.ModelId));
        foreach (var mode in new[] { "fts", "vector", "hybrid" })
            service.Search(_caller, new SearchRequest { Query = query, Mode = mode }).Results.Select(r => r.Memory.Content)
                .Should().Contain([first, second], $"mode {mode}");
    }

    [Theory, BothBackends]
    public void The_same_memory_stored_again_updates_it(Backend backend)
    {
        using var dir = new TestDatabase(backend);
        using var service = Open(dir);
        var a = Store(service, "Kubernetes namespace is billing-prod");
        var again = Store(service, "kubernetes namespace is  billing-prod.");
        var extended = Store(service, "kubernetes namespace is billing-prod, in the eu-west-1 cluster");

        again.Status.Should().Be(StoreResult.Updated);
        again.MemoryId.Should().Be(a.MemoryId);
        extended.Status.Should().Be(StoreResult.Updated, "the old text is contained in the new one");
        extended.MemoryId.Should().Be(a.MemoryId);
        service.Get(_caller, a.MemoryId).Content.Should().Be("kubernetes namespace is billing-prod, in the eu-west-1 cluster");
        service.Stats().Memories.Should().Be(1);
    }

    [Theory, BothBackends]
    public void A_batch_never_folds_two_different_facts_together(Backend backend)
    {
        using var dir = new TestDatabase(backend);
        using var service = Open(dir);
        var results = service.StoreMany(_caller, [
            new NewMemory { Content = "Deploy target is the billing-prod cluster" },
            new NewMemory { Content = "Deploy target is the billing-staging cluster" },
            new NewMemory { Content = "deploy target is the billing-prod cluster!" },
        ]);
        results.Select(r => r.Status).Should().Equal(StoreResult.Stored, StoreResult.Stored, StoreResult.Updated);
        results[2].MemoryId.Should().Be(results[0].MemoryId);
        results[1].Similar.Select(s => s.MemoryId).Should().Contain(results[0].MemoryId);
    }

    [Theory]
    [InlineData(Backend.Sqlite, true)]
    [InlineData(Backend.Sqlite, false)] // keyword search in FTS5 itself, and the LIKE fallback
    [InlineData(Backend.Postgres, true)]
    [InlineData(Backend.Postgres, false)] // keyword search in PostgreSQL's full-text search, and the LIKE fallback
    public void A_superseded_memory_is_kept_but_hidden_from_default_search_in_every_mode(Backend backend, bool keywordIndex)
    {
        using var dir = new TestDatabase(backend);
        using var service = Open(dir, keywordIndex);
        var old = Store(service, "The API server listens on port 8080");
        var replacement = Store(service, "The API server listens on port 9090", old.MemoryId);

        replacement.Status.Should().Be(StoreResult.Stored);
        replacement.Similar.Should().BeEmpty("the memory it supersedes is not reported as similar");
        foreach (var mode in new[] { "fts", "vector", "hybrid" })
        {
            var hidden = service.Search(_caller, new SearchRequest { Query = "API server port", Mode = mode });
            hidden.Results.Select(r => r.Memory.Id).Should().Equal([replacement.MemoryId], $"mode {mode}");
            var shown = service.Search(_caller, new SearchRequest { Query = "API server port", Mode = mode, IncludeSuperseded = true });
            shown.Results.Select(r => r.Memory.Id).Should().BeEquivalentTo([replacement.MemoryId, old.MemoryId], $"mode {mode}");
            shown.Results.Single(r => r.Memory.Id == old.MemoryId).Memory.SupersededBy.Should().Be(replacement.MemoryId);
        }
        var like = service.Search(_caller, new SearchRequest { Query = "8080", Mode = "fts" });
        like.Results.Should().BeEmpty("the only memory saying 8080 is superseded");
        service.Search(_caller, new SearchRequest { Query = "8080", Mode = "fts", IncludeSuperseded = true }).Results.Should().ContainSingle();
        service.Get(_caller, old.MemoryId).SupersededBy.Should().Be(replacement.MemoryId, "it is kept, linked to its successor");
    }

    [Theory, BothBackends]
    public void A_supersede_by_another_process_reaches_this_ones_indexes(Backend backend)
    {
        using var dir = new TestDatabase(backend);
        using var first = Open(dir);
        var old = Store(first, "Backups run every night at 02:00 UTC");
        first.Search(_caller, new SearchRequest { Query = "backups night", Mode = "hybrid" }).Results.Should().ContainSingle();
        using (var second = Open(dir))
            Store(second, "Backups run every night at 03:00 UTC", old.MemoryId);
        foreach (var mode in new[] { "fts", "vector", "hybrid" })
            first.Search(_caller, new SearchRequest { Query = "backups night", Mode = mode }).Results
                .Select(r => r.Memory.Content).Should().Equal(["Backups run every night at 03:00 UTC"], $"mode {mode}");
    }

    [Theory, BothBackends]
    public void Supersedes_names_the_bad_id_and_stores_nothing(Backend backend)
    {
        using var dir = new TestDatabase(backend);
        using var service = Open(dir);
        var missing = Guid.NewGuid();
        var act = () => Store(service, "The API server listens on port 9090", missing);
        act.Should().Throw<MemoryValidationException>().WithMessage($"supersedes[0]: no memory with id {missing}*");
        var elsewhere = service.Store(new Caller("project:other", "agent-2"), new NewMemory { Content = "The other project's port is 7000" }).MemoryId;
        var shared = service.Store(new Caller("shared", "agent-2"), new NewMemory { Content = "Every project's port is 7000" }).MemoryId;
        var keyed = new Caller("project:test", "agent-1", Readable: new HashSet<string> { "shared" }, Writable: new HashSet<string> { "project:test" });
        act = () => service.Store(keyed, new NewMemory { Content = "The API server listens on port 9090", Supersedes = [elsewhere] });
        act.Should().Throw<MemoryValidationException>().WithMessage("supersedes[0]: no memory with id*", "a memory in a namespace the caller cannot read is not found");
        act = () => service.Store(keyed, new NewMemory { Content = "The API server listens on port 9090", Supersedes = [shared] });
        act.Should().Throw<MemoryValidationException>().WithMessage("supersedes[0]: this caller may not change memories in \"shared\"*");
        act = () => service.Store(_caller, new NewMemory { Content = "x", Supersedes = [.. Enumerable.Range(0, 33).Select(_ => Guid.NewGuid())] });
        act.Should().Throw<MemoryValidationException>().WithMessage("supersedes: has 33 ids; the limit is 32");
        service.Stats().Memories.Should().Be(2, "nothing was stored by the refused calls");
        service.Get(_caller, shared).SupersededBy.Should().BeNull();
    }

    [Theory, BothBackends]
    public void History_lists_every_version_oldest_first_across_merges_supersedes_and_delete(Backend backend)
    {
        using var dir = new TestDatabase(backend);
        using var service = Open(dir);
        var v1 = Store(service, "Logs are written to /var/log/app/server.log");
        var v2 = Store(service, "Logs are written to /var/log/app/server.log and rotated daily");
        v2.MemoryId.Should().Be(v1.MemoryId);
        var successor = Store(service, "Logs go to journald, not to files", v1.MemoryId);
        service.Delete(_caller, successor.MemoryId);

        var history = service.History(_caller, successor.MemoryId);
        history.Select(v => (v.MemoryId, v.Kind, v.Content)).Should().Equal(
            (v1.MemoryId, "stored", "Logs are written to /var/log/app/server.log"),
            (v1.MemoryId, "merged", "Logs are written to /var/log/app/server.log and rotated daily"),
            (successor.MemoryId, "stored", "Logs go to journald, not to files"),
            (v1.MemoryId, "superseded", "Logs are written to /var/log/app/server.log and rotated daily"),
            (successor.MemoryId, "deleted", "Logs go to journald, not to files"));
        history.Should().BeInAscendingOrder(v => v.At);
        history[3].SupersededBy.Should().Be(successor.MemoryId);
        history[1].Similarity.Should().NotBeNull();
        service.History(_caller, v1.MemoryId).Select(v => v.Kind).Should().Equal("stored", "merged", "superseded");
        var unknown = () => service.History(_caller, Guid.NewGuid());
        unknown.Should().Throw<MemoryNotFoundException>().WithMessage("memory_id: no memory with id*");
        var stranger = () => service.History(new Caller("project:other", "x", new HashSet<string> { "project:other" }, new HashSet<string> { "project:other" }), v1.MemoryId);
        stranger.Should().Throw<MemoryNotFoundException>();
    }

    [Fact]
    public void Export_and_import_carry_the_superseded_link()
    {
        using var dir = new TempDirectory();
        Guid old, replacement;
        var export = dir.File("export.jsonl");
        using (var service = Open(dir))
        {
            old = Store(service, "The API server listens on port 8080").MemoryId;
            replacement = Store(service, "The API server listens on port 9090", old).MemoryId;
            using var writer = new StreamWriter(export);
            service.ExportJsonl(writer);
        }
        File.ReadAllText(export).Should().Contain($"\"superseded_by\":\"{replacement}\"");
        using var copy = Open(dir, file: "copy.db");
        copy.ImportJsonl(export);
        copy.Get(_caller, old).SupersededBy.Should().Be(replacement);
        copy.Search(_caller, new SearchRequest { Query = "API server port", Mode = "fts" }).Results.Select(r => r.Memory.Id).Should().Equal(replacement);
    }
}
