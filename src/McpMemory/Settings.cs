using McpMemory.Core.Memories;

namespace McpMemory;

/// <summary>
/// Where the database lives, which namespace is the default, and who the agent is. Each comes from its
/// command-line option, else its environment variable, else a sensible default.
/// </summary>
public sealed record Settings(string DatabasePath, string DefaultNamespace, string AgentId)
{
    public const string DbVariable = "MCP_MEMORY_DB";
    public const string NamespaceVariable = "MCP_MEMORY_NAMESPACE";
    public const string AgentVariable = "MCP_MEMORY_AGENT_ID";

    public static Settings Resolve(string? db, string? ns, string? agentId)
    {
        var path = FirstNonEmpty(db, Environment.GetEnvironmentVariable(DbVariable)) ?? DefaultDatabasePath();
        var space = FirstNonEmpty(ns, Environment.GetEnvironmentVariable(NamespaceVariable)) ?? DefaultNamespaceFor(Directory.GetCurrentDirectory());
        var agent = FirstNonEmpty(agentId, Environment.GetEnvironmentVariable(AgentVariable)) ?? Core.Memories.Caller.DefaultAgentId;
        return new Settings(Core.Storage.UserPath.FullPath(path, "--db"), Namespaces.Validate(space), agent);
    }

    public Caller ToCaller() => new(DefaultNamespace, AgentId);

    /// <summary>An OpenAI-compatible embeddings endpoint to use instead of the built-in encoder (see <see cref="EmbeddingEndpoint"/>).</summary>
    public EmbeddingEndpoint? Embeddings { get; init; }

    public const string DuplicateThresholdVariable = "MCP_MEMORY_DUPLICATE_THRESHOLD";

    /// <summary>
    /// Engine options from the environment: MCP_MEMORY_DUPLICATE_THRESHOLD (cosine 0..1 at which a new memory
    /// updates a near-duplicate instead; 0 turns merging off; default 0.92).
    /// </summary>
    public static Core.MemoryOptions EngineOptions()
    {
        var options = Core.MemoryOptions.Default;
        if (Environment.GetEnvironmentVariable(DuplicateThresholdVariable) is not { Length: > 0 } raw) return options;
        if (!double.TryParse(raw, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var threshold)
            || double.IsNaN(threshold) || threshold < 0 || threshold > 1)
            throw new MemoryValidationException(DuplicateThresholdVariable, $"\"{Namespaces.Truncate(raw, 40)}\" must be a number from 0 (merging off) to 1");
        return options with { DuplicateThreshold = threshold == 0 ? null : threshold };
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

    private static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
