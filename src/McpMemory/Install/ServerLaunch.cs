namespace McpMemory.Install;

/// <summary>The command line a client runs to start the server over stdio.</summary>
public sealed record ServerLaunch(string Command, IReadOnlyList<string> Args)
{
    public const string ToolCommand = "mcp-memory";
    public const string ServeVerb = "serve";

    public override string ToString() => string.Join(' ', Args.Prepend(Command).Select(a => a.Contains(' ') ? $"\"{a}\"" : a));
}

/// <summary>What the user asked for on the command line about how to start the server.</summary>
public sealed record ServerLaunchOptions(
    string? Command = null,
    IReadOnlyList<string>? Args = null,
    string? Database = null,
    string? Namespace = null);

/// <summary>
/// Decides which command to register. Prefers the bare tool name (portable: a committed
/// .mcp.json works on every machine that installed the tool), but only when it is on PATH:
/// after `dotnet tool install -g` without ~/.dotnet/tools on PATH a bare name would not start,
/// so the launcher's absolute path is registered instead, and the user is told why.
/// </summary>
public static class ServerLaunchResolver
{
    private static readonly string[] WindowsScriptExtensions = [".cmd", ".bat"];

    /// <param name="notes">Receives plain warnings about the choice (a command not on PATH).</param>
    public static ServerLaunch Resolve(ServerLaunchOptions options, InstallHost host, string? entryAssemblyPath, ICollection<string>? notes = null)
    {
        string command;
        List<string> args;
        if (options.Command is not null)
        {
            command = options.Command;
            args = options.Args?.ToList() ?? [ServerLaunch.ServeVerb];
            if (!command.Contains('/') && !command.Contains('\\') && host.FindOnPath(command) is null)
                notes?.Add($"`{command}` is not on PATH here, so a client may fail to start it (\"not found\"); " +
                           "pass its absolute path with --command if it does.");
        }
        else
        {
            (command, args) = DefaultLaunch(host, entryAssemblyPath, notes);
            if (options.Args is not null) args = [.. options.Args];
        }

        if (options.Database is not null) args.AddRange(["--db", Path.GetFullPath(options.Database, host.CurrentDirectory)]);
        if (options.Namespace is not null) args.AddRange(["--namespace", options.Namespace]);

        // Windows cannot CreateProcess a .cmd/.bat shim directly; the clients' docs use cmd /c.
        if (host.Os == HostOs.Windows && WindowsScriptExtensions.Contains(Path.GetExtension(command), StringComparer.OrdinalIgnoreCase))
            return new ServerLaunch("cmd", ["/c", command, .. args]);
        return new ServerLaunch(command, args);
    }

    private static (string Command, List<string> Args) DefaultLaunch(InstallHost host, string? entryAssemblyPath, ICollection<string>? notes)
    {
        if (host.FindOnPath(ServerLaunch.ToolCommand) is not null)
            return (ServerLaunch.ToolCommand, [ServerLaunch.ServeVerb]);

        var processPath = host.ProcessPath;
        var processName = processPath is null ? null : Path.GetFileNameWithoutExtension(processPath);
        string launcher;
        if (string.Equals(processName, "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            // `dotnet mcp-memory.dll ...`: the installed tool's shim if there is one, else this very dll.
            if (ToolShim(host) is { } shim && File.Exists(shim)) launcher = shim;
            else if (entryAssemblyPath is null) throw new InstallException("Cannot tell which mcp-memory.dll is running; pass --command.");
            else return ("dotnet", [Path.GetFullPath(entryAssemblyPath), ServerLaunch.ServeVerb]);
        }
        else if (processPath is null)
            throw new InstallException("Cannot tell where mcp-memory is installed; pass --command.");
        else
            launcher = Path.GetFullPath(processPath);

        notes?.Add($"`{ServerLaunch.ToolCommand}` is not on PATH here, so the clients get its absolute path: {launcher}. " +
                   $"To register the portable name instead, add {Path.GetDirectoryName(launcher)} to PATH and run install again.");
        return (launcher, [ServerLaunch.ServeVerb]);
    }

    /// <summary>Where `dotnet tool install -g` puts the tool's launcher: $DOTNET_CLI_HOME or HOME, then .dotnet/tools.</summary>
    private static string? ToolShim(InstallHost host) =>
        (host.Env("DOTNET_CLI_HOME") ?? host.HomeFolder) is { } home
            ? Path.Combine(home, ".dotnet", "tools", host.Os == HostOs.Windows ? ServerLaunch.ToolCommand + ".exe" : ServerLaunch.ToolCommand)
            : null;
}
