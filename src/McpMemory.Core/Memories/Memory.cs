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
}

/// <summary>The answer to a store: the id, and whether a new memory was added or an existing one updated.</summary>
public sealed record StoreResult(Guid MemoryId, string Status, bool HasEmbedding)
{
    public const string Stored = "stored";
    public const string Updated = "updated";
}
