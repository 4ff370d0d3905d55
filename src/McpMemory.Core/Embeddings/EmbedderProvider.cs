using System.Diagnostics;

namespace McpMemory.Core.Embeddings;

/// <summary>
/// Loads an encoder in the background so that nothing waits for it: until it is ready (or if it fails),
/// memories are stored without vectors and searched by keywords, and the answer says so.
/// </summary>
public sealed class EmbedderProvider
{
    private readonly TaskCompletionSource<IEmbedder> _loading = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<IEmbedder>? _load;
    private readonly Func<string?>? _status;
    private int _started;

    private EmbedderProvider(Func<IEmbedder>? load, Func<string?>? status = null)
    {
        _load = load;
        _status = status;
    }

    /// <summary>
    /// Starts loading now, on a background thread of normal priority (one-shot commands and batch jobs wait for it).
    /// <paramref name="status"/>, if given, says what the load is waiting for (see <see cref="LoadingStatus"/>).
    /// </summary>
    public static EmbedderProvider StartLoading(Func<IEmbedder> load, Func<string?>? status = null)
    {
        var provider = new EmbedderProvider(load, status);
        provider.Start(lowPriority: false);
        return provider;
    }

    /// <summary>
    /// An encoder that loads only when <see cref="Start"/> is called: a server calls it once it has answered its first
    /// requests, so that loading the model does not compete with its startup for the cores. Until then it is not ready.
    /// </summary>
    public static EmbedderProvider Deferred(Func<IEmbedder> load, Func<string?>? status = null) => new(load, status);

    /// <summary>An encoder that is already loaded.</summary>
    public static EmbedderProvider Ready(IEmbedder embedder)
    {
        var provider = new EmbedderProvider(null) { _started = 1 };
        provider._loading.SetResult(embedder);
        return provider;
    }

    /// <summary>
    /// Starts loading, once (later calls do nothing); false if it had already started. With <paramref name="lowPriority"/>
    /// the loading thread runs at the lowest OS priority (on Linux: nice 19 for that thread only), so that requests
    /// being answered meanwhile keep the cores.
    /// </summary>
    public bool Start(bool lowPriority = true)
    {
        if (_load is null || Interlocked.Exchange(ref _started, 1) != 0) return false;
        var thread = new Thread(() =>
        {
            if (lowPriority) BackgroundPriority.LowerCurrentThread();
            var stopwatch = Stopwatch.StartNew();
            try
            {
                var embedder = _load();
                LoadTime = stopwatch.Elapsed;
                _loading.SetResult(embedder);
            }
            catch (Exception e) { _loading.SetException(e); }
        })
        { IsBackground = true, Name = "encoder load" };
        thread.Start();
        return true;
    }

    /// <summary>True once loading has been started (or the encoder was given ready).</summary>
    public bool Started => Volatile.Read(ref _started) != 0;

    /// <summary>How long the last background load took.</summary>
    public static TimeSpan? LoadTime { get; private set; }

    /// <summary>The encoder if it has finished loading, else null (never blocks).</summary>
    public IEmbedder? TryGet() => _loading.Task.IsCompletedSuccessfully ? _loading.Task.Result : null;

    /// <summary>
    /// While loading: what it waits for, when the loader says (e.g. an embeddings endpoint that has not answered yet,
    /// and its last error); null otherwise.
    /// </summary>
    public string? LoadingStatus => _loading.Task.IsCompleted ? null : _status?.Invoke();

    /// <summary>Why loading failed, if it did.</summary>
    public Exception? Error => _loading.Task.IsFaulted ? _loading.Task.Exception?.GetBaseException() : null;

    /// <summary>
    /// Waits for the encoder (for batch jobs such as reindex and eval); throws if loading failed. A deferred provider
    /// is not started by waiting: this returns once someone has called <see cref="Start"/> and the load has finished.
    /// </summary>
    public IEmbedder Wait() => _loading.Task.GetAwaiter().GetResult();
}
