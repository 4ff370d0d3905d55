using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using McpMemory.Tests.Support;

namespace McpMemory.Bench;

/// <summary>
/// Load over Streamable HTTP on loopback: the real server as a child process, N concurrent sessions × M calls each,
/// mixed store_memory / search_memory (half each), spoken with a plain HttpClient (one JSON-RPC POST per call, the answer
/// read from its SSE body). Prints p50/p99/max latency per tool, errors and throughput, and the server's RSS before,
/// after each round and after idling, to show memory stays flat. The baseline is one session alone making the same calls.
/// Memories and queries are 8 and 3 words drawn from a vocabulary of --vocabulary terms (default 5000; a small one
/// makes every query match most memories, the worst case for full-text ranking). --mix state calls get_agent_state
/// only: the transport's own cost, with the engine's reduced to a primary-key read.
/// Sessions call back to back by default: a saturation test, where the mean latency is set by the CPU per call
/// (Little's law: sessions / throughput), which each round prints. --think-ms N paces every session instead (a random
/// pause of 0..2N ms between its calls, N on average), like agents that call between steps of their own work.
/// --instances N starts N servers on the same database (--db: a file, or a PostgreSQL URL for a team's setup) and
/// spreads the sessions over them, round robin; the CPU per call is then the sum over every server. --db postgres (the
/// word) starts a throwaway PostgreSQL for the run (tests/McpMemory.Tests/Support/PostgresCluster.cs, data in the temp
/// folder, fsync on) and removes it afterwards; its CPU per call (postmaster and backends) is printed beside the servers'.
/// --beside-sqlite also runs one server on a SQLite file with the same sessions and calls, rounds interleaved with the
/// --db setup's, and prints both side by side with their ratios: the issue 18 comparison, measured in one run.
///   dotnet run -c Release --project bench/McpMemory.Bench -- load [--sessions 32] [--calls 500] [--rounds 2]
///       [--vocabulary 5000] [--mix store-search|state] [--think-ms 0] [--instances 1] [--db path|url|postgres]
///       [--beside-sqlite] [--dll path]
/// </summary>
internal static partial class LoadBench
{
    private static readonly string[] Words =
        ["nginx", "deploy", "docker", "compose", "cloudflare", "tunnel", "sqlite", "index", "cache", "retry", "timeout", "auth",
         "token", "build", "release", "test", "migration", "schema", "proxy", "queue", "worker", "memory", "search", "vector"];

    private static string[] _vocabulary = Words;
    private static bool _stateOnly;
    private static int _thinkMs;

    public static async Task<int> RunAsync(string[] args)
    {
        var dll = ToolUnderTest.Dll(args);
        var sessions = ToolUnderTest.IntOption(args, "--sessions", 32);
        var calls = ToolUnderTest.IntOption(args, "--calls", 500);
        var rounds = ToolUnderTest.IntOption(args, "--rounds", 2);
        var vocabulary = ToolUnderTest.IntOption(args, "--vocabulary", 5000);
        _vocabulary = vocabulary <= Words.Length ? Words[..vocabulary] : [.. Words, .. Enumerable.Range(0, vocabulary - Words.Length).Select(i => $"term{i}")];
        _stateOnly = ToolUnderTest.Option(args, "--mix") == "state";
        _thinkMs = ToolUnderTest.IntOption(args, "--think-ms", 0);
        if (_thinkMs < 0) throw new ArgumentException($"--think-ms must be 0 or more (got {_thinkMs})");
        var instances = ToolUnderTest.IntOption(args, "--instances", 1);
        if (instances < 1) throw new ArgumentException($"--instances must be 1 or more (got {instances})");
        var besideSqlite = args.Contains("--beside-sqlite");
        var dir = ToolUnderTest.TempFolder();
        var db = ToolUnderTest.Option(args, "--db") ?? Path.Combine(dir, "m.db");
        IDisposable? cluster = null;
        var setups = new List<Setup>();
        try
        {
            int? postmaster = null;
            var name = db.StartsWith("postgres", StringComparison.OrdinalIgnoreCase) || db.StartsWith("Host=", StringComparison.OrdinalIgnoreCase) ? "PostgreSQL" : "SQLite";
            if (db == "postgres")
            {
                if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("--db postgres starts Debian's PostgreSQL (Linux); elsewhere give --db postgres://…");
                // Its data on the same disk as a SQLite file of the bench, with every commit waiting for its WAL on disk,
                // as SQLite's synchronous=FULL does: the comparison is between two durable stores.
                var started = PostgresCluster.Start(Path.GetTempPath(), durable: true);
                cluster = started;
                db = started.CreateDatabase("bench");
                postmaster = started.ServerProcessId;
                name = "PostgreSQL (throwaway, fsync on)";
                Console.WriteLine($"throwaway PostgreSQL on 127.0.0.1:{started.Port}, data in {Path.GetTempPath()}, removed at the end");
            }
            if (besideSqlite) setups.Add(await Setup.StartAsync("SQLite, 1 instance", dll, Path.Combine(dir, "beside.db"), 1, null));
            setups.Add(await Setup.StartAsync($"{name}, {instances} instance{(instances > 1 ? "s" : "")}", dll, db, instances, postmaster));

            var mix = _stateOnly ? "get_agent_state only" : $"half store_memory, half search_memory, vocabulary {_vocabulary.Length}";
            var pacing = _thinkMs == 0 ? "back to back" : $"{_thinkMs} ms average pause between calls";
            Console.WriteLine($"load: {dll}; {sessions} sessions × {calls} calls ({mix}; {pacing}), {rounds} rounds, " +
                              $"{Environment.ProcessorCount} cores, load average {LoadAverage()}");
            foreach (var setup in setups)
            {
                Console.WriteLine($"[{setup.Name}] at {string.Join(", ", setup.Clients.Select(c => c.BaseAddress))}");
                if (_stateOnly) await SeedStateAsync(setup.Clients[0]);
                await RoundAsync(setup, setup.Clients, Math.Max(4, setup.Clients.Count), 250, "warm-up (not counted)", setup.Servers, paced: false);
                if (!_stateOnly) foreach (var client in setup.Clients) await WaitForHybridAsync(client);
                setup.RssBefore = Rss(setup.Servers);
                Console.WriteLine($"server RSS after warm-up: {RssText(setup.Servers)}");
                setup.Baseline = await RoundAsync(setup, [setup.Clients[0]], 1, calls, "baseline: 1 session alone, back to back", [setup.Servers[0]], paced: false);
            }

            // Rounds interleaved: round r of every setup, then round r + 1, so a change in the machine's load hits them alike.
            for (var round = 1; round <= rounds; round++)
                foreach (var setup in setups)
                {
                    var over = setup.Clients.Count > 1 ? $" over {setup.Clients.Count} servers" : "";
                    var result = await RoundAsync(setup, setup.Clients, sessions, calls, $"[{setup.Name}] round {round}: {sessions} concurrent sessions{over}", setup.Servers);
                    setup.Rounds.Add(result);
                    Console.WriteLine($"  p50 / baseline p50: {result.P50 / setup.Baseline!.P50:F1}x; server RSS {RssText(setup.Servers)}");
                }
            await Task.Delay(TimeSpan.FromSeconds(5));
            foreach (var setup in setups)
                Console.WriteLine($"[{setup.Name}] server RSS 5 s after the last round: {RssText(setup.Servers)} ({Rss(setup.Servers) - setup.RssBefore:+0.0;-0.0} MiB since warm-up)");
            if (setups.Count > 1) PrintSideBySide(setups);

            var measured = setups.SelectMany(s => s.Rounds).ToList();
            var p99 = measured.Max(r => r.P99);
            var errors = measured.Sum(r => r.Errors);
            var verdict = p99 <= 50 && errors == 0 ? "met" : "NOT met";
            Console.WriteLine((_thinkMs == 0 ? $"target p99 ≤ 50 ms and 0 errors: {verdict}" : $"p99 ≤ 50 ms and 0 errors at this pacing: {verdict} (the target is set for calls back to back)") +
                              $" (worst p99 {p99:F1} ms, {errors} errors); load average now {LoadAverage()}");
            return errors == 0 ? 0 : 1;
        }
        finally
        {
            foreach (var setup in setups) await setup.DisposeAsync();
            cluster?.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Each round of every setup, and per round the ratio of each setup to the first (measured minutes apart, not days).</summary>
    private static void PrintSideBySide(IReadOnlyList<Setup> setups)
    {
        Console.WriteLine("side by side (same sessions and calls; rounds interleaved):");
        for (var round = 0; round < setups[0].Rounds.Count; round++)
        {
            foreach (var setup in setups)
            {
                var r = setup.Rounds[round];
                Console.WriteLine($"  round {round + 1}  {setup.Name,-45} p50 {r.P50,6:F2} ms  p99 {r.P99,7:F2} ms  {r.Throughput,5:F0} calls/s  " +
                                  $"CPU/call: servers {r.CpuPerCall:F2} ms{(r.DatabaseCpuPerCall is { } d ? $" + database {d:F2} ms" : "")}  errors {r.Errors}  load average {r.LoadAverage}");
            }
            var first = setups[0].Rounds[round];
            foreach (var setup in setups.Skip(1))
            {
                var r = setup.Rounds[round];
                Console.WriteLine($"  round {round + 1}  {setup.Name} / {setups[0].Name}: p50 {r.P50 / first.P50:F2}x  p99 {r.P99 / first.P99:F2}x  " +
                                  $"calls/s {r.Throughput / first.Throughput:F2}x  CPU/call {(r.CpuPerCall + (r.DatabaseCpuPerCall ?? 0)) / first.CpuPerCall:F2}x (servers + database)");
            }
        }
    }

    /// <summary>One configuration under test: N servers on one database, with a client each.</summary>
    private sealed class Setup(string name, List<Process> servers, List<HttpClient> clients, int? postmaster) : IAsyncDisposable
    {
        public string Name => name;
        public IReadOnlyList<Process> Servers => servers;
        public IReadOnlyList<HttpClient> Clients => clients;
        public RoundResult? Baseline { get; set; }
        public List<RoundResult> Rounds { get; } = [];
        public double RssBefore { get; set; }

        public static async Task<Setup> StartAsync(string name, string dll, string db, int instances, int? postmaster)
        {
            var servers = new List<Process>();
            var clients = new List<HttpClient>();
            var setup = new Setup(name, servers, clients, postmaster);
            try
            {
                for (var i = 0; i < instances; i++)
                {
                    var started = Process.Start(ToolUnderTest.Start(dll, ["serve", "--http", "--urls", "http://127.0.0.1:0", "--db", db, "--namespace", "project:bench"]))!;
                    servers.Add(started);
                    clients.Add(new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
                    {
                        BaseAddress = new Uri(await ListeningUrlAsync(started)), Timeout = TimeSpan.FromSeconds(30),
                    });
                }
                return setup;
            }
            catch
            {
                await setup.DisposeAsync();
                throw;
            }
        }

        /// <summary>CPU of the PostgreSQL server (postmaster and its backends) when the bench started it; null otherwise.</summary>
        public TimeSpan? DatabaseCpu() => postmaster is { } pid ? ProcessTreeCpu(pid) : null;

        public async ValueTask DisposeAsync()
        {
            foreach (var client in clients) client.Dispose();
            foreach (var server in servers)
            {
                if (!server.HasExited) { server.Kill(entireProcessTree: true); await server.WaitForExitAsync(); }
                server.Dispose();
            }
        }
    }

    /// <summary>
    /// CPU of a process and its children from /proc: its own time, its reaped children's, and each live child's (a
    /// PostgreSQL backend per connection). Linux's clock tick is 1/100 s.
    /// </summary>
    private static TimeSpan ProcessTreeCpu(int pid)
    {
        static long[]? Fields(string statFile)
        {
            try
            {
                var stat = File.ReadAllText(statFile);
                var after = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // after[1] ppid; after[11..14] utime, stime, cutime, cstime
                return [long.Parse(after[1], System.Globalization.CultureInfo.InvariantCulture),
                        .. after[11..15].Select(f => long.Parse(f, System.Globalization.CultureInfo.InvariantCulture))];
            }
            catch (IOException) { return null; } // the process ended meanwhile
        }
        var ticks = Fields($"/proc/{pid}/stat") is { } own ? own[1] + own[2] + own[3] + own[4] : 0;
        foreach (var child in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(child), out _) && Fields(Path.Combine(child, "stat")) is { } f && f[0] == pid)
                ticks += f[1] + f[2];
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    private static double Rss(IEnumerable<Process> servers) => servers.Sum(ToolUnderTest.RssMiB);

    private static string RssText(IReadOnlyList<Process> servers) => servers.Count == 1
        ? $"{ToolUnderTest.RssMiB(servers[0]):F1} MiB"
        : string.Join(" + ", servers.Select(s => $"{ToolUnderTest.RssMiB(s):F1}")) + " MiB";

    private sealed record RoundResult(double P50, double P99, int Errors, double Throughput, double CpuPerCall, double? DatabaseCpuPerCall, string LoadAverage);

    /// <summary>One round: session s talks to server s mod N; the CPU per call is summed over every server (and the database the bench started).</summary>
    private static async Task<RoundResult> RoundAsync(Setup setup, IReadOnlyList<HttpClient> clients, int sessions, int calls, string label, IReadOnlyList<Process> servers, bool paced = true)
    {
        var thinkMs = paced ? _thinkMs : 0;
        var cpuBefore = Cpu(servers);
        var databaseCpuBefore = setup.DatabaseCpu();
        var latencies = new (string Tool, double Ms)[sessions][];
        var errors = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, sessions).Select(s => Task.Run(async () =>
        {
            var own = latencies[s] = new (string, double)[calls];
            var http = clients[s % clients.Count];
            var session = await OpenSessionAsync(http);
            var random = new Random(s);
            var pauses = new Random(-1 - s); // its own stream: paced or not, a session makes the same calls
            for (var i = 0; i < calls; i++)
            {
                if (thinkMs > 0) await Task.Delay(pauses.Next(2 * thinkMs + 1));
                var (tool, arguments) = NextCall(random, s, i);
                var started = Stopwatch.GetTimestamp();
                var ok = await CallAsync(http, session, i + 2, tool, arguments);
                own[i] = (tool, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (!ok) Interlocked.Increment(ref errors);
            }
            using var delete = new HttpRequestMessage(HttpMethod.Delete, "/mcp");
            delete.Headers.Add("Mcp-Session-Id", session);
            using var deleted = await http.SendAsync(delete);
            if (deleted.StatusCode != HttpStatusCode.OK) Interlocked.Increment(ref errors);
        })));
        var elapsed = watch.Elapsed;
        // CPU time per call does not depend on what else the machine runs, unlike the latencies.
        var cpuPerCall = (Cpu(servers) - cpuBefore).TotalMilliseconds / (sessions * calls);
        double? databaseCpuPerCall = setup.DatabaseCpu() is { } databaseCpu ? (databaseCpu - databaseCpuBefore!.Value).TotalMilliseconds / (sessions * calls) : null;
        var sorted = latencies.SelectMany(l => l).Select(l => l.Ms).Order().ToList();
        var throughput = sorted.Count / elapsed.TotalSeconds;
        var result = new RoundResult(ToolUnderTest.Percentile(sorted, 50), ToolUnderTest.Percentile(sorted, 99), errors, throughput, cpuPerCall, databaseCpuPerCall, LoadAverage());
        Console.WriteLine($"{label}: {sorted.Count} calls in {elapsed.TotalSeconds:F1} s ({throughput:F0} calls/s)  " +
                          $"p50 {result.P50:F2} ms  p99 {result.P99:F2} ms  max {sorted[^1]:F2} ms  errors {errors}  server CPU {cpuPerCall:F2} ms/call" +
                          (databaseCpuPerCall is { } d ? $"  database CPU {d:F2} ms/call" : "") + $"  load average {result.LoadAverage}");
        // Calls back to back keep every session waiting on the server: the mean latency is then sessions / throughput,
        // and with the cores saturated, throughput is cores / CPU per call (client CPU shares the same cores).
        if (paced && thinkMs == 0 && sessions > 1)
            Console.WriteLine($"  mean {sorted.Average():F1} ms; Little's law: {sessions} sessions / {throughput:F0} calls/s = {1000.0 * sessions / throughput:F1} ms; " +
                              $"server CPU alone: {sessions} × {cpuPerCall:F2} ms / {Environment.ProcessorCount} cores = {sessions * cpuPerCall / Environment.ProcessorCount:F1} ms");
        foreach (var group in latencies.SelectMany(l => l).GroupBy(l => l.Tool).OrderBy(g => g.Key))
        {
            var tool = group.Select(l => l.Ms).Order().ToList();
            Console.WriteLine($"  {group.Key,-16} p50 {ToolUnderTest.Percentile(tool, 50):F2} ms  p99 {ToolUnderTest.Percentile(tool, 99):F2} ms");
        }
        return result;
    }

    private static TimeSpan Cpu(IEnumerable<Process> servers) => servers.Aggregate(TimeSpan.Zero, (sum, server) =>
    {
        server.Refresh();
        return sum + server.TotalProcessorTime;
    });

    private static (string Tool, object Arguments) NextCall(Random random, int session, int call)
    {
        if (_stateOnly) return ("get_agent_state", new { key = "current_task" });
        return call % 2 == 0
            ? ("store_memory", new { content = $"session {session} call {call}: {Sentence(random, 8)}", tags = new[] { Words[random.Next(Words.Length)] } })
            : ("search_memory", new { query = Sentence(random, 3), top_k = 10 });
    }

    private static string Sentence(Random random, int words) =>
        string.Join(' ', Enumerable.Range(0, words).Select(_ => _vocabulary[random.Next(_vocabulary.Length)]));

    private static async Task SeedStateAsync(HttpClient http)
    {
        var session = await OpenSessionAsync(http);
        if (!await CallAsync(http, session, 2, "set_agent_state", new { key = "current_task", value = new { issue = 5 } }))
            throw new InvalidOperationException("seeding the agent state failed");
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static async Task<string> OpenSessionAsync(HttpClient http)
    {
        using var init = await http.SendAsync(Post("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"load","version":"1"}}}""", null));
        init.EnsureSuccessStatusCode();
        var session = init.Headers.GetValues("Mcp-Session-Id").Single();
        await init.Content.ReadAsStringAsync();
        using var initialized = await http.SendAsync(Post("""{"jsonrpc":"2.0","method":"notifications/initialized"}""", session));
        if (initialized.StatusCode != HttpStatusCode.Accepted) throw new InvalidOperationException($"notifications/initialized got {initialized.StatusCode}");
        return session;
    }

    /// <summary>True when the call got a result that is not a tool error.</summary>
    /// <summary>
    /// The server loads its encoder in the background after its first answer, then embeds what was stored meanwhile.
    /// The rounds measure the steady state, so wait until search answers in hybrid mode, and give the catch-up
    /// embedding a few seconds; print how long that took (the cost of a cold server under immediate load).
    /// </summary>
    private static async Task WaitForHybridAsync(HttpClient http)
    {
        var watch = Stopwatch.StartNew();
        var session = await OpenSessionAsync(http);
        for (var id = 2; watch.Elapsed < TimeSpan.FromSeconds(120); id++)
        {
            var body = JsonSerializer.Serialize(new { jsonrpc = "2.0", id, method = "tools/call", @params = new { name = "search_memory", arguments = new { query = "warm up" } } });
            using var response = await http.SendAsync(Post(body, session));
            var text = await response.Content.ReadAsStringAsync();
            if (text.Contains("\"mode\":\"hybrid\"", StringComparison.Ordinal) || text.Contains("\\\"mode\\\":\\\"hybrid\\\"", StringComparison.Ordinal))
            {
                Console.WriteLine($"encoder ready {watch.Elapsed.TotalSeconds:F1} s after the warm-up; waiting 5 s for the catch-up embedding");
                await Task.Delay(TimeSpan.FromSeconds(5));
                return;
            }
            await Task.Delay(100);
        }
        Console.WriteLine("encoder not ready 120 s after the warm-up: the rounds run keyword-only");
    }

    private static async Task<bool> CallAsync(HttpClient http, string session, int id, string tool, object arguments)
    {
        var body = JsonSerializer.Serialize(new { jsonrpc = "2.0", id, method = "tools/call", @params = new { name = tool, arguments } });
        try
        {
            using var response = await http.SendAsync(Post(body, session));
            if (response.StatusCode != HttpStatusCode.OK) return false;
            var text = await response.Content.ReadAsStringAsync();
            var data = text.Split('\n').FirstOrDefault(l => l.StartsWith("data: ", StringComparison.Ordinal));
            if (data is null) return false;
            using var message = JsonDocument.Parse(data["data: ".Length..]);
            return message.RootElement.TryGetProperty("result", out var result)
                   && !(result.TryGetProperty("isError", out var isError) && isError.GetBoolean());
        }
        catch (HttpRequestException) { return false; }
        catch (TaskCanceledException) { return false; }
    }

    private static HttpRequestMessage Post(string body, string? session)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        if (session is not null) request.Headers.Add("Mcp-Session-Id", session);
        return request;
    }

    private static async Task<string> ListeningUrlAsync(Process server)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await server.StandardError.ReadLineAsync(timeout.Token) is { } line)
            if (ListeningLine().Match(line) is { Success: true } match)
            {
                // Keep draining stderr so the server never blocks on a full pipe.
                _ = server.StandardError.ReadToEndAsync();
                server.StandardInput.Close();
                return match.Groups[1].Value;
            }
        throw new InvalidOperationException("the server exited before listening");
    }

    [GeneratedRegex(@"listening on (http://\S+)")]
    private static partial Regex ListeningLine();
}
