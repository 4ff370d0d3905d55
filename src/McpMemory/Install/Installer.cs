namespace McpMemory.Install;

public enum InstallAction { Install, Uninstall }

public sealed record InstallRequest(
    InstallAction Action,
    IReadOnlyList<ClientDescriptor> Clients,
    InstallScope? Scope,
    bool Instructions,
    ServerLaunch? Launch,
    bool Hooks = true);

/// <summary>What a run will do: the file edits, notes about choices made, and what is left to the user.</summary>
public sealed record InstallPlan(ChangeSet Files, IReadOnlyList<string> Notes, IReadOnlyList<string> Reminders);

/// <summary>
/// Plans install and uninstall for a set of clients: the server entry in each client's config,
/// Claude Code's enable list, the instruction snippet. Plans everything before anything is
/// written, so one malformed file stops the whole run untouched.
/// </summary>
public sealed class Installer(InstallPaths paths)
{
    public InstallPlan Plan(InstallRequest request)
    {
        if (request.Action == InstallAction.Install && request.Launch is null)
            throw new ArgumentException("Install needs the server launch command.", nameof(request));

        var files = new ChangeSet();
        var notes = new List<string>();
        var reminders = new List<string>();
        foreach (var client in request.Clients)
        {
            var scope = ResolveScope(client, request.Scope, notes);
            var install = request.Action == InstallAction.Install;

            var config = client.ConfigFile(paths, scope);
            if (install) Register(client, config, request.Launch!, files, notes);
            else Unregister(client, config, files, notes);

            if (scope == InstallScope.Project && client.ProjectApproval is { } approval)
                EditApprovalList(approval, install, files, notes);

            if (request.Hooks && client.SessionHook is { } hook)
                EditSessionHook(client, hook.File(paths, scope), hook, install ? request.Launch : null, files, notes);

            if (request.Instructions && client.Instructions(paths, scope) is { } target)
            {
                if (install) InjectInstructions(target, files);
                else RemoveInstructions(target, files);
            }

            if (install)
                reminders.AddRange(client.Reminders(paths, scope, files).Select(r => $"{client.DisplayName}: {r}"));
        }
        return new InstallPlan(files, notes, reminders);
    }

    private static InstallScope ResolveScope(ClientDescriptor client, InstallScope? requested, List<string> notes)
    {
        if (client.SupportsProjectScope) return requested ?? InstallScope.Project;
        if (requested == InstallScope.Project)
            notes.Add($"{client.DisplayName} has no project-level config; using --scope user for it.");
        return InstallScope.User;
    }

    private static void Register(ClientDescriptor client, string path, ServerLaunch launch, ChangeSet files, List<string> notes)
    {
        var reason = $"{client.DisplayName}: server {Clients.ServerName}";
        var text = files.Read(path)?.Text;
        if (client.Format == ConfigFormat.Toml)
        {
            var toml = TomlConfig.Parse(path, text);
            if (toml.SetServer(Clients.ServerName, launch)) files.Write(path, toml.Render(), reason);
            return;
        }
        var json = JsonConfig.Parse(path, text, allowComments: client.Format == ConfigFormat.JsonWithComments);
        if (!json.SetEntry(client.ServersKey, Clients.ServerName, client.JsonEntry(launch))) return;
        NoteLayoutLoss(path, json, notes);
        files.Write(path, json.Render(), reason);
    }

    /// <summary>Says so when a rewrite cannot keep the file exactly as it was laid out.</summary>
    private static void NoteLayoutLoss(string path, JsonConfig json, List<string> notes)
    {
        if (json.HadComments) notes.Add($"{path} has comments; rewriting it drops them (the backup keeps them).");
        else if (!json.KeepsLayout) notes.Add($"{path}: its layout cannot be kept exactly (mixed indentation?); it is rewritten as {json.Layout} JSON (the backup keeps the original).");
    }

    /// <summary>Removes our entry; deletes the file when nothing else is left in it.</summary>
    private static void Unregister(ClientDescriptor client, string path, ChangeSet files, List<string> notes)
    {
        var text = files.Read(path)?.Text;
        if (text is null) return;
        var reason = $"{client.DisplayName}: remove server {Clients.ServerName}";
        if (client.Format == ConfigFormat.Toml)
        {
            var toml = TomlConfig.Parse(path, text);
            if (toml.RemoveServer(Clients.ServerName)) files.Write(path, toml.IsBlank ? null : toml.Render(), reason);
            return;
        }
        var json = JsonConfig.Parse(path, text, allowComments: client.Format == ConfigFormat.JsonWithComments);
        if (!json.RemoveEntry(client.ServersKey, Clients.ServerName)) return;
        if (!json.IsEmpty) NoteLayoutLoss(path, json, notes);
        files.Write(path, json.IsEmpty ? null : json.Render(), reason);
    }

    private void EditApprovalList(ApprovalList approval, bool install, ChangeSet files, List<string> notes)
    {
        var path = approval.File(paths);
        var text = files.Read(path)?.Text;
        if (!install && text is null) return;
        var json = JsonConfig.Parse(path, text, allowComments: false);
        if (install && json.AddToList(approval.Key, Clients.ServerName))
        {
            NoteLayoutLoss(path, json, notes);
            files.Write(path, json.Render(), approval.Why);
        }
        else if (!install && json.RemoveFromList(approval.Key, Clients.ServerName))
        {
            if (!json.IsEmpty) NoteLayoutLoss(path, json, notes);
            files.Write(path, json.IsEmpty ? null : json.Render(), $"undo: {approval.Why}");
        }
    }

    /// <summary>Adds (with a launch) or removes our SessionStart hook; a file left with nothing else is deleted.</summary>
    private static void EditSessionHook(ClientDescriptor client, string path, SessionStartHook hook, ServerLaunch? launch, ChangeSet files, List<string> notes)
    {
        var text = files.Read(path)?.Text;
        if (launch is null && text is null) return;
        var json = JsonConfig.Parse(path, text, hook.AllowComments);
        if (launch is not null)
        {
            if (SessionHooks.Command(launch) is not { } command)
            {
                notes.Add($"{client.DisplayName}: no SessionStart hook, because the server command has no `serve` to turn into `briefing --hook`.");
                return;
            }
            if (!SessionHooks.Add(json, hook.Hook(command))) return;
            NoteLayoutLoss(path, json, notes);
            files.Write(path, json.Render(), $"{client.DisplayName}: SessionStart hook (memory briefing)");
        }
        else if (SessionHooks.Remove(json))
        {
            if (!json.IsEmpty) NoteLayoutLoss(path, json, notes);
            files.Write(path, json.IsEmpty ? null : json.Render(), $"{client.DisplayName}: remove SessionStart hook");
        }
    }

    private static void InjectInstructions(InstructionTarget target, ChangeSet files)
    {
        var path = target.Choose(files);
        var text = files.Read(path)?.Text;
        var updated = target.OwnFileTemplate is { } template && text is null
            ? Snippets.OwnFile(template)
            : InstructionBlock.Insert(path, text, Snippets.Read(Snippets.Body));
        files.Write(path, updated, "memory instructions");
    }

    /// <summary>Takes the block out of every candidate file that has it; our own file goes once it holds nothing else.</summary>
    private static void RemoveInstructions(InstructionTarget target, ChangeSet files)
    {
        foreach (var path in target.Candidates)
        {
            var text = files.Read(path)?.Text;
            if (text is null || !InstructionBlock.Contains(path, text)) continue;
            var remaining = InstructionBlock.Remove(path, text);
            if (target.OwnFileTemplate is { } template && remaining?.Trim() == Snippets.OwnFileSkeleton(template).Trim())
                remaining = null;
            files.Write(path, remaining, "remove memory instructions");
        }
    }
}
