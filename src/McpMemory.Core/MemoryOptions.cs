using McpMemory.Core.Memories;
using McpMemory.Core.Search;

namespace McpMemory.Core;

/// <summary>Everything configurable about the engine, with defaults that suit an agent's memory.</summary>
public sealed record MemoryOptions
{
    public MemoryLimits Limits { get; init; } = MemoryLimits.Default;
    public RankingOptions Ranking { get; init; } = RankingOptions.Default;

    /// <summary>
    /// A new memory that <see cref="DuplicateRule"/> judges the same memory as one of the same namespace and type
    /// (identical after normalisation, containing it, or a strict restatement) updates it instead of adding another.
    /// Off: every store adds a memory.
    /// </summary>
    public bool MergeDuplicates { get; init; } = true;

    /// <summary>The strict test's cosine floor; null: the encoder's calibrated floor (<see cref="DuplicateRule.CosineFloor"/>).</summary>
    public double? DuplicateThreshold { get; init; }

    /// <summary>
    /// Keep an in-memory keyword index (built in the background at open, the same BM25 ranking as FTS5, far faster).
    /// Off, every keyword search runs in FTS5: better for one-shot commands on a large store.
    /// </summary>
    public bool KeywordIndex { get; init; } = true;

    /// <summary>
    /// Write-behind: a store commits the row and its keyword entry and answers at once, without waiting for the
    /// encoder; the background worker embeds it in batches soon after (searches say has_embedding false until then).
    /// The merge rule's lexical part (identical, contained) runs at store time, its semantic part (a strict
    /// restatement) when the vector lands, folding the new memory into the old one (see <see cref="DeferredMerge"/>).
    /// Off (the library default, deterministic): each store embeds its text before it commits, as one-shot commands want.
    /// </summary>
    public bool WriteBehind { get; init; }

    /// <summary>
    /// Whether the background worker embeds rows stored without a vector (on by default). Off for one-shot commands:
    /// `reindex` embeds them itself (batches on every core); the worker took turns with it, one low-priority batch at a
    /// time, and `reindex` then reported only its own share.
    /// </summary>
    public bool BackgroundEmbedding { get; init; } = true;

    /// <summary>Rows stored without a vector (encoder not ready, or failed) are embedded in batches of this size…</summary>
    public int EmbeddingBatchSize { get; init; } = 64;
    /// <summary>…checked this often.</summary>
    public TimeSpan EmbeddingInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Rows waiting for a vector that this process did not store (another instance's on the same database, or left by
    /// a crash) are embedded by its worker once they have waited this long (up to twice this): their own instance
    /// embeds them meanwhile, so N instances do not embed every row N times.
    /// </summary>
    public TimeSpan OtherInstancesGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// After a store wakes the worker it waits this long before embedding, so that a burst of stores shares one batch
    /// (write-behind's vectors land within this plus the encoder's time per text).
    /// </summary>
    public TimeSpan EmbeddingBatchWindow { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Access counts are written in batches, off the search path, this often.</summary>
    public TimeSpan AccessFlushInterval { get; init; } = TimeSpan.FromSeconds(5);

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>How time phrases in queries are read: time zone, sprints, filter or boost.</summary>
    public Search.Time.TimeExpressionOptions Time { get; init; } = Search.Time.TimeExpressionOptions.Default;

    public static MemoryOptions Default { get; } = new();

    /// <summary>For commands that open the store for one job and close it (export, import, doctor): no keyword index to build.</summary>
    public static MemoryOptions OneShot { get; } = new() { KeywordIndex = false };
}
