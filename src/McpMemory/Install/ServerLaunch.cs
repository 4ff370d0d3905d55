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
/// .mcp.json works on every machine that installed the tool); falls back to this executable's
/// absolute path so a build run from source still registers something that starts.
/// </summary>
public static class ServerLaunchResolver
{
    private static readonly string[] WindowsScriptExtensions = [".cmd", ".bat"];

    public static ServerLaunch Resolve(ServerLaunchOptions options, InstallHost host, string? entryAssemblyPath)
    {
        string command;
        List<string> args;
        if (options.Command is not null)
        {
            command = options.Command;
            args = options.Args?.ToList() ?? [ServerLaunch.ServeVerb];
        }
        else
        {
            (command, args) = DefaultLaunch(host, entryAssemblyPath);
            if (options.Args is not null) args = [.. options.Args];
        }

        if (options.Database is not null) args.AddRange(["--db", Path.GetFullPath(options.Database, host.CurrentDirectory)]);
        if (options.Namespace is not null) args.AddRange(["--namespace", options.Namespace]);

        // Windows cannot CreateProcess a .cmd/.bat shim directly; the clients' docs use cmd /c.
        if (host.Os == HostOs.Windows && WindowsScriptExtensions.Contains(Path.GetExtension(command), StringComparer.OrdinalIgnoreCase))
            return new ServerLaunch("cmd", ["/c", command, .. args]);
        return new ServerLaunch(command, args);
    }

    private static (string Command, List<string> Args) DefaultLaunch(InstallHost host, string? entryAssemblyPath)
    {
        var processPath = host.ProcessPath;
        var processName = processPath is null ? null : Path.GetFileNameWithoutExtension(processPath);

        if (string.Equals(processName, ServerLaunch.ToolCommand, StringComparison.OrdinalIgnoreCase)
            && IsDotnetToolShim(processPath!))
            return (ServerLaunch.ToolCommand, [ServerLaunch.ServeVerb]);
        if (host.FindOnPath?.Invoke(ServerLaunch.ToolCommand) is not null)
            return (ServerLaunch.ToolCommand, [ServerLaunch.ServeVerb]);

        if (string.Equals(processName, "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            if (entryAssemblyPath is null)
                throw new InstallException("Cannot tell which mcp-memory.dll is running; pass --command.");
            return ("dotnet", [Path.GetFullPath(entryAssemblyPath), ServerLaunch.ServeVerb]);
        }
        if (processPath is null)
            throw new InstallException("Cannot tell where mcp-memory is installed; pass --command.");
        return (Path.GetFullPath(processPath), [ServerLaunch.ServeVerb]);
    }

    /// <summary>`dotnet tool install -g` puts the shim in .dotnet/tools, a folder it also adds to PATH.</summary>
    private static bool IsDotnetToolShim(string processPath)
    {
        var tools = Path.GetDirectoryName(Path.GetFullPath(processPath));
        return string.Equals(Path.GetFileName(tools), "tools", StringComparison.OrdinalIgnoreCase)
            && string.Equals(Path.GetFileName(Path.GetDirectoryName(tools)), ".dotnet", StringComparison.OrdinalIgnoreCase);
    }
}
