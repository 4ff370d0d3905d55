namespace McpMemory.Bench;

/// <summary>
/// Deterministic, varied, realistic-looking agent memories (decisions, fixes, preferences, commands) built from
/// word lists, so benchmarks need no external data. Same seed → same corpus.
/// </summary>
internal class CorpusGenerator(int seed)
{
    private readonly Random _random = new(seed);

    /// <summary>
    /// Real conversational text instead of templates: the turns of LoCoMo conversations (cycled when more are
    /// needed) and their questions as queries. Read from the folder at run time; the data is never committed.
    /// </summary>
    public static CorpusGenerator FromLoCoMo(string directory) => new LoCoMoCorpus(directory);

    private sealed class LoCoMoCorpus : CorpusGenerator
    {
        private readonly List<string> _turns = [];
        private readonly List<string> _questions = [];
        private int _nextTurn, _nextQuestion;

        public LoCoMoCorpus(string directory) : base(0)
        {
            foreach (var file in Directory.GetFiles(directory, "*.json").Order())
            {
                using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
                foreach (var property in doc.RootElement.EnumerateObject())
                {
                    if (!property.Name.StartsWith("session_") || property.Value.ValueKind != System.Text.Json.JsonValueKind.Array) continue;
                    foreach (var turn in property.Value.EnumerateArray())
                        _turns.Add($"{turn.GetProperty("speaker").GetString()}: {turn.GetProperty("text").GetString()}");
                }
                foreach (var qa in doc.RootElement.GetProperty("qa").EnumerateArray())
                    _questions.Add(qa.GetProperty("question").GetString()!);
            }
            if (_turns.Count == 0) throw new InvalidOperationException($"no LoCoMo turns found in {directory}");
        }

        public override string Next() => _turns[_nextTurn++ % _turns.Count];
        public override string Query() => _questions[_nextQuestion++ % _questions.Count];
    }

    private static readonly string[] Components = ["the auth service", "the billing worker", "the web frontend", "the CI pipeline", "the nginx reverse proxy", "the postgres replica", "the redis cache", "the search indexer", "the mobile app", "the GraphQL gateway", "the payment webhook", "the docker compose stack", "the terraform module", "the kafka consumer", "the rate limiter", "the feature flag service", "the image resizer", "the cron scheduler", "the S3 uploader", "the session store"];
    private static readonly string[] Problems = ["timed out under load", "leaked file descriptors", "returned stale data after deploys", "crashed on empty input", "double-charged on retries", "dropped messages during rebalance", "ran out of memory on large uploads", "failed TLS handshakes behind the load balancer", "deadlocked when two migrations ran at once", "logged secrets at debug level", "broke on daylight saving changes", "ignored the configured timeout", "mis-parsed ISO dates without a zone", "blocked the event loop while hashing"];
    private static readonly string[] Causes = ["a missing index on created_at", "an unbounded retry loop", "a connection pool of size 1", "a race between cache invalidation and writes", "the default 30 s keepalive", "a regex with catastrophic backtracking", "an off-by-one in pagination", "a stale DNS entry in the container", "mixing UTC and local time", "a forgotten await", "reading the whole file into memory", "a shared mutable static"];
    private static readonly string[] Fixes = ["added the index and a query plan test", "capped retries at 5 with jitter", "raised the pool to 20 and added a health check", "switched to write-through caching", "set keepalive to 75 s", "replaced the regex with a parser", "fixed the cursor arithmetic and added a property test", "pinned the resolver and lowered the TTL", "normalised every timestamp to UTC at the boundary", "awaited the call and enabled the analyzer rule", "streamed the file in 64 KiB chunks", "made the static immutable"];
    private static readonly string[] Preferences = ["prefers small pull requests with one concern each", "wants tests next to the code they cover", "uses pnpm, never npm, in this repo", "likes explicit error messages that name the field", "asks for conventional commit messages", "wants dark mode screenshots in PR descriptions", "prefers tabs in Makefiles and two spaces elsewhere", "wants feature flags for every risky change"];
    private static readonly string[] Commands = ["make test-integration", "docker compose up -d db", "pnpm run lint --fix", "dotnet test -c Release", "kubectl rollout restart deploy/api", "terraform plan -out plan.tfplan", "psql -c 'VACUUM ANALYZE'", "cargo clippy --all-targets"];

    private string Pick(string[] items) => items[_random.Next(items.Length)];

    public virtual string Next() => _random.Next(4) switch
    {
        0 => $"{Cap(Pick(Components))} {Pick(Problems)}; the cause was {Pick(Causes)}, so we {Pick(Fixes)}. Ticket #{_random.Next(100, 9999)}.",
        1 => $"Decision: {Pick(Components)} keeps {Pick(Causes).Replace("a ", "no ")} because it {Pick(Problems)} last quarter; revisit in sprint {_random.Next(1, 60)}.",
        2 => $"The user {Pick(Preferences)}, and {Pick(Preferences)}.",
        _ => $"To check {Pick(Components)} run `{Pick(Commands)}` then `{Pick(Commands)}`; it {Pick(Problems)} when skipped (build {_random.Next(1000, 99999)}).",
    };

    public virtual string Query() => _random.Next(3) switch
    {
        0 => $"why does {Pick(Components)} {Pick(Problems).Split(' ')[0]}?",
        1 => Pick(Causes),
        _ => $"how do I run {Pick(Commands).Split(' ')[0]}",
    };

    /// <summary>
    /// Queries that never repeat: <see cref="Query"/>'s few templates repeat within a few dozen calls, and a server that
    /// keeps recent query vectors would then be timed on its cache. A repeat is made new by naming a component (as an agent
    /// narrows a search), then a ticket number; every query handed out is different from every earlier one.
    /// </summary>
    internal sealed class DistinctQueries(CorpusGenerator corpus)
    {
        private readonly HashSet<string> _seen = new(StringComparer.OrdinalIgnoreCase);
        private readonly Random _random = new(corpus._random.Next());

        public int Count => _seen.Count;

        public string Next()
        {
            var query = corpus.Query();
            for (var attempt = 0; !_seen.Add(query); attempt++)
                query = attempt < 3 ? $"{corpus.Query()} in {Components[_random.Next(Components.Length)]}" : $"{corpus.Query()} (ticket #{_random.Next(100, 9999)})";
            return query;
        }
    }

    private static string Cap(string s) => char.ToUpperInvariant(s[0]) + s[1..];
}
