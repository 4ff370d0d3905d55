using System.Diagnostics;

namespace McpMemory.Core.Embeddings;

/// <summary>
/// Loads an encoder in the background so that nothing waits for it: until it is ready (or if it fails),
/// memories are stored without vectors and searched by keywords, and the answer says so.
/// </summary>
public sealed class EmbedderProvider
{
    private readonly Task<IEmbedder> _loading;

    private EmbedderProvider(Task<IEmbedder> loading) => _loading = loading;

    /// <summary>Starts loading now, on the thread pool.</summary>
    public static EmbedderProvider StartLoading(Func<IEmbedder> load)
    {
        var stopwatch = Stopwatch.StartNew();
        return new EmbedderProvider(Task.Run(() =>
        {
            var embedder = load();
            LoadTime = stopwatch.Elapsed;
            return embedder;
        }));
    }

    /// <summary>An encoder that is already loaded.</summary>
    public static EmbedderProvider Ready(IEmbedder embedder) => new(Task.FromResult(embedder));

    /// <summary>How long the last background load took.</summary>
    public static TimeSpan? LoadTime { get; private set; }

    /// <summary>The encoder if it has finished loading, else null (never blocks).</summary>
    public IEmbedder? TryGet() => _loading.IsCompletedSuccessfully ? _loading.Result : null;

    /// <summary>Why loading failed, if it did.</summary>
    public Exception? Error => _loading.IsFaulted ? _loading.Exception?.GetBaseException() : null;

    /// <summary>Waits for the encoder (for batch jobs such as reindex and eval); throws if loading failed.</summary>
    public IEmbedder Wait() => _loading.GetAwaiter().GetResult();
}
