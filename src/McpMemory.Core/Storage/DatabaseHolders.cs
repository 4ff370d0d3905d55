using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace McpMemory.Core.Storage;

/// <summary>
/// Whether any process holds a database open, asked of the operating system rather than of SQLite, so that the
/// answer holds for a damaged file too (SQLite cannot open one that is truncated or has a foreign header, but a server
/// that opened it while it was sound still has it).
/// <list type="bullet">
/// <item>Linux: every process's open files (<c>/proc/PID/fd</c>; those of other users cannot be read) are compared with
/// the database, its -wal, -shm and -journal; then the locks SQLite itself takes are tested with open file description
/// locks (<c>F_OFD_GETLK</c>), which see locks of every process and user: the lock bytes of the main file (held during
/// a transaction) and the -shm's lock bytes, where every connection in WAL mode holds a shared lock while it is open.</item>
/// <item>Windows: opening each file without sharing fails while anyone else has it open (SQLite opens with sharing).</item>
/// <item>Elsewhere (macOS, BSD): SQLite's own answer, by trying to leave WAL mode (needs every other connection
/// closed); a file SQLite cannot read is taken as not held.</item>
/// </list>
/// </summary>
public static class DatabaseHolders
{
    private static readonly string[] SideFiles = ["-wal", "-shm", "-journal"];

    /// <summary>Null when no process holds <paramref name="databasePath"/> (or its side files) open; else who does.</summary>
    public static string? Find(string databasePath)
    {
        DatabaseTarget.RefuseServer(databasePath, "the check for processes holding the file");
        var files = new[] { databasePath }.Concat(SideFiles.Select(s => databasePath + s)).Where(File.Exists).ToList();
        if (files.Count == 0) return null;
        if (OperatingSystem.IsLinux())
            // The process scan comes first: a lock test in a process that itself holds the file would, on closing its
            // descriptor, drop that process's own SQLite locks (POSIX record-lock semantics).
            return OpenInProcesses(files) ?? LockedBySqlite(databasePath);
        if (OperatingSystem.IsWindows()) return files.Any(OpenElsewhereOnWindows) ? "another process (the file cannot be opened exclusively)" : null;
        return InUseBySqlite(databasePath);
    }

    // --- Linux: /proc scan ---

    private static string? OpenInProcesses(List<string> files)
    {
        var targets = files.Select(RealPath).ToHashSet(StringComparer.Ordinal);
        string[] processes;
        try { processes = Directory.GetDirectories("/proc"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        foreach (var process in processes)
        {
            var name = Path.GetFileName(process);
            if (!int.TryParse(name, out var pid)) continue;
            string[] descriptors;
            try { descriptors = Directory.GetFileSystemEntries(Path.Combine(process, "fd")); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; } // another user's, or gone
            foreach (var descriptor in descriptors)
            {
                string? target;
                try { target = new FileInfo(descriptor).LinkTarget; }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
                if (target is not null && targets.Contains(target))
                    return pid == Environment.ProcessId ? "this process" : $"process {pid} ({CommandLine(process)})";
            }
        }
        return null;
    }

    private static string CommandLine(string process)
    {
        try
        {
            var parts = File.ReadAllText(Path.Combine(process, "cmdline")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
            var line = string.Join(' ', parts);
            return line.Length == 0 ? "?" : line.Length <= 120 ? line : line[..119] + "…";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return "?"; }
    }

    /// <summary>The path with every symbolic link resolved, as /proc shows open files.</summary>
    private static string RealPath(string path)
    {
        var resolved = realpath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero) return Path.GetFullPath(path);
        try { return Marshal.PtrToStringUTF8(resolved) ?? path; }
        finally { free(resolved); }
    }

    // --- Linux: SQLite's locks, tested with open file description locks ---

    /// <summary>SQLite's lock bytes in the main file: PENDING (2^30), RESERVED, and the 510 SHARED bytes.</summary>
    private const long MainLockStart = 0x40000000, MainLockLength = 512;

    /// <summary>The -shm's lock bytes: 8 WAL locks from offset 120, then the "DMS" byte every open connection holds shared.</summary>
    private const long ShmLockStart = 120, ShmLockLength = 9;

    private static string? LockedBySqlite(string databasePath)
    {
        foreach (var (file, start, length) in new[] { (databasePath, MainLockStart, MainLockLength), (databasePath + "-shm", ShmLockStart, ShmLockLength) })
        {
            if (!File.Exists(file)) continue;
            if (ConflictingLock(file, start, length) is { } holder)
                return holder > 0 ? $"process {holder} (it holds SQLite's lock on {Path.GetFileName(file)})" : $"another process (it holds SQLite's lock on {Path.GetFileName(file)})";
        }
        return null;
    }

    /// <summary>Null when a write lock on the range could be taken; else the holder's pid (-1 when unknown).</summary>
    private static int? ConflictingLock(string file, long start, long length)
    {
        SafeHandleLike handle;
        try { handle = new SafeHandleLike(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        using (handle)
        {
            var query = new Flock { Type = WriteLock, Whence = 0, Start = start, Length = length, Pid = 0 };
            if (fcntl(handle.Descriptor, OfdGetLock, ref query) != 0) return null; // no OFD locks (old kernel): the /proc scan stands
            return query.Type == Unlocked ? null : query.Pid > 0 ? query.Pid : -1;
        }
    }

    private const int OfdGetLock = 36; // F_OFD_GETLK
    private const short WriteLock = 1, Unlocked = 2; // F_WRLCK, F_UNLCK (Linux)

    [StructLayout(LayoutKind.Sequential)]
    private struct Flock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    /// <summary>A read-only descriptor from FileStream (which takes no record locks of its own).</summary>
    private sealed class SafeHandleLike(string file) : IDisposable
    {
        private readonly FileStream _stream = new(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        public int Descriptor => (int)_stream.SafeFileHandle.DangerousGetHandle();
        public void Dispose() => _stream.Dispose();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int command, ref Flock lockInfo);

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr realpath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc")]
    private static extern void free(IntPtr pointer);

    // --- Windows ---

    private static bool OpenElsewhereOnWindows(string file)
    {
        try
        {
            using var exclusive = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (IOException) { return true; } // a sharing violation: someone else has it open
        catch (UnauthorizedAccessException) { return true; }
    }

    // --- elsewhere: ask SQLite ---

    private static string? InUseBySqlite(string databasePath)
    {
        try
        {
            using var connection = SqliteFiles.Open(databasePath, SqliteOpenMode.ReadWrite);
            SqliteFiles.Execute(connection, "PRAGMA busy_timeout = 1000");
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode = DELETE";
            command.CommandTimeout = 1;
            var mode = command.ExecuteScalar() as string;
            return string.Equals(mode, "delete", StringComparison.OrdinalIgnoreCase) ? null : "another process (SQLite could not leave WAL mode)";
        }
        catch (SqliteException e) when (MemoryDatabase.IsBusy(e)) { return "another process (the database is locked)"; }
        catch (SqliteException) { return null; } // not readable as a database: nothing can be using it as one
    }
}
