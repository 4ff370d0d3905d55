using System.Text.Json.Nodes;

namespace McpMemory.Core.Memories;

/// <summary>One stored memory, as read back from the database.</summary>
public sealed record Memory
{
    /// <summary>The row's stable integer key, shared with the FTS index and the vector index.</summary>
    internal long Seq { get; init; }
    public required Guid Id { get; init; }
    public required string Namespace { get; init; }
    public string? AgentId { get; init; }
    public string? SessionId { get; init; }
    public required string MemoryType { get; init; }
    public required string Content { get; init; }
    public JsonObject? Metadata { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = [];
    public double Importance { get; init; }
    public bool HasEmbedding { get; init; }
    public long AccessCount { get; init; }
    public DateTimeOffset? LastAccessed { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public string? Source { get; init; }
    /// <summary>The memory that replaced this one (store_memory's supersedes); hidden from default search.</summary>
    public Guid? SupersededBy { get; init; }
    /// <summary>When consolidation archived this memory as stale (null: live); hidden from default search until unarchived.</summary>
    public DateTimeOffset? ArchivedAt { get; init; }
}

/// <summary>What a caller asks to store. Everything but the content is optional.</summary>
public sealed record NewMemory
{
    public required string Content { get; init; }
    public string? MemoryType { get; init; }
    public string? MetadataJson { get; init; }
    public IReadOnlyList<string>? Tags { get; init; }
    public double? Importance { get; init; }
    public string? Namespace { get; init; }
    public string? AgentId { get; init; }
    public string? SessionId { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public string? Source { get; init; }
    /// <summary>Older memories this one replaces: they are kept, marked superseded and hidden from default search.</summary>
    public IReadOnlyList<Guid>? Supersedes { get; init; }
}

/// <summary>The answer to a store: the id, and whether a new memory was added or an existing one updated.</summary>
public sealed record StoreResult(Guid MemoryId, string Status, bool HasEmbedding)
{
    /// <summary>The namespace the memory lives in (the one asked for, or the caller's default).</summary>
    public string Namespace { get; init; } = "";

    /// <summary>Other memories close in meaning (cosine at or above <see cref="SimilarThreshold"/>), best first, at most 3.</summary>
    public IReadOnlyList<SimilarMemory> Similar { get; init; } = [];
    public double SimilarThreshold { get; init; }

    /// <summary>
    /// Where the merge rule's semantic part and <see cref="Similar"/> stand: <see cref="CheckDone"/> (judged by meaning
    /// at store time), <see cref="CheckPending"/> (write-behind: the vector follows; a restatement found then is folded
    /// into the older memory, see memory_history; similar is empty), <see cref="CheckOff"/> (no encoder, or it failed:
    /// only identical or contained texts merge).
    /// </summary>
    public string SemanticCheck { get; init; } = CheckDone;

    public const string CheckDone = "done";
    public const string CheckPending = "pending";
    public const string CheckOff = "off";

    public const string Stored = "stored";
    public const string Updated = "updated";
}

/// <summary>Feedback as recorded: the memory, the signal normalised (useful, noted or wrong), the feedback row, the memory's namespace.</summary>
public sealed record RecordedFeedback(Guid MemoryId, string Signal, long FeedbackId, string Namespace);

/// <summary>A memory close in meaning to one just stored but not merged with it: the caller decides (supersedes, delete, keep).</summary>
public sealed record SimilarMemory(Guid MemoryId, double Similarity, string Content);

/// <summary>
/// One version of a memory, from the event log: stored, merged, superseded, imported, deleted, expired, archived,
/// unarchived, or summarized (a summary memory, <see cref="SummarizedBy"/>, now covers it; its text is unchanged).
/// </summary>
public sealed record MemoryVersion(Guid MemoryId, string Kind, DateTimeOffset At, string? Content, Guid? SupersededBy = null, double? Similarity = null,
    Guid? SummarizedBy = null);

/// <summary>The answer to unarchive: the memory, whether it was archived (now live again), and since when it had been.</summary>
public sealed record Unarchived(Guid MemoryId, string Namespace, bool WasArchived, DateTimeOffset? ArchivedAt);
