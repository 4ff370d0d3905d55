using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using McpMemory.Core.Memories;

namespace McpMemory.Core.Knowledge;

/// <summary>One commit as a memory: a fix or a decision, its subject and body, when it was made.</summary>
public sealed record CommitMemory(string Sha, DateTimeOffset At, string MemoryType, string? Prefix, string? Scope, bool Breaking, string Text)
{
    public string Key => "git:" + Sha;
}

/// <summary>
/// Reads a repository's history with <c>git log</c> (a child process; merge commits skipped) and turns each commit into a
/// <c>fix</c> or <c>decision</c> memory. A conventional-commit prefix decides the type (fix/hotfix → fix; feat, refactor,
/// perf, build, ci, docs, chore, revert … → decision) and becomes a tag; a subject without one is a fix when it says so
/// ("fix", "fixed", "bug") and a decision otherwise: what was changed and why, which is what a commit records.
/// </summary>
public static partial class GitHistory
{
    /// <summary>Commits read when neither --since nor --max says otherwise.</summary>
    public const int DefaultMaxCommits = 1000;
    /// <summary>A commit body is cut here: the subject and the first paragraphs carry the why.</summary>
    private const int MaxBodyChars = 4000;

    [GeneratedRegex(@"^(?<type>[A-Za-z]+)(?:\((?<scope>[^)]*)\))?(?<breaking>!)?:\s*(?<rest>.+)$")]
    private static partial Regex Conventional();

    [GeneratedRegex(@"\b(fix|fixe[sd]|fixing|bug|bugfix|crash(es|ed)?|regression)\b", RegexOptions.IgnoreCase)]
    private static partial Regex SaysFix();

    private static readonly HashSet<string> FixPrefixes = new(StringComparer.OrdinalIgnoreCase) { "fix", "fixes", "hotfix", "bugfix" };

    private static readonly HashSet<string> KnownPrefixes = new(StringComparer.OrdinalIgnoreCase)
    {
        "fix", "fixes", "hotfix", "bugfix", "feat", "feature", "refactor", "perf", "build", "ci", "docs", "doc", "chore", "style",
        "test", "tests", "revert", "security", "deps", "bench", "release",
    };

    public static IReadOnlyList<CommitMemory> Read(string folder, DateTimeOffset? since, int? max, TimeSpan? timeout = null)
    {
        if (max is <= 0) throw new MemoryValidationException("max", $"must be 1 or more (got {max})");
        var start = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var a in new[] { "-C", folder, "log", "--no-merges", "--no-color", "--format=%H%x1f%aI%x1f%s%x1f%b%x1e" }) start.ArgumentList.Add(a);
        if (since is { } s) start.ArgumentList.Add("--since=" + s.ToString("O"));
        if (max is not null || since is null) start.ArgumentList.Add("--max-count=" + (max ?? DefaultMaxCommits));
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception e) { throw new MemoryValidationException("git", $"cannot run git ({e.Message}); is it installed and on the PATH?"); }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                throw new MemoryValidationException("git", $"git log in {folder} did not finish within {(timeout ?? TimeSpan.FromMinutes(2)).TotalSeconds:0} s");
            }
            if (process.ExitCode != 0)
                throw new MemoryValidationException("git", $"git log in {folder} failed: {stderr.Result.Trim().Split('\n')[0]}");
            return Parse(stdout.Result);
        }
    }

    /// <summary>Commits from git log's output (records end in 0x1E, fields split by 0x1F: sha, author date, subject, body).</summary>
    public static IReadOnlyList<CommitMemory> Parse(string log)
    {
        var commits = new List<CommitMemory>();
        foreach (var record in log.Split('\x1e'))
        {
            var fields = record.TrimStart('\n', '\r').Split('\x1f');
            if (fields.Length < 4 || fields[0].Length < 7) continue;
            commits.Add(ToMemory(fields[0], DateTimeOffset.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture).ToUniversalTime(), fields[2].Trim(), fields[3].Trim()));
        }
        return commits;
    }

    public static CommitMemory ToMemory(string sha, DateTimeOffset at, string subject, string body)
    {
        string? prefix = null, scope = null;
        var breaking = false;
        var match = Conventional().Match(subject);
        if (match.Success && KnownPrefixes.Contains(match.Groups["type"].Value))
        {
            prefix = match.Groups["type"].Value.ToLowerInvariant();
            scope = match.Groups["scope"].Success ? match.Groups["scope"].Value : null;
            breaking = match.Groups["breaking"].Success || body.Contains("BREAKING CHANGE", StringComparison.Ordinal);
        }
        var type = prefix is not null ? (FixPrefixes.Contains(prefix) ? "fix" : "decision") : SaysFix().IsMatch(subject) ? "fix" : "decision";
        if (body.Length > MaxBodyChars) body = body[..MaxBodyChars] + "…";
        var text = new StringBuilder(subject);
        if (body.Length > 0) text.Append("\n\n").Append(body);
        text.Append($"\n\n(commit {sha[..Math.Min(12, sha.Length)]}, {at:yyyy-MM-dd})");
        return new CommitMemory(sha, at, type, prefix, scope, breaking, text.ToString());
    }
}
