using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace McpMemory.Transports.Http;

/// <summary>
/// The live Streamable HTTP sessions. A session ends when its client sends DELETE, when it has been idle longer than
/// <see cref="IdleTimeout"/> (a client that vanished without DELETE), or at shutdown. At most <see cref="MaxSessions"/> live at once.
/// </summary>
public sealed class SessionStore(TimeProvider clock, ILogger<SessionStore> logger) : BackgroundService
{
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);
    public const int MaxSessions = 10_000;

    private readonly ConcurrentDictionary<string, StreamableSession> _sessions = new(StringComparer.Ordinal);

    public int Count => _sessions.Count;

    public bool TryAdd(StreamableSession session) => _sessions.Count < MaxSessions && _sessions.TryAdd(session.Id, session);

    public StreamableSession? Find(string id) => _sessions.GetValueOrDefault(id);

    /// <summary>Removes and disposes the session; false when it was already gone.</summary>
    public async Task<bool> EndAsync(string id)
    {
        if (!_sessions.TryRemove(id, out var session)) return false;
        await session.DisposeAsync();
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
                foreach (var session in _sessions.Values.Where(s => s.IsIdleFor(IdleTimeout)).ToList())
                    if (await EndAsync(session.Id))
                        logger.LogInformation("session expired after {Minutes} idle minutes", IdleTimeout.TotalMinutes);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    /// <summary>Ends every session, which also ends their open GET streams, so shutdown does not wait on them.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await Task.WhenAll(_sessions.Keys.ToList().Select(EndAsync));
    }
}
