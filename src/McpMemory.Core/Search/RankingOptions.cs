using System.Globalization;
using McpMemory.Core.Memories;

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

    /// <summary>A settable parameter: its name (as in <see cref="ToString"/>), its limits, and how to read and set it.</summary>
    private sealed record Parameter(string Name, double Min, double Max, bool Whole, Func<RankingOptions, double> Get, Func<RankingOptions, double, RankingOptions> Set);

    // Every bound keeps each factor a bounded multiplier (see the summary above): weights of a factor that can shrink a
    // score stay within 0..1, so no factor turns negative.
    private static readonly Parameter[] Parameters =
    [
        new("fts_weight", 0, 100, false, r => r.FtsWeight, (r, v) => r with { FtsWeight = v }),
        new("vector_weight", 0, 100, false, r => r.VectorWeight, (r, v) => r with { VectorWeight = v }),
        new("vector_rank_weight", 0, 100, false, r => r.VectorRankWeight, (r, v) => r with { VectorRankWeight = v }),
        new("rrf_k", 1, 10_000, true, r => r.RrfK, (r, v) => r with { RrfK = (int)v }),
        new("candidates", 1, 1_000, true, r => r.CandidatesPerSource, (r, v) => r with { CandidatesPerSource = (int)v }),
        new("bm25_k1", 0, 10, false, r => r.Bm25K1, (r, v) => r with { Bm25K1 = v }),
        new("bm25_b", 0, 1, false, r => r.Bm25B, (r, v) => r with { Bm25B = v }),
        new("half_life_days", 0.01, 36_500, false, r => r.HalfLifeDays, (r, v) => r with { HalfLifeDays = v }),
        new("recency_weight", 0, 1, false, r => r.RecencyWeight, (r, v) => r with { RecencyWeight = v }),
        new("access_weight", 0, 10, false, r => r.AccessWeight, (r, v) => r with { AccessWeight = v }),
        new("max_access_boost", 0, 10, false, r => r.MaxAccessBoost, (r, v) => r with { MaxAccessBoost = v }),
        new("importance_weight", 0, 1, false, r => r.ImportanceWeight, (r, v) => r with { ImportanceWeight = v }),
        new("feedback_weight", 0, 1, false, r => r.FeedbackWeight, (r, v) => r with { FeedbackWeight = v }),
        new("time_boost_weight", 0, 10, false, r => r.TimeBoostWeight, (r, v) => r with { TimeBoostWeight = v }),
    ];

    /// <summary>The names <see cref="With"/> takes: fusion and every weight and constant.</summary>
    public static IReadOnlyList<string> Names { get; } = ["fusion", .. Parameters.Select(p => p.Name)];

    /// <summary>
    /// These options with one parameter changed, by its name in <see cref="ToString"/> (fusion=rrf, fts_weight=0.8, …);
    /// an unknown name, a value that is not a number, or one outside its limits is refused naming the parameter and the limit.
    /// </summary>
    public RankingOptions With(string name, string value)
    {
        var key = name.Trim().ToLowerInvariant();
        value = value.Trim();
        if (key == "fusion")
            return Enum.TryParse<FusionMethod>(value, ignoreCase: true, out var fusion) && Enum.IsDefined(fusion) && !char.IsDigit(value.FirstOrDefault())
                ? this with { Fusion = fusion }
                : throw new MemoryValidationException("fusion", $"must be rrf or score (got \"{Namespaces.Truncate(value, 40)}\")");
        var parameter = Parameters.FirstOrDefault(p => p.Name == key)
                        ?? throw new MemoryValidationException(Namespaces.Truncate(name.Trim(), 40), $"is not a ranking parameter; known: {string.Join(", ", Names)}");
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            throw new MemoryValidationException(parameter.Name, $"must be {Limit(parameter)} (got \"{Namespaces.Truncate(value, 40)}\")");
        Check(parameter, number); // before setting: a whole-number parameter would silently truncate 2.5
        return parameter.Set(this, number).Validate();
    }

    /// <summary>Returns these options when every parameter is within its limits; otherwise throws naming the first one that is not, and its limit.</summary>
    public RankingOptions Validate()
    {
        foreach (var p in Parameters) Check(p, p.Get(this));
        if (!Enum.IsDefined(Fusion)) throw new MemoryValidationException("fusion", $"must be rrf or score (got {(int)Fusion})");
        if (FtsWeight == 0 && VectorWeight == 0)
            throw new MemoryValidationException("fts_weight", "and vector_weight cannot both be 0 (nothing would rank the candidates)");
        return this;
    }

    private static void Check(Parameter p, double v)
    {
        if (!(v >= p.Min && v <= p.Max) || (p.Whole && v != Math.Floor(v)))
            throw new MemoryValidationException(p.Name, $"must be {Limit(p)} (got {v.ToString(CultureInfo.InvariantCulture)})");
    }

    private static string Limit(Parameter p) =>
        $"{(p.Whole ? "a whole number" : "a number")} from {p.Min.ToString(CultureInfo.InvariantCulture)} to {p.Max.ToString(CultureInfo.InvariantCulture)}";

    public override string ToString() =>
        $"bm25_k1={Bm25K1} bm25_b={Bm25B} fusion={Fusion} fts_weight={FtsWeight} vector_weight={VectorWeight} vector_rank_weight={VectorRankWeight} rrf_k={RrfK} candidates={CandidatesPerSource} " +
        $"half_life_days={HalfLifeDays} recency_weight={RecencyWeight} access_weight={AccessWeight} max_access_boost={MaxAccessBoost} importance_weight={ImportanceWeight} feedback_weight={FeedbackWeight} time_boost_weight={TimeBoostWeight}";
}
