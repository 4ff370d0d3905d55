using System.Globalization;
using McpMemory.Core;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Core.Search.Time;
using McpMemory.Transports;
using McpMemory.Transports.Http;

namespace McpMemory;

/// <summary>What the command line gave; null where an option was not given (its variable, then its default, decide).</summary>
public sealed record SettingsArgs
{
    public string? Db { get; init; }
    public string? Namespace { get; init; }
    public string? AgentId { get; init; }
    public string? Model { get; init; }
    public string? EmbeddingsUrl { get; init; }
    public string? EmbeddingsModel { get; init; }
    /// <summary>--ranking "fts_weight=0.8 fusion=rrf": applied over $MCP_MEMORY_RANKING, parameter by parameter.</summary>
    public string? Ranking { get; init; }
    // serve --http
    public string[]? Urls { get; init; }
    public string? ApiKey { get; init; }
    public string? KeysFile { get; init; }
    public string[]? AllowedOrigins { get; init; }
}

/// <summary>
/// Every setting of the tool, read in this one place: each from its command-line option, else its MCP_MEMORY_*
/// environment variable, else its default (the table in README § Configuration lists them all). Built by
/// <see cref="Resolve"/> from <see cref="SettingsArgs"/> and an environment passed in, so nothing else reads the
/// environment; a bad value is refused naming the option or variable and what is expected.
/// </summary>
/// <param name="DatabasePath">--db, else MCP_MEMORY_DB, else <see cref="DefaultDatabasePath"/>: a SQLite file's full path, or a PostgreSQL URL or connection string as given.</param>
/// <param name="DefaultNamespace">--namespace, else MCP_MEMORY_NAMESPACE, else project:&lt;git root or folder name&gt;.</param>
/// <param name="AgentId">--agent-id, else MCP_MEMORY_AGENT_ID, else "default".</param>
/// <param name="Model">--model, else MCP_MEMORY_MODEL: arctic-embed-xs, use-lite or a model folder; null: the default (<see cref="Encoders.Load"/>).</param>
/// <param name="DatabaseIsDefault">No path was given: the default data folder is created on demand.</param>
public sealed record Settings(string DatabasePath, string DefaultNamespace, string AgentId, string? Model = null, bool DatabaseIsDefault = false)
{
    public const string DbVariable = "MCP_MEMORY_DB";
    public const string NamespaceVariable = "MCP_MEMORY_NAMESPACE";
    public const string AgentVariable = "MCP_MEMORY_AGENT_ID";
    public const string ModelVariable = "MCP_MEMORY_MODEL";
    public const string EncoderVariable = "MCP_MEMORY_ENCODER";
    public const string ModelDirectoryVariable = Core.Embeddings.UseLiteModelFiles.DirectoryVariable;
    public const string DuplicateThresholdVariable = "MCP_MEMORY_DUPLICATE_THRESHOLD";
    public const string RankingVariable = "MCP_MEMORY_RANKING";
    public const string TimeZoneVariable = "MCP_MEMORY_TIMEZONE";
    public const string SprintVariable = "MCP_MEMORY_SPRINT";
    public const string ExpirySweepVariable = "MCP_MEMORY_EXPIRY_SWEEP_SECONDS";
    public const string EmbedInlineVariable = "MCP_MEMORY_EMBED_INLINE";
    public const string EmbedBatchWindowVariable = "MCP_MEMORY_EMBED_BATCH_WINDOW_MS";
    public const string ConsolidateVariable = "MCP_MEMORY_CONSOLIDATE_SECONDS";
    public const string ArchiveAfterVariable = "MCP_MEMORY_ARCHIVE_AFTER_DAYS";
    public const string ApiKeyVariable = "MCP_MEMORY_API_KEY";
    public const string KeysFileVariable = "MCP_MEMORY_KEYS_FILE";
    public const string EmbeddingsUrlVariable = "MCP_MEMORY_EMBEDDINGS_URL";
    public const string EmbeddingsModelVariable = "MCP_MEMORY_EMBEDDINGS_MODEL";
    public const string EmbeddingsKeyVariable = "MCP_MEMORY_EMBEDDINGS_KEY";
    public const string EmbeddingsTimeoutVariable = "MCP_MEMORY_EMBEDDINGS_TIMEOUT_SECONDS";
    public const string EmbeddingsDimensionsVariable = "MCP_MEMORY_EMBEDDINGS_DIMENSIONS";
    public const string EmbeddingsQueryPrefixVariable = "MCP_MEMORY_EMBEDDINGS_QUERY_PREFIX";
    public const string EmbeddingsDocumentPrefixVariable = "MCP_MEMORY_EMBEDDINGS_DOCUMENT_PREFIX";
    public const string HookDeadlineVariable = "MCP_MEMORY_HOOK_DEADLINE_MS";

    /// <summary>An OpenAI-compatible embeddings endpoint to use instead of the built-in encoder (see <see cref="EmbeddingEndpoint"/>).</summary>
    public EmbeddingEndpoint? Embeddings { get; init; }

    /// <summary>MCP_MEMORY_ENCODER=off (or none, 0, false): no encoder, keyword search only.</summary>
    public bool EncoderOff { get; init; }

    /// <summary>MCP_MEMORY_MODEL_DIR: where the USE-lite model lives; null: models/use-lite-en next to the app.</summary>
    public string? UseLiteDirectory { get; init; }

    /// <summary>The engine's options: merge rule (MCP_MEMORY_DUPLICATE_THRESHOLD), ranking (--ranking), time phrases.</summary>
    public MemoryOptions Engine { get; init; } = MemoryOptions.Default;

    /// <summary>
    /// How long `briefing --hook` may take before it prints nothing (MCP_MEMORY_HOOK_DEADLINE_MS, default 800 ms): a hook
    /// must never hold up a session start; a slow disk or a loaded test machine moves it.
    /// </summary>
    public TimeSpan HookDeadline { get; init; } = TimeSpan.FromMilliseconds(800);

    /// <summary>How often a server purges expired memories (MCP_MEMORY_EXPIRY_SWEEP_SECONDS).</summary>
    public ExpirySweepOptions ExpirySweep { get; init; } = ExpirySweepOptions.Default;

    /// <summary>How often a server consolidates memories (MCP_MEMORY_CONSOLIDATE_SECONDS; off by default).</summary>
    public ConsolidationSchedule Consolidation { get; init; } = ConsolidationSchedule.Off;

    /// <summary>
    /// Which stale memories consolidation archives (MCP_MEMORY_ARCHIVE_AFTER_DAYS, default 90; 0 turns archiving off):
    /// the default of the consolidate command and tool, and of the server's schedule.
    /// </summary>
    public Core.Knowledge.ArchivePolicy Archive { get; init; } = Core.Knowledge.ArchivePolicy.Default;

    /// <summary>How `serve --http` listens and whom it lets in.</summary>
    public HttpSettings Http { get; init; } = HttpSettings.Resolve(null, null, null, null);

    /// <summary>The settings of this process: its command line and its environment.</summary>
    public static Settings FromProcess(SettingsArgs args) => Resolve(args, Environment.GetEnvironmentVariable);

    /// <summary>The settings from <paramref name="args"/>, else <paramref name="environment"/> (tests pass their own), else the defaults.</summary>
    public static Settings Resolve(SettingsArgs args, Func<string, string?> environment)
    {
        string? Env(string name) => FirstNonEmpty(environment(name));

        var given = FirstNonEmpty(args.Db, Env(DbVariable));
        var space = FirstNonEmpty(args.Namespace, Env(NamespaceVariable)) ?? DefaultNamespaceFor(Directory.GetCurrentDirectory());
        var agent = FirstNonEmpty(args.AgentId, Env(AgentVariable)) ?? Caller.DefaultAgentId;
        var encoderModel = FirstNonEmpty(args.Model, Env(ModelVariable))?.Trim();
        if (encoderModel is not null && !Encoders.IsBuiltIn(encoderModel))
            encoderModel = Core.Storage.UserPath.FullPath(encoderModel, "--model");
        // A PostgreSQL URL or connection string is taken as it is (Core.Storage.DatabaseTarget decides, in one place).
        var path = Core.Storage.DatabaseTarget.IsPostgres(given) ? given!.Trim() : Core.Storage.UserPath.FullPath(given ?? DefaultDatabasePath(), "--db");
        // Only the default data folder is created on demand; a folder named by --db or the environment must exist
        // (a typo must not silently start a new, empty database somewhere else).
        if (given is null) Directory.CreateDirectory(Path.GetDirectoryName(path)!);

        return new Settings(path, Namespaces.Validate(space), agent, encoderModel, DatabaseIsDefault: given is null)
        {
            Embeddings = EmbeddingEndpoint.Resolve(args.EmbeddingsUrl, args.EmbeddingsModel, Env),
            EncoderOff = Env(EncoderVariable) is { } off && off.Trim().ToLowerInvariant() is "off" or "none" or "0" or "false",
            UseLiteDirectory = Env(ModelDirectoryVariable) is { } directory ? Path.GetFullPath(directory) : null,
            Engine = EngineOptions(args, Env),
            ExpirySweep = ExpirySweepFrom(Env(ExpirySweepVariable)),
            Consolidation = new ConsolidationSchedule(TimeSpan.FromSeconds(Number(Env(ConsolidateVariable), ConsolidateVariable, 0, TimeSpan.FromDays(7).TotalSeconds,
                "a number of seconds between 0 (off) and 604800", "is not") ?? 0)),
            Archive = ArchiveFrom(Env(ArchiveAfterVariable)),
            HookDeadline = TimeSpan.FromMilliseconds(Number(Env(HookDeadlineVariable), HookDeadlineVariable, 1, 60_000, "milliseconds between 1 and 60000", "is not") ?? 800),
            Http = HttpSettings.Resolve(args.Urls, FirstNonEmpty(args.ApiKey, Env(ApiKeyVariable)),
                FirstNonEmpty(args.KeysFile, Env(KeysFileVariable)), args.AllowedOrigins),
        };
    }

    /// <summary>
    /// For commands that only read (or change what exists): the database must exist, except at the default path,
    /// where a first run finds an empty database.
    /// </summary>
    public void RequireDatabase()
    {
        if (IsPostgres) return; // a server: opening it says whether it is there
        if (Directory.Exists(DatabasePath))
            throw new MemoryFileException($"database {DatabasePath} is a folder, not a database file");
        if (!DatabaseIsDefault && !File.Exists(DatabasePath))
            throw new MemoryFileException($"database {DatabasePath} does not exist (give --db or set ${DbVariable})");
    }

    public Caller ToCaller() => new(DefaultNamespace, AgentId);

    /// <summary>True when --db (or MCP_MEMORY_DB) names a PostgreSQL database rather than a SQLite file.</summary>
    public bool IsPostgres => Core.Storage.DatabaseTarget.IsPostgres(DatabasePath);

    /// <summary>The database as it may be shown in logs and messages (a PostgreSQL password masked).</summary>
    public string DatabaseDisplay => IsPostgres ? Core.Storage.DatabaseTarget.Masked(DatabasePath) : DatabasePath;

    /// <summary>
    /// MCP_MEMORY_EMBED_INLINE (on: each store embeds before it answers; default off: write-behind),
    /// MCP_MEMORY_EMBED_BATCH_WINDOW_MS (how long the worker gathers stores into a batch, default 20),
    /// MCP_MEMORY_DUPLICATE_THRESHOLD (the cosine floor 0..1 of the merge rule's strict test, see DuplicateRule; 0 turns
    /// merging off; default: the encoder's calibrated floor), the ranking ($MCP_MEMORY_RANKING, then --ranking) and how
    /// time phrases are read.
    /// </summary>
    private static MemoryOptions EngineOptions(SettingsArgs args, Func<string, string?> env)
    {
        var ranking = RankingFrom(RankingOptions.Default, env(RankingVariable), RankingVariable);
        ranking = RankingFrom(ranking, args.Ranking, "--ranking");
        // Write-behind unless MCP_MEMORY_EMBED_INLINE asks every store to wait for its vector (deterministic answers).
        var inline = env(EmbedInlineVariable)?.Trim().ToLowerInvariant() switch
        {
            null or "" or "off" or "0" or "false" => false,
            "on" or "1" or "true" => true,
            var other => throw new MemoryValidationException(EmbedInlineVariable, $"must be on or off (got \"{Namespaces.Truncate(other, 40)}\")"),
        };
        var window = Number(env(EmbedBatchWindowVariable), EmbedBatchWindowVariable, 0, 600_000, "milliseconds between 0 and 600000", "is not");
        var options = MemoryOptions.Default with
        {
            Time = TimeOptions(env), Ranking = ranking, WriteBehind = !inline,
            EmbeddingBatchWindow = window is { } ms ? TimeSpan.FromMilliseconds(ms) : MemoryOptions.Default.EmbeddingBatchWindow,
        };
        if (Number(env(DuplicateThresholdVariable), DuplicateThresholdVariable, 0, 1, "a number from 0 (merging off) to 1") is not { } threshold) return options;
        return threshold == 0 ? options with { MergeDuplicates = false } : options with { DuplicateThreshold = threshold };
    }

    /// <summary>
    /// "fts_weight=0.8 fusion=rrf" (pairs separated by spaces, commas or semicolons; names as eval prints them) over
    /// <paramref name="ranking"/>; errors name <paramref name="source"/> and the parameter, e.g.
    /// "--ranking: recency_weight: must be a number from 0 to 1 (got 2)".
    /// </summary>
    internal static RankingOptions RankingFrom(RankingOptions ranking, string? text, string source)
    {
        if (string.IsNullOrWhiteSpace(text)) return ranking;
        foreach (var pair in text.Split([' ', ',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', 2);
            if (parts.Length != 2 || parts[0].Trim().Length == 0)
                throw new MemoryValidationException(source, $"\"{Namespaces.Truncate(pair, 40)}\" is not NAME=VALUE, e.g. fts_weight=0.8 (names: {string.Join(", ", RankingOptions.Names)})");
            try { ranking = ranking.With(parts[0], parts[1]); }
            catch (MemoryValidationException e) { throw new MemoryValidationException(source, e.Message); }
        }
        return ranking;
    }

    /// <summary>
    /// How time phrases in queries are read: MCP_MEMORY_TIMEZONE (an IANA or Windows zone id; default UTC) and
    /// MCP_MEMORY_SPRINT ("2026-11-02/14": the first day of any sprint and its length in days; unset, "this sprint" is
    /// not understood).
    /// </summary>
    private static TimeExpressionOptions TimeOptions(Func<string, string?> env)
    {
        var options = TimeExpressionOptions.Default;
        if (env(TimeZoneVariable) is { } zone)
        {
            try { options = options with { TimeZone = TimeZoneInfo.FindSystemTimeZoneById(zone.Trim()) }; }
            catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
            {
                throw new MemoryValidationException(TimeZoneVariable, $"\"{Namespaces.Truncate(zone, 40)}\" is not a known time zone (e.g. Europe/Berlin)");
            }
        }
        if (env(SprintVariable) is { } sprint)
        {
            var parts = sprint.Split('/');
            if (parts.Length != 2
                || !DateOnly.TryParseExact(parts[0].Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var start)
                || !int.TryParse(parts[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var days) || days is < 1 or > 366)
                throw new MemoryValidationException(SprintVariable, $"\"{Namespaces.Truncate(sprint, 40)}\" must be FIRST-DAY/DAYS, e.g. 2026-11-02/14 (1 to 366 days)");
            options = options with { SprintStart = start, SprintDays = days };
        }
        return options;
    }

    /// <summary>MCP_MEMORY_EXPIRY_SWEEP_SECONDS: 0 (off) to 86400; the first sweep comes after 5 s, or sooner with a shorter interval.</summary>
    private static ExpirySweepOptions ExpirySweepFrom(string? value)
    {
        if (value is null) return ExpirySweepOptions.Default;
        var seconds = Number(value, ExpirySweepVariable, 0, TimeSpan.FromDays(1).TotalSeconds, "a number of seconds between 0 (off) and 86400", "is not");
        var interval = TimeSpan.FromSeconds(seconds!.Value);
        var first = ExpirySweepOptions.Default.FirstSweepAfter;
        return new ExpirySweepOptions(interval < first ? interval : first, interval);
    }

    /// <summary>
    /// The number in <paramref name="raw"/> (invariant culture), or null when it is unset; outside min..max (or not a
    /// number) it is refused naming <paramref name="name"/> and <paramref name="expected"/>.
    /// </summary>
    /// <summary>MCP_MEMORY_ARCHIVE_AFTER_DAYS: a whole number of days, 0 (off) .. <see cref="Core.Knowledge.ArchivePolicy.MaxAfterDays"/>; unset: the default 90.</summary>
    private static Core.Knowledge.ArchivePolicy ArchiveFrom(string? raw)
    {
        var expected = $"a whole number of days between 0 (off) and {Core.Knowledge.ArchivePolicy.MaxAfterDays}";
        if (Number(raw, ArchiveAfterVariable, 0, Core.Knowledge.ArchivePolicy.MaxAfterDays, expected, "is not") is not { } days)
            return Core.Knowledge.ArchivePolicy.Default;
        if (days != Math.Floor(days)) throw new MemoryValidationException(ArchiveAfterVariable, $"\"{Namespaces.Truncate(raw!, 40)}\" is not {expected}");
        return new Core.Knowledge.ArchivePolicy((int)days);
    }

    internal static double? Number(string? raw, string name, double min, double max, string? expected = null, string verb = "must be")
    {
        if (raw is null) return null;
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value >= min && value <= max))
            throw new MemoryValidationException(name, $"\"{Namespaces.Truncate(raw, 40)}\" {verb} {expected ?? $"a number from {min} to {max}"}");
        return value;
    }

    /// <summary>~/.local/share/mcp-memory/memory.db on Linux, %LOCALAPPDATA%\mcp-memory\memory.db on Windows, ~/Library/Application Support on macOS.</summary>
    public static string DefaultDatabasePath()
    {
        var data = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create);
        if (string.IsNullOrEmpty(data)) data = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(data, "mcp-memory", "memory.db");
    }

    /// <summary>"project:&lt;name of the git root, else of the folder&gt;".</summary>
    public static string DefaultNamespaceFor(string directory)
    {
        var root = GitRoot(directory) ?? directory;
        var name = new DirectoryInfo(root).Name;
        return Namespaces.Project(string.IsNullOrEmpty(name) ? "root" : name);
    }

    public static string? GitRoot(string directory)
    {
        for (var dir = new DirectoryInfo(directory); dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, ".git")) || File.Exists(Path.Combine(dir.FullName, ".git")))
                return dir.FullName;
        return null;
    }

    internal static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
