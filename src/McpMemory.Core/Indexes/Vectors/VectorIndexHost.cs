using System.Runtime.CompilerServices;
using McpMemory.Core.Embeddings;

namespace McpMemory.Core.Indexes.Vectors;

/// <summary>
/// Owns the encoder and the in-memory vector index of one database. Both become ready in the background (the
/// first searches may be keyword-only, and say so). The index follows the event log (<see cref="MemoryIndexes.Sync"/>),
/// so writes made by other processes (the CLI, a second server) are picked up before the next vector search.
/// </summary>
internal sealed class VectorIndexHost
{
    private readonly IIndexSource _source;
    private readonly EmbedderProvider? _provider;
    private volatile QuantizedVectorIndex? _index;

    public VectorIndexHost(IIndexSource source, EmbedderProvider? provider)
    {
        _source = source;
        _provider = provider;
        if (provider is not null) Loading = Task.Run(Load);
    }

    /// <summary>Where the index stands in the event log.</summary>
    public EventCursor Cursor { get; } = new();

    /// <summary>Completes when the index is built (or faulted when the encoder failed to load).</summary>
    public Task Loading { get; } = Task.CompletedTask;

    public IEmbedder? Embedder => _provider?.TryGet();

    /// <summary>An encoder is configured and has not failed (it may still be loading): vectors will come.</summary>
    public bool HasEncoder => _provider is not null && Error is null;
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
        _source.DropOtherModels(embedder.ModelId);
        _index = Build(embedder);
    }

    private QuantizedVectorIndex Build(IEmbedder embedder)
    {
        var index = new QuantizedVectorIndex(embedder.Dimension);
        _source.Read(reader =>
        {
            // Events after this point are replayed by the tail (idempotently), so nothing written meanwhile is missed.
            Cursor.Last = reader.LastEventSeq();
            foreach (var (entry, vector) in reader.Vectors(embedder.ModelId)) index.Upsert(entry, vector);
            return 0;
        });
        return index;
    }

    /// <summary>The index's part in a catch-up (null until ready); <paramref name="rebuild"/> is set by a bulk import, which may carry vectors.</summary>
    public EventTail.Follower? Follower(StrongBox<bool> rebuild) => Ready is not { } ready ? null : new(Cursor, (reader, e) =>
    {
        if (e.Removes) ready.Index.Remove(e.RemovedSeq!.Value);
        else if (e.Writes || e.Embeds)
            foreach (var (entry, vector) in reader.Vectors(ready.Embedder.ModelId, e.MemoryId)) ready.Index.Upsert(entry, vector);
        else if (e.Reloads) rebuild.Value = true;
    });

    /// <summary>Builds the index again from the stored vectors (after a bulk import).</summary>
    public void Rebuild()
    {
        if (Ready is { } ready) _index = Build(ready.Embedder);
    }
}
