using System.Runtime.CompilerServices;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Indexes.Keywords;
using McpMemory.Core.Indexes.Vectors;

namespace McpMemory.Core.Indexes;

/// <summary>A memory as a committed write left it: its entry, its text and, when it was embedded, its vector.</summary>
internal readonly record struct IndexedMemory(IndexEntry Entry, string Content, float[]? Vector);

/// <summary>
/// What a committed write changed, as the indexes need it: the memories written, the events [first, last] it appended,
/// and whether it changed other memories too (superseded them).
/// </summary>
internal sealed record IndexedWrite(IReadOnlyList<IndexedMemory> Memories, long FirstEventSeq, long LastEventSeq, bool ChangesOthers);

/// <summary>
/// Both in-memory indexes of one database, kept in step: this process's writes go into both at once, and everything
/// else (other processes, bulk imports, embeddings written in the background) reaches both through one read of the
/// event log per <see cref="Sync"/>.
/// </summary>
internal sealed class MemoryIndexes
{
    private readonly EventTail _tail;

    public MemoryIndexes(IIndexSource source, bool keywordIndex, double bm25K1, double bm25B, EmbedderProvider? embedder)
    {
        _tail = new EventTail(source);
        Keywords = new KeywordIndexHost(source, keywordIndex, bm25K1, bm25B);
        Vectors = new VectorIndexHost(source, embedder);
    }

    public KeywordIndexHost Keywords { get; }
    public VectorIndexHost Vectors { get; }

    /// <summary>Applies the events written since the last sync (by any process) to both indexes, reading the log once.</summary>
    public void Sync()
    {
        var rebuildKeywords = new StrongBox<bool>();
        var rebuildVectors = new StrongBox<bool>();
        var followers = new List<EventTail.Follower>(2);
        if (Keywords.Follower(rebuildKeywords) is { } keywords) followers.Add(keywords);
        if (Vectors.Follower(rebuildVectors) is { } vectors) followers.Add(vectors);
        _tail.CatchUp(followers);
        if (rebuildKeywords.Value) Keywords.Rebuild();
        if (rebuildVectors.Value) Vectors.Rebuild();
    }

    /// <summary>Puts a committed write into both indexes.</summary>
    public void Apply(IndexedWrite write)
    {
        if (write.ChangesOthers)
        {
            // Superseded rows change in both indexes: replay this write's events like another process's.
            Sync();
            return;
        }
        if (Keywords.Index is { } keywords)
        {
            foreach (var m in write.Memories) keywords.Upsert(m.Entry, m.Content);
            _tail.Applied(Keywords.Cursor, write.FirstEventSeq, write.LastEventSeq);
        }
        if (Vectors.Ready is { } ready)
        {
            // A row written without a vector (write-behind, or merged into without one) has none in the index until the worker's.
            foreach (var m in write.Memories)
                if (m.Vector is not null) ready.Index.Upsert(m.Entry, m.Vector);
                else ready.Index.Remove(m.Entry.Seq);
            _tail.Applied(Vectors.Cursor, write.FirstEventSeq, write.LastEventSeq);
        }
    }

    /// <summary>A memory this process deleted leaves both indexes at once.</summary>
    public void Remove(long seq)
    {
        Vectors.Ready?.Index.Remove(seq);
        Keywords.Index?.Remove(seq);
    }

    /// <summary>Access counts just written: the keyword index keeps them for ranking.</summary>
    public void AddAccess(IReadOnlyDictionary<long, int> counts) => Keywords.Index?.AddAccess(counts);
}
