namespace McpMemory.Core.Search;

/// <summary>How candidates from the two retrievers are fused.</summary>
public enum FusionMethod
{
    /// <summary>Weighted Reciprocal Rank Fusion: Σ weight / (k + rank).</summary>
    Rrf,
    /// <summary>Weighted sum of per-query normalised scores: BM25 / max BM25, and cosine rescaled over the candidates.</summary>
    Score,
}

/// <summary>
/// Global ranking parameters (never tuned per question). Every factor after fusion is a bounded multiplier, so
/// no single signal can bury or pin a memory: recency ∈ [1−RecencyWeight, 1], access ∈ [1, 1+MaxAccessBoost],
/// importance ∈ [1−ImportanceWeight, 1+ImportanceWeight], feedback ∈ [1−FeedbackWeight, 1+FeedbackWeight].
/// </summary>
public sealed record RankingOptions
{
    public FusionMethod Fusion { get; init; } = FusionMethod.Score;
    public double FtsWeight { get; init; } = 1.0;
    public double VectorWeight { get; init; } = 0.7;
    /// <summary>
    /// Score fusion only: a bonus of weight / rank for the vector ranking's candidates (1 for the nearest, 1/2 for
    /// the next, ...), so that the closest in meaning can outrank a memory that merely shares rarer words. LoCoMo dev
    /// hybrid recall@10: 0.668 without it, 0.666 at 1.0 (see README).
    /// </summary>
    public double VectorRankWeight { get; init; } = 1.0;
    public int RrfK { get; init; } = 60;
    /// <summary>Candidates taken from each retriever before fusion.</summary>
    public int CandidatesPerSource { get; init; } = 50;

    /// <summary>
    /// BM25 term-frequency saturation and length normalisation of the keyword index. FTS5's bm25() fixes
    /// k1 = 1.2, b = 0.75; memories are short and similar in length, and on LoCoMo dev b from 0.2 to 0.5 gave
    /// keyword recall@10 0.629-0.635 against 0.621 at 0.75 (hybrid 0.665-0.672 against 0.653). FTS5 (used while the
    /// index builds, and by one-shot commands) keeps its own 0.75.
    /// </summary>
    public double Bm25K1 { get; init; } = 1.2;
    public double Bm25B { get; init; } = 0.3;

    public double HalfLifeDays { get; init; } = 69;
    public double RecencyWeight { get; init; } = 0.2;
    public double AccessWeight { get; init; } = 0.05;
    public double MaxAccessBoost { get; init; } = 0.25;
    public double ImportanceWeight { get; init; } = 0.2;
    public double FeedbackWeight { get; init; } = 0.3;
    /// <summary>Memories inside a soft time window ("recently") score ×(1 + this); see README § Time in queries.</summary>
    public double TimeBoostWeight { get; init; } = 0.3;

    public static RankingOptions Default { get; } = new();

    public override string ToString() =>
        $"bm25_k1={Bm25K1} bm25_b={Bm25B} fusion={Fusion} fts_weight={FtsWeight} vector_weight={VectorWeight} vector_rank_weight={VectorRankWeight} rrf_k={RrfK} candidates={CandidatesPerSource} " +
        $"half_life_days={HalfLifeDays} recency_weight={RecencyWeight} access_weight={AccessWeight} importance_weight={ImportanceWeight} feedback_weight={FeedbackWeight} time_boost_weight={TimeBoostWeight}";
}
