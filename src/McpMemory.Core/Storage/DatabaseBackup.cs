using McpMemory.Core.Memories;
using Microsoft.Data.Sqlite;

namespace McpMemory.Core.Storage;

/// <summary>
/// Backup and restore of the database file, proven rather than hoped: a backup is SQLite's online backup (safe
/// while a server writes), written under a temporary name, verified, and only then given its name; a restore
/// verifies the backup first, refuses a database any process holds open, keeps the current files aside, and
/// swaps the new one in with an atomic rename, whatever state the current file is in.
/// </summary>
public static class DatabaseBackup
{
    /// <summary>
    /// Backs <paramref name="databasePath"/> up to <paramref name="target"/> (a new file, or an existing folder to
    /// put <c>&lt;name&gt;-&lt;UTC stamp&gt;.db</c> in). Returns the verified report of the backup.
    /// </summary>
    public static VerifyReport Backup(string databasePath, string target, TimeProvider? clock = null)
    {
        DatabaseTarget.RefuseServer(databasePath, "backup");
        var source = UserPath.FullPath(databasePath, "database");
        if (!File.Exists(source)) throw new MemoryFileException($"database {source} does not exist; nothing to back up");
        var destination = BackupPath(source, UserPath.FullPath(target, "backup target"), (clock ?? TimeProvider.System).GetUtcNow());

        var staging = SqliteFiles.Sibling(destination, "partial");
        try
        {
            SqliteFiles.Snapshot(source, staging);
            var report = DatabaseVerifier.Verify(staging);
            if (!report.Ok)
                throw new MemoryFileException($"the backup of {source} failed verification: {string.Join("; ", report.Faults)} (the database itself may be damaged: run verify on it)");
            File.Move(staging, destination, overwrite: false);
            return report with { Path = destination };
        }
        catch (SqliteException e) { throw new MemoryFileException($"cannot back up {source}: {e.Message}"); }
        finally { SqliteFiles.DeleteQuietly(staging); }
    }

    private static string BackupPath(string source, string target, DateTimeOffset now)
    {
        if (Directory.Exists(target))
            target = Path.Combine(target, $"{Path.GetFileNameWithoutExtension(source)}-{SqliteFiles.Stamp(now)}.db");
        if (File.Exists(target))
            throw new MemoryFileException($"{target} already exists; a backup never overwrites a file, choose a new name");
        if (string.Equals(target, source, StringComparison.Ordinal))
            throw new MemoryFileException("the backup target is the database itself; choose another file");
        var folder = Path.GetDirectoryName(target);
        if (string.IsNullOrEmpty(folder) || !Directory.Exists(folder))
            throw new MemoryFileException($"folder {folder} does not exist; create it first");
        return target;
    }

    /// <summary>
    /// What a restore did: the database, where the replaced database was kept (null when there was none), every file
    /// kept (the main file and its -wal, -shm or -journal, renamed alike so they stay a consistent set), and the report of
    /// the restored database.
    /// </summary>
    public sealed record RestoreResult(string DatabasePath, string? PreviousKeptAt, IReadOnlyList<string> KeptFiles, VerifyReport Restored);

    /// <summary>
    /// Replaces <paramref name="databasePath"/> with the backup at <paramref name="backupPath"/>, whatever state the
    /// current file is in (sound, truncated, not a database at all): the backup is verified, copied into a temporary
    /// file beside the database and verified again there; the current file and its -wal, -shm and -journal are moved
    /// aside to <c>&lt;db&gt;.before-restore-&lt;UTC stamp&gt;[-wal|-shm|-journal]</c>; then the copy takes the
    /// database's name with an atomic rename. Refused, with nothing changed, while any process holds the database open
    /// (<see cref="DatabaseHolders"/>: asked of the operating system, so it works on a damaged file too).
    /// </summary>
    public static RestoreResult Restore(string backupPath, string databasePath, TimeProvider? clock = null)
    {
        DatabaseTarget.RefuseServer(databasePath, "restore");
        var backup = UserPath.FullPath(backupPath, "backup");
        var database = UserPath.FullPath(databasePath, "database");
        if (string.Equals(backup, database, StringComparison.Ordinal))
            throw new MemoryFileException("the backup and the database are the same file; nothing to restore");
        if (!File.Exists(backup)) throw new MemoryFileException($"backup {backup} does not exist; nothing was restored");
        var check = DatabaseVerifier.Verify(backup);
        if (!check.Ok)
            throw new MemoryFileException($"{backup} failed verification, so nothing was restored: {string.Join("; ", check.Faults)}");
        if (Directory.Exists(database)) throw new MemoryFileException($"database {database} is a folder; give the database file");
        var folder = Path.GetDirectoryName(database)!;
        if (!Directory.Exists(folder)) throw new MemoryFileException($"folder {folder} does not exist; create it first");
        if (DatabaseHolders.Find(database) is { } holder) throw Busy(database, holder);

        var staging = SqliteFiles.Sibling(database, "restoring");
        var moved = new List<(string From, string To)>();
        try
        {
            try { SqliteFiles.Snapshot(backup, staging); }
            catch (SqliteException e) { throw new MemoryFileException($"cannot copy {backup} beside {database}: {e.Message}; nothing was changed"); }
            var staged = DatabaseVerifier.Verify(staging);
            if (!staged.Ok)
                throw new MemoryFileException($"the copy of {backup} failed verification ({string.Join("; ", staged.Faults)}); nothing was changed");

            string? keptAt = null;
            // Side files first: the restored file must never sit beside the old file's WAL (SQLite would replay it).
            var present = SideFiles.Select(suffix => (From: database + suffix, Suffix: suffix)).Where(f => File.Exists(f.From))
                .Append((From: database, Suffix: "")).Where(f => File.Exists(f.From)).ToList();
            if (present.Count > 0)
            {
                keptAt = $"{database}.before-restore-{SqliteFiles.Stamp((clock ?? TimeProvider.System).GetUtcNow())}";
                if (present.Any(f => File.Exists(keptAt + f.Suffix)))
                    throw new MemoryFileException($"{keptAt} already exists; wait a second and try again. Nothing was changed.");
                foreach (var (from, suffix) in present)
                {
                    File.Move(from, keptAt + suffix);
                    moved.Add((from, keptAt + suffix));
                }
            }
            File.Move(staging, database, overwrite: true); // rename(2) in the same folder: atomic
            var kept = moved.Select(m => m.To).ToList();
            moved.Clear(); // done: nothing to put back
            return new RestoreResult(database, keptAt, kept, DatabaseVerifier.Verify(database));
        }
        finally
        {
            // A failure after files were moved aside puts them back where they were, so a failed restore changes nothing.
            for (var i = moved.Count - 1; i >= 0; i--)
                try { if (!File.Exists(moved[i].From)) File.Move(moved[i].To, moved[i].From); } catch (IOException) { }
            SqliteFiles.DeleteQuietly(staging);
        }
    }

    private static readonly string[] SideFiles = ["-wal", "-shm", "-journal"];

    private static MemoryFileException Busy(string database, string holder) =>
        new($"{database} is open in another process: {holder}; stop it (a running mcp-memory server?), then restore. Nothing was changed.");
}
