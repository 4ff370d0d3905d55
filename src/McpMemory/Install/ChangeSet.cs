using System.Text;

namespace McpMemory.Install;

/// <summary>
/// The pending edits of one install/uninstall run, keyed by file. Every edit is computed in
/// memory first, so a malformed file anywhere stops the run before anything is written.
/// Applying writes atomically (temp file + rename) and backs up each existing file it changes
/// into one folder per run outside the project (so backups never land in the user's repository).
/// </summary>
public sealed class ChangeSet
{
    private sealed class FileState(string path, TextFile? original)
    {
        public string Path { get; } = path;
        public TextFile? Original { get; } = original;
        public TextFile? Current { get; set; } = original;
        public List<string> Reasons { get; } = [];
        public bool IsChanged => Original?.Text != Current?.Text || (Original is null) != (Current is null);
    }

    private readonly Dictionary<string, FileState> _files = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    /// <summary>The files read or written, in order; files that neither existed nor were created are left out.</summary>
    private IEnumerable<FileState> Listed => _order.Select(p => _files[p]).Where(f => f.Original is not null || f.Current is not null);

    /// <summary>The file's text as earlier edits in this run left it; null when it does not exist.</summary>
    public TextFile? Read(string path)
    {
        path = Canonical(path);
        return StateOf(path).Current;
    }

    /// <summary>Like Read, for a file this run only looks at: it is not listed in the outcome.</summary>
    public TextFile? Peek(string path)
    {
        path = Canonical(path);
        return _files.TryGetValue(path, out var state) ? state.Current : TextFile.Load(path);
    }

    /// <summary>Records new content for a file (null deletes it). A no-op edit records nothing.</summary>
    public void Write(string path, string? newText, string reason)
    {
        path = Canonical(path);
        var state = StateOf(path);
        if (state.Current?.Text == newText) return;
        state.Current = newText is null ? null : (state.Current ?? TextFile.New) with { Text = newText };
        state.Reasons.Add(reason);
    }

    /// <summary>Files this run looked at, with what will happen to each.</summary>
    public IReadOnlyList<(string Path, FileOutcome Outcome, IReadOnlyList<string> Reasons)> Summary() =>
        Listed.Select(f => (f.Path, OutcomeOf(f), (IReadOnlyList<string>)f.Reasons)).ToList();

    public void PrintDryRun(TextWriter output, DateTime utcNow, string backupRoot)
    {
        if (Listed.Any(f => OutcomeOf(f) == FileOutcome.Updated))
            output.WriteLine($"Backups would go to {BackupFolder(backupRoot, utcNow)}");
        foreach (var file in Listed)
        {
            var outcome = OutcomeOf(file);
            output.WriteLine($"{Label(outcome, dryRun: true)} {file.Path}{Because(file)}");
            if (outcome == FileOutcome.Unchanged) continue;
            foreach (var line in LineDiff.Unified(file.Original?.Text ?? "", file.Current?.Text ?? ""))
                output.WriteLine("    " + line);
        }
    }

    /// <param name="backupRoot">This run's backups go into a new &lt;backupRoot&gt;/&lt;UTC stamp&gt; folder.</param>
    /// <param name="pruneBelow">Folders emptied by a deletion are removed up to, not including, these.</param>
    public void Apply(TextWriter output, DateTime utcNow, string backupRoot, IReadOnlyCollection<string> pruneBelow)
    {
        string? backupFolder = null;
        foreach (var file in Listed)
        {
            var outcome = OutcomeOf(file);
            string? backup = null;
            if (outcome == FileOutcome.Updated)
            {
                backupFolder ??= BackupFolder(backupRoot, utcNow);
                backup = Backup(file.Path, backupFolder);
            }
            switch (outcome)
            {
                case FileOutcome.Created:
                case FileOutcome.Updated:
                    WriteAtomically(file.Path, file.Current!);
                    break;
                case FileOutcome.Deleted:
                    File.Delete(file.Path);
                    break;
            }
            output.WriteLine($"{Label(outcome, dryRun: false)} {file.Path}{Because(file)}");
            if (backup is not null) output.WriteLine($"  backup:   {backup}");
            if (outcome == FileOutcome.Deleted) PruneEmptyFolders(Path.GetDirectoryName(file.Path), pruneBelow, output);
        }
        if (backupFolder is not null) output.WriteLine($"Backups of the files as they were before this run: {backupFolder}");
    }

    /// <summary>
    /// Removes the folders install created for a file (.cursor/rules, .codex, ...) once they are
    /// empty, walking up but never past or into the given roots (the project, HOME, the clients' homes).
    /// </summary>
    private static void PruneEmptyFolders(string? dir, IReadOnlyCollection<string> pruneBelow, TextWriter output)
    {
        var roots = pruneBelow.Select(r => Path.TrimEndingDirectorySeparator(Path.GetFullPath(r))).ToHashSet();
        while (dir is not null
               && !roots.Contains(dir)
               && roots.Any(r => dir.StartsWith(r + Path.DirectorySeparatorChar, StringComparison.Ordinal))
               && Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any())
        {
            Directory.Delete(dir);
            output.WriteLine($"  deleted   {dir}{Path.DirectorySeparatorChar}  (empty folder)");
            dir = Path.GetDirectoryName(dir);
        }
    }

    /// <summary>
    /// The file itself, not a symlink to it: CLAUDE.md is often a link to AGENTS.md, and an
    /// atomic rename onto the link would replace it with a copy. Both names then share one state.
    /// </summary>
    private static string Canonical(string path)
    {
        path = Path.GetFullPath(path);
        var info = new FileInfo(path);
        return info.Exists && info.LinkTarget is not null
            ? info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path
            : path;
    }

    private FileState StateOf(string path)
    {
        if (_files.TryGetValue(path, out var state)) return state;
        state = new FileState(path, TextFile.Load(path));
        _files[path] = state;
        _order.Add(path);
        return state;
    }

    private static FileOutcome OutcomeOf(FileState f) => (f.Original, f.Current) switch
    {
        _ when !f.IsChanged => FileOutcome.Unchanged,
        (null, not null) => FileOutcome.Created,
        (not null, null) => FileOutcome.Deleted,
        _ => FileOutcome.Updated,
    };

    private static string Label(FileOutcome outcome, bool dryRun) => (outcome, dryRun) switch
    {
        (FileOutcome.Unchanged, _) => "  unchanged",
        (FileOutcome.Created, true) => "  would create",
        (FileOutcome.Updated, true) => "  would update",
        (FileOutcome.Deleted, true) => "  would delete",
        (FileOutcome.Created, false) => "  created  ",
        (FileOutcome.Updated, false) => "  updated  ",
        _ => "  deleted  ",
    };

    private static string Because(FileState f) => f.Reasons.Count == 0 ? "" : $"  ({string.Join("; ", f.Reasons)})";

    /// <summary>&lt;root&gt;/&lt;UTC timestamp&gt;, not yet used (a counter avoids collisions within a second).</summary>
    private static string BackupFolder(string backupRoot, DateTime utcNow)
    {
        var stamp = utcNow.ToUniversalTime().ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var folder = Path.Combine(backupRoot, stamp);
        for (var n = 2; Directory.Exists(folder); n++) folder = Path.Combine(backupRoot, $"{stamp}-{n}");
        return folder;
    }

    /// <summary>
    /// Copies the file into the run's backup folder under its full path (/home/me/repo/CLAUDE.md
    /// becomes &lt;folder&gt;/home/me/repo/CLAUDE.md, C:\x\a.json becomes &lt;folder&gt;\C\x\a.json),
    /// so same-named files of different projects never collide.
    /// </summary>
    private static string Backup(string path, string backupFolder)
    {
        var root = Path.GetPathRoot(path) ?? "";
        var drive = root.Trim(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar).Replace(":", "", StringComparison.Ordinal);
        var backup = Path.Combine(backupFolder, drive, path[root.Length..]);
        Directory.CreateDirectory(Path.GetDirectoryName(backup)!);
        File.Copy(path, backup); // File.Copy keeps the Unix mode, so a private config stays private.
        return backup;
    }

    private static void WriteAtomically(string path, TextFile content)
    {
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.mcp-memory-{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                var bytes = (content.HasBom ? new UTF8Encoding(true) : new UTF8Encoding(false)).GetPreamble()
                    .Concat(Encoding.UTF8.GetBytes(content.Text)).ToArray();
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows() && File.Exists(path))
                File.SetUnixFileMode(temp, File.GetUnixFileMode(path));
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}

public enum FileOutcome { Unchanged, Created, Updated, Deleted }

/// <summary>A text file's content plus the encoding detail we must give back unchanged.</summary>
public sealed record TextFile(string Text, bool HasBom)
{
    public static readonly TextFile New = new("", false);

    public static TextFile? Load(string path)
    {
        if (!File.Exists(path)) return null;
        var bytes = File.ReadAllBytes(path);
        var hasBom = bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble);
        return new TextFile(Encoding.UTF8.GetString(hasBom ? bytes[3..] : bytes), hasBom);
    }

    /// <summary>"\r\n" when the file already uses it, else "\n".</summary>
    public static string NewLineOf(string? text) => text is not null && text.Contains("\r\n") ? "\r\n" : "\n";
}
