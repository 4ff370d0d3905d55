using System.Text;
using McpMemory.Core.Memories;

namespace McpMemory.Core.Knowledge;

/// <summary>A document to seed from: where it is on disk, its name in memories (relative to its repository) and its text.</summary>
public sealed record SourceFile(string FullPath, string Source, string Text);

/// <summary>A file (or folder) that was not seeded, and why, in words that name the path and the limit.</summary>
public sealed record RefusedPath(string Path, string Reason);

/// <summary>One root as given: where it lies, and which sources (relative names) belong to it, for removing vanished chunks.</summary>
public sealed record SeedRoot(string FullPath, string Base, string Scope, bool IsFile)
{
    /// <summary>Whether a source name lies under this root: the root file itself, or anything under the root folder.</summary>
    public bool Covers(string source) => IsFile ? source == Scope : Scope.Length == 0 || source.StartsWith(Scope + "/", StringComparison.Ordinal);
}

/// <summary>
/// Finds the documents under the given roots: markdown files (README, CONTRIBUTING, CLAUDE.md, AGENTS.md, docs/, ADRs…
/// any *.md or *.markdown), skipping hidden folders and build or dependency folders. Refuses binary files (a NUL byte or
/// text that is not UTF-8), files over the size limit, and anything whose real path (symbolic links resolved) lies
/// outside its root. A source is named relative to its repository (the nearest folder above holding .git), else to its
/// root, with '/' separators, so the same file has the same name whichever root reached it.
/// </summary>
public static class SeedSources
{
    public const long DefaultMaxFileBytes = 1024 * 1024;

    private static readonly HashSet<string> SkippedFolders = new(StringComparer.OrdinalIgnoreCase)
    {
        "node_modules", "bin", "obj", "artifacts", "vendor", "target", "dist", "packages", "__pycache__",
    };

    private static readonly string[] Extensions = [".md", ".markdown"];

    public static SeedRoot Root(string path, string? within = null)
    {
        var full = Path.GetFullPath(path);
        var isFile = File.Exists(full);
        if (!isFile && !Directory.Exists(full))
            throw new MemoryValidationException("paths", $"{path}: no such file or folder");
        var real = RealPath(full);
        if (within is not null && !IsUnder(real, RealPath(Path.GetFullPath(within))))
            throw new MemoryValidationException("paths", $"{path}: outside {within} (this server seeds only from its own project folder)");
        var folder = isFile ? Path.GetDirectoryName(real)! : real;
        var @base = RepositoryOf(folder) ?? folder;
        var scope = Relative(@base, real);
        return new SeedRoot(real, @base, scope, isFile);
    }

    /// <summary>The documents under <paramref name="root"/>, and the paths refused (with why).</summary>
    public static (List<SourceFile> Files, List<RefusedPath> Refused) Find(SeedRoot root, long maxFileBytes = DefaultMaxFileBytes)
    {
        var files = new List<SourceFile>();
        var refused = new List<RefusedPath>();
        void Consider(string path)
        {
            try { ConsiderFile(path); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { refused.Add(new RefusedPath(path, "cannot be read: " + e.Message)); }
        }
        void ConsiderFile(string path)
        {
            var real = RealPath(path);
            if (!IsUnder(real, root.FullPath))
            {
                refused.Add(new RefusedPath(path, $"resolves to {real}, outside the root {root.FullPath} (symbolic link)"));
                return;
            }
            var info = new FileInfo(real);
            if (info.Length > maxFileBytes)
            {
                refused.Add(new RefusedPath(path, $"{info.Length:N0} bytes, over the size limit of {maxFileBytes:N0} bytes"));
                return;
            }
            var bytes = File.ReadAllBytes(real);
            if (!TryText(bytes, out var text))
            {
                refused.Add(new RefusedPath(path, "binary (a NUL byte or bytes that are not UTF-8), not a text document"));
                return;
            }
            files.Add(new SourceFile(real, Relative(root.Base, real), text));
        }

        if (root.IsFile) { Consider(root.FullPath); return (files, refused); }
        var pending = new Stack<string>([root.FullPath]);
        while (pending.Count > 0)
        {
            var folder = pending.Pop();
            foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                if (entry is DirectoryInfo dir)
                {
                    if (dir.Name.StartsWith('.') || SkippedFolders.Contains(dir.Name)) continue;
                    if (dir.LinkTarget is not null)
                    {
                        // Linked folders are not followed (cycles); one pointing outside is named, so nothing is silently left out.
                        var target = RealPath(dir.FullName);
                        if (!IsUnder(target, root.FullPath)) refused.Add(new RefusedPath(dir.FullName, $"resolves to {target}, outside the root {root.FullPath} (symbolic link)"));
                        continue;
                    }
                    pending.Push(dir.FullName);
                }
                else if (Extensions.Any(e => entry.Name.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
                {
                    if (entry.LinkTarget is not null && !File.Exists(entry.FullName)) continue; // a dangling link
                    Consider(entry.FullName);
                }
            }
        }
        files.Sort((a, b) => string.CompareOrdinal(a.Source, b.Source));
        return (files, refused);
    }

    private static bool TryText(byte[] bytes, out string text)
    {
        text = "";
        if (Array.IndexOf(bytes, (byte)0) >= 0) return false;
        try { text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes).TrimStart('\uFEFF'); }
        catch (DecoderFallbackException) { return false; }
        return true;
    }

    /// <summary>The nearest folder at or above <paramref name="folder"/> that holds a .git entry (a repository or a worktree).</summary>
    public static string? RepositoryOf(string folder)
    {
        for (var dir = new DirectoryInfo(folder); dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, ".git")) || File.Exists(Path.Combine(dir.FullName, ".git"))) return dir.FullName;
        return null;
    }

    private static string Relative(string @base, string path)
    {
        var relative = Path.GetRelativePath(@base, path).Replace('\\', '/');
        return relative == "." ? "" : relative;
    }

    private static bool IsUnder(string path, string root) =>
        path == root || path.StartsWith(root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>The path with every symbolic link along it resolved (what realpath(3) gives), for absolute paths that exist.</summary>
    public static string RealPath(string fullPath, int depth = 0)
    {
        if (depth > 40) throw new IOException($"{fullPath}: too many levels of symbolic links");
        var root = Path.GetPathRoot(fullPath)!;
        var parts = fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        var current = root;
        for (var i = 0; i < parts.Length; i++)
        {
            var next = Path.Combine(current, parts[i]);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            for (var hops = 0; info.LinkTarget is { } target && hops < 40; hops++)
            {
                next = Path.GetFullPath(target, current);
                info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            }
            // A link's target may itself pass through links: resolve it from the top.
            current = next != Path.Combine(current, parts[i]) ? RealPath(next, depth + 1) : next;
        }
        return current;
    }
}
