using McpMemory.Core;
using McpMemory.Core.Knowledge;
using McpMemory.Core.Memories;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace McpMemory.Transports;

/// <summary>How often the server consolidates (MCP_MEMORY_CONSOLIDATE_SECONDS, read by <see cref="Settings"/>; 0, the default, turns it off).</summary>
public sealed record ConsolidationSchedule(TimeSpan Interval)
{
    public static ConsolidationSchedule Off { get; } = new(TimeSpan.Zero);

    public bool Enabled => Interval > TimeSpan.Zero;
}

/// <summary>
/// Runs consolidation (Core/Knowledge/Consolidator) over every namespace of the database, one interval
/// after start and then each interval: memories that got in twice (stored before their vector, imported, written by
/// another process) are merged by the strict merge rule, and stale memories archived (MCP_MEMORY_ARCHIVE_AFTER_DAYS). Off unless configured.
/// </summary>
internal sealed class ConsolidationScheduleService(MemoryService memories, ConsolidationSchedule schedule, ArchivePolicy archive, ILogger<ConsolidationScheduleService> log) : BackgroundService
{
    /// <summary>The server itself, over every namespace (over HTTP the callers are per request; the schedule is no request's).</summary>
    private static readonly Caller Server = new(Namespaces.Shared, Caller.DefaultAgentId);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!schedule.Enabled) return;
        try
        {
            using var timer = new PeriodicTimer(schedule.Interval);
            while (await timer.WaitForNextTickAsync(stoppingToken)) Run();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    private void Run()
    {
        try
        {
            var report = new Consolidator(memories).Run(Server, new ConsolidateRequest { AllNamespaces = true, Archive = archive });
            if (report.Merged > 0 || report.Archived.Count > 0)
                log.LogInformation("consolidation: merged {Merged} of {Scanned} memories, archived {Archived} stale in {Ms} ms",
                    report.Merged, report.Scanned, report.Archived.Count, report.ElapsedMs);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A busy or failing run must not take the server down; the next tick tries again.
            log.LogWarning("consolidation failed, will retry in {Interval}: {Message}", schedule.Interval, e.Message);
        }
    }
}
