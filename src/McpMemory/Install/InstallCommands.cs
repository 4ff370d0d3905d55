using System.CommandLine;

namespace McpMemory.Install;

/// <summary>The `install` and `uninstall` commands. Wire them in with `root.Subcommands.Add(...)`.</summary>
public static class InstallCommands
{
    public static IReadOnlyList<Command> Create() => Create(InstallHost.FromCurrentProcess);

    /// <summary>Tests pass a host with a temporary HOME and captured output.</summary>
    public static IReadOnlyList<Command> Create(Func<InstallHost> host) =>
        [BuildCommand(InstallAction.Install, host), BuildCommand(InstallAction.Uninstall, host)];

    private static readonly string ClientIds = string.Join("|", Clients.All.Select(c => c.Id).Append("all"));

    private static Command BuildCommand(InstallAction action, Func<InstallHost> hostFactory)
    {
        var install = action == InstallAction.Install;
        var command = new Command(
            install ? "install" : "uninstall",
            install
                ? "Register the mcp-memory server with agent clients and add the memory instructions to their instruction files. " +
                  "Merges into existing configs, keeps each file's layout, backs up every file it changes (under <data folder>/backups/install, " +
                  "next to the default database), and changes nothing when run twice. " +
                  "It never marks a folder as trusted for you: it prints the trust or approval steps each client still needs."
                : "Remove exactly what `install` added (the server entry, Claude Code's enable-list entry, the SessionStart hook, the instruction block); files that held only that are deleted.");

        var client = new Option<string[]>("--client", "-c")
        {
            Description = install
                ? $"Required. The clients to set up: {ClientIds}. Repeat the option or give a comma list. 'all' means every client whose config folder exists on this machine."
                : $"Required. The clients to remove mcp-memory from: {ClientIds}. Repeat the option or give a comma list.",
            HelpName = "client",
            AllowMultipleArgumentsPerToken = true,
        };
        var scope = new Option<string?>("--scope", "-s")
        {
            Description = "project: files in the project root (shared with the repository). user: your own config, for every project. " +
                          "Default: project, or user for clients without project config (Claude Desktop, Windsurf).",
            HelpName = "project|user",
        };
        scope.AcceptOnlyFromAmong("project", "user");
        var dryRun = new Option<bool>("--dry-run")
        {
            Description = "Print each file and the exact change, write nothing.",
        };
        var projectDir = new Option<string?>("--project-dir")
        {
            Description = "The project for --scope project. Default: the git root above the current folder, else the current folder.",
            HelpName = "dir",
        };
        var noInstructions = new Option<bool>("--no-instructions")
        {
            Description = install
                ? "Only register the server; leave CLAUDE.md, AGENTS.md, GEMINI.md and the other instruction files alone."
                : "Keep the memory instructions; only remove the server registration.",
        };
        var noHooks = new Option<bool>("--no-hooks")
        {
            Description = install
                ? "Do not register the SessionStart hook that runs `mcp-memory briefing --hook` (Claude Code, Gemini CLI)."
                : "Leave the SessionStart hook in place.",
        };
        command.Options.Add(client);
        command.Options.Add(scope);
        command.Options.Add(dryRun);
        command.Options.Add(projectDir);
        command.Options.Add(noInstructions);
        command.Options.Add(noHooks);

        Option<string?>? commandOverride = null, db = null, ns = null;
        Option<string[]>? args = null;
        if (install)
        {
            commandOverride = new Option<string?>("--command")
            {
                Description = "The program clients start instead of the detected one (default: `mcp-memory` when it is on PATH, else the absolute path of this executable or of the installed tool).",
                HelpName = "path",
            };
            args = new Option<string[]>("--arg")
            {
                Description = "An argument for that program, one per --arg, replacing the default `serve`. Example: --arg serve --arg --verbose",
                HelpName = "value",
            };
            db = new Option<string?>("--db")
            {
                Description = "The database file the registered server uses (passed on as `serve --db <file>`).",
                HelpName = "file",
            };
            ns = new Option<string?>("--namespace")
            {
                Description = "The memory namespace the registered server uses (passed on as `serve --namespace <name>`).",
                HelpName = "name",
            };
            command.Options.Add(commandOverride);
            command.Options.Add(args);
            command.Options.Add(db);
            command.Options.Add(ns);
        }

        command.SetAction(parse =>
        {
            var host = hostFactory();
            try
            {
                var paths = InstallPaths.Resolve(host, parse.GetValue(projectDir));
                var clients = SelectClients(parse.GetValue(client) ?? [], install, paths, host.Out);
                var launchNotes = new List<string>();
                var launch = install
                    ? ServerLaunchResolver.Resolve(
                        new ServerLaunchOptions(
                            parse.GetValue(commandOverride!),
                            parse.GetValue(args!) is { Length: > 0 } a ? a : null,
                            parse.GetValue(db!),
                            parse.GetValue(ns!)),
                        host,
                        Path.Combine(AppContext.BaseDirectory, "mcp-memory.dll") is var dll && File.Exists(dll) ? dll : null, // none in the Native AOT build
                        launchNotes)
                    : null;
                var requestedScope = parse.GetValue(scope) switch
                {
                    "project" => InstallScope.Project,
                    "user" => InstallScope.User,
                    _ => (InstallScope?)null,
                };
                var plan = new Installer(paths).Plan(new InstallRequest(
                    action, clients, requestedScope, !parse.GetValue(noInstructions), launch, Hooks: !parse.GetValue(noHooks)));
                Report(host, plan, launch, launchNotes, paths, parse.GetValue(dryRun));
                return 0;
            }
            catch (InstallException e)
            {
                host.Error.WriteLine($"mcp-memory {command.Name}: {e.Message}");
                return 1;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Planning succeeded, so this is the disk or permissions: files listed above were written.
                host.Error.WriteLine($"mcp-memory {command.Name}: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static List<ClientDescriptor> SelectClients(string[] values, bool install, InstallPaths paths, TextWriter output)
    {
        var ids = values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (ids.Count == 0)
            throw new InstallException($"choose the clients with --client ({ClientIds}); for example: --client claude-code");
        var selected = new List<ClientDescriptor>();
        foreach (var id in ids)
        {
            if (string.Equals(id, "all", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var c in Clients.All)
                {
                    // Removing is harmless everywhere; creating config folders for absent apps is not.
                    if (!install || Directory.Exists(c.DetectionPath(paths)) || File.Exists(c.DetectionPath(paths))) selected.Add(c);
                    else output.WriteLine($"{c.DisplayName}: skipped, not found ({c.DetectionPath(paths)} does not exist); use --client {c.Id} to set it up anyway.");
                }
                continue;
            }
            selected.Add(Clients.Find(id) ?? throw new InstallException($"unknown client '{id}'; choose from {ClientIds}."));
        }
        return selected.Distinct().ToList();
    }

    private static void Report(InstallHost host, InstallPlan plan, ServerLaunch? launch, IReadOnlyList<string> launchNotes, InstallPaths paths, bool dryRun)
    {
        var output = host.Out;
        if (launch is not null) output.WriteLine($"Server command: {launch}");
        foreach (var note in launchNotes) output.WriteLine($"Warning: {note}");
        output.WriteLine($"Project root:   {paths.ProjectRoot}");
        foreach (var note in plan.Notes) output.WriteLine(note);
        if (dryRun)
        {
            output.WriteLine("Dry run: nothing is written.");
            plan.Files.PrintDryRun(output, host.UtcNow(), paths.BackupRoot);
        }
        else
        {
            plan.Files.Apply(output, host.UtcNow(), paths.BackupRoot, [paths.ProjectRoot, paths.Home, paths.UserConfig, paths.AppData, paths.ClaudeConfigDir, paths.CodexHome, paths.GeminiDir]);
        }
        if (plan.Files.Summary().All(f => f.Outcome == FileOutcome.Unchanged))
            output.WriteLine(launch is not null
                ? "Everything was already in place."
                : "Nothing of mcp-memory was found here. If it was installed with the other --scope (or --project-dir), pass that.");
        if (plan.Reminders.Count == 0) return;
        output.WriteLine();
        output.WriteLine("Still up to you:");
        foreach (var reminder in plan.Reminders) output.WriteLine($"  - {reminder}");
    }
}
