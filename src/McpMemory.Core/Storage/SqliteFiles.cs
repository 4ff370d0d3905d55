using Microsoft.Data.Sqlite;

namespace McpMemory.Core.Storage;

/// <summary>Opening SQLite files outside <see cref="MemoryDatabase"/> (backup, verify, restore), and moving them safely.</summary>
internal static class SqliteFiles
{
    public static SqliteConnection Open(string path, SqliteOpenMode mode)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = mode,
            Pooling = false, // a pooled connection would keep the file open after we are done with it
            DefaultTimeout = (int)MemoryDatabase.BusyTimeout.TotalSeconds,
        }.ToString());
        connection.Open();
        Execute(connection, $"PRAGMA busy_timeout = {(int)MemoryDatabase.BusyTimeout.TotalMilliseconds}");
        return connection;
    }

    /// <summary>
    /// Copies <paramref name="sourcePath"/> to a new single-file database at <paramref name="targetPath"/> with SQLite's
    /// online backup: a consistent snapshot even while another process writes (WAL readers do not block writers).
    /// The copy is in rollback-journal mode so that it is one self-contained file, and it is flushed to disk.
    /// </summary>
    public static void Snapshot(string sourcePath, string targetPath)
    {
        // A read-only connection cannot remove the -wal and -shm it creates beside a WAL database. When there are none
        // (nobody has the file open and no crash left a WAL or journal behind) a read-write one only reads, and removes
        // them when it closes: the folder is left as it was. Otherwise read-only, and the file is certainly not written.
        var untouchedBefore = !File.Exists(sourcePath + "-wal") && !File.Exists(sourcePath + "-journal");
        using (var source = Open(sourcePath, untouchedBefore ? SqliteOpenMode.ReadWrite : SqliteOpenMode.ReadOnly))
        using (var target = Open(targetPath, SqliteOpenMode.ReadWriteCreate))
        {
            source.BackupDatabase(target);
            Execute(target, "PRAGMA journal_mode = DELETE");
        }
        FlushToDisk(targetPath);
    }

    public static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static void FlushToDisk(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        file.Flush(flushToDisk: true);
    }

    /// <summary>A fresh name next to <paramref name="path"/> (same folder, so a rename onto it is atomic).</summary>
    public static string Sibling(string path, string suffix) =>
        Path.Combine(Path.GetDirectoryName(path) ?? ".", $".{Path.GetFileName(path)}.{suffix}-{Guid.NewGuid():N}");

    public static void DeleteQuietly(string path)
    {
        foreach (var file in new[] { path, path + "-journal", path + "-wal", path + "-shm" })
            try { File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static string Stamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'");
}
