using McpMemory.Core.Memories;
using Microsoft.Data.Sqlite;

namespace McpMemory.Core.Storage;

/// <summary>
/// Backup and restore of the database file, proven rather than hoped: a backup is SQLite's online backup (safe
/// while a server writes), written under a temporary name, verified, and only then given its name; a restore
/// verifies the backup first, refuses a database another process holds open, keeps the current file aside, and
/// swaps the new one in with an atomic rename.
/// </summary>
public static class DatabaseBackup
{
    /// <summary>
    /// Backs <paramref name="databasePath"/> up to <paramref name="target"/> (a new file, or an existing folder to
    /// put <c>&lt;name&gt;-&lt;UTC stamp&gt;.db</c> in). Returns the verified report of the backup.
    /// </summary>
    public static VerifyReport Backup(string databasePath, string target, TimeProvider? clock = null)
    {
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

    /// <summary>What a restore did: where the old database was kept, and the report of the restored one.</summary>
    public sealed record RestoreResult(string DatabasePath, string? PreviousKeptAt, VerifyReport Restored);

    /// <summary>
    /// Replaces <paramref name="databasePath"/> with the backup at <paramref name="backupPath"/>, after verifying it.
    /// The current file (if any) is kept as <c>&lt;db&gt;.before-restore-&lt;UTC stamp&gt;</c>.
    /// </summary>
    public static RestoreResult Restore(string backupPath, string databasePath, TimeProvider? clock = null)
    {
        var backup = UserPath.FullPath(backupPath, "backup");
        var database = UserPath.FullPath(databasePath, "database");
        if (string.Equals(backup, database, StringComparison.Ordinal))
            throw new MemoryFileException("the backup and the database are the same file; nothing to restore");
        var check = DatabaseVerifier.Verify(backup);
        if (!check.Ok)
            throw new MemoryFileException($"{backup} failed verification, so nothing was restored: {string.Join("; ", check.Faults)}");
        var folder = Path.GetDirectoryName(database)!;
        if (!Directory.Exists(folder)) throw new MemoryFileException($"folder {folder} does not exist; create it first");

        string? keptAt = null;
        if (File.Exists(database))
        {
            EnsureNobodyHoldsIt(database);
            keptAt = $"{database}.before-restore-{SqliteFiles.Stamp((clock ?? TimeProvider.System).GetUtcNow())}";
            if (File.Exists(keptAt)) throw new MemoryFileException($"{keptAt} already exists; wait a second and try again");
            File.Copy(database, keptAt); // a single file now: EnsureNobodyHoldsIt folded the WAL back into it
            SqliteFiles.FlushToDisk(keptAt);
        }

        var staging = SqliteFiles.Sibling(database, "restoring");
        try
        {
            SqliteFiles.Snapshot(backup, staging);
            File.Move(staging, database, overwrite: true); // rename(2): readers see the old file or the new, never half
            foreach (var stale in new[] { database + "-wal", database + "-shm", database + "-journal" })
                if (File.Exists(stale)) File.Delete(stale); // they belonged to the old file
        }
        catch (SqliteException e) { throw new MemoryFileException($"cannot restore {backup}: {e.Message}"); }
        finally { SqliteFiles.DeleteQuietly(staging); }

        return new RestoreResult(database, keptAt, DatabaseVerifier.Verify(database));
    }

    /// <summary>
    /// Leaving WAL mode needs every other connection closed, so trying it (without waiting) tells whether a server or
    /// another command has the database open. On success the WAL is checkpointed into the main file.
    /// </summary>
    private static void EnsureNobodyHoldsIt(string database)
    {
        try
        {
            using var connection = SqliteFiles.Open(database, SqliteOpenMode.ReadWrite);
            SqliteFiles.Execute(connection, "PRAGMA busy_timeout = 1000");
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode = DELETE";
            command.CommandTimeout = 1; // Microsoft.Data.Sqlite retries BUSY until this runs out (0 would mean forever)
            var mode = command.ExecuteScalar() as string;
            if (!string.Equals(mode, "delete", StringComparison.OrdinalIgnoreCase)) throw Busy(database);
        }
        catch (SqliteException e) when (MemoryDatabase.IsBusy(e)) { throw Busy(database); }
        catch (SqliteException e) { throw new MemoryFileException($"cannot open {database} to replace it: {e.Message}"); }
    }

    private static MemoryFileException Busy(string database) =>
        new($"{database} is open in another process (a running mcp-memory server?); stop it, then restore. Nothing was changed.");
}
