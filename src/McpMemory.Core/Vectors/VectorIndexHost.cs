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
    private readonly EventTail _events;
    private volatile QuantizedVectorIndex? _index;

    public VectorIndexHost(MemoryDatabase database, EmbedderProvider? provider)
    {
        _database = database;
        _provider = provider;
        _events = new EventTail(database);
        if (provider is not null) Loading = Task.Run(Load);
    }

    /// <summary>Completes when the index is built (or faulted when the encoder failed to load).</summary>
    public Task Loading { get; } = Task.CompletedTask;

    public IEmbedder? Embedder => _provider?.TryGet();
    public Exception? Error => _provider?.Error ?? Loading.Exception?.GetBaseException();

    /// <summary>Why vector search is not available now (loading, or failed), in words; null when it is, or when there is no encoder.</summary>
    public string? Unavailable => _provider is null || Ready is not null ? null
        : Error is { } e ? $"the encoder failed to load ({e.Message})"
        : _provider.LoadingStatus ?? "the encoder is still loading";

    /// <summary>The encoder and the index when both are ready, else null.</summary>
    public (IEmbedder Embedder, QuantizedVectorIndex Index)? Ready =>
        _index is { } index && Embedder is { } embedder ? (embedder, index) : null;

    private void Load()
    {
        var embedder = _provider!.Wait();
        _database.Write((session, tx) => VectorStore.DropOtherModels(session, tx, embedder.ModelId));
        _index = Build(embedder);
    }

    private QuantizedVectorIndex Build(IEmbedder embedder)
    {
        var index = new QuantizedVectorIndex(embedder.Dimension);
        _database.Read(session =>
        {
            // Events after this point are replayed by Sync (idempotently), so nothing written meanwhile is missed.
            _events.StartAtEnd(session);
            foreach (var (entry, vector) in VectorStore.ReadAll(session, embedder.ModelId)) index.Upsert(entry, vector);
            return 0;
        });
        return index;
    }

    /// <summary>Applies the events written since the last sync (by any process) to the index.</summary>
    public void Sync()
    {
        if (Ready is not { } ready) return;
        var rebuild = false;
        _events.CatchUp((session, e) =>
        {
            if (e.Removes) ready.Index.Remove(e.RemovedSeq!.Value);
            else if ((e.Writes || e.Embeds) && VectorStore.ReadOne(session, ready.Embedder.ModelId, e.MemoryId!) is { } found)
                ready.Index.Upsert(found.Entry, found.Vector);
            else if (e.Reloads) rebuild = true; // a bulk import, which may carry vectors
        });
        if (rebuild) _index = Build(ready.Embedder);
    }

    /// <summary>Records that this process already applied its own events [first, last] to the index.</summary>
    public void Applied(long firstEventSeq, long lastEventSeq) => _events.Applied(firstEventSeq, lastEventSeq);
}
