using System.Diagnostics;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Embeddings.Onnx;
using McpMemory.Core.Knowledge;
using McpMemory.Core.Memories;

namespace McpMemory.Bench;

/// <summary>
/// Issue 16's consolidation figure: a store of N memories (default 10,000) of which 10 % are planted restatements of
/// the others (case and punctuation, function words and endings, or the fact extended), stored with merging off as
/// duplicates get in; near-miss distinct facts come free from the templates (same service, another port, branch,
/// environment; a negation). Consolidation must merge every restatement with its fact and never two distinct facts;
/// the time is reported (the encoder's embedding of the store is set apart: it happens at store time).
///   dotnet run -c Release --project bench/McpMemory.Bench -- consolidate [--size 10000] [--model use-lite|arctic-embed-xs]
/// </summary>
internal static class ConsolidateBench
{
    private static readonly string[] Services = ["payments", "billing", "search", "auth", "checkout", "inventory", "shipping", "catalog", "reports", "notifications",
        "gateway", "scheduler", "ledger", "profile", "media", "export", "import", "metrics", "audit", "pricing"];
    private static readonly string[] Envs = ["staging", "production", "preview", "qa", "sandbox"];
    private static readonly string[] Branches = ["main", "release", "develop", "hotfix", "stable"];
    private static readonly string[] Tools = ["redis", "postgres", "kafka", "rabbitmq", "nginx", "envoy", "sqlite", "memcached", "elasticsearch", "minio"];
    private static readonly string[] Purposes = ["caching", "sessions", "job queues", "rate limits", "audit logs", "search indexes", "file uploads", "feature flags"];

    private static readonly Func<Random, string>[] Templates =
    [
        r => $"The {Pick(r, Services)} service listens on port {r.Next(1024, 65535)}",
        r => $"The {Pick(r, Services)} service deploys to {Pick(r, Envs)} from the {Pick(r, Branches)} branch",
        r => $"The {Pick(r, Services)} service uses {Pick(r, Tools)} for {Pick(r, Purposes)}",
        r => $"The {Pick(r, Services)} service does not use {Pick(r, Tools)} for {Pick(r, Purposes)}",
        r => $"The {Pick(r, Services)} database host in {Pick(r, Envs)} is db-{Pick(r, Services)}-{r.Next(1, 99):00}.internal",
        r => $"The {Pick(r, Services)} service retries failed calls {r.Next(2, 9)} times with a {r.Next(1, 30) * 50} ms backoff",
    ];

    private static string Pick(Random r, string[] values) => values[r.Next(values.Length)];

    /// <summary>A restatement the merge rule is meant to merge: same words in another case and punctuation, function words and endings changed, or the fact extended.</summary>
    private static string Restate(Random r, string fact) => r.Next(3) switch
    {
        0 => fact.ToLowerInvariant() + ".",
        1 => fact.Replace("The ", "the ", StringComparison.Ordinal).Replace(" uses ", " is using ").Replace(" listens ", " is listening ")
                 .Replace(" deploys ", " deployed ").Replace(" retries ", " is retrying ") + "!",
        _ => fact + $" since the {Pick(r, ["march", "april", "may", "june"])} migration",
    };

    public static Task<int> RunAsync(string[] args)
    {
        var size = int.Parse(StorageBench.Option(args, "--size") ?? "10000");
        var model = StorageBench.Option(args, "--model") ?? "use-lite";
        var restatements = size / 10;
        Console.WriteLine($"consolidate bench — {size:N0} memories, {restatements:N0} planted restatements; encoder {model}; {Environment.ProcessorCount} cores; " +
                          $"load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        var random = new Random(16);
        var facts = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (facts.Count < size - restatements)
        {
            var fact = Templates[random.Next(Templates.Length)](random);
            if (seen.Add(DuplicateRule.Signature(fact))) facts.Add(fact); // distinct facts: no two with the same content words
        }
        var planted = Enumerable.Range(0, facts.Count).OrderBy(_ => random.Next()).Take(restatements).Select(i => (Fact: i, Text: Restate(random, facts[i]))).ToList();

        var dir = Directory.CreateTempSubdirectory("mcp-memory-consolidate-");
        try
        {
            IEmbedder encoder = model == "use-lite" ? UseLiteEncoder.LoadDefault() : OnnxEncoder.LoadDefault();
            var options = MemoryOptions.Default with { MergeDuplicates = false, EmbeddingInterval = TimeSpan.FromHours(1) };
            using var service = MemoryService.Open(Path.Combine(dir.FullName, "c.db"), options, EmbedderProvider.Ready(encoder));
            service.WaitForVectors(TimeSpan.FromMinutes(1));
            var caller = new Caller("project:bench", "bench");
            var owner = new Dictionary<Guid, int>();
            var fill = Stopwatch.StartNew();
            var all = facts.Select((text, i) => (Text: text, Fact: i)).Concat(planted.Select(p => (p.Text, p.Fact))).OrderBy(_ => random.Next()).ToList();
            foreach (var batch in all.Chunk(256))
            {
                var stored = service.StoreMany(caller, batch.Select(m => new NewMemory { Content = m.Text }).ToList());
                for (var i = 0; i < batch.Length; i++) owner[stored[i].MemoryId] = batch[i].Fact;
            }
            Console.WriteLine($"filled: {all.Count:N0} memories ({planted.Count:N0} restatements) with vectors in {fill.Elapsed.TotalSeconds:0.0} s");

            var dry = new Consolidator(service).Run(caller, new ConsolidateRequest { DryRun = true });
            var run = Stopwatch.StartNew();
            var report = new Consolidator(service).Run(caller, new ConsolidateRequest());
            run.Stop();

            var mixed = report.Groups.Count(g => g.Members.Any(m => owner[m.MemoryId] != owner[g.CanonicalId]));
            var mergedTogether = report.Groups.Sum(g => g.Members.Count(m => owner[m.MemoryId] == owner[g.CanonicalId]));
            Console.WriteLine($"consolidate (dry run): {dry.ElapsedMs:N0} ms, would merge {dry.Merged:N0}");
            Console.WriteLine($"consolidate: {run.Elapsed.TotalMilliseconds:N0} ms for {report.Scanned:N0} memories; merged {report.Merged:N0} in {report.Groups.Count:N0} groups");
            Console.WriteLine($"restatements merged with their fact: {mergedTogether:N0} of {planted.Count:N0}; groups joining distinct facts: {mixed}");
            Console.WriteLine($"by reason: {string.Join(", ", report.Groups.SelectMany(g => g.Members).GroupBy(m => m.Reason).Select(g => $"{g.Key} {g.Count():N0}"))}");
            var verdict = mergedTogether == planted.Count && mixed == 0 && report.Merged == planted.Count;
            Console.WriteLine(verdict ? "PASS: every restatement merged, no distinct fact merged" : "FAIL");
            return Task.FromResult(verdict ? 0 : 1);
        }
        finally { try { dir.Delete(recursive: true); } catch (IOException) { } }
    }
}
