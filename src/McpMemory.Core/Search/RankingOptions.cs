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
    public int RrfK { get; init; } = 60;
    /// <summary>Candidates taken from each retriever before fusion.</summary>
    public int CandidatesPerSource { get; init; } = 50;

    public double HalfLifeDays { get; init; } = 69;
    public double RecencyWeight { get; init; } = 0.2;
    public double AccessWeight { get; init; } = 0.05;
    public double MaxAccessBoost { get; init; } = 0.25;
    public double ImportanceWeight { get; init; } = 0.2;
    public double FeedbackWeight { get; init; } = 0.3;

    public static RankingOptions Default { get; } = new();

    public override string ToString() =>
        $"fusion={Fusion} fts_weight={FtsWeight} vector_weight={VectorWeight} rrf_k={RrfK} candidates={CandidatesPerSource} " +
        $"half_life_days={HalfLifeDays} recency_weight={RecencyWeight} access_weight={AccessWeight} importance_weight={ImportanceWeight} feedback_weight={FeedbackWeight}";
}
