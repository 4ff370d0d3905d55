namespace McpMemory.Install;

/// <summary>The operating systems whose config locations the installer knows.</summary>
public enum HostOs { Linux, MacOS, Windows }

/// <summary>
/// Everything the installer reads from the machine it runs on: environment variables, OS,
/// current folder, clock, output. Tests pass their own (a temporary HOME) instead of
/// mutating the test process's environment.
/// </summary>
public sealed class InstallHost
{
    public required Func<string, string?> GetEnvironmentVariable { get; init; }
    public required HostOs Os { get; init; }
    public required string CurrentDirectory { get; init; }
    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }
    public Func<DateTime> UtcNow { get; init; } = () => DateTime.UtcNow;

    /// <summary>The running executable; null when unknown. Used to register this very binary.</summary>
    public string? ProcessPath { get; init; }

    public static InstallHost FromCurrentProcess() => new()
    {
        GetEnvironmentVariable = Environment.GetEnvironmentVariable,
        Os = OperatingSystem.IsWindows() ? HostOs.Windows : OperatingSystem.IsMacOS() ? HostOs.MacOS : HostOs.Linux,
        CurrentDirectory = Environment.CurrentDirectory,
        Out = Console.Out,
        Error = Console.Error,
        ProcessPath = Environment.ProcessPath,
    };

    /// <summary>Where an executable of that name is on this host's PATH; null when it is not there.</summary>
    public string? FindOnPath(string name) =>
        PathLookup.Find(name, Env("PATH"), Os == HostOs.Windows ? Env("PATHEXT") ?? ".COM;.EXE;.BAT;.CMD" : null);

    /// <summary>The user's home folder: USERPROFILE (then HOME) on Windows, HOME elsewhere.</summary>
    internal string? HomeFolder => Os == HostOs.Windows ? Env("USERPROFILE") ?? Env("HOME") : Env("HOME");

    internal string? Env(string name)
    {
        var value = GetEnvironmentVariable(name);
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }
}

/// <summary>Looks up an executable on a PATH string (PATHEXT on Windows).</summary>
public static class PathLookup
{
    public static string? Find(string name, string? path, string? pathExt)
    {
        if (string.IsNullOrEmpty(path)) return null;
        var extensions = pathExt is null
            ? new[] { "" }
            : pathExt.Split(';', StringSplitOptions.RemoveEmptyEntries).Prepend("").ToArray();
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var ext in extensions)
            {
                var candidate = Path.Combine(dir, name + ext);
                if (File.Exists(candidate) && IsExecutable(candidate)) return candidate;
            }
        }
        return null;
    }

    /// <summary>A shell skips files without an execute bit; so must we.</summary>
    private static bool IsExecutable(string file) =>
        OperatingSystem.IsWindows()
        || (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}
