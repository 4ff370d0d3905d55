namespace McpMemory.Core.Indexes;

/// <summary>One entry of the event log as an in-memory index needs it.</summary>
internal readonly record struct MemoryEvent(string Kind, string? MemoryId, long? RemovedSeq)
{
    /// <summary>The memory left the store (deleted or expired); <see cref="RemovedSeq"/> says which.</summary>
    public bool Removes => Kind is "delete" or "expire" && RemovedSeq is not null;

    /// <summary>The memory's row was written (stored, merged into, imported, superseded, archived, unarchived); read it again by <see cref="MemoryId"/>.</summary>
    public bool Writes => MemoryId is not null && Kind is "store" or "update" or "import" or "supersede" or "archive" or "unarchive";

    /// <summary>The memory got its vector.</summary>
    public bool Embeds => MemoryId is not null && Kind == "embed";

    /// <summary>Feedback on the memory changed its net feedback.</summary>
    public bool Feedback => MemoryId is not null && Kind == "feedback";

    /// <summary>A bulk import that names no single memory: the index should be rebuilt.</summary>
    public bool Reloads => MemoryId is null && Kind == "import";
}

/// <summary>Where one index stands in the event log: the last event it has applied.</summary>
internal sealed class EventCursor
{
    public long Last { get; set; }
}

/// <summary>
/// Follows the append-only event log for the in-memory indexes, so that writes by any process (this server, the CLI,
/// a second server) reach them before their next search. One read of the log feeds every index, each from its own
/// cursor (an index built later, or rebuilt, starts at the log's end when it was read).
/// </summary>
internal sealed class EventTail(IIndexSource source)
{
    private readonly Lock _lock = new();

    /// <summary>One index that follows the log: its cursor and how it applies an event (inside the read).</summary>
    public readonly record struct Follower(EventCursor Cursor, Action<IIndexReader, MemoryEvent> Apply);

    /// <summary>Applies, in order, the events written since each follower's cursor.</summary>
    public void CatchUp(IReadOnlyList<Follower> followers)
    {
        if (followers.Count == 0) return;
        lock (_lock)
        {
            source.Read(reader =>
            {
                var from = followers.Min(f => f.Cursor.Last);
                if (reader.LastEventSeq() <= from) return 0; // every follower is at the end
                foreach (var (seq, e) in reader.EventsAfter(from, 100_000))
                {
                    // A memory living at the removed seq now came from another database (an import carries the event log
                    // whole, with the source's seqs) or took the seq after the delete: removing it would hide a live
                    // memory; its own write event (or the import's reload) keeps the index right.
                    var applied = e.Removes && reader.SeqIsLive(e.RemovedSeq!.Value) ? e with { RemovedSeq = null } : e;
                    foreach (var follower in followers)
                    {
                        if (seq <= follower.Cursor.Last) continue;
                        follower.Apply(reader, applied);
                        follower.Cursor.Last = seq;
                    }
                }
                return 0;
            });
        }
    }

    /// <summary>Records that this process already applied its own events [first, last] to the index of <paramref name="cursor"/>.</summary>
    public void Applied(EventCursor cursor, long firstEventSeq, long lastEventSeq)
    {
        lock (_lock)
            if (firstEventSeq == cursor.Last + 1) cursor.Last = lastEventSeq;
    }
}
