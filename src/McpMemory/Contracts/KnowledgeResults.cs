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

/// <summary>find_skills: the skills for a task, best first, each with its success record.</summary>
public sealed record FindSkillsResult(string Task, IReadOnlyList<SkillResult> Skills)
{
    public static FindSkillsResult From(string task, IEnumerable<SkillMatch> matches) => new(task, matches.Select(SkillResult.From).ToList());
}

public sealed record SkillResult(
    string MemoryId, string Content, string Trigger, IReadOnlyList<string> Steps, string? SuccessHint, string Namespace,
    long Successes, long Failures, double Reliability, bool Failing, double Match, double Score)
{
    public static SkillResult From(SkillMatch m) => From(m.Skill, m.Match, m.Score);

    public static SkillResult From(Skill s, double match = 0, double score = 0) => new(
        s.Memory.Id.ToString("D"), s.Memory.Content, s.Trigger, s.Steps, s.SuccessHint, s.Memory.Namespace,
        s.Successes, s.Failures, Math.Round(s.Reliability, 4), s.Failing, match, score);
}

/// <summary>consolidate_memories / mcp-memory consolidate --json: the groups merged (or, dry, that would be) and the time taken.</summary>
public sealed record ConsolidateResult(
    IReadOnlyList<string> Namespaces, bool DryRun, int Scanned, int Merged, IReadOnlyList<ConsolidationGroupResult> Groups, string? Encoder, long ElapsedMs)
{
    [System.ComponentModel.Description("The archive rule: memories less important than below_importance, never accessed, created and last changed more than after_days days ago (0: archiving off).")]
    public ArchiveRuleResult ArchiveRule { get; init; } = new(0, 0);

    [System.ComponentModel.Description("The stale memories archived (dry_run: that would be): hidden from search unless include_archived, restorable with unarchive_memory.")]
    public IReadOnlyList<ArchivedMemoryResult> Archived { get; init; } = [];

    [System.ComponentModel.Description("Summaries of large clusters written by the client's model through MCP sampling: whether the client supports sampling, whether summaries were asked for, and what was summarised.")]
    public SamplingResult Sampling { get; init; } = SamplingResult.NoClient;

    public static ConsolidateResult From(ConsolidationReport r) => new(r.Namespaces, r.DryRun, r.Scanned, r.Merged,
        r.Groups.Select(g => new ConsolidationGroupResult(g.CanonicalId.ToString("D"), g.Namespace, g.MemoryType, g.Content,
            g.Members.Select(m => new ConsolidatedMemberResult(m.MemoryId.ToString("D"), m.Content, m.Reason, m.Similarity)).ToList())).ToList(),
        r.Encoder, r.ElapsedMs)
    {
        ArchiveRule = new ArchiveRuleResult(r.Archive.AfterDays, r.Archive.BelowImportance),
        Archived = r.Archived.Select(a => new ArchivedMemoryResult(a.MemoryId.ToString("D"), a.Namespace, a.MemoryType, a.Content, a.Importance, IsoTime.Format(a.CreatedAt))).ToList(),
    };
}

public sealed record ArchiveRuleResult(int AfterDays, double BelowImportance);

public sealed record ArchivedMemoryResult(string MemoryId, string Namespace, string MemoryType, string Content, double Importance, string CreatedAt);

/// <summary>
/// The sampling part of consolidate_memories: <see cref="Supported"/>, the client declared the sampling capability;
/// <see cref="Requested"/>, summarize was asked for; <see cref="Summaries"/>, one per cluster (dry run: those that would be written).
/// </summary>
public sealed record SamplingResult(bool Supported, bool Requested, IReadOnlyList<ClusterSummaryResult> Summaries, string Note)
{
    public static SamplingResult NoClient { get; } = new(false, false, [], "the command line has no MCP client to ask: summaries are written only through consolidate_memories with summarize");
}

public sealed record ClusterSummaryResult(
    string Namespace, string Tag,
    [property: System.ComponentModel.Description("The memories summarised (they stay as they are; each one's memory_history shows the summary).")] IReadOnlyList<string> MemberIds,
    [property: System.ComponentModel.Description("The new summary memory (null in a dry run or when the client's model failed).")] string? SummaryId,
    string? Content, string? Model, IReadOnlyList<string> Replaces,
    [property: System.ComponentModel.Description("Why this cluster got no summary (the client refused or failed), else null.")] string? Error);

public sealed record ConsolidationGroupResult(string CanonicalId, string Namespace, string MemoryType, string Content, IReadOnlyList<ConsolidatedMemberResult> Members);

public sealed record ConsolidatedMemberResult(string MemoryId, string Content, string Reason, double Similarity);
