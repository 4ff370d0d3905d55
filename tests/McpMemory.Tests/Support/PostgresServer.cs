using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace McpMemory.Tests.Support;

/// <summary>
/// A real PostgreSQL server for the tests: TEST_PG_CONNSTR when set (CI started one), else a throwaway cluster of this
/// test process (Debian's initdb/pg_ctl from /usr/lib/postgresql/&lt;major&gt;/bin, as user postgres when root, data in
/// /dev/shm, its own socket folder, loopback and a free port), stopped and deleted when the process exits. Clusters left by
/// a test process that died are removed at the next start. Each test gets a fresh database (<see cref="CreateDatabase"/>).
/// See ../shared/guides/postgres-tests.md for the recipe and its pitfalls.
/// </summary>
public sealed class PostgresServer
{
    private const string Prefix = "mcp-memory-pg-";
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
        var cluster = new Cluster();
        RemoveAbandoned(cluster);
        var connection = cluster.Start();
        cluster.StartWatchdog();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.StopAndDelete();
        return new PostgresServer(connection);
#pragma warning restore CA1416
    }

    /// <summary>Stops and deletes clusters whose test process is gone (killed before its exit handler ran).</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static void RemoveAbandoned(Cluster cluster)
    {
        foreach (var dir in Directory.GetDirectories(Cluster.BaseFolder, Prefix + "*"))
        {
            var pid = Path.GetFileName(dir)[Prefix.Length..].Split('-')[0];
            if (int.TryParse(pid, out var id) && id != Environment.ProcessId && !Directory.Exists($"/proc/{id}"))
                cluster.StopAndDelete(dir);
        }
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private sealed class Cluster
    {
        public static string BaseFolder => Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();

        private readonly string _bin = Directory.GetDirectories("/usr/lib/postgresql")
            .Where(d => File.Exists(Path.Combine(d, "bin", "initdb")))
            .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var major) ? major : 0)
            .Select(d => Path.Combine(d, "bin")).FirstOrDefault()
            ?? throw new InvalidOperationException("PostgreSQL is not installed (run scripts/deps/postgres.sh) and TEST_PG_CONNSTR is not set");

        private readonly bool _asRoot = Environment.IsPrivilegedProcess; // initdb and postgres refuse to run as root
        private readonly string _dir = Path.Combine(BaseFolder, $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");

        public string Start()
        {
            Directory.CreateDirectory(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            if (_asRoot) Run("chown", "postgres:postgres", _dir);
            var data = Path.Combine(_dir, "data");
            RunPg("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync");
            for (var attempt = 1; ; attempt++)
            {
                var port = FreePort();
                try
                {
                    // Always a log file: without -l the postmaster keeps pg_ctl's stdout open and reading it never ends.
                    RunPg("pg_ctl", "-D", data, "-l", Path.Combine(_dir, "server.log"), "-w", "-t", "30",
                        "-o", $"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={_dir} " +
                              "-c fsync=off -c full_page_writes=off -c max_connections=300", "start");
                    return $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Timeout=30;Include Error Detail=true";
                }
                catch (InvalidOperationException) when (attempt < 5) { /* the port was taken meanwhile: another one */ }
            }
        }

        public void StopAndDelete() => StopAndDelete(_dir);

        /// <summary>
        /// A detached shell that stops the server and deletes its folder once this test process is gone: the test runner
        /// may end the process before its exit handler has run. Its output goes to /dev/null, so it holds no pipe of ours.
        /// </summary>
        public void StartWatchdog()
        {
            var stop = $"{Path.Combine(_bin, "pg_ctl")} -D {Path.Combine(_dir, "data")} -m immediate -w -t 10 stop";
            if (_asRoot) stop = $"runuser -u postgres -- {stop}";
            var script = $"while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; {stop}; rm -rf {_dir}";
            Run("bash", "-c", $"setsid bash -c '{script}' >/dev/null 2>&1 </dev/null &");
        }

        public void StopAndDelete(string dir)
        {
            try { RunPg("pg_ctl", "-D", Path.Combine(dir, "data"), "-m", "immediate", "-w", "-t", "10", "stop"); }
            catch (Exception e) when (e is InvalidOperationException or IOException) { /* not running */ }
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }

        private static int FreePort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }

        private void RunPg(string tool, params string[] args)
        {
            var exe = Path.Combine(_bin, tool);
            if (_asRoot) Run("runuser", ["-u", "postgres", "--", exe, .. args]);
            else Run(exe, args);
        }

        private static void Run(string file, params string[] args)
        {
            var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"{file} {string.Join(' ', args)} did not finish in 60 s");
            }
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {stderr.Result}{stdout.Result}");
        }
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
