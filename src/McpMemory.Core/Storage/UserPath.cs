using McpMemory.Core.Memories;

namespace McpMemory.Core.Storage;

/// <summary>File paths given by a user (options, arguments, environment): checked before any file is touched.</summary>
public static class UserPath
{
    /// <summary>Longest path accepted (PATH_MAX on Linux); longer input is a mistake or an attack, not a file.</summary>
    public const int MaxPathLength = 4096;

    /// <summary>The absolute form of a user-given path, or a clear error naming <paramref name="what"/> (never a raw exception).</summary>
    public static string FullPath(string? path, string what)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new MemoryFileException($"{what}: no path given");
        if (path.Length > MaxPathLength) throw new MemoryFileException($"{what}: the path is {path.Length} characters; the limit is {MaxPathLength}");
        for (var i = 0; i < path.Length; i++)
        {
            if (char.IsSurrogatePair(path, i)) { i++; continue; } // an emoji in a folder name is fine
            if (char.IsControl(path[i]) || char.IsSurrogate(path[i]))
                throw new MemoryFileException($"{what}: the path contains '{Namespaces.Printable(path[i])}'; control characters and lone surrogates are not allowed in file names");
        }
        try { return Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new MemoryFileException($"{what}: \"{Namespaces.Truncate(path)}\" is not a usable path ({e.Message})");
        }
    }
}
