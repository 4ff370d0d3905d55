namespace McpMemory.Install;

/// <summary>
/// The folders the clients themselves use, resolved the way each client resolves them
/// (HOME / USERPROFILE, XDG_CONFIG_HOME, APPDATA, CODEX_HOME, CLAUDE_CONFIG_DIR, GEMINI_CLI_HOME).
/// </summary>
public sealed class InstallPaths
{
    public required HostOs Os { get; init; }
    public required string Home { get; init; }
    public required string ProjectRoot { get; init; }

    /// <summary>Linux/macOS XDG config folder (~/.config); %APPDATA% on Windows.</summary>
    public required string UserConfig { get; init; }

    /// <summary>Where desktop apps keep per-user data: ~/.config, ~/Library/Application Support or %APPDATA%.</summary>
    public required string AppData { get; init; }

    /// <summary>Claude Code's config folder: $CLAUDE_CONFIG_DIR, else ~/.claude.</summary>
    public required string ClaudeConfigDir { get; init; }

    /// <summary>Claude Code's state file: $CLAUDE_CONFIG_DIR/.claude.json, else ~/.claude.json.</summary>
    public required string ClaudeStateFile { get; init; }

    /// <summary>Codex's home: $CODEX_HOME, else ~/.codex.</summary>
    public required string CodexHome { get; init; }

    /// <summary>Gemini CLI's folder: $GEMINI_CLI_HOME/.gemini, else ~/.gemini.</summary>
    public required string GeminiDir { get; init; }

    /// <summary>mcp-memory's own data folder: the folder of $MCP_MEMORY_DB, else the default database's folder.</summary>
    public required string DataFolder { get; init; }

    /// <summary>Where install and uninstall keep copies of the files they change, one folder per run.</summary>
    public string BackupRoot => Path.Combine(DataFolder, "backups", "install");

    public static InstallPaths Resolve(InstallHost host, string? projectDirOption)
    {
        var home = host.HomeFolder;
        home ??= Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (string.IsNullOrEmpty(home))
            throw new InstallException("Cannot find your home folder: set HOME (USERPROFILE on Windows).");
        home = Path.GetFullPath(home);

        var userConfig = host.Os == HostOs.Windows
            ? host.Env("APPDATA") ?? Path.Combine(home, "AppData", "Roaming")
            : host.Env("XDG_CONFIG_HOME") ?? Path.Combine(home, ".config");
        var appData = host.Os == HostOs.MacOS ? Path.Combine(home, "Library", "Application Support") : userConfig;

        var claudeConfigDir = host.Env("CLAUDE_CONFIG_DIR");
        return new InstallPaths
        {
            Os = host.Os,
            Home = home,
            ProjectRoot = ResolveProjectRoot(host, projectDirOption),
            UserConfig = userConfig,
            AppData = appData,
            ClaudeConfigDir = claudeConfigDir ?? Path.Combine(home, ".claude"),
            ClaudeStateFile = Path.Combine(claudeConfigDir ?? home, ".claude.json"),
            CodexHome = host.Env("CODEX_HOME") ?? Path.Combine(home, ".codex"),
            GeminiDir = Path.Combine(host.Env("GEMINI_CLI_HOME") ?? home, ".gemini"),
            DataFolder = ResolveDataFolder(host, home),
        };
    }

    /// <summary>
    /// The folder Settings.DefaultDatabasePath uses (Environment.GetFolderPath(LocalApplicationData)
    /// + mcp-memory), computed from the host's environment so tests can point it elsewhere.
    /// </summary>
    private static string ResolveDataFolder(InstallHost host, string home)
    {
        if (host.Env(Settings.DbVariable) is { } db)
            return Path.GetDirectoryName(Path.GetFullPath(db, host.CurrentDirectory))!;
        var localData = host.Os switch
        {
            HostOs.Windows => host.Env("LOCALAPPDATA") ?? Path.Combine(home, "AppData", "Local"),
            HostOs.MacOS => Path.Combine(home, "Library", "Application Support"),
            _ => host.Env("XDG_DATA_HOME") is { } xdg && Path.IsPathRooted(xdg) ? xdg : Path.Combine(home, ".local", "share"),
        };
        return Path.Combine(localData, "mcp-memory");
    }

    /// <summary>--project-dir if given, else the enclosing git root, else the current folder.</summary>
    private static string ResolveProjectRoot(InstallHost host, string? projectDirOption)
    {
        if (projectDirOption is not null)
        {
            var explicitDir = Path.GetFullPath(projectDirOption, host.CurrentDirectory);
            if (!Directory.Exists(explicitDir))
                throw new InstallException($"--project-dir {explicitDir} does not exist.");
            return Path.TrimEndingDirectorySeparator(explicitDir);
        }
        var cwd = Path.TrimEndingDirectorySeparator(Path.GetFullPath(host.CurrentDirectory));
        for (var dir = cwd; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            // .git is a folder in a clone and a file in a worktree or submodule.
            var git = Path.Combine(dir, ".git");
            if (Directory.Exists(git) || File.Exists(git)) return dir;
        }
        return cwd;
    }
}

/// <summary>A problem the user must fix; printed without a stack trace, nothing was written.</summary>
public sealed class InstallException(string message) : Exception(message);
