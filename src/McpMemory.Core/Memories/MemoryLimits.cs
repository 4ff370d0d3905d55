namespace McpMemory.Core.Memories;

/// <summary>The bounds every input is checked against. Defaults suit agent memories; all are configurable.</summary>
public sealed record MemoryLimits
{
    /// <summary>Largest content, in UTF-8 bytes (default 64 KiB).</summary>
    public int MaxContentBytes { get; init; } = 64 * 1024;
    public int MaxTags { get; init; } = 32;
    public int MaxTagLength { get; init; } = 64;
    /// <summary>Largest metadata object, in UTF-8 bytes of its JSON (default 16 KiB).</summary>
    public int MaxMetadataBytes { get; init; } = 16 * 1024;
    public int MaxMetadataDepth { get; init; } = 16;
    public int MaxTopK { get; init; } = 100;
    public int DefaultTopK { get; init; } = 10;
    public int MaxQueryBytes { get; init; } = 4 * 1024;
    public int MaxStateKeyLength { get; init; } = 200;
    /// <summary>Largest agent-state value, in UTF-8 bytes of its JSON (default 256 KiB).</summary>
    public int MaxStateValueBytes { get; init; } = 256 * 1024;
    public int MaxNamespaces { get; init; } = 32;
    public int MaxIdLength { get; init; } = 200;

    public static MemoryLimits Default { get; } = new();
}
