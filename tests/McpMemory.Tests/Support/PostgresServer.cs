using Npgsql;

namespace McpMemory.Tests.Support;

/// <summary>
/// A real PostgreSQL server for the tests: TEST_PG_CONNSTR when set (CI started one), else a throwaway
/// <see cref="PostgresCluster"/> of this test process (data in /dev/shm, fsync off), stopped and deleted when the process
/// exits. Clusters left by a test process that died are removed at the next start. Each test gets a fresh database
/// (<see cref="CreateDatabase"/>).
/// </summary>
public sealed class PostgresServer
{
    private static readonly Lazy<PostgresServer> SharedServer = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The server of this test process, started on first use.</summary>
    public static PostgresServer Shared => SharedServer.Value;

    /// <summary>Connection string of the maintenance database (postgres) as superuser.</summary>
    public string AdminConnectionString { get; }

    private PostgresServer(string admin) => AdminConnectionString = admin;

    /// <summary>A new empty database; returns its Npgsql connection string.</summary>
    public string CreateDatabase()
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..16];
        Execute($"CREATE DATABASE {name}");
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Drops the database of <paramref name="connectionString"/>, closing whatever is still connected to it.</summary>
    public void DropDatabase(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        Execute($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    public void Execute(string sql)
    {
        using var connection = new NpgsqlConnection(AdminConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    private static PostgresServer Start()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("TEST_PG_CONNSTR");
        if (!string.IsNullOrWhiteSpace(fromEnvironment)) return new PostgresServer(fromEnvironment);
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("set TEST_PG_CONNSTR to a PostgreSQL server for the tests");
#pragma warning disable CA1416 // Linux only (checked above)
        // Removes clusters of test processes that died, starts this one's in /dev/shm with fsync off, and a watchdog.
        var cluster = PostgresCluster.Start();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.StopAndDelete();
        return new PostgresServer(cluster.AdminConnectionString);
#pragma warning restore CA1416
    }
}

/// <summary>The database engines the engine-level tests run against.</summary>
public enum Backend { Sqlite, Postgres }

/// <summary>Runs a [Theory] once per backend: <c>[Theory, BothBackends]</c> with a <see cref="Backend"/> parameter.</summary>
public sealed class BothBackendsAttribute : Xunit.Sdk.DataAttribute
{
    public override IEnumerable<object[]> GetData(System.Reflection.MethodInfo testMethod) =>
        [[Backend.Sqlite], [Backend.Postgres]];
}

/// <summary>
/// Where a test's database lives: a file in a temp folder (SQLite) or a fresh database on the shared test server
/// (PostgreSQL), dropped on dispose. <see cref="Db"/> is what --db or MemoryService.Open takes.
/// </summary>
public sealed class TestDatabase : IDisposable
{
    private readonly TempDirectory? _dir;

    public Backend Backend { get; }
    public string Db { get; }

    public TestDatabase(Backend backend, string file = "memory.db")
    {
        Backend = backend;
        if (backend == Backend.Postgres) Db = PostgresServer.Shared.CreateDatabase();
        else
        {
            _dir = new TempDirectory();
            Db = _dir.File(file);
        }
    }

    public void Dispose()
    {
        if (Backend == Backend.Postgres) PostgresServer.Shared.DropDatabase(Db);
        _dir?.Dispose();
    }
}
