using System.Collections.Concurrent;
using McpMemory.Core.Memories;
using Microsoft.Data.Sqlite;

namespace McpMemory.Core.Storage;

/// <summary>
/// The SQLite file: opened in WAL mode with full fsync on commit (an acknowledged write survives a crash or
/// power loss), migrated forward on open, and shared by readers (a pool of sessions) and one writer at a time
/// in this process. Other processes may use the same file: writes take the lock up front (BEGIN IMMEDIATE)
/// and wait for it (busy timeout) instead of failing.
/// </summary>
public sealed class MemoryDatabase : IDisposable
{
    /// <summary>How long a statement waits for another connection's lock before giving up (the default).</summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(30);

    private readonly TimeSpan _busyTimeout;

    private readonly string _connectionString;
    private readonly ConcurrentBag<SqliteSession> _readers = [];
    private readonly SqliteSession _writer;
    private readonly Lock _writeLock = new();
    private volatile bool _disposed;

    public string Path { get; }
    public int SchemaVersion { get; }

    private MemoryDatabase(string path, TimeSpan busyTimeout)
    {
        Path = path;
        _busyTimeout = busyTimeout;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false, // sessions are pooled here, with their prepared statements
            DefaultTimeout = Math.Max(1, (int)busyTimeout.TotalSeconds),
        }.ToString();
        _writer = OpenSession(checkVersion: true);
        try { SchemaVersion = Migrator.Migrate(_writer, path); }
        catch
        {
            _writer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens (creating the file if needed, never its folder) the database at <paramref name="path"/> and brings its
    /// schema up to date. A folder, a missing folder, or a file SQLite cannot use is a <see cref="MemoryFileException"/>.
    /// </summary>
    public static MemoryDatabase Open(string path) => Open(path, BusyTimeout);

    /// <summary>As <see cref="Open(string)"/>, with another busy timeout (tests use a short one to reach the retry limit).</summary>
    internal static MemoryDatabase Open(string path, TimeSpan busyTimeout)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new MemoryFileException($"database {full} is a folder, not a database file");
        var directory = System.IO.Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory))
            throw new MemoryFileException($"database {full}: folder {directory} does not exist; create it first");
        try { return new MemoryDatabase(full, busyTimeout); }
        catch (SqliteException e) when (!IsBusy(e)) { throw Unusable(full, e); }
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

    /// <summary>
    /// Runs <paramref name="read"/> on a pooled session (WAL: readers never block the writer). A read with side
    /// effects outside the database (an export writing to a stream) passes <paramref name="retryWhenBusy"/> = false,
    /// since running it twice would repeat them.
    /// </summary>
    internal T Read<T>(Func<SqliteSession, T> read, bool retryWhenBusy = true)
    {
        T Attempt()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var session = _readers.TryTake(out var pooled) ? pooled : OpenSession();
            try { return read(session); }
            finally
            {
                _readers.Add(session);
                // A read in flight while Dispose emptied the pool (a background index build) closes what is left: no
                // connection outlives Dispose, so SQLite removes -wal and -shm and the file stands alone.
                if (_disposed) while (_readers.TryTake(out var left)) left.Dispose();
            }
        }
        return retryWhenBusy ? RetryWhenBusy(Attempt) : Attempt();
    }

    /// <summary>Runs <paramref name="write"/> in one immediate transaction: all of it is committed, or none.</summary>
    internal T Write<T>(Func<SqliteSession, SqliteTransaction, T> write) => RetryWhenBusy(() =>
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_writeLock)
        {
            using var transaction = _writer.Connection.BeginTransaction(deferred: false);
            var result = write(_writer, transaction);
            transaction.Commit();
            return result;
        }
    });

    /// <summary>
    /// The busy timeout already waits for another process's lock; this bounded retry covers what it cannot
    /// (a lock held past the timeout, SQLITE_BUSY during WAL recovery). A failed attempt was rolled back whole,
    /// so running it again is safe. When the retries run out the caller gets a clear error, not a raw SQLite one.
    /// </summary>
    private T RetryWhenBusy<T>(Func<T> attempt)
    {
        for (var tries = 1; ; tries++)
        {
            try { return attempt(); }
            catch (SqliteException e) when (IsBusy(e) && tries < BusyRetries)
            {
                Thread.Sleep(TimeSpan.FromMilliseconds(50 * tries + Random.Shared.Next(50)));
            }
            catch (SqliteException e) when (IsBusy(e))
            {
                throw new MemoryBusyException(
                    $"database: another process has held the lock on the database for over {_busyTimeout.TotalSeconds * BusyRetries:0.#} s; nothing was written, try again");
            }
        }
    }

    private const int BusyRetries = 3;

    internal static bool IsBusy(SqliteException e) => e.SqliteErrorCode is 5 or 6; // SQLITE_BUSY, SQLITE_LOCKED

    private SqliteSession OpenSession(bool checkVersion = false)
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // Before any pragma: switching to WAL rewrites the header of a file we may have to leave untouched.
        if (checkVersion) Migrator.RefuseNewerSchema(connection, Path);
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = $"""
                PRAGMA busy_timeout = {(int)_busyTimeout.TotalMilliseconds};
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = FULL;
                PRAGMA temp_store = MEMORY;
                """;
            pragma.ExecuteNonQuery();
        }
        return new SqliteSession(connection);
    }

    /// <summary>
    /// Closes every connection. The WAL is checkpointed and truncated first, so a clean exit leaves the data in the
    /// main file (and SQLite removes -wal and -shm when the last connection anywhere closes).
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        while (_readers.TryTake(out var session)) session.Dispose();
        lock (_writeLock)
        {
            Checkpoint();
            _writer.Dispose();
        }
    }

    /// <summary>
    /// PRAGMA wal_checkpoint(TRUNCATE) without waiting: another process reading or writing makes it a no-op (it
    /// checkpoints itself when it closes), never a delay of the shutdown.
    /// </summary>
    private void Checkpoint()
    {
        try
        {
            using var command = _writer.Connection.CreateCommand();
            command.CommandText = "PRAGMA busy_timeout = 0; PRAGMA wal_checkpoint(TRUNCATE);";
            command.CommandTimeout = 1; // Microsoft.Data.Sqlite retries BUSY until this runs out (0 would mean forever)
            command.ExecuteNonQuery();
        }
        catch (SqliteException) { /* best effort: the WAL is valid as it is */ }
    }
}
