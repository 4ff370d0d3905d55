using FluentAssertions;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Core;

public class StoreAndSearchTests
{
    [Theory, BothBackends]
    public void Stored_memory_is_found_read_back_and_deleted_with_its_index_entry(Backend backend)
    {
        using var t = new TestStore(backend);
        var id = t.Store("Deploys go through the blue-green pipeline in GitHub Actions", type: "decision",
            tags: ["CI", "deploy"], importance: 0.9, session: "s1", metadata: """{"file":".github/workflows/deploy.yml"}""");

        var memory = t.Service.Get(t.Caller, id);
        memory.Content.Should().Be("Deploys go through the blue-green pipeline in GitHub Actions");
        memory.MemoryType.Should().Be("decision");
        memory.Tags.Should().Equal("ci", "deploy");
        memory.Importance.Should().Be(0.9);
        memory.SessionId.Should().Be("s1");
        memory.AgentId.Should().Be("agent-1");
        memory.Namespace.Should().Be("project:test");
        memory.Metadata!["file"]!.GetValue<string>().Should().Be(".github/workflows/deploy.yml");
        memory.CreatedAt.Should().Be(t.Clock.Now);

        var found = t.Service.Search(t.Caller, new SearchRequest { Query = "how do we deploy?" });
        found.Mode.Should().Be(SearchResponse.Fts);
        found.Results.Select(h => h.Memory.Id).Should().Equal(id);

        t.Service.Delete(t.Caller, id);
        t.Service.Invoking(s => s.Get(t.Caller, id)).Should().Throw<MemoryNotFoundException>();
        t.Service.Search(t.Caller, new SearchRequest { Query = "deploy pipeline" }).Results.Should().BeEmpty();
        t.Service.Invoking(s => s.Delete(t.Caller, id)).Should().Throw<MemoryNotFoundException>().WithMessage("*memory_id*");
    }

    [Theory, BothBackends]
    public void Natural_language_question_ranks_the_memory_sharing_most_words_first_with_stemming(Backend backend)
    {
        using var t = new TestStore(backend);
        t.Store("The build uses pnpm workspaces");
        var nginx = t.Store("website deployment uses cloudflare tunnel through docker compose with nginx reverse proxy");
        t.Store("Prefer tabs over spaces in Makefiles");
        t.Store("The portfolio site is written in Astro");

        var results = t.Service.Search(t.Caller, new SearchRequest { Query = "what's the deal with the nginx config on the deployed websites?" }).Results;
        results[0].Memory.Id.Should().Be(nginx, "it shares nginx, deploy (stemmed) and website (stemmed)");
        results.Select(r => r.Score).Should().BeInDescendingOrder();
    }

    [Theory]
    [InlineData("\"alpha unbalanced quote")]
    [InlineData("NEAR(alpha beta)")]
    [InlineData("alpha*")]
    [InlineData("^alpha")]
    [InlineData("content: alpha")]
    [InlineData("tags:alpha OR")]
    [InlineData("(alpha AND (beta")]
    [InlineData("alpha NOT beta -gamma")]
    [InlineData("{content tags}: alpha")]
    public void Fts_syntax_in_the_query_is_searched_literally(string query)
    {
        using var t = new TestStore();
        var id = t.Store("alpha is the first letter");
        t.Store("omega is the last letter");

        var response = t.Service.Search(t.Caller, new SearchRequest { Query = query });
        response.Results.Select(r => r.Memory.Id).Should().Contain(id);
        response.Results.Should().OnlyContain(r => r.Memory.Content.Contains("alpha"));
    }

    [Theory, BothBackends]
    public void Query_without_words_falls_back_to_substring_match_and_says_so(Backend backend)
    {
        using var t = new TestStore(backend);
        var id = t.Store("use the -> operator, not =>");
        t.Store("nothing to see");

        var response = t.Service.Search(t.Caller, new SearchRequest { Query = "->" });
        response.Mode.Should().Be(SearchResponse.Like);
        response.Results.Select(r => r.Memory.Id).Should().Equal(id);

        t.Service.Search(t.Caller, new SearchRequest { Query = "%" }).Results.Should().BeEmpty("% is matched literally, not as a wildcard");
    }

    [Theory, BothBackends]
    public void Every_filter_narrows_the_results(Backend backend)
    {
        using var t = new TestStore(backend);
        var start = t.Clock.Now;
        var a = t.Store("redis cache eviction policy is allkeys-lru", type: "decision", tags: ["redis", "cache"], importance: 0.9, session: "s1", createdAt: start.AddDays(-10));
        var b = t.Store("redis connection string lives in .env", type: "fact", tags: ["redis"], importance: 0.3, session: "s2", createdAt: start.AddDays(-1));
        var c = t.Store("redis upgrade broke the cache warmup script", type: "fix", tags: ["cache"], importance: 0.6, ns: "shared", createdAt: start.AddDays(-5));
        var other = t.Store("redis runs in another project", ns: "project:other");

        Ids(new SearchRequest { Query = "redis" }).Should().BeEquivalentTo([a, b, c]);
        Ids(new SearchRequest { Query = "redis", MemoryType = "decision" }).Should().Equal(a);
        Ids(new SearchRequest { Query = "redis", Tags = ["cache"] }).Should().BeEquivalentTo([a, c]);
        Ids(new SearchRequest { Query = "redis", Tags = ["cache", "redis"] }).Should().Equal(a);
        Ids(new SearchRequest { Query = "redis", MinImportance = 0.5 }).Should().BeEquivalentTo([a, c]);
        Ids(new SearchRequest { Query = "redis", SessionId = "s2" }).Should().Equal(b);
        Ids(new SearchRequest { Query = "redis", Since = start.AddDays(-6) }).Should().BeEquivalentTo([b, c]);
        Ids(new SearchRequest { Query = "redis", Until = start.AddDays(-2) }).Should().BeEquivalentTo([a, c]);
        Ids(new SearchRequest { Query = "redis", Namespaces = ["project:other"] }).Should().Equal(other);
        Ids(new SearchRequest { Query = "redis", Namespaces = ["shared"] }).Should().Equal(c);
        Ids(new SearchRequest { Query = "redis", TopK = 1 }).Should().HaveCount(1);

        List<Guid> Ids(SearchRequest request) => t.Service.Search(t.Caller, request).Results.Select(r => r.Memory.Id).ToList();
    }

    [Theory, BothBackends]
    public void Expired_memories_are_never_returned(Backend backend)
    {
        using var t = new TestStore(backend);
        var id = t.Store("temporary: staging is down until friday", expiresAt: t.Clock.Now.AddHours(1));
        t.Service.Search(t.Caller, new SearchRequest { Query = "staging" }).Results.Should().HaveCount(1);

        t.Clock.Advance(TimeSpan.FromHours(2));
        t.Service.Search(t.Caller, new SearchRequest { Query = "staging" }).Results.Should().BeEmpty();
        t.Service.Invoking(s => s.Get(t.Caller, id)).Should().Throw<MemoryNotFoundException>();
    }

    [Theory, BothBackends]
    public void Batch_store_writes_all_or_nothing(Backend backend)
    {
        using var t = new TestStore(backend);
        var batch = Enumerable.Range(0, 50).Select(i => new NewMemory { Content = $"batch item {i}" }).ToList();
        t.Service.StoreMany(t.Caller, batch).Should().HaveCount(50);
        t.Service.Stats().Memories.Should().Be(50);

        var bad = batch.Take(3).Append(new NewMemory { Content = "x", Importance = 7 }).ToList();
        t.Service.Invoking(s => s.StoreMany(t.Caller, bad)).Should().Throw<MemoryValidationException>().WithMessage("[3].importance*");
        t.Service.Stats().Memories.Should().Be(50);
    }

    [Theory, BothBackends]
    public void Restricted_caller_cannot_read_write_or_delete_outside_its_namespaces(Backend backend)
    {
        using var t = new TestStore(backend);
        var secret = t.Store("the deploy key rotates monthly", ns: "project:secret");
        var limited = new Caller("project:open", "agent-2", Readable: new HashSet<string> { "shared" }, Writable: new HashSet<string> { "project:open" });

        limited.Invoking(c => t.Service.Get(c, secret)).Should().Throw<MemoryNotFoundException>();
        limited.Invoking(c => t.Service.Delete(c, secret)).Should().Throw<MemoryNotFoundException>();
        limited.Invoking(c => t.Service.Search(c, new SearchRequest { Query = "deploy", Namespaces = ["project:secret"] }))
            .Should().Throw<MemoryValidationException>().WithMessage("namespaces*project:secret*");
        limited.Invoking(c => t.Service.Store(c, new NewMemory { Content = "x", Namespace = "shared" }))
            .Should().Throw<MemoryValidationException>().WithMessage("namespace*shared*");
        t.Service.Get(t.Caller, secret).Content.Should().Contain("deploy key");
    }

    [Fact]
    public void Data_is_durable_across_reopen()
    {
        using var dir = new TempDirectory();
        var path = dir.File("m.db");
        var caller = new Caller("project:x", "a");
        Guid id;
        using (var service = McpMemory.Core.MemoryService.Open(path))
            id = service.Store(caller, new NewMemory { Content = "survives a restart" }).MemoryId;
        using (var reopened = McpMemory.Core.MemoryService.Open(path))
            reopened.Get(caller, id).Content.Should().Be("survives a restart");
    }
}
