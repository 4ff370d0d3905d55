namespace McpMemory.Core.Indexes;

/// <summary>
/// What the in-memory indexes read of the database. Storage implements it (<c>Storage/IndexSource.cs</c>), so every
/// SQL statement stays there and this room never sees SQL.
/// </summary>
internal interface IIndexSource
{
    /// <summary>Runs <paramref name="read"/> in one read transaction: a consistent snapshot of rows and event log.</summary>
    T Read<T>(Func<IIndexReader, T> read);

    /// <summary>Vectors of another encoder are never mixed with <paramref name="model"/>'s: drops them, so their rows get re-embedded.</summary>
    void DropOtherModels(string model);
}

/// <summary>The reads of one snapshot (see <see cref="IIndexSource.Read"/>).</summary>
internal interface IIndexReader
{
    /// <summary>The seq of the last event in the log (0 when empty).</summary>
    long LastEventSeq();

    /// <summary>The events after <paramref name="seq"/>, in order, at most <paramref name="limit"/>.</summary>
    IReadOnlyList<(long Seq, MemoryEvent Event)> EventsAfter(long seq, int limit);

    /// <summary>True when a memory lives at this seq now.</summary>
    bool SeqIsLive(long seq);

    /// <summary>Every memory (or the one with <paramref name="memoryId"/>) as the keyword index keeps it.</summary>
    IEnumerable<KeywordRow> KeywordRows(string? memoryId = null);

    /// <summary>Every stored vector of <paramref name="model"/> (or the one of <paramref name="memoryId"/>) with its entry.</summary>
    IEnumerable<(IndexEntry Entry, float[] Vector)> Vectors(string model, string? memoryId = null);
}

/// <summary>A memory as the keyword index keeps it: its entry, text, access count and net feedback (useful − wrong).</summary>
internal readonly record struct KeywordRow(IndexEntry Entry, string Content, long AccessCount, long NetFeedback);
