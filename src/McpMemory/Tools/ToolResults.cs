using System.Text.Json.Nodes;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Core.Storage;

namespace McpMemory.Tools;

// The structured results of the tools. Property names go out in snake_case (see ToolJson), times as UTC ISO-8601.

public sealed record StoreMemoryResult(string MemoryId, string Status, bool HasEmbedding, string Namespace);

public sealed record MemoryResult(
    string MemoryId, string Content, string MemoryType, double Importance, double Score, IReadOnlyList<string> Tags,
    JsonObject? Metadata, string CreatedAt, string Namespace, double? SimilarityScore = null, ScoreExplanation? Explain = null)
{
    public static MemoryResult From(SearchHit hit) =>
        From(hit.Memory, hit.Score) with { SimilarityScore = hit.Similarity is { } s ? Math.Round(s, 4) : null, Explain = hit.Explanation };

    public static MemoryResult From(Memory m, double score) => new(
        m.Id.ToString("D"), m.Content, m.MemoryType, m.Importance, Math.Round(score, 6), m.Tags, m.Metadata,
        Iso(m.CreatedAt), m.Namespace);

    internal static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
}

/// <summary>FallbackReason: why meaning was left out (mode fts or like when hybrid was wanted), e.g. the embeddings endpoint timed out.</summary>
public sealed record SearchMemoryResult(string Mode, IReadOnlyList<string> Namespaces, IReadOnlyList<MemoryResult> Results, string? FallbackReason = null);

// Value carries a description so its output schema is {"description": …} rather than the bare `true` schema, which
// the TypeScript SDK client (1.32) and the MCP Inspector reject when they list the tools.
public sealed record AgentStateResult(
    string Key,
    [property: System.ComponentModel.Description("The stored JSON value: object, array, string, number, boolean or null.")] JsonNode? Value,
    long Version, string UpdatedAt, string Namespace)
{
    public static AgentStateResult From(AgentState s) => new(s.Key, s.Value, s.Version, MemoryResult.Iso(s.UpdatedAt), s.Namespace);
}

public sealed record DeleteMemoryResult(string MemoryId, bool Deleted, string Namespace);

public sealed record FeedbackResult(string MemoryId, string Signal, long FeedbackId);
