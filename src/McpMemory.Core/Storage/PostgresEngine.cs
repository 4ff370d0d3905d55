using System.Data;
using System.Data.Common;
using System.Net.Sockets;
using McpMemory.Core.Memories;
using Npgsql;

namespace McpMemory.Core.Storage;

/// <summary>
/// The shared engine: one PostgreSQL database behind any number of server instances. Sessions come from an Npgsql data
/// source (the slim, trim- and AOT-friendly builder: only plain types cross the wire; JSON stays text, lists are bound as
/// JSON text and cast in SQL). Every session commits synchronously (an acknowledged write is on the server's disk).
/// </summary>
internal sealed class PostgresEngine : StorageEngine
{
    /// <summary>
    /// The key of the transaction-scoped advisory lock every write transaction takes first (<see cref="BeginWrite"/>).
    /// Why: every process's in-memory indexes follow the event log by "events after the last seq I applied". Identity
    /// values are handed out when a row is inserted, not when its transaction commits, so with two writers at once
    /// seq 11 could commit after seq 12: a follower that read up to 12 would skip 11 forever. Holding one lock from the
    /// first statement to the commit makes seqs commit in order, the same contract as SQLite's BEGIN IMMEDIATE (one
    /// writer at a time), and also makes each write's read-then-write (compare-and-set, merges) atomic across instances.
    /// The lock is per database, so databases on one server do not wait for each other.
    /// </summary>
    internal const long WriteLockKey = 0x6d63_706d_656d; // "mcpmem"

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _display;
    private readonly TimeSpan _busyTimeout;
    private readonly string _host;

    private PostgresEngine(NpgsqlDataSource dataSource, string display, string host, TimeSpan busyTimeout)
    {
        _dataSource = dataSource;
        _display = display;
        _host = host;
        _busyTimeout = busyTimeout;
    }

    public static PostgresEngine Create(string target, TimeSpan busyTimeout)
    {
        var builder = DatabaseTarget.ConnectionString(target);
        builder.ApplicationName ??= "mcp-memory";
        // Npgsql prepares a statement on the server once it has run twice on a connection: the sessions reuse their
        // commands, so the hot queries run prepared, as they do on SQLite.
        if (builder.MaxAutoPrepare == 0) builder.MaxAutoPrepare = 128;
        builder.AutoPrepareMinUsages = 2;
        var source = new NpgsqlSlimDataSourceBuilder(builder.ConnectionString).EnableTransportSecurity().Build();
        return new PostgresEngine(source, DatabaseTarget.Masked(target), $"{builder.Host}:{builder.Port}", busyTimeout);
    }

    public override string Display => _display;
    public override bool IsServer => true;

    internal NpgsqlDataSource DataSource => _dataSource;

    public override DbSession OpenSession(bool first = false)
    {
        var connection = _dataSource.OpenConnection();
        try
        {
            if (first) RefuseNewerSchema(connection);
            using var set = connection.CreateCommand();
            // Durable acknowledgements whatever the server's default; a lock wait longer than the busy timeout fails
            // (55P03), and the bounded retry in MemoryDatabase turns that into a clear "busy" error.
            set.CommandText = $"SET synchronous_commit = on; SET lock_timeout = {(long)_busyTimeout.TotalMilliseconds}";
            set.ExecuteNonQuery();
            return new DbSession(connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public override DbTransaction BeginWrite(DbSession session)
    {
        var transaction = ((NpgsqlConnection)session.Connection).BeginTransaction(IsolationLevel.ReadCommitted);
        try
        {
            session.Execute($"SELECT pg_advisory_xact_lock({WriteLockKey})", transaction);
            return transaction;
        }
        catch
        {
            transaction.Dispose();
            throw;
        }
    }

    public override DbTransaction BeginSnapshot(DbSession session) =>
        ((NpgsqlConnection)session.Connection).BeginTransaction(IsolationLevel.RepeatableRead);

    /// <summary>Serialization failure, deadlock, lock timeout: the attempt was rolled back and may run again.</summary>
    public override bool IsBusy(Exception e) => e is PostgresException { SqlState: "40001" or "40P01" or "55P03" };

    public override bool IsConnectionLost(Exception e) =>
        e is NpgsqlException { IsTransient: true } and not PostgresException || e is PostgresException { SqlState: "57P01" or "57P02" or "57P03" };

    /// <summary>
    /// Applies <see cref="PostgresSchema.Migrations"/> in order, each in its own transaction under the write lock (so two
    /// servers starting at once migrate once). The version lives in schema_version.
    /// </summary>
    public override int Migrate(DbSession session)
    {
        var migrations = PostgresSchema.Migrations;
        for (var next = 1; next <= migrations.Count; next++)
        {
            using var transaction = BeginWrite(session);
            session.Execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)", transaction);
            var current = Convert.ToInt32(session.Command("SELECT coalesce(max(version), 0) FROM schema_version", transaction).ExecuteScalar());
            if (current >= next)
            {
                transaction.Commit();
                if (current >= migrations.Count) return current;
                continue;
            }
            using (var command = session.Connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = migrations[next - 1];
                command.ExecuteNonQuery();
            }
            session.Execute("DELETE FROM schema_version", transaction);
            session.Execute($"INSERT INTO schema_version (version) VALUES ({next})", transaction);
            transaction.Commit();
        }
        return migrations.Count;
    }

    private void RefuseNewerSchema(NpgsqlConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT to_regclass('schema_version') IS NOT NULL";
        if (command.ExecuteScalar() is not true) return;
        command.CommandText = "SELECT coalesce(max(version), 0) FROM schema_version";
        var version = Convert.ToInt32(command.ExecuteScalar());
        if (version > PostgresSchema.CurrentVersion) throw new SchemaTooNewException(_display, version, PostgresSchema.CurrentVersion);
    }

    /// <summary>Why a server could not be used, in one line that names --db (password masked) and what to do.</summary>
    public override MemoryFileException? Explain(Exception e) => e switch
    {
        PostgresException { SqlState: "28P01" or "28000" } p =>
            new($"database {_display}: the server refused the login ({p.MessageText}); check the user and password in --db (or ${{MCP_MEMORY_DB}}) and the server's pg_hba.conf"),
        PostgresException { SqlState: "3D000" } =>
            new($"database {_display}: the database does not exist on the server at {_host}; create it first (createdb), or fix the name in --db"),
        PostgresException { SqlState: "42501" } p =>
            new($"database {_display}: permission denied ({p.MessageText}); the user needs to own the database or be granted CREATE on it"),
        PostgresException p => new($"database {_display}: PostgreSQL error {p.SqlState}: {p.MessageText}"),
        NpgsqlException { InnerException: SocketException or TimeoutException or IOException } or NpgsqlException { IsTransient: true } =>
            new($"database {_display}: cannot reach the PostgreSQL server at {_host} ({Reason(e)}); check that it is running and that --db names the right host and port"),
        NpgsqlException => new($"database {_display}: {Reason(e)}"),
        _ => null,
    };

    private static string Reason(Exception e)
    {
        var inner = e;
        while (inner.InnerException is not null) inner = inner.InnerException;
        return inner.Message.TrimEnd('.');
    }

    public override IDisposable? WatchChanges(Action changed) => new PostgresChangeListener(_dataSource, changed);

    public override void Dispose() => _dataSource.Dispose();

    public override string ListOf(string parameter, bool numbers = false) =>
        numbers ? $"SELECT jsonb_array_elements_text({parameter}::jsonb)::bigint" : $"SELECT jsonb_array_elements_text({parameter}::jsonb)";

    public override string SizeSql => "SELECT pg_database_size(current_database())";

    public override string Position(string haystack, string needle) => $"strpos({haystack}, {needle})";

    public override string LikeInsensitive => "ILIKE";

    public override string JsonText(string column, string key) => $"({column}::jsonb ->> '{key}')";
}
