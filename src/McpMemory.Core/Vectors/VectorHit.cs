namespace McpMemory.Core.Vectors;

/// <summary>One entry of a vector search: its sequence number and its (approximate) cosine to the query.</summary>
public readonly record struct VectorHit(long Seq, float Score);
