using System.Collections.Concurrent;

namespace McpMemory.Core.Storage;

/// <summary>
/// Counts how often each memory is returned and writes the counts in one batch per interval, so a search never
/// waits for a write. <c>written</c> hears of each batch once it is stored (the keyword index keeps the counts for
/// ranking; other processes' counts reach it when it is next built).
/// </summary>
internal sealed class AccessTracker(MemoryDatabase database, TimeProvider clock, Action<IReadOnlyDictionary<long, int>>? written = null)
{
    private ConcurrentDictionary<long, int> _pending = new();

    public void Record(IEnumerable<long> seqs)
    {
        foreach (var seq in seqs) _pending.AddOrUpdate(seq, 1, (_, n) => n + 1);
    }

    /// <summary>Writes the counts gathered so far; returns how many memories were updated.</summary>
    public int Flush()
    {
        if (_pending.IsEmpty) return 0;
        var batch = Interlocked.Exchange(ref _pending, new ConcurrentDictionary<long, int>());
        var now = UnixTime.ToMs(clock.GetUtcNow());
        var count = database.Write((session, tx) =>
        {
            foreach (var (seq, count) in batch)
            {
                var update = session.Command("UPDATE memories SET access_count = access_count + @n, last_accessed = @now WHERE seq = @seq", tx);
                update.Parameters.AddWithValue("@n", count);
                update.Parameters.AddWithValue("@now", now);
                update.Parameters.AddWithValue("@seq", seq);
                update.ExecuteNonQuery();
            }
            return batch.Count;
        });
        written?.Invoke(batch);
        return count;
    }
}
