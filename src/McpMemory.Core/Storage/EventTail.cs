using System.Text.Json.Nodes;

namespace McpMemory.Core.Storage;

/// <summary>One entry of the event log as an in-memory index needs it.</summary>
internal readonly record struct MemoryEvent(string Kind, string? MemoryId, long? RemovedSeq)
{
    /// <summary>The memory left the store (deleted or expired); <see cref="RemovedSeq"/> says which.</summary>
    public bool Removes => Kind is "delete" or "expire" && RemovedSeq is not null;

    /// <summary>The memory's row was written (stored, merged into, imported, superseded); read it again by <see cref="MemoryId"/>.</summary>
    public bool Writes => MemoryId is not null && Kind is "store" or "update" or "import" or "supersede";

    /// <summary>The memory got its vector.</summary>
    public bool Embeds => MemoryId is not null && Kind == "embed";

    /// <summary>Feedback on the memory changed its net feedback.</summary>
    public bool Feedback => MemoryId is not null && Kind == "feedback";

    /// <summary>A bulk import that names no single memory: the index should be rebuilt.</summary>
    public bool Reloads => MemoryId is null && Kind == "import";
}

/// <summary>
/// Follows the append-only event log for an in-memory index, so that writes by any process (this server, the CLI,
/// a second server) reach the index before its next search. Remembers the last event applied.
/// </summary>
internal sealed class EventTail(MemoryDatabase database)
{
    private readonly Lock _lock = new();
    private long _last;

    /// <summary>Marks the log's current end as applied: call inside the read that loads the index.</summary>
    public void StartAtEnd(SqliteSession session) => _last = MaxEventSeq(session);

    /// <summary>Applies, in order, the events written since the last call.</summary>
    public void CatchUp(Action<SqliteSession, MemoryEvent> apply)
    {
        lock (_lock)
        {
            database.Read(session =>
            {
                if (MaxEventSeq(session) == _last) return 0;
                var command = session.Command("SELECT seq, kind, memory_id, detail FROM events WHERE seq > @after ORDER BY seq LIMIT 100000");
                command.Parameters.AddWithValue("@after", _last);
                var events = new List<(long Seq, MemoryEvent Event)>();
                using (var reader = command.ExecuteReader())
                    while (reader.Read())
                    {
                        var kind = reader.GetString(1);
                        long? removed = kind is "delete" or "expire" && !reader.IsDBNull(3)
                            ? JsonNode.Parse(reader.GetString(3))?["seq"]?.GetValue<long>() : null;
                        events.Add((reader.GetInt64(0), new MemoryEvent(kind, reader.IsDBNull(2) ? null : reader.GetString(2), removed)));
                    }
                foreach (var (seq, e) in events)
                {
                    apply(session, e.Removes && SeqIsLive(session, e.RemovedSeq!.Value) ? e with { RemovedSeq = null } : e);
                    _last = seq;
                }
                return 0;
            });
        }
    }

    /// <summary>Records that this process already applied its own events [first, last] to the index.</summary>
    public void Applied(long firstEventSeq, long lastEventSeq)
    {
        lock (_lock)
            if (firstEventSeq == _last + 1) _last = lastEventSeq;
    }

    /// <summary>
    /// True when a memory lives at the removed seq now: the event came from another database (an import carries the
    /// event log whole, with the source's seqs) or the seq was reused after the delete. Removing it from an index would
    /// hide a live memory; that memory's own write event (or the import's reload) keeps the index right.
    /// </summary>
    private static bool SeqIsLive(SqliteSession session, long seq)
    {
        var command = session.Command("SELECT 1 FROM memories WHERE seq = @seq");
        command.Parameters.AddWithValue("@seq", seq);
        return command.ExecuteScalar() is not null;
    }

    private static long MaxEventSeq(SqliteSession session) =>
        Convert.ToInt64(session.Command("SELECT coalesce(max(seq), 0) FROM events").ExecuteScalar());
}
