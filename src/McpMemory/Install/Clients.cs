using System.Text.Json.Nodes;

namespace McpMemory.Install;

public enum InstallScope { Project, User }

public enum ConfigFormat
{
    Json,
    /// <summary>JSON the client reads with comments allowed (Gemini CLI).</summary>
    JsonWithComments,
    /// <summary>Codex's config.toml.</summary>
    Toml,
}

/// <summary>
/// Where a client reads instructions. The block goes into the first of Candidates that exists
/// (they are in the client's order of preference), else CreateIfNone is created.
/// OwnFileTemplate set: the file is ours alone (a Cursor rule), built from that snippet template.
/// </summary>
public sealed record InstructionTarget(IReadOnlyList<string> Candidates, string CreateIfNone, string? OwnFileTemplate = null)
{
    public static InstructionTarget File(string path, string? ownFileTemplate = null) => new([path], path, ownFileTemplate);

    /// <summary>The file the block goes into now.</summary>
    public string Choose(ChangeSet files) => Candidates.FirstOrDefault(c => files.Peek(c) is not null) ?? CreateIfNone;
}

/// <summary>A JSON list in a settings file that must name our server before the client starts it.</summary>
public sealed record ApprovalList(Func<InstallPaths, string> File, string Key, string Why);

/// <summary>One agent client: where its config and instruction files live, and in which format.</summary>
public sealed record ClientDescriptor
{
    public required string Id { get; init; }
    public required string DisplayName { get; init; }
    public required ConfigFormat Format { get; init; }
    public required Func<InstallPaths, string> UserConfig { get; init; }

    /// <summary>Null: the client has no project-level config (the installer then uses user scope).</summary>
    public Func<InstallPaths, string>? ProjectConfig { get; init; }

    /// <summary>The JSON key holding the server table ("mcpServers" almost everywhere, "servers" in VS Code).</summary>
    public string ServersKey { get; init; } = "mcpServers";

    /// <summary>Whether entries carry "type": "stdio" (the clients whose own writers add it).</summary>
    public bool WritesStdioType { get; init; }

    public Func<InstallPaths, InstructionTarget?> ProjectInstructions { get; init; } = _ => null;
    public Func<InstallPaths, InstructionTarget?> UserInstructions { get; init; } = _ => null;

    /// <summary>Project scope only: where the server must also be enabled (Claude Code's .mcp.json approval).</summary>
    public ApprovalList? ProjectApproval { get; init; }

    /// <summary>The client's SessionStart hook, which runs `mcp-memory briefing --hook` (null: none; the snippet asks for get_briefing).</summary>
    public SessionStartHook? SessionHook { get; init; }

    /// <summary>What the user still has to approve or do by hand, given the files as they are now.</summary>
    public Func<InstallPaths, InstallScope, ChangeSet, IEnumerable<string>> Reminders { get; init; } = (_, _, _) => [];

    /// <summary>A folder that exists when the client is installed; `--client all` skips clients without it.</summary>
    public required Func<InstallPaths, string> DetectionPath { get; init; }

    public bool SupportsProjectScope => ProjectConfig is not null;

    public string ConfigFile(InstallPaths paths, InstallScope scope) =>
        scope == InstallScope.Project ? ProjectConfig!(paths) : UserConfig(paths);

    public InstructionTarget? Instructions(InstallPaths paths, InstallScope scope) =>
        scope == InstallScope.Project ? ProjectInstructions(paths) : UserInstructions(paths);

    /// <summary>The JSON server entry, in the shape the client's own CLI writes.</summary>
    public JsonObject JsonEntry(ServerLaunch launch)
    {
        var entry = new JsonObject();
        if (WritesStdioType) entry["type"] = "stdio";
        entry["command"] = launch.Command;
        entry["args"] = new JsonArray(launch.Args.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray());
        return entry;
    }
}

/// <summary>
/// The clients `mcp-memory install` knows. Paths and formats follow
/// ../shared/clients/mcp-client-configs.md (verified against the clients' own CLIs where they exist).
/// </summary>
public static class Clients
{
    public const string ServerName = "mcp-memory";

    public static readonly ClientDescriptor ClaudeCode = new()
    {
        Id = "claude-code",
        DisplayName = "Claude Code",
        Format = ConfigFormat.Json,
        WritesStdioType = true,
        ProjectConfig = p => Path.Combine(p.ProjectRoot, ".mcp.json"),
        UserConfig = p => p.ClaudeStateFile,
        // Claude Code reads AGENTS.md only when no CLAUDE.md exists: writing a new CLAUDE.md
        // would hide a project's AGENTS.md, so an existing AGENTS.md gets the block instead.
        ProjectInstructions = p => new InstructionTarget(
            [Path.Combine(p.ProjectRoot, "CLAUDE.md"), Path.Combine(p.ProjectRoot, ".claude", "CLAUDE.md"), Path.Combine(p.ProjectRoot, "AGENTS.md")],
            Path.Combine(p.ProjectRoot, "CLAUDE.md")),
        UserInstructions = p => InstructionTarget.File(Path.Combine(p.ClaudeConfigDir, "CLAUDE.md")),
        ProjectApproval = new ApprovalList(
            p => Path.Combine(p.ProjectRoot, ".claude", "settings.local.json"),
            "enabledMcpjsonServers",
            "enable the .mcp.json server"),
        Reminders = ApprovalGates.ClaudeCode,
        // Hooks live in the settings files, not in .mcp.json / ~/.claude.json; the project's local one, beside the enable
        // list, because the command may be this machine's absolute path. Claude Code's timeout is in seconds.
        SessionHook = new SessionStartHook(
            (p, scope) => scope == InstallScope.Project ? Path.Combine(p.ProjectRoot, ".claude", "settings.local.json") : Path.Combine(p.ClaudeConfigDir, "settings.json"),
            AllowComments: false,
            command => new JsonObject { ["type"] = "command", ["command"] = command, ["timeout"] = 10 }),
        DetectionPath = p => p.ClaudeConfigDir,
    };

    public static readonly ClientDescriptor ClaudeDesktop = new()
    {
        Id = "claude-desktop",
        DisplayName = "Claude Desktop",
        Format = ConfigFormat.Json,
        UserConfig = p => Path.Combine(p.AppData, "Claude", "claude_desktop_config.json"),
        Reminders = (_, _, _) => ["restart the app to load the server."],
        DetectionPath = p => Path.Combine(p.AppData, "Claude"),
    };

    public static readonly ClientDescriptor Cursor = new()
    {
        Id = "cursor",
        DisplayName = "Cursor",
        Format = ConfigFormat.Json,
        ProjectConfig = p => Path.Combine(p.ProjectRoot, ".cursor", "mcp.json"),
        UserConfig = p => Path.Combine(p.Home, ".cursor", "mcp.json"),
        ProjectInstructions = p => InstructionTarget.File(Path.Combine(p.ProjectRoot, ".cursor", "rules", "mcp-memory.mdc"), Snippets.CursorRule),
        Reminders = (_, scope, _) => scope == InstallScope.User
            ? ["user rules live in Settings > Rules, not in a file, so no instructions were written (--scope project writes .cursor/rules/mcp-memory.mdc).",
               "enable the new server in Settings > MCP if Cursor asks."]
            : ["enable the new server in Settings > MCP if Cursor asks."],
        DetectionPath = p => Path.Combine(p.Home, ".cursor"),
    };

    public static readonly ClientDescriptor VsCode = new()
    {
        Id = "vscode",
        DisplayName = "VS Code (Copilot)",
        Format = ConfigFormat.Json,
        ServersKey = "servers",
        WritesStdioType = true,
        ProjectConfig = p => Path.Combine(p.ProjectRoot, ".vscode", "mcp.json"),
        UserConfig = p => Path.Combine(p.AppData, "Code", "User", "mcp.json"),
        ProjectInstructions = p => InstructionTarget.File(Path.Combine(p.ProjectRoot, ".github", "copilot-instructions.md")),
        UserInstructions = p => InstructionTarget.File(Path.Combine(p.Home, ".copilot", "instructions", "mcp-memory.instructions.md"), Snippets.CopilotInstructions),
        Reminders = (_, _, _) => ["the first time it starts the server, VS Code asks whether to trust it: answer Trust."],
        DetectionPath = p => Path.Combine(p.AppData, "Code"),
    };

    public static readonly ClientDescriptor Codex = new()
    {
        Id = "codex",
        DisplayName = "Codex CLI",
        Format = ConfigFormat.Toml,
        ProjectConfig = p => Path.Combine(p.ProjectRoot, ".codex", "config.toml"),
        UserConfig = p => Path.Combine(p.CodexHome, "config.toml"),
        ProjectInstructions = p => AgentsMd(p.ProjectRoot),
        UserInstructions = p => AgentsMd(p.CodexHome),
        Reminders = ApprovalGates.Codex,
        DetectionPath = p => p.CodexHome,
    };

    public static readonly ClientDescriptor Gemini = new()
    {
        Id = "gemini",
        DisplayName = "Gemini CLI",
        Format = ConfigFormat.JsonWithComments,
        ProjectConfig = p => Path.Combine(p.ProjectRoot, ".gemini", "settings.json"),
        UserConfig = p => Path.Combine(p.GeminiDir, "settings.json"),
        ProjectInstructions = p => InstructionTarget.File(Path.Combine(p.ProjectRoot, "GEMINI.md")),
        UserInstructions = p => InstructionTarget.File(Path.Combine(p.GeminiDir, "GEMINI.md")),
        Reminders = ApprovalGates.Gemini,
        // Same file as the server; Gemini's hook timeout is in milliseconds, and a name lets /hooks show and toggle it.
        SessionHook = new SessionStartHook(
            (p, scope) => scope == InstallScope.Project ? Path.Combine(p.ProjectRoot, ".gemini", "settings.json") : Path.Combine(p.GeminiDir, "settings.json"),
            AllowComments: true,
            command => new JsonObject { ["name"] = "mcp-memory-briefing", ["type"] = "command", ["command"] = command, ["timeout"] = 10000 }),
        DetectionPath = p => p.GeminiDir,
    };

    public static readonly ClientDescriptor Windsurf = new()
    {
        Id = "windsurf",
        DisplayName = "Windsurf",
        Format = ConfigFormat.Json,
        UserConfig = p => Path.Combine(p.Home, ".codeium", "windsurf", "mcp_config.json"),
        UserInstructions = p => InstructionTarget.File(Path.Combine(p.Home, ".codeium", "windsurf", "memories", "global_rules.md")),
        Reminders = (_, _, _) => ["refresh the MCP servers (Cascade > MCP) or restart Windsurf."],
        DetectionPath = p => Path.Combine(p.Home, ".codeium", "windsurf"),
    };

    public static readonly IReadOnlyList<ClientDescriptor> All = [ClaudeCode, ClaudeDesktop, Cursor, VsCode, Codex, Gemini, Windsurf];

    public static ClientDescriptor? Find(string id) =>
        All.FirstOrDefault(c => string.Equals(c.Id, id, StringComparison.OrdinalIgnoreCase));

    /// <summary>In each folder Codex reads AGENTS.override.md instead of AGENTS.md when both exist.</summary>
    private static InstructionTarget AgentsMd(string folder) => new(
        [Path.Combine(folder, "AGENTS.override.md"), Path.Combine(folder, "AGENTS.md")],
        Path.Combine(folder, "AGENTS.md"));
}
