using System.Collections.Concurrent;
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
    /// <summary>How long a statement waits for another connection's lock before giving up.</summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(30);

    private readonly string _connectionString;
    private readonly ConcurrentBag<SqliteSession> _readers = [];
    private readonly SqliteSession _writer;
    private readonly Lock _writeLock = new();
    private bool _disposed;

    public string Path { get; }
    public int SchemaVersion { get; }

    private MemoryDatabase(string path)
    {
        Path = path;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false, // sessions are pooled here, with their prepared statements
            DefaultTimeout = (int)BusyTimeout.TotalSeconds,
        }.ToString();
        _writer = OpenSession(checkVersion: true);
        SchemaVersion = Migrator.Migrate(_writer, path);
    }

    /// <summary>Opens (creating if needed) the database at <paramref name="path"/> and brings its schema up to date.</summary>
    public static MemoryDatabase Open(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        return new MemoryDatabase(full);
    }

    /// <summary>Runs <paramref name="read"/> on a pooled session (WAL: readers never block the writer).</summary>
    internal T Read<T>(Func<SqliteSession, T> read)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var session = _readers.TryTake(out var pooled) ? pooled : OpenSession();
        try { return read(session); }
        finally { _readers.Add(session); }
    }

    /// <summary>Runs <paramref name="write"/> in one immediate transaction: all of it is committed, or none.</summary>
    internal T Write<T>(Func<SqliteSession, SqliteTransaction, T> write)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_writeLock)
        {
            using var transaction = _writer.Connection.BeginTransaction(deferred: false);
            var result = write(_writer, transaction);
            transaction.Commit();
            return result;
        }
    }

    private SqliteSession OpenSession(bool checkVersion = false)
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // Before any pragma: switching to WAL rewrites the header of a file we may have to leave untouched.
        if (checkVersion) Migrator.RefuseNewerSchema(connection, Path);
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = $"""
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = FULL;
                PRAGMA busy_timeout = {(int)BusyTimeout.TotalMilliseconds};
                PRAGMA temp_store = MEMORY;
                """;
            pragma.ExecuteNonQuery();
        }
        return new SqliteSession(connection);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (_writeLock) _writer.Dispose();
        while (_readers.TryTake(out var session)) session.Dispose();
    }
}
