using McpMemory.Core.Embeddings;
using McpMemory.Core.Indexes;
using McpMemory.Core.Indexes.Vectors;
using McpMemory.Core.Memories;
using McpMemory.Core.Storage;

namespace McpMemory.Core;

/// <summary>
/// The merge rule's semantic part for memories stored write-behind, run by the worker once their vectors land: a new
/// memory that <see cref="DuplicateRule"/> judges the same memory as an older one of its namespace and type (a strict
/// restatement, or a lexical match the keyword candidates missed) is folded into it, as an inline store would have
/// merged it (<see cref="MemoryStore.FoldInto"/>). Only older memories are candidates, so two restatements fold one way.
/// The rule is the one inline stores use, so this path can no more merge different facts than that one.
/// </summary>
internal sealed class DeferredMerge(MemoryIndexes indexes, MemorySearch sql, MemoryStore store, MemoryOptions options)
{
    /// <summary>Judges the rows just embedded (in seq order) that await the check; returns how many were folded.</summary>
    public int Run(IReadOnlyList<PendingEmbedding> rows, IReadOnlyList<float[]> vectors, IEmbedder embedder, QuantizedVectorIndex index)
    {
        if (!options.MergeDuplicates) return 0;
        var floor = options.DuplicateThreshold ?? DuplicateRule.CosineFloor(embedder.ModelId);
        var folded = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            if (!row.SemanticCheck) continue;
            var now = UnixTime.ToMs(options.Clock.GetUtcNow());
            var filter = new IndexFilter([row.Namespace], row.MemoryType, 0, null, null, now, null, []);
            // The older memories only, as StorePlanner would have judged them at store time.
            var candidates = StorePlanner.NearestStored(sql, index, vectors[i], filter, seq => seq < row.Seq)
                .Where(c => c.Memory.SupersededBy is null)
                .OrderByDescending(c => c.Cosine);
            foreach (var c in candidates)
            {
                var verdict = DuplicateRule.Judge(c.Memory.Content, row.Content, c.Cosine, floor);
                if (verdict == DuplicateVerdict.Distinct) continue;
                if (store.FoldInto(c.Seq, row.Seq, row.Content, vectors[i], embedder.ModelId, c.Cosine, verdict.ToString().ToLowerInvariant(), now))
                {
                    folded++;
                    indexes.Sync(); // the folded row is superseded now: no later row of the batch may merge into it
                }
                break;
            }
        }
        return folded;
    }
}
