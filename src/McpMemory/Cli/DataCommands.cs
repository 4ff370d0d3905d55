using System.CommandLine;
using System.Text;
using McpMemory.Contracts;
using McpMemory.Core;
using McpMemory.Core.Memories;
using McpMemory.Core.Portability;
using McpMemory.Core.Storage;

namespace McpMemory.Cli;

/// <summary>backup, verify, restore, export, import, migrate: the database as a file you can keep, check, move and read.</summary>
internal static class DataCommands
{
    public static IEnumerable<Command> Create() => [Backup(), Verify(), Restore(), Export(), Import(), MigrateCommand.Create()];

    private static Command Backup()
    {
        var to = new Option<string>("--to") { Description = "The backup file to create (never overwritten), or an existing folder for <name>-<UTC stamp>.db", Required = true };
        var command = new Command("backup", "Copy the database with SQLite's online backup (safe while a server runs), then verify the copy") { to };
        command.SetAction(parse => CliRunner.Run(parse, settings =>
        {
            var report = DatabaseBackup.Backup(settings.DatabasePath, parse.GetValue(to)!);
            if (parse.GetValue(CliOptions.Json)) Output.Json(report, ResultJsonContext.Default.VerifyReport);
            else Console.Out.WriteLine($"backed up {settings.DatabasePath} to {report.Path} ({Counts(report)}; verified)");
        }));
        return command;
    }

    private static Command Verify()
    {
        var path = new Argument<string?>("path") { Description = "The database or backup file to check (default: the database)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("verify", "Check a database or backup: integrity, schema version, row counts, FTS and vectors in step. Exits 1 on any fault") { path };
        command.SetAction(parse => CliRunner.Run(parse, settings =>
        {
            var report = DatabaseVerifier.Verify(parse.GetValue(path) ?? settings.DatabasePath);
            if (parse.GetValue(CliOptions.Json)) Output.Json(report, ResultJsonContext.Default.VerifyReport);
            else
            {
                Console.Out.WriteLine($"{report.Path}: schema v{report.SchemaVersion}; {Counts(report)}");
                foreach (var fault in report.Faults) Console.Out.WriteLine("  fault: " + fault);
                Console.Out.WriteLine(report.Ok ? "ok" : $"{report.Faults.Count} fault(s)");
            }
            if (!report.Ok) throw new MemoryFileException($"{report.Path} failed verification: {report.Faults.Count} fault(s)");
        }));
        return command;
    }

    private static Command Restore()
    {
        var path = new Argument<string>("path") { Description = "The backup file to restore" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do it without asking (required when stdin is not a terminal)" };
        var command = new Command("restore",
            "Replace the database with a backup, whatever state the current file is in: verifies the backup and its copy beside the database, " +
            "refuses while any process has the database open, moves the current file and its -wal/-shm aside to <db>.before-restore-<UTC stamp>, " +
            "then renames the copy into place atomically") { path, yes };
        command.SetAction(parse => CliRunner.Run(parse, settings =>
        {
            DatabaseTarget.RefuseServer(settings.DatabasePath, "restore");
            var backup = UserPath.FullPath(parse.GetValue(path), "restore");
            if (!parse.GetValue(yes))
            {
                var plan = $"restore {backup} over {settings.DatabasePath}" +
                           (File.Exists(settings.DatabasePath) ? " (the current file is kept as <db>.before-restore-<UTC stamp>)" : "");
                if (Console.IsInputRedirected)
                    throw new MemoryFileException($"this would {plan}; pass --yes to confirm (stdin is not a terminal, so I cannot ask)");
                Console.Error.Write($"This will {plan}. Continue? [y/N] ");
                if (Console.ReadLine()?.Trim().ToLowerInvariant() is not ("y" or "yes"))
                {
                    Console.Error.WriteLine("nothing was changed");
                    return 1;
                }
            }
            var result = DatabaseBackup.Restore(backup, settings.DatabasePath);
            if (parse.GetValue(CliOptions.Json)) { Output.Json(result, ResultJsonContext.Default.RestoreResult); return 0; }
            Console.Out.WriteLine($"restored {backup} to {result.DatabasePath} ({Counts(result.Restored)}; verified)");
            if (result.PreviousKeptAt is not null)
                Console.Out.WriteLine($"the previous database is kept at {result.PreviousKeptAt}" +
                                      (result.KeptFiles.Count > 1 ? $" (with {string.Join(", ", result.KeptFiles.Where(f => f != result.PreviousKeptAt))})" : ""));
            return 0;
        }));
        return command;
    }

    private static Command Export()
    {
        var format = new Option<string>("--format", "-f") { Description = "jsonl (everything, for import; the default) or markdown (for reading)", DefaultValueFactory = _ => "jsonl" };
        format.AcceptOnlyFromAmong("jsonl", "markdown");
        var output = new Option<string?>("--out", "-o")
        {
            Description = "jsonl: the file to write (never overwritten without --force); markdown: the folder for one <namespace>.md per namespace (default: stdout)",
        };
        var force = new Option<bool>("--force") { Description = "Overwrite the --out file (or the markdown files in the --out folder) if it exists" };
        var command = new Command("export", "Export the database as JSONL (memories with their vectors, state, feedback, the whole event log) or as Markdown") { format, output, force };
        command.SetAction(parse => CliRunner.Run(parse, settings =>
        {
            settings.RequireDatabase();
            using var service = MemoryService.Open(settings.DatabasePath, Core.MemoryOptions.OneShot);
            var target = parse.GetValue(output);
            if (parse.GetValue(format) == "markdown") ExportMarkdown(service, target, parse.GetValue(force));
            else ExportJsonl(service, target, parse.GetValue(force));
        }));
        return command;
    }

    private static MemoryFileException Exists(string path) => new($"--out: {path} already exists; pass --force to overwrite it");

    private static void ExportJsonl(MemoryService service, string? target, bool force)
    {
        if (target is null)
        {
            using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = false };
            service.ExportJsonl(stdout);
            return;
        }
        var full = UserPath.FullPath(target, "--out");
        if (Directory.Exists(full)) throw new MemoryFileException($"--out: {full} is a folder; give a file name for a jsonl export");
        if (full == service.Database.Path) throw new MemoryFileException("--out: that is the database itself; choose another file");
        if (File.Exists(full) && !force) throw Exists(full);
        var partial = full + ".partial";
        ExportCounts counts;
        try
        {
            using (var file = new StreamWriter(partial, false, new UTF8Encoding(false)))
                counts = service.ExportJsonl(file);
            File.Move(partial, full, overwrite: true); // a reader of --out never sees half an export
        }
        finally { File.Delete(partial); } // gone after the move; a failed export leaves nothing behind
        Console.Error.WriteLine($"exported {counts.Memories} memories ({counts.Vectors} with vectors), {counts.States} state keys, {counts.Feedback} feedback, {counts.Events} events to {full}");
    }

    private static void ExportMarkdown(MemoryService service, string? folder, bool force)
    {
        var files = service.ExportMarkdown();
        if (folder is null)
        {
            // One stream: each document starts with its "# namespace" heading.
            Console.Out.Write(string.Join("\n---\n\n", files.Select(f => f.Text)));
            return;
        }
        var full = UserPath.FullPath(folder, "--out");
        if (File.Exists(full)) throw new MemoryFileException($"--out: {full} is a file; markdown export writes one file per namespace into a folder");
        if (!force && files.Select(f => Path.Combine(full, f.FileName)).FirstOrDefault(File.Exists) is { } existing) throw Exists(existing);
        Directory.CreateDirectory(full);
        foreach (var file in files) File.WriteAllText(Path.Combine(full, file.FileName), file.Text, new UTF8Encoding(false));
        Console.Error.WriteLine($"wrote {files.Count} file(s) to {full}: " + string.Join(", ", files.Select(f => $"{f.FileName} ({f.Memories})")));
    }

    private static Command Import()
    {
        var path = new Argument<string>("path") { Description = "A .jsonl file written by export" };
        var command = new Command("import",
            "Import a JSONL export exactly (ids, times, state versions). Validates the whole file first; records already present are skipped, " +
            "so importing twice adds nothing. The event log comes whole; vectors come with their model id") { path };
        command.SetAction(parse => CliRunner.Run(parse, settings =>
        {
            using var service = MemoryService.Open(settings.DatabasePath, Core.MemoryOptions.OneShot);
            // Quiet for small files; for big ones, one line a second on stderr (stdout keeps only the result).
            var lastReport = DateTime.UtcNow;
            var progress = new SyncProgress(step =>
            {
                if (DateTime.UtcNow - lastReport < TimeSpan.FromSeconds(1)) return;
                lastReport = DateTime.UtcNow;
                Console.Error.WriteLine($"imported {step.Written} of {step.Total} records…");
            });
            var result = service.ImportJsonl(parse.GetValue(path)!, progress);
            if (parse.GetValue(CliOptions.Json)) { Output.Json(result, ResultJsonContext.Default.ImportResult); return; }
            Console.Out.WriteLine($"added {result.MemoriesAdded} memories, {result.StatesAdded} state keys, {result.FeedbackAdded} feedback, {result.EventsAdded} events, {result.VectorsAdded} vectors; " +
                                  $"skipped {result.Skipped} already present ({result.MemoriesSkipped} memories, {result.StatesSkipped} state keys, " +
                                  $"{result.FeedbackSkipped} feedback, {result.EventsSkipped} events, {result.VectorsSkipped} vectors)");
            if (result.MemoriesAdded > result.VectorsAdded)
                Console.Error.WriteLine($"{result.MemoriesAdded - result.VectorsAdded} imported memories have no vector (an older export, or none was stored): " +
                                        "a running server embeds them in the background; mcp-memory reindex does it now");
        }));
        return command;
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool and print out of order).</summary>
    internal sealed class SyncProgress(Action<ImportProgress> report) : IProgress<ImportProgress>
    {
        public void Report(ImportProgress value) => report(value);
    }

    private static string Counts(VerifyReport report) =>
        report.Counts.Count == 0 ? "no tables counted" : string.Join(", ", report.Counts.Select(c => $"{c.Value} {c.Key}"));
}
