using System.Runtime.InteropServices;

namespace McpMemory;

/// <summary>
/// Gives memory back to the system once a server goes quiet after work. A server's RSS after a burst of stores (say, the
/// write-behind embedding of 10,000 memories) was mostly memory it no longer used: the GC keeps the regions its
/// collections freed committed for reuse (issue 20's breakdown: 69 MiB in the GC's range against a live heap of ~20), and
/// glibc keeps what ONNX Runtime and SQLite freed in its malloc arenas. So when the process has allocated at least
/// <see cref="MinimumWork"/> since the last trim and then nothing for <see cref="QuietPeriod"/>, it runs one aggressive,
/// compacting full collection (which decommits the free regions) and malloc_trim(0) (which returns free pages of every
/// malloc arena). Both take milliseconds and run only while no request is being served; a busy server never trims.
/// Off with MCP_MEMORY_IDLE_TRIM=0 (to measure the difference).
/// </summary>
internal sealed partial class IdleMemoryTrim : IDisposable
{
    public const string Variable = "MCP_MEMORY_IDLE_TRIM";

    /// <summary>Allocation since the last trim that makes one worth it (a few stores or searches allocate less).</summary>
    public const long MinimumWork = 32L << 20;

    /// <summary>How long the process must allocate (almost) nothing before it trims.</summary>
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(2);

    internal static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(500);
    internal const long QuietAllocation = 256 << 10; // per tick: timers and the host allocate a little even when idle

    private readonly Timer? _timer;
    private long _allocatedAtTrim, _allocatedAtTick;
    private TimeSpan _quietFor;
    private int _trims;

    /// <summary>How many times it trimmed.</summary>
    public int Trims => Volatile.Read(ref _trims);

    /// <param name="allocated">The process's allocated bytes now (GC.GetTotalAllocatedBytes).</param>
    /// <param name="timer">Whether to tick on a timer (a server) or only when <see cref="Observe"/> is called (tests).</param>
    internal IdleMemoryTrim(long allocated, bool timer)
    {
        _allocatedAtTrim = _allocatedAtTick = allocated;
        if (timer) _timer = new Timer(_ => OnTick(), null, Tick, Tick);
    }

    /// <summary>Starts the trimmer for a server, unless MCP_MEMORY_IDLE_TRIM=0.</summary>
    public static IdleMemoryTrim? StartIfEnabled() =>
        Environment.GetEnvironmentVariable(Variable) == "0" ? null : new IdleMemoryTrim(GC.GetTotalAllocatedBytes(precise: false), timer: true);

    private void OnTick()
    {
        if (!Observe(GC.GetTotalAllocatedBytes(precise: false))) return;
        Trim();
        Trimmed(GC.GetTotalAllocatedBytes(precise: false));
    }

    /// <summary>One tick (every <see cref="Tick"/>): whether the process is quiet enough, after enough work, to trim now.</summary>
    internal bool Observe(long allocated)
    {
        bool quiet = allocated - _allocatedAtTick < QuietAllocation;
        _allocatedAtTick = allocated;
        _quietFor = quiet ? _quietFor + Tick : TimeSpan.Zero;
        return _quietFor >= QuietPeriod && allocated - _allocatedAtTrim >= MinimumWork;
    }

    /// <summary>Counts a trim; the work needed for the next one starts from <paramref name="allocated"/>.</summary>
    internal void Trimmed(long allocated)
    {
        _allocatedAtTrim = _allocatedAtTick = allocated;
        _quietFor = TimeSpan.Zero;
        Interlocked.Increment(ref _trims);
    }

    /// <summary>One aggressive full collection, then glibc's malloc_trim where there is one.</summary>
    public static void Trim()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (!OperatingSystem.IsLinux()) return;
        try { MallocTrim(0); }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { } // musl: no malloc_trim
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    public void Dispose() => _timer?.Dispose();
}
