using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Server;

namespace McpMemory.Transports.Http;

/// <summary>
/// One Streamable HTTP session: its transport, its server and the server's run loop, the key that opened it, and enough
/// bookkeeping (requests in flight, last activity, the one GET stream) for the store to expire it when idle.
/// </summary>
public sealed class StreamableSession : IAsyncDisposable
{
    private readonly McpServer _server;
    private readonly AsyncServiceScope _scope;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private readonly TimeProvider _clock;
    private int _inFlight;
    private int _getStreamOpen;
    private long _lastActivity;
    private int _disposed;

    public string Id { get; }
    public KeyIdentity Owner { get; }
    public StreamableHttpServerTransport Transport { get; }

    public StreamableSession(string id, KeyIdentity owner, StreamableHttpServerTransport transport, SessionServers servers, TimeProvider clock)
    {
        Id = id;
        Owner = owner;
        Transport = transport;
        _clock = clock;
        _lastActivity = clock.GetTimestamp();
        (_server, _scope) = servers.Create(transport, owner);
        // The run loop must be going before the first HandlePostRequestAsync, which waits on it for the answer.
        _run = _server.RunAsync(_stop.Token);
    }

    /// <summary>Marks a request in flight until disposed of; a session with one in flight is never expired.</summary>
    public IDisposable Enter()
    {
        Interlocked.Increment(ref _inFlight);
        Touch();
        return new Exit(this);
    }

    /// <summary>The transport allows one GET stream per session; true for the request that gets it.</summary>
    public bool TryOpenGetStream() => Interlocked.Exchange(ref _getStreamOpen, 1) == 0;

    public bool IsIdleFor(TimeSpan timeout) =>
        Volatile.Read(ref _inFlight) == 0 && _clock.GetElapsedTime(Interlocked.Read(ref _lastActivity)) > timeout;

    private void Touch() => Interlocked.Exchange(ref _lastActivity, _clock.GetTimestamp());

    /// <summary>Transport first (its reader completes, so the run loop ends on its own), then the loop, server and scope.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await Transport.DisposeAsync();
        await _stop.CancelAsync();
        try { await _run; } catch (OperationCanceledException) { }
        await _server.DisposeAsync();
        await _scope.DisposeAsync();
        _stop.Dispose();
    }

    private sealed class Exit(StreamableSession session) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 1) return;
            session.Touch();
            Interlocked.Decrement(ref session._inFlight);
        }
    }
}
