using System.Data.Common;
using McpMemory.Core.Memories;
using Microsoft.Data.Sqlite;

namespace McpMemory.Core.Storage;

/// <summary>
/// The embedded engine: one SQLite file in WAL mode with full fsync on commit (an acknowledged write survives a crash or
/// power loss). Other processes may use the same file: writes take the lock up front (BEGIN IMMEDIATE) and wait for it
/// (busy timeout) instead of failing.
/// </summary>
internal sealed class SqliteEngine : StorageEngine
{
    private readonly string _path;
    private readonly TimeSpan _busyTimeout;
    private readonly string _connectionString;

    public SqliteEngine(string path, TimeSpan busyTimeout)
    {
        _path = path;
        _busyTimeout = busyTimeout;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false, // sessions are pooled by MemoryDatabase, with their prepared statements
            DefaultTimeout = Math.Max(1, (int)busyTimeout.TotalSeconds),
        }.ToString();
    }

    public override string Display => _path;
    public override bool IsServer => false;

    public override DbSession OpenSession(bool first = false)
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // Before any pragma: switching to WAL rewrites the header of a file we may have to leave untouched.
        if (first) Migrator.RefuseNewerSchema(connection, _path);
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
        return new DbSession(connection);
    }

    public override int Migrate(DbSession session) => Migrator.Migrate(session, _path);

    public override DbTransaction BeginWrite(DbSession session) => ((SqliteConnection)session.Connection).BeginTransaction(deferred: false);

    public override DbTransaction BeginSnapshot(DbSession session) => ((SqliteConnection)session.Connection).BeginTransaction(deferred: true);

    public override bool IsBusy(Exception e) => e is SqliteException s && MemoryDatabase.IsBusy(s);

    public override MemoryFileException? Explain(Exception e) =>
        e is SqliteException s && !MemoryDatabase.IsBusy(s) ? MemoryDatabase.Unusable(_path, s) : null;

    /// <summary>
    /// PRAGMA wal_checkpoint(TRUNCATE) without waiting: another process reading or writing makes it a no-op (it
    /// checkpoints itself when it closes), never a delay of the shutdown. A clean exit leaves the data in the main file.
    /// </summary>
    public override void Closing(DbSession writer)
    {
        try
        {
            using var command = writer.Connection.CreateCommand();
            command.CommandText = "PRAGMA busy_timeout = 0; PRAGMA wal_checkpoint(TRUNCATE);";
            command.CommandTimeout = 1; // Microsoft.Data.Sqlite retries BUSY until this runs out (0 would mean forever)
            command.ExecuteNonQuery();
        }
        catch (SqliteException) { /* best effort: the WAL is valid as it is */ }
    }

    public override string ListOf(string parameter, bool numbers = false) => $"SELECT value FROM json_each({parameter})";

    public override string SizeSql => "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()";

    public override string Position(string haystack, string needle) => $"instr({haystack}, {needle})";

    public override string LikeInsensitive => "LIKE";

    public override string JsonText(string column, string key) =>
        $"CASE WHEN json_valid({column}) THEN json_extract({column}, '$.{key}') END";

    public override string IndexedBy(string index) => $"INDEXED BY {index}";
}
