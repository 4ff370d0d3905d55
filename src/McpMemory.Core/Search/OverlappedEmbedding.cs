using System.Runtime.ExceptionServices;

namespace McpMemory.Core.Search;

/// <summary>
/// A query's embedding, started on a pool thread beside the search's work that does not need the vector. Whoever comes
/// first runs it: the pool thread, or the searching thread when it asks for the vector and no pool thread has started
/// it yet (a loaded machine). So a search never waits for the pool to schedule it, and is at worst as slow as embedding
/// on its own thread. Errors reach the caller as the encoder threw them.
/// </summary>
internal sealed class OverlappedEmbedding
{
    private readonly Func<float[]> _embed;
    private readonly ManualResetEventSlim _done = new();
    private int _claimed;
    private float[]? _vector;
    private ExceptionDispatchInfo? _error;

    private OverlappedEmbedding(Func<float[]> embed) => _embed = embed;

    public static OverlappedEmbedding Start(Func<float[]> embed)
    {
        var work = new OverlappedEmbedding(embed);
        ThreadPool.UnsafeQueueUserWorkItem(static w => w.Run(), work, preferLocal: false);
        return work;
    }

    /// <summary>The vector: runs the embedding here unless a pool thread has started it, then waits for it.</summary>
    public float[] Vector()
    {
        Run();
        _done.Wait();
        _error?.Throw();
        return _vector!;
    }

    /// <summary>
    /// The search no longer needs it (an error, or nothing to embed against): not started, it never runs; started, it
    /// is waited for, so no encoder call outlives the search that began it.
    /// </summary>
    public void Abandon()
    {
        if (Interlocked.Exchange(ref _claimed, 1) == 0) _done.Set();
        else _done.Wait();
    }

    private void Run()
    {
        if (Interlocked.Exchange(ref _claimed, 1) != 0) return;
        try { _vector = _embed(); }
        catch (Exception e) { _error = ExceptionDispatchInfo.Capture(e); }
        finally { _done.Set(); }
    }
}
