using McpMemory.Core.Knowledge;

namespace McpMemory.Contracts;

/// <summary>seed_memories / mcp-memory seed --json: what a seeding run did or, with dry_run, would do.</summary>
public sealed record SeedResult(
    string Namespace, bool DryRun, int Files, int Commits, int Added, int Updated, int Removed, int Unchanged,
    IReadOnlyList<RefusedPathResult> Refused, IReadOnlyList<SeedChangeResult> Changes)
{
    public static SeedResult From(SeedReport r) => new(r.Namespace, r.DryRun, r.Files, r.Commits, r.Added, r.Updated, r.Removed, r.Unchanged,
        r.Refused.Select(x => new RefusedPathResult(x.Path, x.Reason)).ToList(),
        r.Changes.Select(c => new SeedChangeResult(c.Action, c.Key, c.MemoryId?.ToString("D"), c.Replaces?.ToString("D"))).ToList());
}

public sealed record RefusedPathResult(string Path, string Reason);

public sealed record SeedChangeResult(string Action, string Key, string? MemoryId, string? Replaces);
