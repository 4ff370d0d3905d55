using McpMemory.Core.Memories;

namespace McpMemory.Core.Search;

/// <summary>A search as the caller asks it (validated by <see cref="MemoryService"/>).</summary>
public sealed record SearchRequest
{
    public required string Query { get; init; }
    public int? TopK { get; init; }
    public string? MemoryType { get; init; }
    public IReadOnlyList<string>? Tags { get; init; }
    public double? MinImportance { get; init; }
    public IReadOnlyList<string>? Namespaces { get; init; }
    public string? SessionId { get; init; }
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    /// <summary>auto (default: hybrid when vectors are ready, else fts), hybrid, fts or vector.</summary>
    public string? Mode { get; init; }
    /// <summary>Return each factor of each result's score.</summary>
    public bool Explain { get; init; }
    /// <summary>Also return memories that a newer one superseded (hidden by default).</summary>
    public bool IncludeSuperseded { get; init; }
    /// <summary>Also return memories that consolidation archived as stale (hidden by default).</summary>
    public bool IncludeArchived { get; init; }
    /// <summary>The moment "yesterday" or "last week" is read against and recency is counted from (default: the clock); for evaluation and replays.</summary>
    public DateTimeOffset? Now { get; init; }
    /// <summary>Understand a time phrase in the query (default true): see <see cref="Time.TimeExpressions"/>.</summary>
    public bool TimeAware { get; init; } = true;
}

/// <summary>Every factor of one result's score (see <see cref="RankingOptions"/>).</summary>
public sealed record ScoreExplanation(
    int? FtsRank, double? Bm25, int? VectorRank, double? Similarity, double Fusion,
    double Recency, double Access, double Importance, double Feedback, double Final, double Time = 1);

/// <summary>One result: the memory, its final score (higher is better), its cosine to the query when known, and why.</summary>
public sealed record SearchHit(Memory Memory, double Score, double? Similarity = null, ScoreExplanation? Explanation = null);

/// <summary>
/// The results, and which retrieval mode produced them; <paramref name="FallbackReason"/> says why meaning was left out
/// when it was asked for (auto or hybrid) but not available: the encoder loading, failed, or its endpoint not answering.
/// </summary>
public sealed record SearchResponse(string Mode, IReadOnlyList<SearchHit> Results, string? FallbackReason = null)
{
    /// <summary>The namespaces searched: the request's (validated, each once) or the caller's default ones.</summary>
    public IReadOnlyList<string> Namespaces { get; init; } = [];

    /// <summary>The time phrase understood in the query and how it was applied (null: none).</summary>
    public Time.QueryTimeWindow? Time { get; init; }

    /// <summary>Keywords and meaning, fused.</summary>
    public const string Hybrid = "hybrid";
    /// <summary>Full-text search only (FTS5, BM25): the encoder is not ready, or this mode was asked for.</summary>
    public const string Fts = "fts";
    /// <summary>Meaning only (vector similarity).</summary>
    public const string Vector = "vector";
    /// <summary>Substring match: the last resort when the query holds no searchable word or nothing else matched.</summary>
    public const string Like = "like";

    public const string Auto = "auto";
    public static readonly IReadOnlyList<string> RequestModes = [Auto, Hybrid, Fts, Vector];
}
