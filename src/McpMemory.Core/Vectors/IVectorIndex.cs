using McpMemory.Core.Search;

namespace McpMemory.Core.Vectors;

public readonly record struct VectorHit(long Seq, float Score);

/// <summary>
/// Nearest-neighbour search over the stored vectors. The flat quantised scan is exact enough at the sizes an
/// agent store reaches; an ANN structure can replace it behind this interface.
/// </summary>
public interface IVectorIndex
{
    int Count { get; }
    int Dimension { get; }
    void Upsert(IndexEntry entry, ReadOnlySpan<float> vector);
    bool Remove(long seq);
    /// <summary>The <paramref name="k"/> entries most similar (cosine) to the unit-length query that pass the filter, best first.</summary>
    IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, IndexFilter filter);
}
