using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using McpMemory.Core;
using McpMemory.Core.Memories;

namespace McpMemory.Bench;

/// <summary>
/// Issue 17's dashboard figure: the server time of the memories list page (and the other pages) on a store of N memories
/// (default 10,000; target ≤ 200 ms for the list). The real tool serves the dashboard (`serve --http`, keyless loopback, the
/// encoder off so it loads nothing meanwhile); each page is fetched --calls times and the server's own Server-Timing
/// (read the store and render the HTML) is summarised beside the time the client saw.
///   dotnet run -c Release --project bench/McpMemory.Bench -- dashboard [--size 10000] [--calls 50] [--dll PATH]
/// </summary>
internal static partial class DashboardBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var size = ToolUnderTest.IntOption(args, "--size", 10_000);
        var calls = ToolUnderTest.IntOption(args, "--calls", 50);
        var dll = ToolUnderTest.Dll(args);
        var dir = ToolUnderTest.TempFolder();
        var db = Path.Combine(dir, "dashboard.db");
        try
        {
            var fill = Stopwatch.StartNew();
            var ids = Fill(db, size);
            Console.WriteLine($"dashboard bench — {size:N0} memories (stored in {fill.Elapsed.TotalSeconds:0.0} s, not counted); {Environment.ProcessorCount} cores; " +
                              $"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} (the machine is shared: figures measured under that load)");

            var start = ToolUnderTest.Start(dll, ["serve", "--http", "--urls", "http://127.0.0.1:0", "--db", db, "--namespace", "project:bench"]);
            start.Environment["MCP_MEMORY_ENCODER"] = "off";
            using var server = Process.Start(start)!;
            try
            {
                var baseUrl = await ListeningUrlAsync(server);
                _ = server.StandardError.ReadToEndAsync(); // keep the pipe drained
                using var http = new HttpClient(new HttpClientHandler { UseCookies = true, AllowAutoRedirect = true }) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
                // The session cookie is Secure, which HttpClient keeps for https only: carry it by hand.
                var first = await http.GetAsync("/memories");
                var cookie = first.Headers.GetValues("Set-Cookie").First().Split(';')[0];
                http.DefaultRequestHeaders.Add("Cookie", cookie);

                Console.WriteLine($"{"page",-46} {"server p50",11} {"p90",9} {"max",9} {"client p50",11} {"bytes",9}");
                foreach (var (label, path) in new[]
                {
                    ("memories list, newest, page 1", "/memories"),
                    ("memories list, most used", "/memories?sort=used"),
                    ("memories list, importance, page 100", "/memories?sort=importance&page=100"),
                    ("memories list, type + tag filter", "/memories?type=decision&tags=deploy"),
                    ("memories list, live refresh fragment", "/memories?partial=1"),
                    ("search (keywords)", "/search?q=deploy+staging+database"),
                    ("overview", "/overview"),
                    ("memory detail (history, similar)", $"/memories/{ids[size / 2]}"),
                })
                {
                    var (server50, server90, serverMax, client50, bytes) = await MeasureAsync(http, path, calls);
                    Console.WriteLine($"{label,-46} {server50,8:0.0} ms {server90,6:0.0} ms {serverMax,6:0.0} ms {client50,8:0.0} ms {bytes,9:N0}");
                }
                Console.WriteLine("target: the list page at 10,000 memories in ≤ 200 ms of server time (Server-Timing app;dur: reading the store and rendering)");
            }
            finally
            {
                if (!server.HasExited) server.Kill(entireProcessTree: true);
            }
            return 0;
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<(double, double, double, double, long)> MeasureAsync(HttpClient http, string path, int calls)
    {
        var server = new List<double>();
        var client = new List<double>();
        long bytes = 0;
        for (var i = -5; i < calls; i++)
        {
            var watch = Stopwatch.StartNew();
            using var response = await http.GetAsync(path);
            var body = await response.Content.ReadAsByteArrayAsync();
            watch.Stop();
            response.EnsureSuccessStatusCode();
            if (i < 0) continue; // warm-up
            bytes = body.Length;
            client.Add(watch.Elapsed.TotalMilliseconds);
            var timing = response.Headers.GetValues("Server-Timing").Single();
            server.Add(double.Parse(Duration().Match(timing).Groups[1].Value, CultureInfo.InvariantCulture));
        }
        server.Sort();
        client.Sort();
        return (ToolUnderTest.Percentile(server, 50), ToolUnderTest.Percentile(server, 90), server[^1], ToolUnderTest.Percentile(client, 50), bytes);
    }

    [GeneratedRegex(@"dur=([0-9.]+)")]
    private static partial Regex Duration();

    /// <summary>N memories over a year, of every type, with tags, some used (access counts) — written straight through the engine.</summary>
    private static List<Guid> Fill(string path, int size)
    {
        var caller = new Caller("project:bench", "bench");
        using var service = MemoryService.Open(path, MemoryOptions.Default with { MergeDuplicates = false });
        var corpus = new CorpusGenerator(seed: 17);
        var random = new Random(17);
        string[] tags = ["deploy", "nginx", "ci", "db", "auth", "frontend", "infra", "tests"];
        string[] types = ["fact", "decision", "preference", "fix", "episode", "context"];
        var start = DateTimeOffset.UtcNow.AddDays(-365);
        var ids = new List<Guid>(size);
        for (var done = 0; done < size;)
        {
            var batch = new List<NewMemory>();
            for (; batch.Count < 500 && done < size; done++)
                batch.Add(new NewMemory
                {
                    Content = corpus.Next(),
                    MemoryType = types[random.Next(types.Length)],
                    Tags = [tags[random.Next(tags.Length)], tags[random.Next(tags.Length)]],
                    Importance = Math.Round(random.NextDouble(), 2),
                    CreatedAt = start.AddMinutes(done * 525_600.0 / size),
                });
            ids.AddRange(service.StoreMany(caller, batch).Select(r => r.MemoryId));
        }
        // Some memories used, so "most used" and the overview's lists have something to sort.
        for (var i = 0; i < 300; i++)
            service.Search(caller, new Core.Search.SearchRequest { Query = corpus.Query(), TopK = 10, Mode = "fts" });
        return ids;
    }

    private static async Task<string> ListeningUrlAsync(Process server)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await server.StandardError.ReadLineAsync(timeout.Token) is { } line)
            if (ListeningLine().Match(line) is { Success: true } m) return m.Groups[1].Value;
        throw new InvalidOperationException("the server exited before listening");
    }

    [GeneratedRegex(@"listening on (http://\S+)")]
    private static partial Regex ListeningLine();
}
