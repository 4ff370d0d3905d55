using System.Text.Json.Nodes;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Storage;

namespace McpMemory.Core.Vectors;

/// <summary>
/// Owns the encoder and the in-memory vector index of one database. Both become ready in the background (the
/// first searches may be keyword-only, and say so). The index follows the event log, so writes made by other
/// processes (the CLI, a second server) are picked up before the next vector search.
/// </summary>
internal sealed class VectorIndexHost
{
    private readonly MemoryDatabase _database;
    private readonly EmbedderProvider? _provider;
    private readonly Lock _syncLock = new();
    private volatile QuantizedVectorIndex? _index;
    private long _lastEventSeq;

    public VectorIndexHost(MemoryDatabase database, EmbedderProvider? provider)
    {
        _database = database;
        _provider = provider;
        if (provider is not null) Loading = Task.Run(Load);
    }

    /// <summary>Completes when the index is built (or faulted when the encoder failed to load).</summary>
    public Task Loading { get; } = Task.CompletedTask;

    public IEmbedder? Embedder => _provider?.TryGet();
    public Exception? Error => _provider?.Error ?? Loading.Exception?.GetBaseException();

    /// <summary>The encoder and the index when both are ready, else null.</summary>
    public (IEmbedder Embedder, QuantizedVectorIndex Index)? Ready =>
        _index is { } index && Embedder is { } embedder ? (embedder, index) : null;

    private void Load()
    {
        var embedder = _provider!.Wait();
        _database.Write((session, tx) => VectorStore.DropOtherModels(session, tx, embedder.ModelId));
        var index = new QuantizedVectorIndex(embedder.Dimension);
        _database.Read(session =>
        {
            // Events after this point are replayed by Sync (idempotently), so nothing written meanwhile is missed.
            _lastEventSeq = MaxEventSeq(session);
            foreach (var (entry, vector) in VectorStore.ReadAll(session, embedder.ModelId)) index.Upsert(entry, vector);
            return 0;
        });
        _index = index;
    }

    /// <summary>Applies the events written since the last sync (by any process) to the index.</summary>
    public void Sync()
    {
        if (Ready is not { } ready) return;
        lock (_syncLock)
        {
            _database.Read(session =>
            {
                if (MaxEventSeq(session) == _lastEventSeq) return 0;
                var events = session.Command("SELECT seq, kind, memory_id, detail FROM events WHERE seq > @after ORDER BY seq LIMIT 100000");
                events.Parameters.AddWithValue("@after", _lastEventSeq);
                var changes = new List<(long EventSeq, string Kind, string? MemoryId, string? Detail)>();
                using (var reader = events.ExecuteReader())
                    while (reader.Read())
                        changes.Add((reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
                foreach (var (eventSeq, kind, memoryId, detail) in changes)
                {
                    if (kind is "delete" or "expire" && detail is not null && JsonNode.Parse(detail)?["seq"]?.GetValue<long>() is { } seq)
                        ready.Index.Remove(seq);
                    else if (memoryId is not null && kind is "store" or "update" or "embed" or "import"
                             && VectorStore.ReadOne(session, ready.Embedder.ModelId, memoryId) is { } found)
                        ready.Index.Upsert(found.Entry, found.Vector);
                    _lastEventSeq = eventSeq;
                }
                return 0;
            });
        }
    }

    /// <summary>Records that this process already applied its own events [first, last] to the index.</summary>
    public void Applied(long firstEventSeq, long lastEventSeq)
    {
        lock (_syncLock)
            if (firstEventSeq == _lastEventSeq + 1) _lastEventSeq = lastEventSeq;
    }

    private static long MaxEventSeq(SqliteSession session) =>
        Convert.ToInt64(session.Command("SELECT coalesce(max(seq), 0) FROM events").ExecuteScalar());
}
