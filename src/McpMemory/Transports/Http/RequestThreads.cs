namespace McpMemory.Transports.Http;

/// <summary>
/// Lets the thread pool start enough threads at once for a burst of concurrent sessions. A tool call holds its pool
/// thread while it waits for CPU-bound gates (ONNX Runtime's runs are limited to the core count, writes take the write
/// lock), so 32 sessions arriving together block ~30 threads; above its minimum the pool adds only a thread or two per
/// second, and calls queued behind the blocked ones waited seconds (load bench, 32 sessions paced at 100 ms, JIT build:
/// round 1 p99 2.9 s, max 10.5 s; with a floor of 64 threads p99 137 ms, max 261 ms, same machine under load).
/// Threads are only started when work is queued, so the floor costs nothing when idle.
/// </summary>
internal static class RequestThreads
{
    public const int MinimumWorkers = 64;

    public static void Reserve()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        if (workers < MinimumWorkers) ThreadPool.SetMinThreads(MinimumWorkers, io);
    }
}
