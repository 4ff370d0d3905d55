using Microsoft.Extensions.Hosting;

namespace McpMemory.Transports;

/// <summary>
/// Keeps the garbage between two gen0 collections small. The .NET GC sizes gen0's budget from the CPU's last-level cache:
/// on a server CPU with a 260 MiB L3 that is ~130 MiB of dead objects between collections, all of it resident, about a
/// fifth of the server's RSS (issue 20's breakdown, README "Against the reference server"). DOTNET_GCgen0size caps the
/// budget, but only as an environment variable: runtimeconfig.json has no knob for it. So a server collects gen0 itself
/// once <see cref="Budget"/> bytes were allocated since the last collection (checked every <see cref="Interval"/>): a
/// gen0 collection of a heap that is mostly dead takes well under a millisecond. Off when DOTNET_GCgen0size is set, or
/// with MCP_MEMORY_GEN0_PACER=0; MCP_MEMORY_GEN0_PACER=N sets the budget to N MiB (both to measure the difference).
/// </summary>
internal sealed class Gen0Pacer(long budget) : IHostedService, IDisposable
{
    /// <summary>
    /// RSS after 1,000 stores over stdio, one session, interleaved runs: no pacer 288 MiB, 16 MiB 233-241, 8 MiB 228-231,
    /// 4 MiB 222-223. Under concurrent HTTP load (8 sessions), 4 MiB saved only 3-8 MiB more than 16 and cost more server
    /// CPU per call in all three runs (5.96-7.07 ms against 5.72-6.74; no pacer 4.82-5.75), so 16.
    /// </summary>
    public const int DefaultBudgetMiB = 16;
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private static readonly string? Setting = Environment.GetEnvironmentVariable("MCP_MEMORY_GEN0_PACER");

    private Timer? _timer;
    private long _allocatedAtLastCollection = GC.GetTotalAllocatedBytes(precise: false);
    private int _lastCollectionCount = GC.CollectionCount(0);

    public Gen0Pacer() : this((int.TryParse(Setting, out var mib) && mib > 0 ? mib : DefaultBudgetMiB) * 1024L * 1024) { }

    public long Budget => budget;

    public static bool Enabled =>
        Setting != "0" &&
        Environment.GetEnvironmentVariable("DOTNET_GCgen0size") is null && Environment.GetEnvironmentVariable("COMPlus_GCgen0size") is null;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Enabled) _timer = new Timer(_ => Check(), null, Interval, Interval);
        return Task.CompletedTask;
    }

    /// <summary>Collects gen0 when the budget was allocated since the last collection; true when it did.</summary>
    internal bool Check()
    {
        var allocated = GC.GetTotalAllocatedBytes(precise: false);
        var collections = GC.CollectionCount(0);
        if (collections != _lastCollectionCount)
        {
            // The GC collected on its own (or someone else did): count from there.
            _lastCollectionCount = collections;
            _allocatedAtLastCollection = allocated;
            return false;
        }
        if (allocated - _allocatedAtLastCollection < budget) return false;
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        _lastCollectionCount = GC.CollectionCount(0);
        _allocatedAtLastCollection = GC.GetTotalAllocatedBytes(precise: false);
        return true;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Change(Timeout.Infinite, Timeout.Infinite);
        return Task.CompletedTask;
    }

    public void Dispose() => _timer?.Dispose();
}
