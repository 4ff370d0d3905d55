using FluentAssertions;
using McpMemory.Core.Indexes;
using McpMemory.Core.Indexes.Keywords;
using McpMemory.Core.Memories;
using McpMemory.Core.Storage;
using McpMemory.Tests.Embeddings;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Search;

/// <summary>
/// The in-memory keyword index answers what FTS5 answers: the same memories with the same BM25 scores, under
/// every filter, and it follows writes and deletes made through another service on the same file.
/// </summary>
public class KeywordIndexTests
{
    private static readonly string[] Types = ["fact", "decision", "fix", "preference"];
    private static readonly string[] TagPool = ["nginx", "deploy", "ci", "database", "frontend", "retro-planning"];

    /// <summary>Golden texts a memory may hold, without the few characters FTS5's Unicode tables predate.</summary>
    private static List<string> Texts() =>
        [.. GoldenData.All.Select(c => c.Text).Where(t => Unicode61.Words(t).Count > 0 && t.Length < 4_000 && !t.Contains('\0')
            && !t.EnumerateRunes().Any(r => KeywordTokenizerTests.AssignedAfterSqliteTables.Contains(r.Value)))];

    private static void Fill(TestStore store, int count)
    {
        var texts = Texts();
        for (var i = 0; i < count; i++)
            store.Store(texts[i % texts.Count] + " " + texts[(i * 7 + 3) % texts.Count],
                type: Types[i % Types.Length],
                tags: i % 3 == 0 ? [TagPool[i % TagPool.Length], TagPool[(i / 3) % TagPool.Length]] : null,
                importance: (i % 10) / 10.0,
                ns: i % 4 == 0 ? "shared" : null,
                session: i % 5 == 0 ? "s1" : null);
    }

    private static IEnumerable<IndexFilter> Filters(long now) =>
    [
        new(["project:test", "shared"], null, 0, null, null, now, null, []),
        new(["shared"], null, 0, null, null, now, null, []),
        new(["project:test"], "decision", 0, null, null, now, null, []),
        new(["project:test", "shared"], null, 0, null, null, now, null, ["nginx"]),
        new(["project:test", "shared"], null, 0.55, null, null, now, "s1", []),
        new(["nowhere"], null, 0, null, null, now, null, []),
    ];

    private static void AssertSameAsFts5(MemoryDatabase database, KeywordIndex index, long now, IEnumerable<string> queries)
    {
        var sql = new MemorySearch(database);
        var compared = 0;
        foreach (var query in queries)
            foreach (var filter in Filters(now))
            {
                var ours = index.Search(KeywordIndex.QueryTerms(query), 30, filter);
                var fts5 = FtsQuery.Build(query) is { } match ? sql.FtsCandidates(match, 30, filter) : [];
                ours.Select(h => h.Score).Should().Equal(fts5.Select(h => h.Score), (a, b) => Math.Abs(a - b) <= 1e-9 * Math.Max(1, Math.Abs(b)),
                    $"BM25 scores for \"{query}\" under {filter}");
                // Equal scores may come in either order, and a tie at the cut may keep either memory.
                var cut = fts5.Count == 30 ? fts5[^1].Score : double.NegativeInfinity;
                ours.Where(h => h.Score > cut + 1e-9).Select(h => h.Seq).Should().BeEquivalentTo(
                    fts5.Where(h => h.Score > cut + 1e-9).Select(h => h.Seq), $"memories found for \"{query}\" under {filter}");
                compared += fts5.Count;
            }
        compared.Should().BeGreaterThan(1_000, "the comparison must cover real matches");
    }

    /// <summary>
    /// A keyword index over the store's file (with FTS5's own BM25 parameters, under which the scores must be equal),
    /// built apart from the store's own service, and the store's "now".
    /// </summary>
    private static async Task<(MemoryIndexes Indexes, long Now)> BuildAsync(TestStore store, MemoryDatabase database)
    {
        var indexes = new MemoryIndexes(new IndexSource(database), keywordIndex: true, KeywordIndex.Fts5K1, KeywordIndex.Fts5B, embedder: null);
        await indexes.Keywords.Loading.WaitAsync(TimeSpan.FromMinutes(1));
        return (indexes, store.Clock.GetUtcNow().ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task Ranks_exactly_as_fts5_bm25_under_every_filter()
    {
        using var store = new TestStore();
        Fill(store, 600);
        using var database = MemoryDatabase.Open(store.DatabasePath);
        var (indexes, now) = await BuildAsync(store, database);
        indexes.Keywords.Index!.Count.Should().Be(600);
        AssertSameAsFts5(database, indexes.Keywords.Index, now, Texts().Take(80).Append("nginx deploy").Append("Café DÉJÀ vu"));
    }

    [Fact]
    public async Task Follows_writes_and_deletes_made_through_another_service()
    {
        using var store = new TestStore();
        Fill(store, 200);
        using var database = MemoryDatabase.Open(store.DatabasePath);
        var (indexes, now) = await BuildAsync(store, database);
        var index = indexes.Keywords.Index!;
        var all = Filters(now).First();
        // Fill's repeated pairs are the same memory stored again (merged), so count from what the index holds now.
        var filled = index.Count;
        filled.Should().Be((int)store.Service.Stats().Memories);

        var added = store.Store("the zanzibar deployment runbook lives in ops/zanzibar.md", tags: ["runbook"]);
        var doomed = store.Store("quokka migration notes, obsolete");
        indexes.Sync();
        index.Search(KeywordIndex.QueryTerms("zanzibar runbooks"), 10, all).Should().ContainSingle();
        index.Search(KeywordIndex.QueryTerms("quokka"), 10, all).Should().ContainSingle();

        store.Service.Delete(store.Caller, doomed);
        // A text that contains an older one of its type is the same memory (merged, the merge rule's lexical part):
        // count the new memories from the answers.
        var appended = Texts().Take(20).Count(text => store.Service.Store(store.Caller,
            new NewMemory { Content = text + " appended later", MemoryType = "fix" }).Status == StoreResult.Stored);
        appended.Should().BeGreaterThan(10);
        indexes.Sync();
        index.Search(KeywordIndex.QueryTerms("quokka"), 10, all).Should().BeEmpty();
        index.Count.Should().Be(filled + 1 + appended);
        AssertSameAsFts5(database, index, now, Texts().Take(40).Append("zanzibar appended later"));
        added.Should().NotBeEmpty();
    }
}
