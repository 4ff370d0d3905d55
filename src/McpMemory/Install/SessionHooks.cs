using System.Text.Json.Nodes;

namespace McpMemory.Install;

/// <summary>
/// A client that runs a command when a session starts and adds what it prints to the conversation (Claude Code's and
/// Gemini CLI's SessionStart hooks; the contract is in README.md). <see cref="File"/> is the settings file that holds it,
/// <see cref="Hook"/> the hook object in the client's own shape (its timeout unit differs: seconds vs milliseconds).
/// </summary>
public sealed record SessionStartHook(Func<InstallPaths, InstallScope, string> File, bool AllowComments, Func<string, JsonObject> Hook);

/// <summary>
/// Adds and removes our SessionStart hook: one matcher group `{"hooks": [our hook]}` appended to hooks.SessionStart, told
/// apart from the user's by its command (`… briefing … --hook`). Uninstall drops that group, then the containers it leaves
/// empty, so the file comes back byte for byte.
/// </summary>
public static class SessionHooks
{
    public const string Event = "SessionStart";
    public const string Verb = "briefing";
    public const string HookFlag = "--hook";

    /// <summary>
    /// The hook's shell command: the server's launch with `serve` replaced by `briefing --hook` (same program, same --db and
    /// --namespace). Null when the launch has no `serve` verb to replace (a custom --arg list): the caller says so.
    /// </summary>
    public static string? Command(ServerLaunch launch)
    {
        var serve = launch.Args.ToList().IndexOf(ServerLaunch.ServeVerb);
        if (serve < 0) return null;
        var args = launch.Args.Take(serve).Append(Verb).Concat(launch.Args.Skip(serve + 1)).Append(HookFlag);
        return string.Join(' ', args.Prepend(launch.Command).Select(ShellWord));
    }

    /// <summary>Sets our group; true when the file changed.</summary>
    public static bool Add(JsonConfig json, JsonObject hook)
    {
        var desired = new JsonObject { ["hooks"] = new JsonArray(hook) };
        var groups = Groups(json, create: true)!;
        var ours = groups.Where(IsOurs).ToList();
        if (ours.Count == 1 && JsonNode.DeepEquals(ours[0], desired)) return false;
        foreach (var group in ours) groups.Remove(group);
        groups.Add((JsonNode)desired); // the node overload: Add<T> needs reflection (Native AOT)
        return true;
    }

    /// <summary>Removes our group and whatever it leaves empty; true when the file changed.</summary>
    public static bool Remove(JsonConfig json)
    {
        var groups = Groups(json, create: false);
        var ours = groups?.Where(IsOurs).ToList() ?? [];
        if (ours.Count == 0) return false;
        foreach (var group in ours) groups!.Remove(group);
        if (groups!.Count > 0) return true;
        var hooks = (JsonObject)json.Root["hooks"]!;
        hooks.Remove(Event);
        if (hooks.Count == 0) json.Root.Remove("hooks");
        return true;
    }

    /// <summary>Ours: a group whose only hook runs `… briefing [--db F] [--namespace N] --hook`.</summary>
    private static bool IsOurs(JsonNode? group) =>
        group is JsonObject { } g && g["hooks"] is JsonArray { Count: 1 } list && list[0] is JsonObject hook &&
        hook["command"] is JsonValue command && command.TryGetValue<string>(out var text) &&
        text.Contains($" {Verb} ", StringComparison.Ordinal) && text.EndsWith($" {HookFlag}", StringComparison.Ordinal);

    private static JsonArray? Groups(JsonConfig json, bool create)
    {
        if (json.Root["hooks"] is null && !create) return null;
        if (json.Root["hooks"] is null) json.Root["hooks"] = new JsonObject();
        if (json.Root["hooks"] is not JsonObject hooks)
            throw new InstallException("\"hooks\" is not a JSON object; fix it by hand, nothing was changed.");
        if (hooks[Event] is null && !create) return null;
        if (hooks[Event] is null) hooks[Event] = new JsonArray();
        return hooks[Event] as JsonArray
               ?? throw new InstallException($"\"hooks.{Event}\" is not a JSON array; fix it by hand, nothing was changed.");
    }

    /// <summary>A word for sh (Claude Code and Gemini CLI run hooks through a shell): quoted only when it must be.</summary>
    private static string ShellWord(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ':' or '@' or '+' or '=' or ',')
            ? word
            : "'" + word.Replace("'", "'\\''") + "'";
}
