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
}

/// <summary>One result: the memory and its score (higher is better; comparable within one response).</summary>
public sealed record SearchHit(Memory Memory, double Score);

/// <summary>The results, and which retrieval mode produced them.</summary>
public sealed record SearchResponse(string Mode, IReadOnlyList<SearchHit> Results)
{
    /// <summary>Full-text search (FTS5, BM25 ranking).</summary>
    public const string Fts = "fts";
    /// <summary>Substring match: the last resort when the query holds no searchable word or FTS found nothing.</summary>
    public const string Like = "like";
}

/// <summary>The validated filters shared by every candidate source.</summary>
internal sealed record SearchFilter(
    IReadOnlyList<string> Namespaces, string? MemoryType, IReadOnlyList<string> Tags, double MinImportance,
    string? SessionId, long? Since, long? Until, long Now);
