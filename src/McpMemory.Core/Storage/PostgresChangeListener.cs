using Npgsql;

namespace McpMemory.Core.Storage;

/// <summary>
/// Wakes a process when another one commits to the same PostgreSQL database: every insert into the event log notifies
/// <see cref="PostgresSchema.EventsChannel"/> (a trigger, delivered on commit), and this listener, on a connection of its
/// own, calls <c>changed</c>. A notice carries nothing: the event log stays the source of truth, and <c>changed</c> reads
/// it from where this process stands. After a lost connection the listener reconnects (backing off up to 5 s) and calls
/// <c>changed</c> once, so whatever was committed while it was away is caught up from the log.
/// </summary>
internal sealed class PostgresChangeListener : IDisposable
{
    private readonly NpgsqlDataSource _source;
    private readonly Action _changed;
    private readonly CancellationTokenSource _stop = new();
    private int _disposed;
    private readonly Task _loop;

    public PostgresChangeListener(NpgsqlDataSource source, Action changed)
    {
        _source = source;
        _changed = changed;
        _loop = Task.Run(ListenAsync);
    }

    /// <summary>Connected and listening (tests wait for it before they count on a notice).</summary>
    public TaskCompletionSource Listening { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task ListenAsync()
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _source.OpenConnectionAsync(_stop.Token);
                connection.Notification += (_, _) => _changed();
                await using (var listen = connection.CreateCommand())
                {
                    listen.CommandText = $"LISTEN {PostgresSchema.EventsChannel}";
                    await listen.ExecuteNonQueryAsync(_stop.Token);
                }
                backoff = TimeSpan.FromMilliseconds(100);
                Listening.TrySetResult();
                _changed(); // whatever was committed before LISTEN took effect (or while disconnected)
                while (true) await connection.WaitAsync(_stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested) { return; }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                // The server restarted or the network dropped: searches still catch up from the log before they run.
                try { await Task.Delay(backoff, _stop.Token); }
                catch (OperationCanceledException) { return; }
                backoff = TimeSpan.FromMilliseconds(Math.Min(5000, backoff.TotalMilliseconds * 2));
            }
        }
    }

    /// <summary>Stops listening; a second call does nothing (MemoryService.Dispose may run twice, as every Dispose may).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stop.Cancel();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); }
        catch (AggregateException) { /* stopped */ }
        _stop.Dispose();
    }
}
