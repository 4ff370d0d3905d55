using System.Numerics.Tensors;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Indexes;
using McpMemory.Core.Indexes.Keywords;
using McpMemory.Core.Indexes.Vectors;
using McpMemory.Core.Memories;
using McpMemory.Core.Search.Time;
using McpMemory.Core.Storage;

namespace McpMemory.Core.Search;

/// <summary>
/// The search path: BM25 candidates (in-memory keyword index, or FTS5 while it builds) and vector candidates
/// (int8 scan; in vector mode re-ranked exactly from the stored vectors) → fusion (<see cref="RankingOptions.Fusion"/>)
/// → bounded factors for recency, access, importance and feedback → top-k. Falls back to keywords when the encoder
/// is not ready or fails, and to a substring match when nothing else answers; the response names the mode used.
/// </summary>
internal sealed class HybridSearch(MemorySearch sql, MemoryIndexes indexes, RankingOptions ranking)
{
    private KeywordIndexHost Keywords => indexes.Keywords;
    private VectorIndexHost Vectors => indexes.Vectors;

    /// <summary>Recent queries' vectors: a repeated query skips the encoder.</summary>
    public QueryEmbeddingCache QueryVectors { get; } = new();

    public RankingOptions Ranking => ranking;

    public SearchResponse Search(string query, int topK, IndexFilter filter, string requestedMode, bool explain, SearchTime? time = null)
    {
        time ??= new SearchTime(filter.Now);
        indexes.Sync(); // one read of the event log brings both indexes up to date
        var n = Math.Max(ranking.CandidatesPerSource, topK);
        var useFts = requestedMode != SearchResponse.Vector;
        // The keyword index answers in micro- to milliseconds, so it runs inline: waiting here for a pool thread would
        // stall under load until the pool grows. Only FTS5 (while the index builds) runs beside the embedding.
        var ready = requestedMode != SearchResponse.Fts ? Vectors.Ready : null;
        var ftsTask = !useFts ? Task.FromResult(new List<(long Seq, double Score)>())
            : ready is not null && Keywords.Index is null ? Task.Run(() => KeywordCandidates(query, n, filter)) : Task.FromResult(KeywordCandidates(query, n, filter));
        float[]? queryVector = null;
        List<VectorHit> approximate = [];
        // Why meaning is left out of this answer (keywords still answer), when it was asked for.
        var fallback = requestedMode == SearchResponse.Fts ? null : Vectors.Unavailable;
        try
        {
            if (ready is { } r)
            {
                try { queryVector = QueryVectors.EmbedQuery(r.Embedder, query); }
                catch (Exception e) { fallback = $"the encoder failed on this query ({e.Message})"; }
            }
            if (requestedMode == SearchResponse.Vector && queryVector is null)
                throw new MemoryValidationException("mode", "vector search is not available: " + (fallback ?? "no encoder is configured") +
                    (ready is null && Vectors.Error is null && fallback is not null ? "; try again shortly or use mode \"fts\"" : ""));
            if (queryVector is not null) approximate = [.. ready!.Value.Index.Search(queryVector, n * 2, filter)];
        }
        finally { ((IAsyncResult)ftsTask).AsyncWaitHandle.WaitOne(); } // never leave the keyword query running behind an error
        var fts = ftsTask.GetAwaiter().GetResult();

        if (fts.Count == 0 && approximate.Count == 0)
            return requestedMode == SearchResponse.Vector
                ? new SearchResponse(SearchResponse.Vector, [])
                : new SearchResponse(SearchResponse.Like, sql.Like(query, topK, filter).Select(m => new SearchHit(m, 0)).ToList(), fallback);

        var seqs = fts.Select(c => c.Seq).Concat(approximate.Select(c => c.Seq)).Distinct().ToList();
        // Vector mode ranks by the exact cosine, from the stored vectors. Fusion needs only each candidate's share of
        // meaning: the int8 cosine (within ~0.002) serves, so keyword and hybrid searches read no candidate row:
        // the keyword index holds every ranking field (SQLite answers while it builds).
        var exact = requestedMode == SearchResponse.Vector;
        var rows = !exact && Keywords.Index?.Ranking(seqs) is { } held && held.Count == seqs.Count
            ? held : sql.ReadCandidates(seqs, withVectors: exact);
        var similarity = new Dictionary<long, double>();
        if (queryVector is not null && !exact)
        {
            // The scan already scored its own candidates; only keyword-only candidates need their int8 cosine.
            var scanned = approximate.Where(h => rows.ContainsKey(h.Seq)).ToDictionary(h => h.Seq, h => (double)h.Score);
            similarity = ready!.Value.Index.Similarities(queryVector, rows.Keys.Where(seq => !scanned.ContainsKey(seq)));
            foreach (var (seq, score) in scanned) similarity[seq] = score;
        }
        else if (queryVector is not null)
            foreach (var (seq, row) in rows)
                if (row.Vector is { Length: var length } v && length == queryVector.Length)
                    similarity[seq] = TensorPrimitives.Dot(queryVector, v);
        var vectorRanked = approximate.Where(h => similarity.ContainsKey(h.Seq))
            .OrderByDescending(h => similarity[h.Seq]).Take(n).Select(h => h.Seq).ToList();
        var ftsRanked = fts.Where(c => rows.ContainsKey(c.Seq)).ToList();

        var mode = requestedMode == SearchResponse.Vector ? SearchResponse.Vector
            : queryVector is null ? SearchResponse.Fts : SearchResponse.Hybrid;
        var fused = Fuse(ftsRanked, vectorRanked, similarity, mode);
        var ranked = fused.Select(f => (f.Seq, f.Fusion, Factors: Factors(rows[f.Seq], time)))
            .Select(r => (r.Seq, r.Fusion, r.Factors, Final: r.Fusion * r.Factors.Recency * r.Factors.Access * r.Factors.Importance * r.Factors.Feedback * r.Factors.Time))
            .OrderByDescending(r => r.Final).Take(topK).ToList();
        var memories = sql.ReadMemories(ranked.Select(r => r.Seq));
        var hits = new List<SearchHit>(ranked.Count);
        foreach (var (seq, fusion, factors, final) in ranked)
        {
            if (!memories.TryGetValue(seq, out var memory)) continue; // deleted in the meantime
            double? sim = similarity.TryGetValue(seq, out var cosine) ? cosine : null;
            ScoreExplanation? why = null;
            if (explain)
            {
                var ftsIndex = ftsRanked.FindIndex(c => c.Seq == seq);
                var vectorIndex = vectorRanked.IndexOf(seq);
                why = new ScoreExplanation(
                    ftsIndex < 0 ? null : ftsIndex + 1, ftsIndex < 0 ? null : ftsRanked[ftsIndex].Score,
                    vectorIndex < 0 ? null : vectorIndex + 1, sim, fusion,
                    factors.Recency, factors.Access, factors.Importance, factors.Feedback, final, factors.Time);
            }
            hits.Add(new SearchHit(memory, final, sim, why));
        }
        return new SearchResponse(mode, hits, fallback);
    }

    /// <summary>BM25 candidates: from the in-memory keyword index once built, else from FTS5 (same terms, same ranking).</summary>
    private List<(long Seq, double Score)> KeywordCandidates(string query, int n, IndexFilter filter)
    {
        if (Keywords.Index is { } index) return index.Search(KeywordIndex.QueryTerms(query), n, filter);
        return FtsQuery.Build(query) is { } match ? sql.FtsCandidates(match, n, filter) : [];
    }

    /// <summary>Fused score per candidate (higher is better).</summary>
    private List<(long Seq, double Fusion)> Fuse(List<(long Seq, double Score)> fts, List<long> vectorRanked,
        Dictionary<long, double> similarity, string mode)
    {
        var useFts = mode != SearchResponse.Vector;
        var useVector = mode != SearchResponse.Fts;
        var scores = new Dictionary<long, double>();
        if (ranking.Fusion == FusionMethod.Rrf)
        {
            if (useFts) for (var i = 0; i < fts.Count; i++) Add(fts[i].Seq, ranking.FtsWeight / (ranking.RrfK + i + 1));
            if (useVector) for (var i = 0; i < vectorRanked.Count; i++) Add(vectorRanked[i], ranking.VectorWeight / (ranking.RrfK + i + 1));
        }
        else
        {
            // Both scores are min-max rescaled over this query's candidates, so the spread (not BM25's unbounded
            // scale or the model's baseline similarity) carries the weight. Measured on LoCoMo dev against
            // max-normalised and saturating BM25 and mean-relative cosine: this was best (see README).
            if (useFts && fts.Count > 0)
            {
                var best = fts[0].Score;
                var worst = fts[^1].Score;
                foreach (var (seq, score) in fts) Add(seq, ranking.FtsWeight * (best > worst ? (score - worst) / (best - worst) : 1));
            }
            // Every candidate with a vector gets its semantic share, not only the vector top-n: an FTS hit that
            // also means the same thing ranks above one that merely shares words.
            if (useVector && similarity.Count > 0)
            {
                var max = similarity.Values.Max();
                var min = similarity.Values.Min();
                foreach (var (seq, cosine) in similarity)
                    Add(seq, ranking.VectorWeight * (max > min ? (cosine - min) / (max - min) : 1));
                // The nearest neighbours stand out even when cosines bunch together (USE-lite's often do): a
                // reciprocal-rank bonus, +w for the nearest, +w/2 for the next, ...
                if (mode == SearchResponse.Hybrid)
                    for (var i = 0; i < vectorRanked.Count; i++) Add(vectorRanked[i], ranking.VectorRankWeight / (i + 1));
            }
        }
        return scores.Select(p => (p.Key, p.Value)).ToList();

        void Add(long seq, double value) => scores[seq] = scores.GetValueOrDefault(seq) + value;
    }

    private (double Recency, double Access, double Importance, double Feedback, double Time) Factors(CandidateRow row, SearchTime time)
    {
        var ageDays = Math.Max(0, (time.Now - row.CreatedAt) / 86_400_000.0);
        var recency = 1 - ranking.RecencyWeight + ranking.RecencyWeight * Math.Pow(2, -ageDays / ranking.HalfLifeDays);
        var access = 1 + Math.Min(ranking.MaxAccessBoost, ranking.AccessWeight * Math.Log(1 + row.AccessCount));
        var importance = 1 + ranking.ImportanceWeight * (2 * row.Importance - 1);
        // Saturating: one "wrong" costs ~14 %, many at most FeedbackWeight (30 %); "useful" lifts the same way.
        var feedback = 1 + ranking.FeedbackWeight * Math.Tanh(0.5 * row.NetFeedback);
        // A soft time phrase ("recently") lifts the memories inside its window; the others keep their rank.
        var inWindow = time.InBoostWindow(row.CreatedAt) ? 1 + ranking.TimeBoostWeight : 1;
        return (recency, access, importance, feedback, inWindow);
    }
}
