using System.Collections.Concurrent;
using System.Data.Common;
using McpMemory.Core.Memories;
using Microsoft.Data.Sqlite;

namespace McpMemory.Core.Storage;

/// <summary>
/// The database behind the engine: a SQLite file (the default) or a PostgreSQL database (<c>--db postgres://…</c>, see
/// <see cref="DatabaseTarget"/>), migrated forward on open, and shared by readers (a pool of sessions) and one writer at
/// a time in this process. Other processes may use the same database: every write transaction takes the database-wide
/// write lock first (<see cref="StorageEngine.BeginWrite"/>), so writes from all processes are serialised.
/// </summary>
public sealed class MemoryDatabase : IDisposable
{
    /// <summary>How long a statement waits for another connection's lock before giving up (the default).</summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(30);

    private readonly TimeSpan _busyTimeout;
    private readonly StorageEngine _engine;
    private readonly ConcurrentBag<DbSession> _readers = [];
    private DbSession _writer;
    private readonly Lock _writeLock = new();
    private volatile bool _disposed;

    /// <summary>The file's full path, or the PostgreSQL URL with its password masked.</summary>
    public string Path => _engine.Display;

    /// <summary>True for a PostgreSQL database (a server, not a file: backup, restore and verify do not apply).</summary>
    public bool IsServer => _engine.IsServer;

    /// <summary>"sqlite" or "postgresql".</summary>
    public string Backend => _engine.IsServer ? "postgresql" : "sqlite";

    public int SchemaVersion { get; }

    internal StorageEngine Engine => _engine;

    /// <summary>See <see cref="StorageEngine.WatchChanges"/>.</summary>
    internal IDisposable? WatchChanges(Action changed) => _engine.WatchChanges(changed);

    private MemoryDatabase(StorageEngine engine, TimeSpan busyTimeout)
    {
        _engine = engine;
        _busyTimeout = busyTimeout;
        _writer = engine.OpenSession(first: true);
        try { SchemaVersion = engine.Migrate(_writer); }
        catch
        {
            _writer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the database <paramref name="path"/> names and brings its schema up to date: a PostgreSQL URL or connection
    /// string (<see cref="DatabaseTarget.IsPostgres"/>), else a SQLite file, created if needed (never its folder). A
    /// folder, a missing folder, a file SQLite cannot use or a server that cannot be reached is a
    /// <see cref="MemoryFileException"/> that says so in one line.
    /// </summary>
    public static MemoryDatabase Open(string path) => Open(path, BusyTimeout);

    /// <summary>As <see cref="Open(string)"/>, with another busy timeout (tests use a short one to reach the retry limit).</summary>
    internal static MemoryDatabase Open(string path, TimeSpan busyTimeout)
    {
        StorageEngine engine = DatabaseTarget.IsPostgres(path)
            ? PostgresEngine.Create(path, busyTimeout)
            : new SqliteEngine(FileToOpen(path), busyTimeout);
        try { return new MemoryDatabase(engine, busyTimeout); }
        catch (Exception e) when (engine.Explain(e) is { } explained)
        {
            engine.Dispose();
            throw explained;
        }
        catch
        {
            engine.Dispose();
            throw;
        }
    }

    /// <summary>The full path of a SQLite file to open or create; a folder, or a file in a missing folder, is refused.</summary>
    private static string FileToOpen(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new MemoryFileException($"database {full} is a folder, not a database file");
        var directory = System.IO.Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
            throw new MemoryFileException($"database {full}: folder {directory} does not exist; create it first");
        return full;
    }

    /// <summary>
    /// A SQLite error that says the file itself is unusable (not a database, damaged, unreadable), as one line that
    /// says what to do about it.
    /// </summary>
    public static MemoryFileException Unusable(string path, SqliteException e) => new(e.SqliteErrorCode switch
    {
        26 => $"database {path} is not an SQLite database (SQLite: file is not a database); check --db, or restore a backup: mcp-memory restore BACKUP --db {path}",
        11 => $"database {path} is damaged (SQLite: database disk image is malformed); run mcp-memory verify, or restore a backup: mcp-memory restore BACKUP --db {path}",
        _ => $"database {path}: {e.Message}",
    });

    /// <summary>An error of this database's engine as the one line a user reads (null: not an engine error worth explaining).</summary>
    public MemoryFileException? Explain(Exception e) => _engine.Explain(e);

    /// <summary>
    /// Runs <paramref name="read"/> on a pooled session (readers never block the writer). A read with side
    /// effects outside the database (an export writing to a stream) passes <paramref name="retryWhenBusy"/> = false,
    /// since running it twice would repeat them.
    /// </summary>
    internal T Read<T>(Func<DbSession, T> read, bool retryWhenBusy = true)
    {
        T Attempt()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var session = TakeReader();
            try { return read(session); }
            finally
            {
                // A broken connection (a PostgreSQL server restart) is not pooled again: the next read opens a new one.
                if (session.IsOpen) _readers.Add(session);
                else session.Dispose();
                // A read in flight while Dispose emptied the pool (a background index build) closes what is left: no
                // connection outlives Dispose, so SQLite removes -wal and -shm and the file stands alone.
                if (_disposed) while (_readers.TryTake(out var left)) left.Dispose();
            }
        }
        return retryWhenBusy ? RetryWhenBusy(Attempt, retryLostConnection: true) : Attempt();
    }

    private DbSession TakeReader()
    {
        while (_readers.TryTake(out var pooled))
        {
            if (pooled.IsOpen) return pooled;
            pooled.Dispose();
        }
        return _engine.OpenSession();
    }

    /// <summary>Runs <paramref name="write"/> in one write transaction holding the write lock: all of it is committed, or none.</summary>
    internal T Write<T>(Func<DbSession, DbTransaction, T> write) => RetryWhenBusy(() =>
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_writeLock)
        {
            if (!_writer.IsOpen)
            {
                // The server dropped the connection since the last write (nothing is in flight now): start a new one.
                _writer.Dispose();
                _writer = _engine.OpenSession();
            }
            using var transaction = _engine.BeginWrite(_writer);
            var result = write(_writer, transaction);
            transaction.Commit();
            return result;
        }
    }, retryLostConnection: false);

    /// <summary>
    /// The busy timeout already waits for another process's lock; this bounded retry covers what it cannot
    /// (a lock held past the timeout, SQLITE_BUSY during WAL recovery, a PostgreSQL lock timeout). A failed attempt was
    /// rolled back whole, so running it again is safe. When the retries run out the caller gets a clear error, not a raw
    /// one. A read may also run again after a lost connection; a write may not (its commit may have reached the server).
    /// </summary>
    private T RetryWhenBusy<T>(Func<T> attempt, bool retryLostConnection)
    {
        for (var tries = 1; ; tries++)
        {
            try { return attempt(); }
            catch (Exception e) when ((_engine.IsBusy(e) || (retryLostConnection && _engine.IsConnectionLost(e))) && tries < BusyRetries)
            {
                Thread.Sleep(TimeSpan.FromMilliseconds(50 * tries + Random.Shared.Next(50)));
            }
            catch (Exception e) when (_engine.IsBusy(e))
            {
                throw new MemoryBusyException(
                    $"database: another process has held the lock on the database for over {_busyTimeout.TotalSeconds * BusyRetries:0.#} s; nothing was written, try again");
            }
        }
    }

    private const int BusyRetries = 3;

    internal static bool IsBusy(SqliteException e) => e.SqliteErrorCode is 5 or 6; // SQLITE_BUSY, SQLITE_LOCKED

    /// <summary>
    /// Closes every connection. SQLite's WAL is checkpointed and truncated first, so a clean exit leaves the data in the
    /// main file (and SQLite removes -wal and -shm when the last connection anywhere closes).
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        while (_readers.TryTake(out var session)) session.Dispose();
        lock (_writeLock)
        {
            if (_writer.IsOpen) _engine.Closing(_writer);
            _writer.Dispose();
        }
        _engine.Dispose();
    }
}
