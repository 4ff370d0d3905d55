namespace McpMemory.Tests.Reliability;

/// <summary>
/// The figures a reliability run produces (trials, kills, writes, cases), also appended to the file named by
/// MCP_MEMORY_FIGURES when it is set, so docs/reliability.md can quote the run that produced them.
/// </summary>
internal static class Figures
{
    private static readonly Lock Gate = new();

    public static void Record(string line)
    {
        var path = Environment.GetEnvironmentVariable("MCP_MEMORY_FIGURES");
        if (string.IsNullOrEmpty(path)) return;
        lock (Gate) File.AppendAllText(path, $"{DateTime.UtcNow:yyyy-MM-dd'T'HH:mm:ss'Z'} {line}\n");
    }
}
