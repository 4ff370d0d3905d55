using System.Diagnostics;
using System.Runtime.Versioning;

namespace McpMemory.Tests.Support;

/// <summary>
/// A throwaway PostgreSQL cluster: Debian's initdb/pg_ctl from /usr/lib/postgresql/&lt;major&gt;/bin (as user postgres when
/// root: initdb and postgres refuse to run as root), data in a folder of its own, its own socket folder, loopback and a
/// free port. A detached watchdog stops and deletes it once the process that started it is gone, and
/// <see cref="RemoveAbandoned"/> removes clusters whose process died before that. Plain code with no test framework: the
/// tests' <see cref="PostgresServer"/> and the load bench (bench/McpMemory.Bench links this file) both start one.
/// See ../shared/guides/postgres-tests.md for the recipe and its pitfalls.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class PostgresCluster : IDisposable
{
    private const string Prefix = "mcp-memory-pg-";

    /// <summary>Where clusters live unless told otherwise: memory (/dev/shm) when there is one.</summary>
    public static string DefaultBaseFolder => Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();

    private readonly string _bin = Directory.GetDirectories("/usr/lib/postgresql")
        .Where(d => File.Exists(Path.Combine(d, "bin", "initdb")))
        .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var major) ? major : 0)
        .Select(d => Path.Combine(d, "bin")).FirstOrDefault()
        ?? throw new InvalidOperationException("PostgreSQL is not installed in /usr/lib/postgresql: run scripts/deps/postgres.sh " +
                                              "(or name a running server: TEST_PG_CONNSTR for the tests, --db postgres://… for the bench)");

    private readonly bool _asRoot = Environment.IsPrivilegedProcess;
    private readonly string _baseFolder;
    private readonly string _dir;
    private readonly bool _durable;
    private bool _stopped;

    /// <summary>Connection string of the maintenance database (postgres) as superuser, over loopback TCP.</summary>
    public string AdminConnectionString { get; private set; } = "";

    /// <summary>The port the server listens on (127.0.0.1).</summary>
    public int Port { get; private set; }

    /// <summary>The postmaster's process id (its backends are its children): what a benchmark reads the database's CPU from.</summary>
    public int ServerProcessId =>
        int.Parse(File.ReadLines(Path.Combine(_dir, "data", "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);

    /// <param name="baseFolder">Parent of the cluster's folder; <see cref="DefaultBaseFolder"/> when null.</param>
    /// <param name="durable">
    /// False (tests): fsync and full-page writes off, nothing survives a crash and nothing waits for the disk. True (a
    /// benchmark beside SQLite's synchronous=FULL): PostgreSQL's defaults, every commit waits for its WAL on disk.
    /// </param>
    private PostgresCluster(string? baseFolder, bool durable)
    {
        _baseFolder = baseFolder ?? DefaultBaseFolder;
        _durable = durable;
        _dir = Path.Combine(_baseFolder, $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
    }

    /// <summary>
    /// Removes abandoned clusters in the base folder, then creates and starts a new one, with a watchdog that removes it
    /// when this process is gone. Stop it with <see cref="StopAndDelete()"/> (or Dispose).
    /// </summary>
    public static PostgresCluster Start(string? baseFolder = null, bool durable = false)
    {
        var cluster = new PostgresCluster(baseFolder, durable);
        cluster.RemoveAbandoned();
        cluster.StartServer();
        cluster.StartWatchdog();
        return cluster;
    }

    /// <summary>Creates an empty database owned by the superuser; returns its connection string.</summary>
    public string CreateDatabase(string name)
    {
        RunPg("createdb", "-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", name);
        return $"Host=127.0.0.1;Port={Port};Username=postgres;Database={name}";
    }

    /// <summary>Stops and deletes clusters in the base folder whose process is gone (killed before it could stop them).</summary>
    private void RemoveAbandoned()
    {
        foreach (var dir in Directory.GetDirectories(_baseFolder, Prefix + "*"))
        {
            var pid = Path.GetFileName(dir)[Prefix.Length..].Split('-')[0];
            if (int.TryParse(pid, out var id) && id != Environment.ProcessId && !Directory.Exists($"/proc/{id}"))
                StopAndDelete(dir);
        }
    }

    private void StartServer()
    {
        Directory.CreateDirectory(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (_asRoot) Run("chown", "postgres:postgres", _dir);
        var data = Path.Combine(_dir, "data");
        RunPg("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync");
        var durability = _durable ? "" : "-c fsync=off -c full_page_writes=off ";
        for (var attempt = 1; ; attempt++)
        {
            var port = LoopbackPort.Free();
            try
            {
                // Always a log file: without -l the postmaster keeps pg_ctl's stdout open and reading it never ends.
                RunPg("pg_ctl", "-D", data, "-l", Path.Combine(_dir, "server.log"), "-w", "-t", "30",
                    "-o", $"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={_dir} " +
                          durability + "-c max_connections=300", "start");
                Port = port;
                AdminConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Timeout=30;Include Error Detail=true";
                return;
            }
            catch (InvalidOperationException) when (attempt < 5) { /* the port was taken meanwhile: another one */ }
        }
    }

    public void StopAndDelete()
    {
        if (_stopped) return;
        _stopped = true;
        StopAndDelete(_dir);
    }

    public void Dispose() => StopAndDelete();

    /// <summary>
    /// A detached shell that stops the server and deletes its folder once this process is gone: a test runner may end the
    /// process before its exit handler has run, and Ctrl+C skips a benchmark's finally. Its output goes to /dev/null, so
    /// it holds no pipe of ours.
    /// </summary>
    private void StartWatchdog()
    {
        var stop = $"{Path.Combine(_bin, "pg_ctl")} -D {Path.Combine(_dir, "data")} -m immediate -w -t 10 stop";
        if (_asRoot) stop = $"runuser -u postgres -- {stop}";
        var script = $"while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; {stop}; rm -rf {_dir}";
        Run("bash", "-c", $"setsid bash -c '{script}' >/dev/null 2>&1 </dev/null &");
    }

    private void StopAndDelete(string dir)
    {
        try { RunPg("pg_ctl", "-D", Path.Combine(dir, "data"), "-m", "immediate", "-w", "-t", "10", "stop"); }
        catch (Exception e) when (e is InvalidOperationException or IOException) { /* not running */ }
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
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
