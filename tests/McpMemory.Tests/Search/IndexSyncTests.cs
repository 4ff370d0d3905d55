using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Indexes;
using McpMemory.Core.Indexes.Keywords;
using McpMemory.Core.Memories;
using McpMemory.Core.Storage;
using McpMemory.Tests.Embeddings;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Search;

/// <summary>
/// Both in-memory indexes follow the event log, so writes by another process reach them; one read of the log feeds
/// both (a search used to read it once per index).
/// </summary>
[Collection(EncoderCollection.Name)]
public class IndexSyncTests(EncoderFixture fixture)
{
    private readonly Caller _caller = new("project:test", "agent-1");

    [Theory, BothBackends]
    public async Task One_read_of_the_event_log_brings_both_indexes_up_to_date_with_another_process(Backend backend)
    {
        using var db = new TestDatabase(backend);
        using var other = MemoryService.Open(db.Db, MemoryOptions.Default with { EmbeddingInterval = TimeSpan.Zero, KeywordIndex = false },
            EmbedderProvider.Ready(fixture.Encoder));
        other.WaitForVectors(TimeSpan.FromMinutes(1)).Should().BeTrue();
        var first = other.Store(_caller, new NewMemory { Content = "the quokka migration notes are obsolete" }).MemoryId;

        using var database = MemoryDatabase.Open(db.Db);
        var source = new CountingSource(new IndexSource(database));
        var indexes = new MemoryIndexes(source, keywordIndex: true, KeywordIndex.Fts5K1, KeywordIndex.Fts5B, EmbedderProvider.Ready(fixture.Encoder));
        await indexes.Keywords.Loading.WaitAsync(TimeSpan.FromMinutes(1));
        await indexes.Vectors.Loading.WaitAsync(TimeSpan.FromMinutes(1));
        var keywords = indexes.Keywords.Index!;
        var vectors = indexes.Vectors.Ready!.Value.Index;
        (keywords.Count, vectors.Count).Should().Be((1, 1));

        other.Store(_caller, new NewMemory { Content = "the zanzibar deployment runbook lives in ops/zanzibar.md" });
        other.Delete(_caller, first);
        source.EventReads = 0;
        indexes.Sync();

        source.EventReads.Should().Be(1, "one read of the log feeds both indexes");
        var all = new IndexFilter(["project:test"], null, 0, null, null, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), null, []);
        keywords.Search(KeywordIndex.QueryTerms("zanzibar runbook"), 10, all).Should().ContainSingle();
        keywords.Search(KeywordIndex.QueryTerms("quokka"), 10, all).Should().BeEmpty();
        vectors.Count.Should().Be(1, "the new memory's vector came in and the deleted one's went out");
        vectors.Search(((IEmbedder)fixture.Encoder).EmbedQuery("where is the zanzibar runbook?"), 5, all).Should().ContainSingle();

        indexes.Sync();
        source.EventReads.Should().Be(1, "with nothing new in the log, a sync reads no events");
    }

    /// <summary>The real source, counting how often the event log itself is read.</summary>
    private sealed class CountingSource(IIndexSource inner) : IIndexSource
    {
        public int EventReads;

        public T Read<T>(Func<IIndexReader, T> read) => inner.Read(reader => read(new Reader(reader, this)));

        public void DropOtherModels(string model) => inner.DropOtherModels(model);

        private sealed class Reader(IIndexReader inner, CountingSource counts) : IIndexReader
        {
            public long LastEventSeq() => inner.LastEventSeq();

            public IReadOnlyList<(long Seq, MemoryEvent Event)> EventsAfter(long seq, int limit)
            {
                Interlocked.Increment(ref counts.EventReads);
                return inner.EventsAfter(seq, limit);
            }

            public bool SeqIsLive(long seq) => inner.SeqIsLive(seq);
            public IEnumerable<KeywordRow> KeywordRows(string? memoryId = null) => inner.KeywordRows(memoryId);
            public IEnumerable<(IndexEntry Entry, float[] Vector)> Vectors(string model, string? memoryId = null) => inner.Vectors(model, memoryId);
        }
    }
}
