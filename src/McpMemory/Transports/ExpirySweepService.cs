using McpMemory.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace McpMemory.Transports;

/// <summary>How often the server purges expired memories (MCP_MEMORY_EXPIRY_SWEEP_SECONDS, read by <see cref="Settings"/>; 0 turns it off).</summary>
public sealed record ExpirySweepOptions(TimeSpan FirstSweepAfter, TimeSpan Interval)
{
    public static ExpirySweepOptions Default { get; } = new(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10));

    public bool Enabled => Interval > TimeSpan.Zero;
}

/// <summary>
/// Deletes memories past their expires_at in the background, shortly after start and then periodically. Reads
/// already hide expired memories; the sweep reclaims their rows, FTS entries and vectors off the request path.
/// </summary>
internal sealed class ExpirySweepService(MemoryService memories, ExpirySweepOptions options, ILogger<ExpirySweepService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Enabled) return;
        try
        {
            await Task.Delay(options.FirstSweepAfter, stoppingToken);
            using var timer = new PeriodicTimer(options.Interval);
            do Sweep();
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    private void Sweep()
    {
        try
        {
            var purged = memories.PurgeExpired();
            if (purged > 0) log.LogInformation("expiry sweep: deleted {Count} expired memories", purged);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A busy or failing sweep must not take the server down; the next tick tries again.
            log.LogWarning("expiry sweep failed, will retry in {Interval}: {Message}", options.Interval, e.Message);
        }
    }
}
