using System.Numerics.Tensors;
using McpMemory.Core.Indexes;
using McpMemory.Core.Memories;
using McpMemory.Core.Storage;

namespace McpMemory.Core;

/// <summary>A store's plan: the write, and the other memories close to it in meaning.</summary>
internal sealed record StorePlan(PendingWrite Write, IReadOnlyList<SimilarMemory> Similar);

/// <summary>
/// Decides, for each new row of a batch, insert or merge, and which other memories to show as similar: the nearest
/// memories of its namespace (and earlier rows of the batch) are judged by <see cref="DuplicateRule"/>, which merges
/// only the same memory.
/// </summary>
internal sealed class StorePlanner(MemoryIndexes indexes, MemorySearch sql, MemoryOptions options)
{
    /// <summary>An existing memory, or an earlier new row of the batch, that a new row may merge into or resemble.</summary>
    private sealed record Candidate(double Cosine, long? Seq, int? BatchItem, Guid Id, string MemoryType, string Content);

    /// <summary>Existing memories read back per new row: the nearest few in its namespace, from this cosine up.</summary>
    private const int CandidateCount = 8;
    private const double CandidateFloor = 0.5;
    private const double QuantisationMargin = 0.03;

    /// <summary>A similar memory's text is cut here in a store's answer (the whole memory is one search or get away).</summary>
    private const int SimilarContentChars = 500;

    /// <summary>Without vectors (encoder not ready or failed) every row is inserted and nothing is similar.</summary>
    public List<StorePlan> Plan(List<MemoryRow> rows, List<IReadOnlyList<Guid>> supersedes, float[][]? vectors, long now)
    {
        var plans = new List<StorePlan>(rows.Count);
        if (vectors is null || indexes.Vectors.Ready is not { } ready)
        {
            for (var i = 0; i < rows.Count; i++) plans.Add(new StorePlan(new PendingWrite(rows[i], vectors?[i]) { Supersedes = supersedes[i] }, []));
            return plans;
        }
        var floor = options.DuplicateThreshold ?? DuplicateRule.CosineFloor(ready.Embedder.ModelId);
        var similarFloor = DuplicateRule.SimilarFloor(ready.Embedder.ModelId);
        indexes.Sync();
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var vector = vectors[i];
            var candidates = new List<Candidate>();
            // Earlier new rows of this batch.
            for (var j = 0; j < i; j++)
            {
                if (plans[j].Write.MergeIntoSeq is not null || plans[j].Write.MergeIntoBatchItem is not null) continue;
                if (rows[j].Namespace != row.Namespace) continue;
                var cosine = TensorPrimitives.Dot(vector, vectors[j]);
                if (cosine >= CandidateFloor) candidates.Add(new Candidate(cosine, null, j, rows[j].Id, rows[j].MemoryType, rows[j].Content));
            }
            // Existing memories (quantised scan, confirmed with the exact stored vectors; int8 scores stay within
            // ~0.002 of the exact cosine, so only those near the floor are read back).
            var filter = new IndexFilter([row.Namespace], null, 0, null, null, now, null, []);
            var hits = ready.Index.Search(vector, CandidateCount, filter).Where(c => c.Score >= CandidateFloor - QuantisationMargin).Select(c => c.Seq).ToList();
            if (hits.Count > 0)
            {
                var stored = sql.ReadCandidates(hits, withVectors: true);
                var texts = sql.ReadMemories(hits);
                foreach (var seq in hits)
                {
                    if (!stored.TryGetValue(seq, out var c) || !texts.TryGetValue(seq, out var m)) continue;
                    if (c.Vector is null || c.Vector.Length != vector.Length) continue;
                    var cosine = TensorPrimitives.Dot(vector, c.Vector);
                    if (cosine >= CandidateFloor) candidates.Add(new Candidate(cosine, seq, null, m.Id, m.MemoryType, m.Content));
                }
            }
            candidates.RemoveAll(c => supersedes[i].Contains(c.Id));
            candidates.Sort((a, b) => b.Cosine.CompareTo(a.Cosine));

            var write = new PendingWrite(row, vector) { Supersedes = supersedes[i] };
            Guid? mergedInto = null;
            if (options.MergeDuplicates)
                foreach (var c in candidates.Where(c => c.MemoryType == row.MemoryType))
                {
                    var verdict = DuplicateRule.Judge(c.Content, row.Content, c.Cosine, floor);
                    if (verdict == DuplicateVerdict.Distinct) continue;
                    write = new PendingWrite(row, vector, c.Seq, c.BatchItem, c.Cosine, verdict.ToString().ToLowerInvariant()) { Supersedes = supersedes[i] };
                    mergedInto = c.Id;
                    break;
                }
            var similar = candidates.Where(c => c.Cosine >= similarFloor && c.Id != mergedInto).Take(3)
                .Select(c => new SimilarMemory(c.Id, Math.Round(c.Cosine, 4), c.Content.Length <= SimilarContentChars ? c.Content : c.Content[..SimilarContentChars] + "…")).ToList();
            plans.Add(new StorePlan(write, similar));
        }
        return plans;
    }
}
