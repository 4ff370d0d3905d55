using McpMemory.Core.Memories;

namespace McpMemory;

/// <summary>
/// Where the database lives, which namespace is the default, who the agent is, and which encoder model embeds. Each
/// comes from its command-line option, else its environment variable, else a sensible default.
/// </summary>
/// <param name="Model">--model, else MCP_MEMORY_MODEL: arctic-embed-xs, use-lite or a model folder; null: the default (<see cref="Encoders.Load"/>).</param>
public sealed record Settings(string DatabasePath, string DefaultNamespace, string AgentId, string? Model = null, bool DatabaseIsDefault = false)
{
    public const string DbVariable = "MCP_MEMORY_DB";
    public const string NamespaceVariable = "MCP_MEMORY_NAMESPACE";
    public const string AgentVariable = "MCP_MEMORY_AGENT_ID";

    public static Settings Resolve(string? db, string? ns, string? agentId, string? model = null)
    {
        var given = FirstNonEmpty(db, Environment.GetEnvironmentVariable(DbVariable));
        var space = FirstNonEmpty(ns, Environment.GetEnvironmentVariable(NamespaceVariable)) ?? DefaultNamespaceFor(Directory.GetCurrentDirectory());
        var agent = FirstNonEmpty(agentId, Environment.GetEnvironmentVariable(AgentVariable)) ?? Core.Memories.Caller.DefaultAgentId;
        var encoderModel = FirstNonEmpty(model, Environment.GetEnvironmentVariable(Encoders.ModelVariable))?.Trim();
        if (encoderModel is not null && !Encoders.IsBuiltIn(encoderModel))
            encoderModel = Core.Storage.UserPath.FullPath(encoderModel, "--model");
        var path = Core.Storage.UserPath.FullPath(given ?? DefaultDatabasePath(), "--db");
        // Only the default data folder is created on demand; a folder named by --db or the environment must exist
        // (a typo must not silently start a new, empty database somewhere else).
        if (given is null) Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return new Settings(path, Namespaces.Validate(space), agent, encoderModel, DatabaseIsDefault: given is null);
    }

    /// <summary>
    /// For commands that only read (or change what exists): the database must exist, except at the default path,
    /// where a first run finds an empty database.
    /// </summary>
    public void RequireDatabase()
    {
        if (Directory.Exists(DatabasePath))
            throw new Core.Memories.MemoryFileException($"database {DatabasePath} is a folder, not a database file");
        if (!DatabaseIsDefault && !File.Exists(DatabasePath))
            throw new Core.Memories.MemoryFileException($"database {DatabasePath} does not exist (give --db or set ${DbVariable})");
    }

    public Caller ToCaller() => new(DefaultNamespace, AgentId);

    /// <summary>An OpenAI-compatible embeddings endpoint to use instead of the built-in encoder (see <see cref="EmbeddingEndpoint"/>).</summary>
    public EmbeddingEndpoint? Embeddings { get; init; }

    public const string DuplicateThresholdVariable = "MCP_MEMORY_DUPLICATE_THRESHOLD";

    /// <summary>
    /// Engine options from the environment: MCP_MEMORY_DUPLICATE_THRESHOLD (the cosine floor 0..1 of the merge rule's
    /// strict test, see DuplicateRule; 0 turns merging off; default: the encoder's calibrated floor).
    /// </summary>
    public static Core.MemoryOptions EngineOptions()
    {
        var options = Core.MemoryOptions.Default with { Time = TimeOptions() };
        if (EnvironmentNumber(DuplicateThresholdVariable, 0, 1, "a number from 0 (merging off) to 1") is not { } threshold) return options;
        return threshold == 0 ? options with { MergeDuplicates = false } : options with { DuplicateThreshold = threshold };
    }

    /// <summary>
    /// The number in environment variable <paramref name="variable"/> (invariant culture), or null when it is unset;
    /// outside min..max (or not a number) it is refused naming the variable and <paramref name="expected"/>.
    /// </summary>
    internal static double? EnvironmentNumber(string variable, double min, double max, string? expected = null)
    {
        if (Environment.GetEnvironmentVariable(variable) is not { Length: > 0 } raw) return null;
        if (!double.TryParse(raw, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) || !(value >= min && value <= max))
            throw new MemoryValidationException(variable, $"\"{Namespaces.Truncate(raw, 40)}\" must be {expected ?? $"a number from {min} to {max}"}");
        return value;
    }

    public const string TimeZoneVariable = "MCP_MEMORY_TIMEZONE";
    public const string SprintVariable = "MCP_MEMORY_SPRINT";

    /// <summary>
    /// How time phrases in queries are read: MCP_MEMORY_TIMEZONE (an IANA or Windows zone id; default UTC) and
    /// MCP_MEMORY_SPRINT ("2026-11-02/14": the first day of any sprint and its length in days; unset, "this sprint" is
    /// not understood).
    /// </summary>
    public static Core.Search.Time.TimeExpressionOptions TimeOptions()
    {
        var options = Core.Search.Time.TimeExpressionOptions.Default;
        if (Environment.GetEnvironmentVariable(TimeZoneVariable) is { Length: > 0 } zone)
        {
            try { options = options with { TimeZone = TimeZoneInfo.FindSystemTimeZoneById(zone.Trim()) }; }
            catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
            {
                throw new MemoryValidationException(TimeZoneVariable, $"\"{Namespaces.Truncate(zone, 40)}\" is not a known time zone (e.g. Europe/Berlin)");
            }
        }
        if (Environment.GetEnvironmentVariable(SprintVariable) is { Length: > 0 } sprint)
        {
            var parts = sprint.Split('/');
            if (parts.Length != 2
                || !DateOnly.TryParseExact(parts[0].Trim(), "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var start)
                || !int.TryParse(parts[1].Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var days) || days is < 1 or > 366)
                throw new MemoryValidationException(SprintVariable, $"\"{Namespaces.Truncate(sprint, 40)}\" must be FIRST-DAY/DAYS, e.g. 2026-11-02/14 (1 to 366 days)");
            options = options with { SprintStart = start, SprintDays = days };
        }
        return options;
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
