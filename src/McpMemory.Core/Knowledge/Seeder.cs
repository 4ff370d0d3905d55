using System.Text.Json.Nodes;
using McpMemory.Core.Memories;
using McpMemory.Core.Storage;

namespace McpMemory.Core.Knowledge;

/// <summary>What to seed from: documents under <see cref="Paths"/>, and (with <see cref="Git"/>) the repository's commits.</summary>
public sealed record SeedRequest
{
    /// <summary>Files or folders; empty without <see cref="Git"/> means the current folder.</summary>
    public IReadOnlyList<string> Paths { get; init; } = [];
    public bool Git { get; init; }
    public DateTimeOffset? Since { get; init; }
    public int? MaxCommits { get; init; }
    public bool DryRun { get; init; }
    public string? Namespace { get; init; }
    public long MaxFileBytes { get; init; } = SeedSources.DefaultMaxFileBytes;
    /// <summary>When set, every path must lie under this folder (the MCP tool: a server seeds only its own project).</summary>
    public string? Within { get; init; }
}

/// <summary>How far a seeding run is: the stage ("reading", "seeding", "removing"), done and total.</summary>
public sealed record SeedProgress(string Stage, long Done, long Total);

/// <summary>One piece that was (or, in a dry run, would be) added, updated or removed.</summary>
public sealed record SeedChange(string Action, string Key, Guid? MemoryId, Guid? Replaces = null);

/// <summary>What a seeding run did (or would do): counts of pieces added, updated, removed, unchanged, and what was refused.</summary>
public sealed record SeedReport(
    string Namespace, bool DryRun, int Files, int Commits, int Added, int Updated, int Removed, int Unchanged,
    IReadOnlyList<RefusedPath> Refused, IReadOnlyList<SeedChange> Changes);

/// <summary>
/// Seeding: a cold start from what the project already says. Documents are chunked by heading (<see cref="MarkdownChunker"/>)
/// into <c>context</c> memories; commits (<see cref="GitHistory"/>) become <c>fix</c> / <c>decision</c> memories. Each
/// piece carries its seed key and content hash in its metadata, so a second run is idempotent: a piece whose text changed
/// is stored anew and supersedes the old one (history kept), a piece whose source vanished is deleted (its text stays in
/// the event log), and an unchanged piece is not touched at all: no row, no event. Commits are never removed (history
/// does not vanish; a narrower --since or --max only reads less).
/// </summary>
public sealed class Seeder(MemoryService memories)
{
    private const int BatchSize = 32;
    public const string SourceTag = "seed";

    private readonly SeedQueries _queries = new(memories.Database);

    /// <summary>A piece to hold in memory: its key, type, text, tags, metadata and time.</summary>
    private sealed record Piece(string Key, string MemoryType, string Text, string Hash, IReadOnlyList<string> Tags, JsonObject Metadata, DateTimeOffset? CreatedAt);

    public SeedReport Run(Caller caller, SeedRequest request, IProgress<SeedProgress>? progress = null)
    {
        var ns = request.Namespace is null ? caller.DefaultNamespace : Namespaces.Validate(request.Namespace);
        if (!caller.CanWrite(ns)) throw new MemoryValidationException("namespace", $"this caller may not write to \"{ns}\"");
        if (request.MaxFileBytes <= 0) throw new MemoryValidationException("max_file_bytes", $"must be 1 or more (got {request.MaxFileBytes})");
        var paths = request.Paths.Count == 0 && !request.Git ? [Directory.GetCurrentDirectory()] : request.Paths;
        var roots = paths.Select(p => SeedSources.Root(p, request.Within)).ToList();

        // Read every source first: nothing is written if a path is wrong or git fails.
        var pieces = new List<Piece>();
        var refused = new List<RefusedPath>();
        var sources = new HashSet<string>(StringComparer.Ordinal);
        foreach (var root in roots)
        {
            var (files, skipped) = SeedSources.Find(root, request.MaxFileBytes);
            refused.AddRange(skipped);
            foreach (var file in files.Where(f => sources.Add(f.Source)))
                pieces.AddRange(MarkdownChunker.Chunk(file.Source, file.Text).Select(DocumentPiece));
            progress?.Report(new SeedProgress("reading", sources.Count, sources.Count));
        }
        var commits = 0;
        if (request.Git)
        {
            var folder = roots.Count > 0 ? (roots[0].IsFile ? Path.GetDirectoryName(roots[0].FullPath)! : roots[0].FullPath) : Directory.GetCurrentDirectory();
            var history = GitHistory.Read(folder, request.Since, request.MaxCommits);
            commits = history.Count;
            pieces.AddRange(history.Select(CommitPiece));
        }

        // Compare with what earlier runs left.
        var existing = new Dictionary<string, SeededMemory>(StringComparer.Ordinal);
        foreach (var m in _queries.Seeded(ns)) existing.TryAdd(m.Key, m);
        var current = pieces.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        var changes = new List<SeedChange>();
        var toWrite = new List<(Piece Piece, SeededMemory? Old)>();
        var unchanged = 0;
        foreach (var piece in pieces.DistinctBy(p => p.Key))
        {
            if (existing.TryGetValue(piece.Key, out var old))
            {
                if (old.Hash == piece.Hash) { unchanged++; continue; }
                toWrite.Add((piece, old));
            }
            else toWrite.Add((piece, null));
        }
        var vanished = existing.Values.Where(m => m.Key.StartsWith("doc:", StringComparison.Ordinal) && !current.Contains(m.Key)
                                                 && m.SourcePath is { } source && roots.Any(r => r.Covers(source))).ToList();

        if (request.DryRun)
        {
            changes.AddRange(toWrite.Select(w => new SeedChange(w.Old is null ? "add" : "update", w.Piece.Key, null, w.Old?.Id)));
            changes.AddRange(vanished.Select(m => new SeedChange("remove", m.Key, m.Id)));
        }
        else
        {
            for (var i = 0; i < toWrite.Count; i += BatchSize)
            {
                var batch = toWrite.Skip(i).Take(BatchSize).ToList();
                var stored = memories.StoreMany(caller, batch.Select(w => new NewMemory
                {
                    Content = w.Piece.Text,
                    MemoryType = w.Piece.MemoryType,
                    Tags = w.Piece.Tags,
                    MetadataJson = w.Piece.Metadata.ToJsonString(),
                    Namespace = ns,
                    CreatedAt = w.Piece.CreatedAt,
                    Source = SourceTag,
                    Supersedes = w.Old is null ? null : [w.Old.Id],
                }).ToList());
                changes.AddRange(batch.Select((w, j) => new SeedChange(w.Old is null ? "add" : "update", w.Piece.Key, stored[j].MemoryId, w.Old?.Id)));
                progress?.Report(new SeedProgress("seeding", Math.Min(i + BatchSize, toWrite.Count), toWrite.Count));
            }
            for (var i = 0; i < vanished.Count; i++)
            {
                try { memories.Delete(caller, vanished[i].Id); }
                catch (MemoryNotFoundException) { /* deleted meanwhile: the goal is reached */ }
                changes.Add(new SeedChange("remove", vanished[i].Key, vanished[i].Id));
                progress?.Report(new SeedProgress("removing", i + 1, vanished.Count));
            }
        }
        return new SeedReport(ns, request.DryRun, sources.Count, commits,
            Added: toWrite.Count(w => w.Old is null), Updated: toWrite.Count(w => w.Old is not null), Removed: vanished.Count, Unchanged: unchanged,
            refused, changes);
    }

    private static Piece DocumentPiece(DocumentChunk chunk) => new(chunk.Key, "context", chunk.Text, chunk.Hash, ["docs"], new JsonObject
    {
        ["seed_key"] = chunk.Key,
        ["source_path"] = chunk.Source,
        ["heading"] = chunk.Heading,
        ["part"] = chunk.Part,
        ["content_hash"] = chunk.Hash,
    }, null);

    private static Piece CommitPiece(CommitMemory commit)
    {
        var hash = MarkdownChunker.HashOf(commit.MemoryType + "\n" + commit.Text);
        var metadata = new JsonObject
        {
            ["seed_key"] = commit.Key,
            ["source_path"] = "git",
            ["commit"] = commit.Sha,
            ["commit_date"] = commit.At.ToString("yyyy-MM-ddTHH:mm:ssZ"),
            ["content_hash"] = hash,
        };
        if (commit.Prefix is not null) metadata["prefix"] = commit.Prefix;
        if (commit.Scope is not null) metadata["scope"] = commit.Scope;
        if (commit.Breaking) metadata["breaking"] = true;
        IReadOnlyList<string> tags = commit.Prefix is null ? ["git"] : ["git", commit.Prefix];
        return new Piece(commit.Key, commit.MemoryType, commit.Text, hash, tags, metadata, commit.At);
    }

    /// <summary>The report as one line for people: "12 added, 3 updated, 1 removed, 40 unchanged (…)".</summary>
    public static string Summary(SeedReport r) =>
        $"{(r.DryRun ? "would seed" : "seeded")} {r.Namespace} from {r.Files} file(s){(r.Commits > 0 ? $" and {r.Commits} commit(s)" : "")}: " +
        $"{r.Added} added, {r.Updated} updated, {r.Removed} removed, {r.Unchanged} unchanged" + (r.Refused.Count > 0 ? $", {r.Refused.Count} refused" : "");
}
