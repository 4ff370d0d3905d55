using System.Text.Json.Nodes;

namespace McpMemory.Install;

/// <summary>
/// The trust and approval steps a client keeps for the user. The installer does what an
/// explicit install may do (Claude Code's enable list) and names the rest plainly; it never
/// marks a folder as trusted on the user's behalf.
/// </summary>
public static class ApprovalGates
{
    public static IEnumerable<string> ClaudeCode(InstallPaths paths, InstallScope scope, ChangeSet files)
    {
        if (scope != InstallScope.Project) yield break;
        var state = TryParseJson(paths.ClaudeStateFile, files);
        var trusted = state?["projects"]?[paths.ProjectRoot]?["hasTrustDialogAccepted"] is JsonValue v
            && v.TryGetValue<bool>(out var accepted) && accepted;
        if (!trusted)
            yield return $".mcp.json servers start only in a trusted folder, so until then `claude mcp list` shows mcp-memory as " +
                         $"\"Pending approval\": run `claude` in {paths.ProjectRoot} once, answer \"Yes, I trust this folder\" to its " +
                         "safety check, and quit (/exit). mcp-memory is already enabled in .claude/settings.local.json, so nothing else asks.";
    }

    public static IEnumerable<string> Codex(InstallPaths paths, InstallScope scope, ChangeSet files)
    {
        if (scope != InstallScope.Project) yield break;
        var userConfig = Path.Combine(paths.CodexHome, "config.toml");
        TomlConfig? parsed = null;
        try { parsed = TomlConfig.Parse(userConfig, files.Peek(userConfig)?.Text); }
        catch (InstallException) { /* only deciding whether to remind; the reminder is the safe answer */ }
        if (parsed?.IsProjectTrusted(paths.ProjectRoot) == true) yield break;
        yield return $".codex/config.toml is read only in trusted projects: trust {paths.ProjectRoot} when `codex` asks, " +
                     $"or add to {userConfig}:{Environment.NewLine}" +
                     $"      [projects.{TomlConfig.RenderString(paths.ProjectRoot)}]{Environment.NewLine}" +
                     $"      trust_level = \"trusted\"{Environment.NewLine}" +
                     "    (or install with --scope user, which Codex always loads).";
    }

    public static IEnumerable<string> Gemini(InstallPaths paths, InstallScope scope, ChangeSet files)
    {
        var trustFile = Path.Combine(paths.GeminiDir, "trustedFolders.json");
        if (TryParseJson(trustFile, files) is { } trust && IsGeminiTrusted(trust, paths.ProjectRoot)) yield break;
        yield return $"every MCP server is disabled in a folder Gemini does not trust: start `gemini` in {paths.ProjectRoot} " +
                     $"and choose to trust it (or add \"{paths.ProjectRoot}\": \"TRUST_FOLDER\" to {trustFile}).";
    }

    /// <summary>TRUST_FOLDER covers the folder and everything below it; TRUST_PARENT covers the folder's parent.</summary>
    private static bool IsGeminiTrusted(JsonObject trust, string folder)
    {
        foreach (var (path, value) in trust)
        {
            var rule = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            var covered = rule switch
            {
                "TRUST_FOLDER" => path,
                "TRUST_PARENT" => Path.GetDirectoryName(path),
                _ => null,
            };
            if (covered is not null && IsSameOrBelow(folder, covered)) return true;
        }
        return false;
    }

    private static bool IsSameOrBelow(string folder, string root)
    {
        var relative = Path.GetRelativePath(root, folder);
        return relative == "." || (!relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative));
    }

    private static JsonObject? TryParseJson(string path, ChangeSet files)
    {
        try { return JsonConfig.Parse(path, files.Peek(path)?.Text, allowComments: true).Root; }
        catch (InstallException) { return null; }
    }
}
