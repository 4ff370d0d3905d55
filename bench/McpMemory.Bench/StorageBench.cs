using McpMemory.Core;
using McpMemory.Core.Memories;
using McpMemory.Core.Indexes.Keywords;
using McpMemory.Core.Search;
using Microsoft.Data.Sqlite;

namespace McpMemory.Bench;

/// <summary>
/// Issue 2's storage figures: get-by-id, FTS search at 1K and 10K memories, writes per second (single and
/// batched), bytes per memory. The baseline, measured in the same run, is naive Microsoft.Data.Sqlite use
/// (a new command per call, same SQL), so the ratio shows what the engine's session and statement reuse buys.
///   dotnet run -c Release --project bench/McpMemory.Bench -- storage [--sizes 1000,10000]
/// </summary>
internal static class StorageBench
{
    public static Task<int> Run(string[] args)
    {
        var sizes = Option(args, "--sizes")?.Split(',').Select(int.Parse).ToArray() ?? [1_000, 10_000];
        var caller = new Caller("project:bench", "bench");
        Console.WriteLine($"storage bench — {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");

        foreach (var size in sizes)
        {
            var dir = Directory.CreateTempSubdirectory("mcp-memory-bench-");
            try
            {
                var path = Path.Combine(dir.FullName, "bench.db");
                using var service = MemoryService.Open(path);
                var corpus = Option(args, "--corpus") is { } corpusDir ? CorpusGenerator.FromLoCoMo(corpusDir) : new CorpusGenerator(seed: size);
                var ids = new List<Guid>(size);
                for (var done = 0; done < size; done += 1000)
                {
                    var batch = Enumerable.Range(0, Math.Min(1000, size - done)).Select(_ => new NewMemory { Content = corpus.Next(), Tags = ["bench"] }).ToList();
                    ids.AddRange(service.StoreMany(caller, batch).Select(r => r.MemoryId));
                }
                Console.WriteLine($"\n== {size:N0} memories ==");

                var get = Measure.Calls(20_000, i => service.Get(caller, ids[(i * 7919) % ids.Count]));
                var naiveGet = Measure.Calls(20_000, i => NaiveGet(path, ids[(i * 7919) % ids.Count]));
                Report("get-by-id", get, naiveGet, "target ≤ 20 µs; Memori 43 µs");

                var queries = Enumerable.Range(0, 200).Select(_ => corpus.Query()).ToArray();
                // Both warm up for 20,000 calls, long enough for tiered JIT (with dynamic PGO) to reach optimised code: a
                // server runs for hours.
                var fts = Measure.Calls(5_000, i => service.Search(caller, new SearchRequest { Query = queries[i % queries.Length] }), warmup: 20_000);
                var naiveFts = Measure.Calls(5_000, i => NaiveFts(path, FtsQuery.Build(queries[i % queries.Length])!), warmup: 20_000);
                Report("FTS search top-10", fts, naiveFts, size == 1_000 ? "target ≤ 100 µs at 1K; Memori 65 µs" : "");
                Console.WriteLine($"  {"",-18} queries match on average {queries.Average(q => MatchCount(path, FtsQuery.Build(q)!)) / size:P1} of the memories");

                var single = Measure.Calls(300, _ => service.Store(caller, new NewMemory { Content = corpus.Next() }), warmup: 20);
                Console.WriteLine($"  writes, one per transaction (fsync each): {1e6 / single.Mean:N0}/s   {single}");
                var batchSize = 1000;
                var batches = 5;
                var start = System.Diagnostics.Stopwatch.GetTimestamp();
                for (var b = 0; b < batches; b++)
                    service.StoreMany(caller, Enumerable.Range(0, batchSize).Select(_ => new NewMemory { Content = corpus.Next() }).ToList());
                var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
                Console.WriteLine($"  writes, batched {batchSize}/transaction: {batches * batchSize / seconds:N0}/s   (target ≥ 10,000/s; Memori 8,100/s)");

                Checkpoint(path);
                var count = service.Stats().Memories;
                var bytes = new FileInfo(path).Length;
                var avgContent = AverageContentBytes(path);
                Console.WriteLine($"  bytes per memory (file / rows, after checkpoint): {bytes / (double)count:N0} B  (content averages {avgContent:N0} B; target ≤ 2,500 B; Memori 4.3 KB)");
            }
            finally
            {
                if (args.Contains("--keep")) Console.WriteLine($"  kept {dir.FullName}");
                else dir.Delete(recursive: true);
            }
        }
        return Task.FromResult(0);
    }

    private static void Report(string name, Measure.Latency engine, Measure.Latency naive, string target) =>
        Console.WriteLine($"  {name,-18} engine {engine}\n  {"",-18} naive  {naive}   → naive/engine p50 = {naive.P50 / engine.P50:0.00}×   {target}");

    private static SqliteConnection? _naive;
    private static SqliteConnection Naive(string path)
    {
        if (_naive?.DataSource != path) { _naive?.Dispose(); _naive = new SqliteConnection($"Data Source={path}"); _naive.Open(); }
        return _naive;
    }

    private static object? NaiveGet(string path, Guid id)
    {
        using var command = Naive(path).CreateCommand();
        command.CommandText = "SELECT * FROM memories WHERE id = @id";
        command.Parameters.AddWithValue("@id", id.ToString("D"));
        using var reader = command.ExecuteReader();
        return reader.Read() ? reader.GetString(6) : null;
    }

    private static int NaiveFts(string path, string match)
    {
        using var command = Naive(path).CreateCommand();
        command.CommandText = "SELECT m.* FROM memories_fts JOIN memories m ON m.seq = memories_fts.rowid WHERE memories_fts MATCH @q ORDER BY bm25(memories_fts, 1.0, 2.0) LIMIT 10";
        command.Parameters.AddWithValue("@q", match);
        using var reader = command.ExecuteReader();
        var n = 0;
        while (reader.Read()) n++;
        return n;
    }

    private static long MatchCount(string path, string match)
    {
        using var command = Naive(path).CreateCommand();
        command.CommandText = "SELECT count(*) FROM memories_fts WHERE memories_fts MATCH @q";
        command.Parameters.AddWithValue("@q", match);
        return Convert.ToInt64(command.ExecuteScalar());
    }

    private static void Checkpoint(string path)
    {
        using var command = Naive(path).CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        command.ExecuteNonQuery();
    }

    private static double AverageContentBytes(string path)
    {
        using var command = Naive(path).CreateCommand();
        command.CommandText = "SELECT avg(length(CAST(content AS BLOB))) FROM memories";
        return Convert.ToDouble(command.ExecuteScalar());
    }

    internal static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
