namespace McpMemory.Core.Vectors;

/// <summary>What the index keeps of each memory so that filters apply during the scan, not after it.</summary>
public readonly record struct VectorEntry(
    long Seq, string Namespace, string MemoryType, double Importance, long CreatedAt, long? ExpiresAt,
    string? SessionId, IReadOnlyList<string> Tags);

/// <summary>The filters of a search, as the index applies them (times in unix ms).</summary>
public sealed record VectorFilter(
    IReadOnlyList<string> Namespaces, string? MemoryType, double MinImportance, long? Since, long? Until, long Now,
    string? SessionId, IReadOnlyList<string> Tags);

public readonly record struct VectorHit(long Seq, float Score);

/// <summary>
/// Nearest-neighbour search over the stored vectors. The flat quantised scan is exact enough at the sizes an
/// agent store reaches; an ANN structure can replace it behind this interface.
/// </summary>
public interface IVectorIndex
{
    int Count { get; }
    int Dimension { get; }
    void Upsert(VectorEntry entry, ReadOnlySpan<float> vector);
    bool Remove(long seq);
    /// <summary>The <paramref name="k"/> entries most similar (cosine) to the unit-length query that pass the filter, best first.</summary>
    IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, VectorFilter filter);
}
