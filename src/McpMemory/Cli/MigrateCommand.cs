using System.CommandLine;
using System.Diagnostics;
using System.Text;
using McpMemory.Core;
using McpMemory.Core.Memories;
using McpMemory.Core.Portability;
using McpMemory.Core.Storage;

namespace McpMemory.Cli;

/// <summary>What a migration copied, and how it was checked.</summary>
public sealed record MigrateResult(
    string From, string To, bool Merged, long Memories, long Vectors, long States, long Feedback, long Events,
    long Skipped, string Verified, double Seconds);

/// <summary>
/// `migrate --from A --to B`: copies one database into another through the exact JSONL export and import (memories
/// with their vectors and model ids, agent state with versions, feedback, the whole event log; ids and times as they
/// were). Into an empty target the check at the end is strict: the target, exported again, must give the source's
/// export byte for byte. With --merge (a target that already has records) every record of the source must have been
/// added or found already there.
/// </summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "The database to copy from (it must exist): a SQLite file, or a PostgreSQL URL postgres://user@host:port/db", Required = true };
        var to = new Option<string>("--to") { Description = "The database to copy into (a file, created when missing, or a PostgreSQL URL); it must be empty unless --merge is given", Required = true };
        var merge = new Option<bool>("--merge") { Description = "Copy into a database that already has records: what is already there is kept, and skipped" };
        var command = new Command("migrate",
            "Copy everything from one database to another, losslessly: memories with their vectors, agent state, feedback and the event log. " +
            "Shows progress, and verifies the copy at the end") { from, to, merge };
        command.SetAction(parse => CliRunner.Run(parse, _ =>
        {
            var result = Run(parse.GetValue(from)!, parse.GetValue(to)!, parse.GetValue(merge));
            if (parse.GetValue(CliOptions.Json)) Output.Json(result, Contracts.ResultJsonContext.Default.MigrateResult);
            else Console.Out.WriteLine(
                $"copied {result.Memories} memories ({result.Vectors} with vectors), {result.States} state keys, {result.Feedback} feedback, " +
                $"{result.Events} events from {result.From} to {result.To}" + (result.Skipped > 0 ? $"; {result.Skipped} records were already there" : "") +
                $" in {result.Seconds:0.0} s; verified: {result.Verified}");
        }));
        return command;
    }

    public static MigrateResult Run(string from, string to, bool merge)
    {
        var clock = Stopwatch.StartNew();
        // A file is named by its full path; a PostgreSQL URL or connection string is used as given (and shown masked).
        var source = DatabaseTarget.IsPostgres(from) ? from : Path.GetFullPath(from);
        var target = DatabaseTarget.IsPostgres(to) ? to : Path.GetFullPath(to);
        if (!DatabaseTarget.IsPostgres(source))
        {
            if (Directory.Exists(source)) throw new MemoryFileException($"--from: {source} is a folder, not a database");
            if (!File.Exists(source)) throw new MemoryFileException($"--from: {source} does not exist");
        }
        if (string.Equals(source, target, OperatingSystem.IsLinux() || DatabaseTarget.IsPostgres(source) ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase))
            throw new MemoryFileException("--to: that is the --from database itself; choose another one");

        using var work = new ScratchFiles();
        var sourceExport = work.Create("source");
        ExportCounts counts;
        Console.Error.WriteLine($"reading {DatabaseTarget.Masked(source)}…");
        using (var reader = MemoryService.Open(source, MemoryOptions.OneShot))
            counts = Export(reader, sourceExport);

        using var writer = MemoryService.Open(target, MemoryOptions.OneShot);
        var before = writer.Stats();
        var wasEmpty = before.Memories == 0 && before.StateKeys == 0 && before.Events == 0;
        if (!wasEmpty && !merge)
            throw new MemoryFileException(
                $"--to: {DatabaseTarget.Masked(target)} already has {before.Memories} memories, {before.StateKeys} state keys and {before.Events} events; " +
                "pass --merge to copy into it anyway (records already there are kept), or choose an empty database");

        var bar = new ProgressBar("copying", 0);
        var result = writer.ImportJsonl(sourceExport, new DataCommands.SyncProgress(step => bar.Report(step.Written, total: step.Total)));
        bar.Done();

        string verified;
        if (wasEmpty)
        {
            var targetExport = work.Create("target");
            Export(writer, targetExport);
            if (FirstDifference(sourceExport, targetExport) is { } line)
                throw new MemoryFileException($"verification failed: the copy differs from the source at record {line} of its export; {DatabaseTarget.Masked(target)} holds what was written");
            verified = "the copy exports byte for byte as the source";
        }
        else
        {
            Check("memories", counts.Memories, result.MemoriesAdded + result.MemoriesSkipped);
            Check("state keys", counts.States, result.StatesAdded + result.StatesSkipped);
            Check("feedback", counts.Feedback, result.FeedbackAdded + result.FeedbackSkipped);
            Check("events", counts.Events, result.EventsAdded + result.EventsSkipped);
            verified = "every source record was added or already there";
        }
        return new MigrateResult(DatabaseTarget.Masked(source), DatabaseTarget.Masked(target), !wasEmpty, result.MemoriesAdded, result.VectorsAdded, result.StatesAdded,
            result.FeedbackAdded, result.EventsAdded, result.Skipped, verified, Math.Round(clock.Elapsed.TotalSeconds, 2));
    }

    private static ExportCounts Export(MemoryService service, string path)
    {
        using var file = new StreamWriter(path, false, new UTF8Encoding(false));
        return service.ExportJsonl(file);
    }

    private static void Check(string kind, long inSource, long accountedFor)
    {
        if (inSource != accountedFor)
            throw new MemoryFileException($"verification failed: the source has {inSource} {kind}, the copy accounts for {accountedFor}");
    }

    /// <summary>The 1-based line where two exports first differ, or null when they are the same bytes.</summary>
    private static long? FirstDifference(string a, string b)
    {
        using var left = new StreamReader(a, Encoding.UTF8);
        using var right = new StreamReader(b, Encoding.UTF8);
        for (long line = 1; ; line++)
        {
            var x = left.ReadLine();
            var y = right.ReadLine();
            if (x is null && y is null) return null;
            if (x != y) return line;
        }
    }

    /// <summary>
    /// The exports in the temp folder, readable by this user only (they hold every memory), deleted at the end whatever
    /// happens.
    /// </summary>
    private sealed class ScratchFiles : IDisposable
    {
        private readonly List<string> _files = [];

        public string Create(string name)
        {
            var path = Path.Combine(Path.GetTempPath(), $"mcp-memory-migrate-{Environment.ProcessId}-{Guid.NewGuid():N}-{name}.jsonl");
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            new FileStream(path, options).Dispose();
            _files.Add(path);
            return path;
        }

        public void Dispose()
        {
            foreach (var file in _files)
                try { File.Delete(file); } catch (IOException) { /* the temp folder's cleaner will have it */ }
        }
    }
}
