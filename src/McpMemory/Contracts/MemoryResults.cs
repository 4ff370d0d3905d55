using System.Text.Json.Nodes;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Core.Storage;

namespace McpMemory.Contracts;

// What the MCP tools and the command line (--json) return, in one place both use. Property names go out in snake_case
// (see ResultJson), times as UTC ISO-8601 (IsoTime).

public sealed record StoreMemoryResult(
    string MemoryId, string Status, bool HasEmbedding, string Namespace,
    [property: System.ComponentModel.Description("Other memories close in meaning that were NOT merged (at most 3, best first): if the new memory replaces one, store again with supersedes, or delete it.")]
    IReadOnlyList<SimilarMemoryResult> Similar, double SimilarThreshold)
{
    [System.ComponentModel.Description("done: merged or listed in similar by meaning now; pending: stored first, the vector follows within moments (similar is empty; a restatement of an older memory is then folded into it, see memory_history); off: no encoder, only identical or contained texts merge.")]
    public string SemanticCheck { get; init; } = StoreResult.CheckDone;

    public static StoreMemoryResult From(StoreResult result) => new(
        result.MemoryId.ToString("D"), result.Status, result.HasEmbedding, result.Namespace,
        result.Similar.Select(s => new SimilarMemoryResult(s.MemoryId.ToString("D"), s.Similarity, s.Content)).ToList(), result.SimilarThreshold)
    { SemanticCheck = result.SemanticCheck };
}

public sealed record SimilarMemoryResult(string MemoryId, double Similarity, string Content);

public sealed record MemoryVersionResult(string MemoryId, string Kind, string At, string? Content, string? SupersededBy, double? Similarity)
{
    [System.ComponentModel.Description("For kind summarized: the summary memory that now covers this one (its own text is unchanged).")]
    public string? SummarizedBy { get; init; }

    public static MemoryVersionResult From(MemoryVersion v) =>
        new(v.MemoryId.ToString("D"), v.Kind, IsoTime.Format(v.At), v.Content, v.SupersededBy?.ToString("D"), v.Similarity)
        { SummarizedBy = v.SummarizedBy?.ToString("D") };
}

public sealed record MemoryHistoryResult(string MemoryId, IReadOnlyList<MemoryVersionResult> Versions)
{
    public static MemoryHistoryResult From(Guid memoryId, IEnumerable<Core.Memories.MemoryVersion> versions) =>
        new(memoryId.ToString("D"), versions.Select(MemoryVersionResult.From).ToList());
}

public sealed record MemoryResult(
    string MemoryId, string Content, string MemoryType, double Importance, double Score, IReadOnlyList<string> Tags,
    JsonObject? Metadata, string CreatedAt, string Namespace, double? SimilarityScore = null, ScoreExplanation? Explain = null,
    string? SupersededBy = null)
{
    /// <summary>False while a memory stored write-behind waits for its vector: keyword search finds it, meaning not yet.</summary>
    [System.ComponentModel.Description("False until the memory's vector is written (moments after a store): until then only keyword search finds it.")]
    public bool HasEmbedding { get; init; }

    [System.ComponentModel.Description("When consolidation archived this memory as stale (null: not archived). Archived memories are hidden from search unless include_archived; unarchive_memory restores one.")]
    public string? ArchivedAt { get; init; }

    public static MemoryResult From(SearchHit hit) =>
        From(hit.Memory, hit.Score) with { SimilarityScore = hit.Similarity is { } s ? Math.Round(s, 4) : null, Explain = hit.Explanation };

    public static MemoryResult From(Memory m, double score) => new(
        m.Id.ToString("D"), m.Content, m.MemoryType, m.Importance, Math.Round(score, 6), m.Tags, m.Metadata,
        IsoTime.Format(m.CreatedAt), m.Namespace, SupersededBy: m.SupersededBy?.ToString("D"))
    {
        HasEmbedding = m.HasEmbedding,
        ArchivedAt = m.ArchivedAt is { } archived ? IsoTime.Format(archived) : null,
    };
}

/// <summary>Time: the time phrase understood; FallbackReason: why meaning was left out (mode fts or like when hybrid was wanted), e.g. the embeddings endpoint timed out.</summary>
public sealed record SearchMemoryResult(string Mode, IReadOnlyList<string> Namespaces, IReadOnlyList<MemoryResult> Results, TimeWindowResult? Time = null, string? FallbackReason = null)
{
    public static SearchMemoryResult From(SearchResponse response) =>
        new(response.Mode, response.Namespaces, response.Results.Select(MemoryResult.From).ToList(), TimeWindowResult.From(response.Time), response.FallbackReason);
}

/// <summary>
/// The time phrase the search understood: the phrase, its kind (absolute, relative, recency), the window (null: open),
/// how it was applied (filter, boost, or overridden by since/until) and the query searched without it.
/// </summary>
public sealed record TimeWindowResult(string Phrase, string Kind, string? Since, string? Until, string Applied, string Query)
{
    public static TimeWindowResult? From(Core.Search.Time.QueryTimeWindow? time) => time is null ? null
        : new(time.Phrase, time.Kind, time.Since is { } s ? IsoTime.Format(s) : null, time.Until is { } u ? IsoTime.Format(u) : null, time.Applied, time.Query);
}

// Value carries a description so its output schema is {"description": …} rather than the bare `true` schema, which
// the TypeScript SDK client (1.32) and the MCP Inspector reject when they list the tools.
public sealed record AgentStateResult(
    string Key,
    [property: System.ComponentModel.Description("The stored JSON value: object, array, string, number, boolean or null.")] JsonNode? Value,
    long Version, string UpdatedAt, string Namespace)
{
    public static AgentStateResult From(AgentState s) => new(s.Key, s.Value, s.Version, IsoTime.Format(s.UpdatedAt), s.Namespace);
}

public sealed record DeleteMemoryResult(string MemoryId, bool Deleted, string Namespace)
{
    public static DeleteMemoryResult From(Memory deleted) => new(deleted.Id.ToString("D"), true, deleted.Namespace);
}

public sealed record UnarchiveMemoryResult(
    string MemoryId, string Namespace,
    [property: System.ComponentModel.Description("True when the memory was archived and is now back in default search; false when it was not archived (nothing changed).")] bool Unarchived,
    [property: System.ComponentModel.Description("When it had been archived (null when it was not).")] string? ArchivedAt)
{
    public static UnarchiveMemoryResult From(Unarchived u) =>
        new(u.MemoryId.ToString("D"), u.Namespace, u.WasArchived, u.ArchivedAt is { } at ? IsoTime.Format(at) : null);
}

public sealed record FeedbackResult(string MemoryId, string Signal, long FeedbackId)
{
    public static FeedbackResult From(RecordedFeedback feedback) => new(feedback.MemoryId.ToString("D"), feedback.Signal, feedback.FeedbackId);
}
