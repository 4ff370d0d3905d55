using System.Numerics.Tensors;
using McpMemory.Core.Indexes;
using McpMemory.Core.Indexes.Vectors;
using McpMemory.Core.Indexes.Keywords;
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

    /// <summary>Keyword candidates read back per new row for the lexical test (no vector yet).</summary>
    private const int LexicalCandidateCount = 8;

    /// <summary>
    /// Without vectors (write-behind, or the encoder not ready or failed) only the merge rule's lexical part runs
    /// (<see cref="PlanByWords"/>) and nothing is similar; with them, the whole rule.
    /// </summary>
    public List<StorePlan> Plan(List<MemoryRow> rows, List<IReadOnlyList<Guid>> supersedes, float[][]? vectors, long now)
    {
        if (vectors is null || indexes.Vectors.Ready is not { } ready) return PlanByWords(rows, supersedes, now);
        var plans = new List<StorePlan>(rows.Count);
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
            foreach (var (seq, cosine, m) in NearestStored(sql, ready.Index, vector, filter, _ => true))
                candidates.Add(new Candidate(cosine, seq, null, m.Id, m.MemoryType, m.Content));
            candidates.RemoveAll(c => supersedes[i].Contains(c.Id));
            candidates.Sort((a, b) => b.Cosine.CompareTo(a.Cosine));

            var write = new PendingWrite(row, vector) { Supersedes = supersedes[i] };
            Guid? mergedInto = null;
            if (options.MergeDuplicates)
            {
                List<DuplicateRule.Word>? words = null;
                foreach (var c in candidates.Where(c => c.MemoryType == row.MemoryType))
                {
                    var verdict = DuplicateRule.Judge(c.Content, words ??= DuplicateRule.Words(row.Content), c.Cosine, floor);
                    if (verdict == DuplicateVerdict.Distinct) continue;
                    write = new PendingWrite(row, vector, c.Seq, c.BatchItem, c.Cosine, verdict.ToString().ToLowerInvariant()) { Supersedes = supersedes[i] };
                    mergedInto = c.Id;
                    break;
                }
            }
            var similar = candidates.Where(c => c.Cosine >= similarFloor && c.Id != mergedInto).Take(3)
                .Select(c => new SimilarMemory(c.Id, Math.Round(c.Cosine, 4), c.Content.Length <= SimilarContentChars ? c.Content : c.Content[..SimilarContentChars] + "…")).ToList();
            plans.Add(new StorePlan(write, similar));
        }
        return plans;
    }

    /// <summary>
    /// The stored memories nearest <paramref name="vector"/> under <paramref name="filter"/> (of those <paramref name="admit"/>
    /// lets through), at or above the candidate floor by their exact stored vectors, in the index's order: what the merge
    /// rule judges, inline here and in <see cref="DeferredMerge"/> once a write-behind vector lands.
    /// </summary>
    internal static List<(long Seq, double Cosine, Memory Memory)> NearestStored(MemorySearch sql, QuantizedVectorIndex index, float[] vector,
        IndexFilter filter, Func<long, bool> admit)
    {
        var nearest = new List<(long, double, Memory)>();
        var hits = index.Search(vector, CandidateCount, filter).Where(h => admit(h.Seq) && h.Score >= CandidateFloor - QuantisationMargin).Select(h => h.Seq).ToList();
        if (hits.Count == 0) return nearest;
        var stored = sql.ReadCandidates(hits, withVectors: true);
        var texts = sql.ReadMemories(hits);
        foreach (var seq in hits)
        {
            if (!stored.TryGetValue(seq, out var c) || !texts.TryGetValue(seq, out var m)) continue;
            if (c.Vector is null || c.Vector.Length != vector.Length) continue;
            var cosine = TensorPrimitives.Dot(vector, c.Vector);
            if (cosine >= CandidateFloor) nearest.Add((seq, cosine, m));
        }
        return nearest;
    }

    /// <summary>
    /// The merge rule's lexical part, without vectors: a new row that is identical to (after normalisation), or
    /// contains, an existing memory of its namespace and type updates it. The existing memories judged are the best
    /// keyword matches of the new text (an identical or contained text holds only words of the new one, so it ranks
    /// among them) and the earlier rows of the batch. The semantic part (a strict restatement) waits for the vector
    /// (<see cref="DeferredMerge"/>).
    /// </summary>
    private List<StorePlan> PlanByWords(List<MemoryRow> rows, List<IReadOnlyList<Guid>> supersedes, long now)
    {
        var plans = new List<StorePlan>(rows.Count);
        if (options.MergeDuplicates) indexes.Sync();
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var write = new PendingWrite(row, null) { Supersedes = supersedes[i] };
            List<DuplicateRule.Word>? words = null; // split once, judged against each candidate
            if (options.MergeDuplicates)
                foreach (var c in WordCandidates(rows, plans, i, now))
                {
                    if (supersedes[i].Contains(c.Id)) continue;
                    var verdict = DuplicateRule.Judge(c.Content, words ??= DuplicateRule.Words(row.Content), 0, cosineFloor: null);
                    if (verdict == DuplicateVerdict.Distinct) continue;
                    write = new PendingWrite(row, null, c.Seq, c.BatchItem, null, verdict.ToString().ToLowerInvariant()) { Supersedes = supersedes[i] };
                    break;
                }
            plans.Add(new StorePlan(write, []));
        }
        return plans;
    }

    /// <summary>Earlier rows of the batch (same namespace and type, not merged away), then the best keyword matches.</summary>
    private IEnumerable<Candidate> WordCandidates(List<MemoryRow> rows, List<StorePlan> plans, int i, long now)
    {
        var row = rows[i];
        for (var j = 0; j < i; j++)
            if (plans[j].Write.MergeIntoSeq is null && plans[j].Write.MergeIntoBatchItem is null
                && rows[j].Namespace == row.Namespace && rows[j].MemoryType == row.MemoryType)
                yield return new Candidate(0, null, j, rows[j].Id, rows[j].MemoryType, rows[j].Content);
        var filter = new IndexFilter([row.Namespace], row.MemoryType, 0, null, null, now, null, []);
        var hits = indexes.Keywords.Index is { } keywords
            ? keywords.Search(KeywordIndex.QueryTerms(row.Content), LexicalCandidateCount, filter)
            : FtsQuery.Build(row.Content) is { } match ? sql.FtsCandidates(match, LexicalCandidateCount, filter) : [];
        if (hits.Count == 0) yield break;
        var texts = sql.ReadTexts(hits.Select(h => h.Seq));
        foreach (var (seq, _) in hits)
            if (texts.TryGetValue(seq, out var m))
                yield return new Candidate(0, seq, null, m.Id, m.MemoryType, m.Content);
    }
}
