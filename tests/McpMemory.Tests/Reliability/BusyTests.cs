using System.Diagnostics;
using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Memories;
using McpMemory.Core.Storage;
using McpMemory.Tests.Support;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xunit;
using static McpMemory.Tests.Reliability.ReliabilityChecks;

namespace McpMemory.Tests.Reliability;

/// <summary>
/// Another process holding the write lock: a write waits for it (busy timeout), retries a bounded number of times,
/// and only then fails with a clear error. Raw SQLite "database is locked" (or PostgreSQL's lock timeout on the advisory
/// write lock) never reaches the caller. A short busy
/// timeout stands in for the default 30 s so that the limit is reached in seconds.
/// </summary>
public class BusyTests
{
    private static readonly TimeSpan ShortBusyTimeout = TimeSpan.FromMilliseconds(200);

    /// <summary>Another connection holding the write lock: SQLite's BEGIN IMMEDIATE, or PostgreSQL's advisory write lock.</summary>
    private static System.Data.Common.DbConnection HoldWriteLock(string path)
    {
        System.Data.Common.DbConnection holder = DatabaseTarget.IsPostgres(path)
            ? new NpgsqlConnection(Unpooled(path))
            : new SqliteConnection($"Data Source={path};Pooling=False");
        holder.Open();
        using var begin = holder.CreateCommand();
        begin.CommandText = holder is NpgsqlConnection ? $"SELECT pg_advisory_lock({PostgresEngine.WriteLockKey})" : "BEGIN IMMEDIATE";
        begin.ExecuteNonQuery();
        return holder;
    }

    [Theory, BothBackends]
    public async Task A_write_waits_for_a_lock_that_is_released_in_time(Backend backend)
    {
        using var database = new TestDatabase(backend);
        var path = database.Db;
        using var service = new MemoryService(MemoryDatabase.Open(path, ShortBusyTimeout));
        var holder = HoldWriteLock(path);
        var release = Task.Run(async () => { await Task.Delay(300); holder.Dispose(); });

        var stored = service.Store(new Caller("shared", "a"), new NewMemory { Content = "written once the lock was free" });
        await release;
        service.Get(new Caller("shared", "a"), stored.MemoryId).Content.Should().Be("written once the lock was free");
    }

    [Theory, BothBackends]
    public void A_lock_held_past_the_retries_gives_a_clear_error_and_writes_nothing(Backend backend)
    {
        using var database = new TestDatabase(backend);
        var path = database.Db;
        using var service = new MemoryService(MemoryDatabase.Open(path, ShortBusyTimeout));
        using (HoldWriteLock(path))
        {
            var clock = Stopwatch.StartNew();
            service.Invoking(s => s.Store(new Caller("shared", "a"), new NewMemory { Content = "cannot be written" }))
                .Should().Throw<MemoryBusyException>()
                .WithMessage("database: another process has held the lock on the database for over *; nothing was written, try again");
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(20), "the retries are bounded");
        }
        service.Stats().Memories.Should().Be(0);
    }
}
