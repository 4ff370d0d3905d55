namespace McpMemory.Core.Indexes;

/// <summary>What an in-memory index keeps of each memory so that filters apply during the scan, not after it.</summary>
public readonly record struct IndexEntry(
    long Seq, string Namespace, string MemoryType, double Importance, long CreatedAt, long? ExpiresAt,
    string? SessionId, IReadOnlyList<string> Tags, bool Superseded = false, bool Archived = false);

/// <summary>
/// The filters of a search, validated (times in unix ms): the in-memory indexes apply them during their scans, and the
/// SQL search (FTS5 while the keyword index builds, the substring fallback) as WHERE clauses.
/// </summary>
public sealed record IndexFilter(
    IReadOnlyList<string> Namespaces, string? MemoryType, double MinImportance, long? Since, long? Until, long Now,
    string? SessionId, IReadOnlyList<string> Tags, bool IncludeSuperseded = false, bool IncludeArchived = false);

/// <summary>What ranking needs of a candidate; the full row is read only for the final top-k.</summary>
internal sealed record CandidateRow(long Seq, long CreatedAt, long AccessCount, double Importance, long NetFeedback, float[]? Vector);
