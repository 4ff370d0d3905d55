using System.Diagnostics;

namespace McpMemory.Bench;

/// <summary>The built mcp-memory tool the process-level suites run, and small helpers they share.</summary>
internal static class ToolUnderTest
{
    /// <summary>
    /// --dll PATH picks another build (e.g. a ReadyToRun publish, or an installed tool's package folder's mcp-memory.dll);
    /// a path that is not a .dll is an executable run directly (the Native AOT package's `mcp-memory`). Default: the dll
    /// next to the bench.
    /// </summary>
    public static string Dll(string[] args) =>
        Option(args, "--dll") is { } path ? Path.GetFullPath(path) : Path.Combine(AppContext.BaseDirectory, "mcp-memory.dll");

    /// <summary>How to launch a build: `dotnet &lt;dll&gt;`, or the executable itself.</summary>
    public static (string Command, string[] Prefix) Launch(string dll) =>
        dll.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? ("dotnet", [dll]) : (dll, []);

    public static ProcessStartInfo Start(string dll, IEnumerable<string> args)
    {
        var (command, prefix) = Launch(dll);
        var start = new ProcessStartInfo(command)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in prefix) start.ArgumentList.Add(a);
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var variable in new[] { "MCP_MEMORY_DB", "MCP_MEMORY_NAMESPACE", "MCP_MEMORY_API_KEY", "MCP_MEMORY_KEYS_FILE" })
            start.Environment.Remove(variable);
        return start;
    }

    public static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    public static int IntOption(string[] args, string name, int fallback) =>
        Option(args, name) is { } value ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    public static string TempFolder()
    {
        var dir = Path.Combine(Path.GetTempPath(), "mcp-memory-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>Resident set size of a process in MiB (Linux /proc; elsewhere the working set).</summary>
    public static double RssMiB(Process process)
    {
        var status = $"/proc/{process.Id}/status";
        if (File.Exists(status))
            foreach (var line in File.ReadLines(status))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        process.Refresh();
        return process.WorkingSet64 / (1024.0 * 1024.0);
    }
}
