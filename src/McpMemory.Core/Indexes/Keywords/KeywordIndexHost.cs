using System.Runtime.CompilerServices;

namespace McpMemory.Core.Indexes.Keywords;

/// <summary>
/// Owns the in-memory keyword index of one database: built in the background at open (until then keyword search
/// runs in FTS5, with FTS5's fixed BM25 parameters), kept in step by this process's writes and, through the event log, by
/// every other process's (<see cref="MemoryIndexes.Sync"/>).
/// </summary>
internal sealed class KeywordIndexHost
{
    private readonly IIndexSource _source;
    private readonly double _k1, _b;
    private volatile KeywordIndex? _index;

    public KeywordIndexHost(IIndexSource source, bool build, double k1, double b)
    {
        _source = source;
        (_k1, _b) = (k1, b);
        if (build) Loading = Task.Run(() => { _index = Build(); });
    }

    /// <summary>Where the index stands in the event log.</summary>
    public EventCursor Cursor { get; } = new();

    /// <summary>Completes when the index is built.</summary>
    public Task Loading { get; } = Task.CompletedTask;

    /// <summary>The index once built, else null (search then runs in FTS5).</summary>
    public KeywordIndex? Index => _index;

    private KeywordIndex Build()
    {
        var index = new KeywordIndex(_k1, _b);
        _source.Read(reader =>
        {
            // Events after this point are replayed by the tail (idempotently), so nothing written meanwhile is missed.
            Cursor.Last = reader.LastEventSeq();
            foreach (var row in reader.KeywordRows()) Upsert(index, row);
            return 0;
        });
        return index;
    }

    /// <summary>The index's part in a catch-up (null before it is built); <paramref name="rebuild"/> is set by a bulk import.</summary>
    public EventTail.Follower? Follower(StrongBox<bool> rebuild) => _index is not { } index ? null : new(Cursor, (reader, e) =>
    {
        if (e.Removes) index.Remove(e.RemovedSeq!.Value);
        else if (e.Writes || e.Feedback)
            foreach (var row in reader.KeywordRows(e.MemoryId)) Upsert(index, row);
        else if (e.Reloads) rebuild.Value = true;
    });

    /// <summary>Builds the index again from the rows (after a bulk import).</summary>
    public void Rebuild() => _index = Build();

    private static void Upsert(KeywordIndex index, KeywordRow row) => index.Upsert(row.Entry, row.Content, row.AccessCount, row.NetFeedback);
}
