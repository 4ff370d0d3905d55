using McpMemory.Core.Storage;

namespace McpMemory.Core.Search.Keywords;

/// <summary>
/// Owns the in-memory keyword index of one database: built in the background at open (until then keyword search
/// runs in FTS5, with FTS5's fixed BM25 parameters), kept in step by this process's writes and, through the event log, by
/// every other process's.
/// </summary>
internal sealed class KeywordIndexHost
{
    private readonly MemoryDatabase _database;
    private readonly RankingOptions _ranking;
    private readonly EventTail _events;
    private volatile KeywordIndex? _index;

    public KeywordIndexHost(MemoryDatabase database, bool build, RankingOptions ranking)
    {
        _database = database;
        _ranking = ranking;
        _events = new EventTail(database);
        if (build) Loading = Task.Run(() => { _index = Build(); });
    }

    /// <summary>Completes when the index is built.</summary>
    public Task Loading { get; } = Task.CompletedTask;

    /// <summary>The index once built, else null (search then runs in FTS5).</summary>
    public KeywordIndex? Index => _index;

    private KeywordIndex Build()
    {
        var index = new KeywordIndex(_ranking.Bm25K1, _ranking.Bm25B);
        _database.Read(session =>
        {
            // Events after this point are replayed by Sync (idempotently), so nothing written meanwhile is missed.
            _events.StartAtEnd(session);
            using var reader = session.Command($"SELECT {Columns} FROM memories m").ExecuteReader();
            while (reader.Read()) Upsert(index, reader);
            return 0;
        });
        return index;
    }

    /// <summary>Applies the events written since the last sync (by any process) to the index.</summary>
    public void Sync()
    {
        if (_index is not { } index) return;
        var rebuild = false;
        _events.CatchUp((session, e) =>
        {
            if (e.Removes) index.Remove(e.RemovedSeq!.Value);
            else if (e.Writes || e.Feedback)
            {
                var command = session.Command($"SELECT {Columns} FROM memories m WHERE m.id = @id");
                command.Parameters.AddWithValue("@id", e.MemoryId);
                using var reader = command.ExecuteReader();
                if (reader.Read()) Upsert(index, reader);
            }
            else if (e.Reloads) rebuild = true;
        });
        if (rebuild) _index = Build();
    }

    /// <summary>The index entry, content, access count and net feedback of a memory.</summary>
    private const string Columns = $"{MemoryRows.IndexEntryColumns}, m.content, m.access_count, {MemorySearch.NetFeedback}";

    private static void Upsert(KeywordIndex index, Microsoft.Data.Sqlite.SqliteDataReader reader) =>
        index.Upsert(MemoryRows.ReadIndexEntry(reader), reader.GetString(MemoryRows.IndexEntryCount), reader.GetInt64(MemoryRows.IndexEntryCount + 1), reader.GetInt64(MemoryRows.IndexEntryCount + 2));

    /// <summary>Records that this process already applied its own events [first, last] to the index.</summary>
    public void Applied(long firstEventSeq, long lastEventSeq) => _events.Applied(firstEventSeq, lastEventSeq);
}
