using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Embeddings;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Search;

/// <summary>
/// The query embedded on a second core beside the sync and the keyword search (MemoryOptions.OverlapQueryEmbedding):
/// the same answers as embedding it inline, the encoder's errors still leave the keyword answer, and no embedding
/// outlives its search. Over the real USE-lite encoder and SQLite in a temp folder.
/// </summary>
[Collection(EncoderCollection.Name)]
public class OverlappedEmbeddingTests(EncoderFixture fixture)
{
    private static readonly Caller Agent = new("project:overlap", "agent");
    private static readonly DateTimeOffset At = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly string[] Texts =
    [
        "website deployment uses cloudflare tunnel with an nginx reverse proxy",
        "the test database is reset before every integration run",
        "the billing worker double-charged on retries; capped retries at 5 with jitter",
        "the user prefers small pull requests with one concern each",
        "postgres replica lag alerts fire above 30 seconds",
        "nginx returns 502 when the upstream keepalive is shorter than the proxy's",
    ];

    private static readonly string[] Queries = ["how is the site deployed", "nginx 502", "retries charged twice", "replica lag", "pull request size", "zebra"];

    [Fact]
    public void Searches_answer_the_same_with_and_without_the_overlap_in_every_mode()
    {
        using var dir = new TempDirectory();
        var path = dir.File("m.db");
        using (var fill = Open(path, fixture.Encoder, overlap: true))
            foreach (var text in Texts) fill.Store(Agent, new NewMemory { Content = text, CreatedAt = At.AddHours(-Array.IndexOf(Texts, text)) });

        var overlapped = Answers(path, overlap: true);
        var inline = Answers(path, overlap: false);
        overlapped.Should().HaveCount(Queries.Length * 3);
        overlapped.Should().Contain(a => a.Mode == "hybrid" && a.Hits.Count > 0, "the encoder answered");
        // Same memories, same order, the same scores to the last bit (the clock is pinned by the request's now).
        for (var i = 0; i < overlapped.Count; i++)
        {
            inline[i].Mode.Should().Be(overlapped[i].Mode);
            inline[i].Hits.Should().Equal(overlapped[i].Hits);
        }
    }

    [Fact]
    public void An_encoder_that_fails_on_the_query_still_leaves_the_keyword_answer_and_says_why()
    {
        using var dir = new TempDirectory();
        var failing = new FailingOnQueries(fixture.Encoder);
        foreach (var overlap in new[] { true, false })
        {
            using var service = Open(dir.File($"m-{overlap}.db"), failing, overlap);
            service.Store(Agent, new NewMemory { Content = Texts[0] });
            var search = service.Search(Agent, new SearchRequest { Query = "nginx reverse proxy" }, trackAccess: false);
            search.Mode.Should().Be("fts");
            search.FallbackReason.Should().Be("the encoder failed on this query (query encoder down)");
            search.Results.Should().ContainSingle().Which.Memory.Content.Should().Be(Texts[0]);
            var vector = () => service.Search(Agent, new SearchRequest { Query = "nginx", Mode = "vector" }, trackAccess: false);
            vector.Should().Throw<MemoryValidationException>().WithMessage("mode: vector search is not available: the encoder failed on this query (query encoder down)");
        }
    }

    [Fact]
    public void A_query_searched_again_is_served_from_the_cache_without_starting_the_encoder()
    {
        using var dir = new TempDirectory();
        var counting = new CountingQueries(fixture.Encoder);
        using var service = Open(dir.File("m.db"), counting, overlap: true);
        service.Store(Agent, new NewMemory { Content = Texts[0] });
        var request = new SearchRequest { Query = "how is the site deployed", Now = At };
        var first = service.Search(Agent, request, trackAccess: false);
        var second = service.Search(Agent, request, trackAccess: false);
        counting.Queries.Should().Be(1);
        (service.QueryVectors.Hits, service.QueryVectors.Misses).Should().Be((1, 1));
        second.Results.Select(h => (h.Memory.Id, h.Score, h.Similarity)).Should().Equal(first.Results.Select(h => (h.Memory.Id, h.Score, h.Similarity)));
    }

    [Fact]
    public void The_work_runs_once_whoever_claims_it_and_its_error_reaches_the_caller_unchanged()
    {
        var runs = 0;
        var works = Enumerable.Range(0, 50).Select(i => OverlappedEmbedding.Start(() => { Interlocked.Increment(ref runs); return [i]; })).ToList();
        works.Select(w => w.Vector()[0]).Should().Equal(Enumerable.Range(0, 50).Select(i => (float)i));
        runs.Should().Be(50);

        var failing = OverlappedEmbedding.Start(() => throw new InvalidOperationException("encoder down"));
        var vector = () => failing.Vector();
        vector.Should().Throw<InvalidOperationException>().WithMessage("encoder down");
    }

    [Fact]
    public async Task Abandoning_a_started_embedding_waits_for_it_and_an_unstarted_one_never_runs()
    {
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var finished = false;
        var running = OverlappedEmbedding.Start(() => { started.Set(); release.Wait(TimeSpan.FromSeconds(30)); finished = true; return []; });
        started.Wait(TimeSpan.FromSeconds(30)).Should().BeTrue("a pool thread picks the work up");
        var abandon = Task.Run(running.Abandon);
        (await Task.WhenAny(abandon, Task.Delay(200))).Should().NotBeSameAs(abandon, "the encoder call is still running");
        release.Set();
        (await Task.WhenAny(abandon, Task.Delay(TimeSpan.FromSeconds(30)))).Should().BeSameAs(abandon);
        finished.Should().BeTrue();

        // Abandoned at once: a pool thread may have claimed it first (then Abandon waited for it) or not (then it never runs).
        var ran = 0;
        for (var i = 0; i < 20; i++)
        {
            var work = OverlappedEmbedding.Start(() => { Interlocked.Increment(ref ran); return []; });
            work.Abandon();
        }
        // Each one either ran to its end before Abandon returned, or never runs: nothing runs afterwards.
        var settled = ran;
        await Task.Delay(200);
        ran.Should().Be(settled);
    }

    private List<(string Mode, List<(Guid Id, double Score, double? Similarity)> Hits)> Answers(string path, bool overlap)
    {
        using var service = Open(path, fixture.Encoder, overlap);
        return [.. Queries.SelectMany(q => new[] { "hybrid", "fts", "vector" }.Select(mode =>
        {
            var response = service.Search(Agent, new SearchRequest { Query = q, Mode = mode, Now = At }, trackAccess: false);
            return (response.Mode, response.Results.Select(h => (h.Memory.Id, h.Score, h.Similarity)).ToList());
        }))];
    }

    private static MemoryService Open(string path, IEmbedder embedder, bool overlap)
    {
        var service = MemoryService.Open(path, MemoryOptions.Default with { OverlapQueryEmbedding = overlap, EmbeddingInterval = TimeSpan.Zero },
            EmbedderProvider.Ready(embedder));
        service.WaitForVectors(TimeSpan.FromSeconds(30)).Should().BeTrue();
        return service;
    }

    /// <summary>The real encoder for what is stored; every query fails, as an endpoint that went down would.</summary>
    private sealed class FailingOnQueries(IEmbedder inner) : IEmbedder
    {
        public string ModelId => inner.ModelId;
        public int Dimension => inner.Dimension;
        public float[] Embed(string text) => inner.Embed(text);
        public float[][] EmbedBatch(IReadOnlyList<string> texts) => inner.EmbedBatch(texts);
        public float[] EmbedQuery(string text) => throw new InvalidOperationException("query encoder down");
    }

    private sealed class CountingQueries(IEmbedder inner) : IEmbedder
    {
        public int Queries;
        public string ModelId => inner.ModelId;
        public int Dimension => inner.Dimension;
        public float[] Embed(string text) => inner.Embed(text);
        public float[][] EmbedBatch(IReadOnlyList<string> texts) => inner.EmbedBatch(texts);
        public float[] EmbedQuery(string text) { Interlocked.Increment(ref Queries); return inner.EmbedQuery(text); }
    }
}
