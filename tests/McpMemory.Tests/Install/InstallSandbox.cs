using System.CommandLine;
using McpMemory.Install;

namespace McpMemory.Tests.Install;

/// <summary>
/// A throwaway machine for one test: a temporary HOME and a git project, with the installer
/// commands wired to them exactly as Program.cs wires them to the real process.
/// </summary>
public sealed class InstallSandbox : IDisposable
{
    public string Root { get; }
    public string Home { get; }
    public string Project { get; }
    public HostOs Os { get; init; } = HostOs.Linux;
    public Dictionary<string, string> Environment { get; } = new();

    /// <summary>The registered command: the built tool next to the tests, so real clients can start it.</summary>
    public string ServerExecutable { get; } = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "mcp-memory.exe" : "mcp-memory");

    /// <summary>The executable the installer believes it runs as; the built tool unless a test says otherwise.</summary>
    public string? ProcessPath { get; set; }

    private int _clockTicks;

    public InstallSandbox()
    {
        Root = Path.Combine(Path.GetTempPath(), "mcpmem-install-" + Guid.NewGuid().ToString("N")[..12]);
        Home = Path.Combine(Root, "home");
        Project = Path.Combine(Root, "project");
        ProcessPath = ServerExecutable;
        Directory.CreateDirectory(Home);
        Directory.CreateDirectory(Path.Combine(Project, ".git"));
        Environment["HOME"] = Home;
        Environment["USERPROFILE"] = Home;
        // mcp-memory's data folder (and so the installer's backups) inside the sandbox too. It exists, as a folder
        // named in MCP_MEMORY_DB must: the server creates only the default data folder.
        Directory.CreateDirectory(DataFolder);
        Environment["MCP_MEMORY_DB"] = Path.Combine(DataFolder, "memory.db");
    }

    public string DataFolder => Path.Combine(Root, "data");
    public string BackupRoot => Path.Combine(DataFolder, "backups", "install");

    public string ProjectFile(params string[] parts) => Path.Combine([Project, .. parts]);
    public string HomeFile(params string[] parts) => Path.Combine([Home, .. parts]);

    public InstallHost Host(StringWriter output, StringWriter error) => new()
    {
        GetEnvironmentVariable = name => Environment.GetValueOrDefault(name),
        Os = Os,
        CurrentDirectory = Project,
        Out = output,
        Error = error,
        // Each run gets a later second, as real runs would, so backups get distinct names.
        UtcNow = () => new DateTime(2026, 11, 22, 3, 0, 0, DateTimeKind.Utc).AddSeconds(Interlocked.Increment(ref _clockTicks)),
        ProcessPath = ProcessPath,
    };

    /// <summary>Runs `mcp-memory install|uninstall ...` in-process; --command defaults to the built tool.</summary>
    public RunResult Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var root = new RootCommand("mcp-memory (test)");
        foreach (var command in InstallCommands.Create(() => Host(output, error))) root.Subcommands.Add(command);
        var exitCode = root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return new RunResult(exitCode, output.ToString(), error.ToString());
    }

    public RunResult Install(params string[] args) => Run(["install", .. args]);
    public RunResult Uninstall(params string[] args) => Run(["uninstall", .. args]);

    public void WriteFile(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    /// <summary>Every file under Root with its bytes, to prove a run wrote nothing.</summary>
    public Dictionary<string, string> Snapshot() =>
        Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories)
            .ToDictionary(p => Path.GetRelativePath(Root, p), p => Convert.ToBase64String(File.ReadAllBytes(p)));

    /// <summary>The backups of one file: &lt;BackupRoot&gt;/&lt;run stamp&gt;/&lt;its full path&gt;, oldest run first.</summary>
    public string[] Backups(string path) =>
        !Directory.Exists(BackupRoot) ? [] :
        Directory.GetDirectories(BackupRoot).Order(StringComparer.Ordinal)
            .Select(run => Path.Combine(run, Path.GetFullPath(path).TrimStart(Path.DirectorySeparatorChar)))
            .Where(File.Exists).ToArray();

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

public sealed record RunResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}
