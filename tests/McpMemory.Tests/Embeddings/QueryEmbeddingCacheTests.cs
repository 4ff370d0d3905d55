using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Embeddings;

/// <summary>The LRU cache of query vectors, over the real USE-lite encoder and through the engine's search.</summary>
[Collection(EncoderCollection.Name)]
public class QueryEmbeddingCacheTests(EncoderFixture fixture)
{
    /// <summary>The real encoder, counting the queries it is asked to embed.</summary>
    private sealed class Counting(IEmbedder inner, string? modelId = null) : IEmbedder
    {
        public int Queries;
        public string ModelId => modelId ?? inner.ModelId;
        public int Dimension => inner.Dimension;
        public float[] Embed(string text) => inner.Embed(text);
        public float[][] EmbedBatch(IReadOnlyList<string> texts) => inner.EmbedBatch(texts);
        public float[] EmbedQuery(string text) { Interlocked.Increment(ref Queries); return inner.EmbedQuery(text); }
    }

    [Fact]
    public void A_repeated_query_is_embedded_once_and_gets_the_same_vector()
    {
        var encoder = new Counting(fixture.Encoder);
        var cache = new QueryEmbeddingCache(8);
        var first = cache.EmbedQuery(encoder, "nginx reverse proxy config");
        var second = cache.EmbedQuery(encoder, "nginx reverse proxy config");
        second.Should().BeSameAs(first);
        first.Should().Equal(((IEmbedder)fixture.Encoder).EmbedQuery("nginx reverse proxy config"));
        encoder.Queries.Should().Be(1);
        (cache.Hits, cache.Misses).Should().Be((1, 1));
    }

    [Fact]
    public void The_least_recently_used_query_goes_first_when_full()
    {
        var encoder = new Counting(fixture.Encoder);
        var cache = new QueryEmbeddingCache(2);
        cache.EmbedQuery(encoder, "a");
        cache.EmbedQuery(encoder, "b");
        cache.EmbedQuery(encoder, "a"); // a is now the most recent
        cache.EmbedQuery(encoder, "c"); // evicts b
        cache.Count.Should().Be(2);
        encoder.Queries.Should().Be(3);
        cache.EmbedQuery(encoder, "a");
        encoder.Queries.Should().Be(3, "a stayed");
        cache.EmbedQuery(encoder, "b");
        encoder.Queries.Should().Be(4, "b was evicted");
    }

    [Fact]
    public void Another_encoder_never_gets_a_vector_from_the_first_ones_space()
    {
        var cache = new QueryEmbeddingCache(8);
        var first = new Counting(fixture.Encoder, "model-a");
        var second = new Counting(fixture.Encoder, "model-b");
        cache.EmbedQuery(first, "cache invalidation");
        cache.EmbedQuery(second, "cache invalidation");
        second.Queries.Should().Be(1);
    }

    [Fact]
    public void A_capacity_below_one_is_refused_naming_it()
    {
        var act = () => new QueryEmbeddingCache(0);
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*capacity: must be at least 1*");
    }

    [Fact]
    public void Search_serves_a_repeated_query_from_the_cache_with_the_same_results()
    {
        using var dir = new TempDirectory();
        using var service = MemoryService.Open(dir.File("m.db"), MemoryOptions.Default, EmbedderProvider.Ready(fixture.Encoder));
        service.WaitForVectors(TimeSpan.FromSeconds(30)).Should().BeTrue();
        var caller = new Caller("project:cache", "agent");
        service.Store(caller, new NewMemory { Content = "website deployment uses cloudflare tunnel with an nginx reverse proxy" });
        service.Store(caller, new NewMemory { Content = "the test database is reset before every integration run" });

        var request = new SearchRequest { Query = "how is the site deployed", Mode = "hybrid" };
        var first = service.Search(caller, request, trackAccess: false);
        var second = service.Search(caller, request, trackAccess: false);
        first.Mode.Should().Be("hybrid");
        // Same order and the same cosines (scores move by ~1e-8 as recency counts the milliseconds between the two calls).
        second.Results.Select(r => (r.Memory.Id, r.Similarity)).Should().Equal(first.Results.Select(r => (r.Memory.Id, r.Similarity)));
        (service.QueryVectors.Hits, service.QueryVectors.Misses).Should().Be((1, 1));
    }
}
