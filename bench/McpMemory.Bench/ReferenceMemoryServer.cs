using ModelContextProtocol.Client;

namespace McpMemory.Bench;

/// <summary>
/// The official reference server, @modelcontextprotocol/server-memory (node), pinned in bench/reference-memory and
/// installed with `npm ci --prefix bench/reference-memory`: the suites that compare against it start it over stdio here.
/// </summary>
internal static class ReferenceMemoryServer
{
    /// <summary>The pinned version, from bench/reference-memory/package.json.</summary>
    public const string Package = "@modelcontextprotocol/server-memory";

    /// <summary>Its entry script, or null when bench/reference-memory is not installed.</summary>
    public static string? Script()
    {
        var root = AppContext.BaseDirectory;
        while (root is not null && !Directory.Exists(Path.Combine(root, "bench", "reference-memory"))) root = Path.GetDirectoryName(root);
        var server = root is null ? null : Path.Combine(root, "bench", "reference-memory", "node_modules", "@modelcontextprotocol", "server-memory", "dist", "index.js");
        return server is not null && File.Exists(server) ? server : null;
    }

    /// <summary>The installed version (its package.json), for the bench's header.</summary>
    public static string Version(string script)
    {
        var manifest = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(script)!)!, "package.json");
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(manifest));
        return json.RootElement.GetProperty("version").GetString() ?? "?";
    }

    /// <summary>The server over stdio, on <paramref name="memoryFile"/> (its JSONL graph); extra environment variables added.</summary>
    public static StdioClientTransport Transport(string script, string memoryFile, IDictionary<string, string?>? environment = null)
    {
        var variables = new Dictionary<string, string?> { ["MEMORY_FILE_PATH"] = memoryFile };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>()) variables[name] = value;
        return new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = "server-memory", Command = "node", Arguments = [script], EnvironmentVariables = variables,
        });
    }
}
