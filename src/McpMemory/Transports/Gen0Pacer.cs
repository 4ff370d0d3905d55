using Microsoft.Extensions.Hosting;

namespace McpMemory.Transports;

/// <summary>
/// Keeps the garbage between two gen0 collections small. The .NET GC sizes gen0's budget from the CPU's last-level cache:
/// on a server CPU with a 260 MiB L3 that is ~130 MiB of dead objects between collections, all of it resident, about
/// 40 % of the server's RSS (issue 20's breakdown, README "Memory"). DOTNET_GCgen0size caps the budget, but only as an
/// environment variable: runtimeconfig.json has no knob for it. So a server collects gen0 itself once
/// <see cref="Budget"/> was allocated since the last collection (checked every <see cref="Interval"/>): a gen0
/// collection of a heap that is mostly dead takes well under a millisecond. Off when DOTNET_GCgen0size is set, or with
/// MCP_MEMORY_GEN0_PACER=0 (to measure the difference).
/// </summary>
internal sealed class Gen0Pacer : IHostedService, IDisposable
{
    public const long Budget = 16 << 20;
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private Timer? _timer;
    private long _allocatedAtLastCollection;
    private int _lastCollectionCount;

    public static bool Enabled =>
        Environment.GetEnvironmentVariable("MCP_MEMORY_GEN0_PACER") != "0" &&
        Environment.GetEnvironmentVariable("DOTNET_GCgen0size") is null && Environment.GetEnvironmentVariable("COMPlus_GCgen0size") is null;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Enabled) _timer = new Timer(_ => Check(), null, Interval, Interval);
        return Task.CompletedTask;
    }

    private void Check()
    {
        var allocated = GC.GetTotalAllocatedBytes(precise: false);
        var collections = GC.CollectionCount(0);
        if (collections != _lastCollectionCount)
        {
            // The GC collected on its own (or someone else did): count from there.
            _lastCollectionCount = collections;
            _allocatedAtLastCollection = allocated;
            return;
        }
        if (allocated - _allocatedAtLastCollection < Budget) return;
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        _lastCollectionCount = GC.CollectionCount(0);
        _allocatedAtLastCollection = GC.GetTotalAllocatedBytes(precise: false);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Change(Timeout.Infinite, Timeout.Infinite);
        return Task.CompletedTask;
    }

    public void Dispose() => _timer?.Dispose();
}
