using System.Text.Json;
using System.Diagnostics;
using System.Globalization;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpMemory.Bench;

/// <summary>
/// Issue 20's comparison: McpMemory against the official reference server (@modelcontextprotocol/server-memory, node,
/// pinned in bench/reference-memory: `npm ci --prefix bench/reference-memory`), both driven over MCP stdio by the same
/// client, with the same generated memories and queries, in one run, interleaved call by call (or run by run), so the
/// machine's load falls on both alike. Each row prints both figures and McpMemory's advantage (above 1× = McpMemory better).
/// The reference has no memory tool of its own, so a memory is what an agent would keep there: one entity
/// (name memory-N, entityType "memory") whose one observation is the text, stored with create_entities; search is
/// search_nodes (a case-insensitive substring match over names, types and observations).
///   dotnet run -c Release --project bench/McpMemory.Bench -- compare [--runs 7] [--stores 1000] [--calls 200]
///       [--sizes 10000,50000] [--max-minutes 40] [--dll path/to/mcp-memory.dll] [--env NAME=VALUE]... [--gc-report]
/// (--env, repeatable, sets a variable for McpMemory's process, e.g. MCP_MEMORY_GEN0_PACER=0 to see the pacer's share of
/// the RSS; --gc-report asks the server for its managed heap's figures beside the RSS, through MCP_MEMORY_MEMORY_REPORT and
/// SIGUSR1: only for a build that has it, SIGUSR1 ends an older one.)
/// </summary>
internal static class CompareBench
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);
    private static readonly Dictionary<string, string?> ExtraEnvironment = [];

    public static async Task<int> RunAsync(string[] args)
    {
        var dll = ToolUnderTest.Dll(args);
        for (var i = 0; i + 1 < args.Length; i++)
            if (args[i] == "--env" && args[i + 1].Split('=', 2) is [var name, var value]) ExtraEnvironment[name] = value;
        var gcReport = args.Contains("--gc-report") ? Path.Combine(Path.GetTempPath(), $"mcp-memory-gc-{Environment.ProcessId}.json") : null;
        if (gcReport is not null) ExtraEnvironment["MCP_MEMORY_MEMORY_REPORT"] = gcReport;
        var runs = ToolUnderTest.IntOption(args, "--runs", 7);
        var stores = ToolUnderTest.IntOption(args, "--stores", 1000);
        var calls = ToolUnderTest.IntOption(args, "--calls", 200);
        var sizes = (ToolUnderTest.Option(args, "--sizes") ?? "10000,50000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).Order().ToArray();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(ToolUnderTest.IntOption(args, "--max-minutes", 40));
        if (ReferenceMemoryServer.Script() is not { } script)
        {
            Console.Error.WriteLine("compare: the reference server is not installed: run `npm ci --prefix bench/reference-memory`");
            return 2;
        }
        var modelMiB = ModelFileMiB(dll);
        Console.WriteLine($"compare: McpMemory {dll}\n         against {ReferenceMemoryServer.Package} {ReferenceMemoryServer.Version(script)} (node {NodeVersion()}), both over MCP stdio");
        Console.WriteLine($"{Environment.ProcessorCount} cores, load average {LoadAverage()}; calls interleaved between the two servers, one at a time");
        Console.WriteLine("mapping: a memory = store_memory {content} | create_entities {entities: [{name: \"memory-N\", entityType: \"memory\", observations: [content]}]}");
        Console.WriteLine("         search   = search_memory {query} (top 10, hybrid) | search_nodes {query} (substring match, every match returned)");
        var table = new List<string>();

        // Row 1: a fresh process on an empty store, run by run, the order alternating.
        var start = new Dictionary<string, List<(double Initialize, double FirstAnswer)>> { ["ours"] = [], ["reference"] = [] };
        for (var run = -1; run < runs; run++) // run -1 warms the file cache and this client, not counted
            foreach (var who in run % 2 == 0 ? new[] { "ours", "reference" } : ["reference", "ours"])
            {
                var result = await StartToFirstAnswerAsync(who == "ours" ? Server.Ours(dll) : Server.Reference(script));
                if (run >= 0) start[who].Add(result);
            }
        var ourStart = Median(start["ours"].Select(s => s.FirstAnswer));
        var refStart = Median(start["reference"].Select(s => s.FirstAnswer));
        Console.WriteLine($"\nspawn → initialize answered, median of {runs}: McpMemory {Median(start["ours"].Select(s => s.Initialize)):F0} ms, reference {Median(start["reference"].Select(s => s.Initialize)):F0} ms");
        table.Add(Row($"spawn + initialize → first tool answer (median of {runs})", refStart, ourStart, "ms", lowerIsBetter: true, ourStart <= 150 ? "≤ 150 ms: met" : "≤ 150 ms: NOT met"));

        await using var ours = await Server.Ours(dll).StartAsync();
        await using var reference = await Server.Reference(script).StartAsync();
        try
        {
            var ready = await ours.WaitForEncoderAsync(TimeSpan.FromMinutes(2));
            Console.WriteLine(ready is { } took ? $"McpMemory's encoder ready {took.TotalSeconds:F1} s after start: every store below embeds" : "McpMemory's encoder NOT ready after 2 min: stores run keyword-only");
            var corpus = new CorpusGenerator(seed: 20);
            // The generated texts repeat now and then, and McpMemory merges a repeat into the memory it repeats: a number
            // makes every memory new, so both stores hold the same count.
            var queries = new CorpusGenerator.DistinctQueries(new CorpusGenerator(seed: 21));
            var stored = 0;
            string NextMemory() => $"{corpus.Next()} (note {++stored})";

            // Row 2: sequential stores from (nearly) empty: one warm-up memory each.
            var latencies = await InterleavedAsync(ours, reference, stores, _ => NextMemory(), (s, text) => s.StoreAsync(text));
            var ourRate = stores / (latencies["ours"].Sum() / 1000);
            var refRate = stores / (latencies["reference"].Sum() / 1000);
            table.Add(Row($"{stores:N0} sequential stores from empty (calls/s)", refRate, ourRate, "/s", lowerIsBetter: false, ourRate >= 400 ? "≥ 400/s: met" : "≥ 400/s: NOT met"));

            foreach (var size in sizes)
            {
                if (!await FillAsync(ours, reference, size, NextMemory, deadline))
                {
                    Console.WriteLine($"--max-minutes reached while filling to {size:N0}: stopped at {ours.Count:N0} memories");
                    break;
                }
                // Stores are answered before their vectors (write-behind): the rows below measure a settled server, so wait
                // until the last memory stored has its vector (the worker embeds in the order stored), then let checkpoints settle.
                var settled = await ours.WaitForEmbeddingsAsync(TimeSpan.FromMinutes(5));
                Console.WriteLine(settled is { } lag ? $"McpMemory's write-behind vectors all written {lag.TotalSeconds:F1} s after the fill" : "McpMemory's vectors NOT all written after 5 min");
                await Task.Delay(TimeSpan.FromSeconds(3));
                if (size == sizes[0])
                {
                    var (ourRss, ourPeak) = (Proc.StatusMiB(ours.Pid, "VmRSS"), Proc.StatusMiB(ours.Pid, "VmHWM"));
                    var (refRss, refPeak) = (Proc.StatusMiB(reference.Pid, "VmRSS"), Proc.StatusMiB(reference.Pid, "VmHWM"));
                    Console.WriteLine($"RSS at {size:N0}: McpMemory {ourRss:F0} MiB (peak {ourPeak:F0}), reference {refRss:F0} MiB (peak {refPeak:F0}); model file {modelMiB:F1} MiB");
                    Console.WriteLine($"  McpMemory's RSS by mapping: {Proc.Breakdown(ours.Pid)}");
                    if (gcReport is not null) Console.WriteLine($"  McpMemory's managed heap: {await Proc.GcReportAsync(ours.Pid, gcReport)}");
                    var target = 113 + modelMiB;
                    table.Add(Row($"RSS after {size:N0} memories (MiB)", refRss, ourRss, "MiB", lowerIsBetter: true, $"≤ 113 + {modelMiB:F0} (model file) = {target:F0} MiB: {(ourRss <= target ? "met" : "NOT met")}"));
                    var storeAt = await InterleavedAsync(ours, reference, calls, _ => NextMemory(), (s, text) => s.StoreAsync(text));
                    var ourStore = P50(storeAt["ours"]);
                    table.Add(Row($"store round trip p50 at {size:N0} memories", P50(storeAt["reference"]), ourStore, "ms", lowerIsBetter: true, ourStore <= 2 ? "≤ 2 ms: met" : "≤ 2 ms: NOT met"));
                    // Those stores' vectors are still being embedded (and merge-checked) behind the answers: the searches
                    // below would share the cores with that work, so they too wait for a settled server.
                    var storesSettled = await ours.WaitForEmbeddingsAsync(TimeSpan.FromMinutes(5));
                    Console.WriteLine(storesSettled is { } storeLag ? $"McpMemory's vectors of those {calls} stores all written {storeLag.TotalSeconds:F1} s after the last" : "McpMemory's vectors of those stores NOT all written after 5 min");
                    await Task.Delay(TimeSpan.FromSeconds(1));
                }
                // Every query differs from every earlier one: McpMemory keeps recent query vectors, and a repeated query
                // would time that cache instead of a search.
                var searches = await InterleavedAsync(ours, reference, calls, _ => queries.Next(), (s, query) => s.SearchAsync(query));
                var advantage = P50(searches["reference"]) / P50(searches["ours"]);
                var goal = size >= 50_000 ? 30 : 10;
                table.Add(Row($"search round trip p50 at {size:N0} memories", P50(searches["reference"]), P50(searches["ours"]), "ms", lowerIsBetter: true,
                    $"≥ {goal}×: {(advantage >= goal ? "met" : "NOT met")}"));
                Console.WriteLine($"search at {size:N0}: {calls} queries, none asked before ({queries.Count} distinct so far); reference returned {reference.Matches / (double)calls:F1} entities a query on average; McpMemory {ours.Matches / (double)calls:F1} memories");
                ours.Matches = reference.Matches = 0;
            }
        }
        finally
        {
            Console.WriteLine($"\nMcpMemory stored {ours.Count:N0} memories ({ours.Updated} of the calls updated an existing one instead); the reference {reference.Count:N0} entities. Load average {LoadAverage()}");
        }

        Console.WriteLine("\n| row | reference | McpMemory | McpMemory's advantage | target |\n|---|---|---|---|---|");
        foreach (var row in table) Console.WriteLine(row);
        return 0;
    }

    /// <summary>Spawn → initialize → one search answered, on an empty store in a fresh folder; the process is then stopped.</summary>
    private static async Task<(double Initialize, double FirstAnswer)> StartToFirstAnswerAsync(Server server)
    {
        var watch = Stopwatch.StartNew();
        await using var started = await server.StartAsync();
        var initialize = watch.Elapsed.TotalMilliseconds;
        await started.SearchAsync("deployment nginx");
        return (initialize, watch.Elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// <paramref name="count"/> calls to each server, alternating one by one (who goes first alternates too); each call's
    /// round trip in ms.
    /// </summary>
    private static async Task<Dictionary<string, List<double>>> InterleavedAsync(Server ours, Server reference, int count, Func<int, string> input, Func<Server, string, Task> call)
    {
        var times = new Dictionary<string, List<double>> { [ours.Name] = [], [reference.Name] = [] };
        for (var i = 0; i < count; i++)
        {
            var text = input(i);
            foreach (var server in i % 2 == 0 ? new[] { ours, reference } : [reference, ours])
            {
                var started = Stopwatch.GetTimestamp();
                await call(server, text);
                times[server.Name].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
        return times;
    }

    /// <summary>
    /// Both stores up to <paramref name="size"/> memories, not timed: McpMemory through store_memory, four calls in
    /// flight; the reference through create_entities, 500 entities a call (one entity a call rewrites its whole file each
    /// time: quadratic). False when the deadline came first.
    /// </summary>
    private static async Task<bool> FillAsync(Server ours, Server reference, int size, Func<string> nextMemory, DateTime deadline)
    {
        var watch = Stopwatch.StartNew();
        while (ours.Count < size)
        {
            if (DateTime.UtcNow > deadline) return false;
            var batch = Enumerable.Range(0, Math.Min(500, size - ours.Count)).Select(_ => nextMemory()).ToList();
            await reference.StoreManyAsync(batch);
            await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (text, _) => await ours.StoreAsync(text));
        }
        Console.WriteLine($"filled both to {size:N0} memories in {watch.Elapsed.TotalSeconds:F0} s (not timed; load average {LoadAverage()})");
        return true;
    }

    private static string Row(string what, double reference, double ours, string unit, bool lowerIsBetter, string target)
    {
        var advantage = lowerIsBetter ? reference / ours : ours / reference;
        string Format(double v) => unit switch { "ms" => $"{v:F2} ms", "/s" => $"{v:F0}/s", _ => $"{v:F0} {unit}" };
        var row = $"| {what} | {Format(reference)} | {Format(ours)} | {advantage:F2}× | {target} |";
        Console.WriteLine(row);
        return row;
    }

    private static double P50(List<double> values) => ToolUnderTest.Percentile(values.Order().ToList(), 50);
    private static double Median(IEnumerable<double> values) => ToolUnderTest.Percentile(values.Order().ToList(), 50);

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static string NodeVersion()
    {
        using var node = Process.Start(new ProcessStartInfo("node", "--version") { RedirectStandardOutput = true })!;
        var version = node.StandardOutput.ReadToEnd().Trim();
        node.WaitForExit();
        return version;
    }

    /// <summary>
    /// The size of the model the tool under test runs (int8 when present), in MiB: its ONNX file plus, when the build took
    /// the word-embedding table out of the graph, the table's file.
    /// </summary>
    private static double ModelFileMiB(string dll)
    {
        var folder = Path.Combine(Path.GetDirectoryName(dll)!, "models", "arctic-embed-xs");
        var file = new[] { "model.int8.onnx", "model.onnx" }.Select(f => Path.Combine(folder, f)).FirstOrDefault(File.Exists);
        if (file is null) return 0;
        var table = Path.Combine(folder, "word-embeddings.f32");
        return (new FileInfo(file).Length + (File.Exists(table) ? new FileInfo(table).Length : 0)) / 1048576.0;
    }

    /// <summary>One of the two servers: how to start it, and its two calls (store one memory, search) in its own tools.</summary>
    private sealed class Server(string name, Func<string, IDictionary<string, string?>, IClientTransport> transport) : IAsyncDisposable
    {
        public string Name { get; } = name;
        private McpClient? _client;
        private string? _folder;
        public int Pid { get; private set; }
        public int Count { get; private set; }
        public int Updated { get; private set; }
        public long Matches;

        public static Server Ours(string dll) => new("ours", (folder, environment) =>
        {
            var variables = new Dictionary<string, string?>(environment);
            foreach (var (name, value) in ExtraEnvironment) variables[name] = value;
            foreach (var variable in new[] { "MCP_MEMORY_DB", "MCP_MEMORY_NAMESPACE", "MCP_MEMORY_API_KEY", "MCP_MEMORY_KEYS_FILE" }) variables[variable] = null;
            return new StdioClientTransport(new StdioClientTransportOptions
            {
                Name = "mcp-memory", Command = ToolUnderTest.Launch(dll).Command, EnvironmentVariables = variables,
                Arguments = [.. ToolUnderTest.Launch(dll).Prefix, "serve", "--db", Path.Combine(folder, "m.db"), "--namespace", "project:bench"],
            });
        });

        public static Server Reference(string script) => new("reference", (folder, environment) =>
            ReferenceMemoryServer.Transport(script, Path.Combine(folder, "memory.jsonl"), environment));

        /// <summary>Spawns the server in a fresh folder and initializes it; finds its process id by a marker in its environment.</summary>
        public async Task<Server> StartAsync()
        {
            _folder = ToolUnderTest.TempFolder();
            var marker = Guid.NewGuid().ToString("N");
            using var timeout = new CancellationTokenSource(CallTimeout);
            _client = await McpClient.CreateAsync(transport(_folder, new Dictionary<string, string?> { ["MCP_MEMORY_BENCH_SERVER"] = marker }), cancellationToken: timeout.Token);
            Pid = Proc.ChildWithEnvironment($"MCP_MEMORY_BENCH_SERVER={marker}");
            return this;
        }

        private string? _lastStored;

        public async Task StoreAsync(string text)
        {
            if (Name == "ours")
            {
                _lastStored = text;
                var answer = await CallAsync("store_memory", new() { ["content"] = text });
                if (answer.Contains("\"status\":\"updated\"", StringComparison.Ordinal)) Updated++;
                Count++;
            }
            else await StoreManyAsync([text]);
        }

        public async Task StoreManyAsync(IReadOnlyList<string> texts)
        {
            if (Name == "ours") { foreach (var text in texts) await StoreAsync(text); return; }
            var entities = texts.Select((text, i) => new Dictionary<string, object?>
            {
                ["name"] = $"memory-{Count + i}", ["entityType"] = "memory", ["observations"] = new[] { text },
            }).ToArray();
            await CallAsync("create_entities", new() { ["entities"] = entities });
            Count += texts.Count;
        }

        public async Task SearchAsync(string query)
        {
            var answer = await CallAsync(Name == "ours" ? "search_memory" : "search_nodes", new() { ["query"] = query });
            // A rough count of what came back, for the report: memory ids, or entity names.
            Matches += CountOf(answer, Name == "ours" ? "\"memory_id\"" : "\"entityType\"");
        }

        /// <summary>McpMemory loads its encoder in the background after its first answer: waits until search runs hybrid.</summary>
        public async Task<TimeSpan?> WaitForEncoderAsync(TimeSpan limit)
        {
            var watch = Stopwatch.StartNew();
            await StoreAsync("bench warm-up: the encoder is loaded before the timed stores");
            while (watch.Elapsed < limit)
            {
                if ((await CallAsync("search_memory", new() { ["query"] = "encoder loaded warm-up" })).Contains("\"mode\":\"hybrid\"", StringComparison.Ordinal))
                    return watch.Elapsed;
                await Task.Delay(100);
            }
            return null;
        }

        /// <summary>
        /// Waits until the last memory stored has its vector, as the server itself reports it: a keyword search for its own
        /// "note N" finds it, and the hit says has_embedding. (A vector search for its text could not tell: the generated
        /// texts repeat with other note numbers, so at 10,000 memories more than 50 copies are as close as it is.)
        /// </summary>
        public async Task<TimeSpan?> WaitForEmbeddingsAsync(TimeSpan limit)
        {
            var watch = Stopwatch.StartNew();
            if (_lastStored is null) return TimeSpan.Zero;
            var at = _lastStored.LastIndexOf("(note ", StringComparison.Ordinal);
            if (at < 0) throw new InvalidOperationException("bench memories end in their own \"(note N)\"");
            var number = _lastStored[(at + "(note ".Length)..].TrimEnd(')');
            while (watch.Elapsed < limit)
            {
                var answer = await CallAsync("search_memory", new() { ["query"] = $"note {number}", ["mode"] = "fts", ["top_k"] = 50 });
                using var json = JsonDocument.Parse(answer);
                foreach (var hit in json.RootElement.GetProperty("results").EnumerateArray())
                    if (hit.GetProperty("content").GetString() == _lastStored && hit.GetProperty("has_embedding").GetBoolean()) return watch.Elapsed;
                await Task.Delay(200);
            }
            return null;
        }

        private async Task<string> CallAsync(string tool, Dictionary<string, object?> arguments)
        {
            using var timeout = new CancellationTokenSource(CallTimeout);
            var result = await _client!.CallToolAsync(tool, arguments, cancellationToken: timeout.Token);
            var text = string.Concat(result.Content.OfType<TextContentBlock>().Select(t => t.Text));
            if (result.IsError == true) throw new InvalidOperationException($"{Name}: {tool} failed: {text}");
            return text;
        }

        private static int CountOf(string text, string what)
        {
            var count = 0;
            for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal)) count++;
            return count;
        }

        public async ValueTask DisposeAsync()
        {
            if (_client is not null) await _client.DisposeAsync();
            _client = null;
            if (_folder is not null)
            {
                try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
                _folder = null;
            }
        }
    }

    /// <summary>Linux /proc: the server processes this bench started, and their memory.</summary>
    private static class Proc
    {
        /// <summary>This process's child whose environment holds <paramref name="entry"/>; 0 when not found (not Linux).</summary>
        public static int ChildWithEnvironment(string entry)
        {
            if (!Directory.Exists("/proc")) return 0;
            var self = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    if (stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1] != self) continue;
                    if (File.ReadAllText(Path.Combine(dir, "environ")).Split('\0').Contains(entry)) return pid;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
            return 0;
        }

        /// <summary>
        /// RSS by kind of mapping (/proc/PID/smaps). Anonymous memory is split by the shape of its mappings: the GC's
        /// reserved range (one run of adjacent mappings of ≥ 1 GiB: the managed heap), glibc's 64 MiB malloc arenas and
        /// [heap] (native heaps: SQLite, ONNX Runtime's small allocations), single blocks of ≥ 1 MiB (large mallocs and
        /// mmaps: ONNX Runtime's weights and arena chunks, listed), and the rest (thread stacks, small mappings). Files:
        /// JIT-compiled code (the runtime's double-mapped memfd), assemblies, ONNX Runtime's library, the executable, other
        /// native libraries, the model's files.
        /// </summary>
        public static string Breakdown(int pid)
        {
            var smaps = $"/proc/{pid}/smaps";
            if (pid == 0 || !File.Exists(smaps)) return "n/a";
            var kinds = new Dictionary<string, long>();
            var mappings = new List<(ulong Start, ulong End, string Path, long RssKiB)>();
            foreach (var line in File.ReadLines(smaps))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 0 && fields[0].Contains('-') && fields[0].Length > 8 && !fields[0].EndsWith(':'))
                {
                    var range = fields[0].Split('-');
                    mappings.Add((ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture), ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                        fields.Length > 5 ? string.Join(' ', fields[5..]) : "", 0));
                }
                else if (fields.Length > 1 && fields[0] == "Rss:" && mappings.Count > 0)
                    mappings[^1] = mappings[^1] with { RssKiB = long.Parse(fields[1], CultureInfo.InvariantCulture) };
            }
            var blocks = new List<double>();
            for (var i = 0; i < mappings.Count;)
            {
                var (start, end, path, rss) = mappings[i++];
                if (path != "")
                {
                    var kind = path == "[heap]" ? "native heaps" : path.StartsWith("/memfd:doublemapper") ? "JIT code"
                        : path.Contains("onnxruntime") ? "ONNX Runtime library" : path.EndsWith(".dll") ? "assemblies"
                        : path.Contains(".so") ? "other native libraries" : path.EndsWith(".onnx") || path.EndsWith(".f32") ? "model files"
                        : path.EndsWith("/mcp-memory") ? "executable" : "other";
                    kinds[kind] = kinds.GetValueOrDefault(kind) + rss;
                    continue;
                }
                // A run of adjacent anonymous mappings is one reservation (the GC's, an arena's) with parts committed.
                while (i < mappings.Count && mappings[i].Path == "" && mappings[i].Start == end) { end = mappings[i].End; rss += mappings[i++].RssKiB; }
                const ulong MiB = 1 << 20, ArenaSize = 64 * MiB;
                string anonymous = end - start >= 1024 * MiB ? "managed heap (GC range)"
                    : (end - start) % ArenaSize == 0 && start % ArenaSize == 0 ? "native heaps"
                    : rss >= 1024 ? "anonymous blocks ≥ 1 MiB" : "small anonymous (stacks, ...)";
                if (anonymous == "anonymous blocks ≥ 1 MiB") blocks.Add(rss / 1024.0);
                kinds[anonymous] = kinds.GetValueOrDefault(anonymous) + rss;
            }
            return string.Join(", ", kinds.OrderByDescending(k => k.Value).Select(k => $"{k.Key} {k.Value / 1024.0:F1} MiB")) +
                   $"; blocks ≥ 1 MiB: {string.Join(" + ", blocks.OrderDescending().Select(b => b.ToString("F1", CultureInfo.InvariantCulture)))} MiB";
        }

        /// <summary>The server's managed-heap figures (MemoryReport: written on SIGUSR1 to the file MCP_MEMORY_MEMORY_REPORT names), in MiB.</summary>
        public static async Task<string> GcReportAsync(int pid, string file)
        {
            File.Delete(file);
            using (var kill = Process.Start("kill", ["-USR1", pid.ToString(CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
            for (var waited = 0; !File.Exists(file) && waited < 5000; waited += 50) await Task.Delay(50);
            if (!File.Exists(file)) return "no report (a build without MCP_MEMORY_MEMORY_REPORT?)";
            using var report = JsonDocument.Parse(await File.ReadAllTextAsync(file));
            var root = report.RootElement;
            string MiB(JsonElement e) => (e.GetInt64() / 1048576.0).ToString("F1", CultureInfo.InvariantCulture);
            var generations = root.GetProperty("generations").EnumerateArray().Select(g => MiB(g.GetProperty("size_after"))).ToArray();
            return $"committed {MiB(root.GetProperty("committed"))} MiB, heap {MiB(root.GetProperty("heap_size"))} (fragmented {MiB(root.GetProperty("fragmented"))}), " +
                   $"live estimate {MiB(root.GetProperty("total_memory"))}; after the last GC gen0/gen1/gen2/LOH/POH {string.Join(" / ", generations)} MiB; " +
                   $"{root.GetProperty("gen0_collections").GetInt64()} gen0 and {root.GetProperty("gen2_collections").GetInt64()} gen2 collections";
        }

        /// <summary>A /proc/PID/status field in kB (VmRSS, VmHWM), in MiB; NaN when unknown.</summary>
        public static double StatusMiB(int pid, string field)
        {
            var status = $"/proc/{pid}/status";
            if (pid == 0 || !File.Exists(status)) return double.NaN;
            foreach (var line in File.ReadLines(status))
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
            return double.NaN;
        }
    }
}
