using McpMemory.Core.Embeddings;
using McpMemory.Core.Indexes;
using McpMemory.Core.Storage;

namespace McpMemory.Core;

/// <summary>
/// The engine's background loop, until disposal: embeds memories stored without a vector (write-behind, or the encoder
/// was not ready, or failed) in batches, then runs the merge rule's semantic part on those stored write-behind
/// (<see cref="DeferredMerge"/>), and writes access counts in batches off the search path. Its queue is the rows
/// without a vector, so a crash loses none: the next start embeds them.
/// <para>The loop runs on a thread of its own, at a lowered priority, and embeds on that thread only
/// (<see cref="IEmbedder.EmbedOnThisThread"/>): write-behind work takes one core when one is free and yields to
/// requests, instead of taking both cores the moment a store is answered.</para>
/// <para>Which rows, in this order: those this process stored without a vector (<see cref="Wake"/> hands over their
/// seqs, read back by primary key), then the rest (left by a crash, a merge or reindex, or another instance on the same
/// database), found by a read of every memory: at start at once (all rows then waiting), afterwards at most every
/// <see cref="MemoryOptions.OtherInstancesGrace"/>, and only rows that already existed at the previous such read. So a
/// store costs no scan of the table, and with several instances each embeds its own rows; another's only once they
/// have waited that long (its owner is slow or gone), so a crashed instance's rows are still embedded.</para>
/// </summary>
internal sealed class EmbeddingWorker : IDisposable
{
    private readonly MemoryDatabase _database;
    private readonly MemoryIndexes _indexes;
    private readonly AccessTracker _access;
    private readonly MemoryOptions _options;
    private readonly DeferredMerge _merge;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Lock _embedLock = new();
    private readonly Thread _loop;
    private readonly Lock _queueLock = new();
    /// <summary>
    /// Rows this process stored (or merged into) without a vector and not yet seen embedded: seq → the wake-up that
    /// queued it last (a merge may re-queue a row while the worker embeds its previous text: that one stays queued).
    /// </summary>
    private readonly SortedDictionary<long, long> _stored = [];
    private long _wakes;
    /// <summary>Rows up to this seq existed at the last read of every pending row (-1: not read yet, so all are due).</summary>
    private long _othersHorizon = -1;
    private DateTime _nextOthersRead = DateTime.MinValue;

    public EmbeddingWorker(MemoryDatabase database, MemoryIndexes indexes, AccessTracker access, DeferredMerge merge, MemoryOptions options)
    {
        (_database, _indexes, _access, _merge, _options) = (database, indexes, access, merge, options);
        _loop = new Thread(() =>
        {
            BackgroundPriority.LowerCurrentThread(BackgroundPriority.Lowered);
            Loop(_stopping.Token);
        }) { IsBackground = true, Name = "mcp-memory embedding worker" };
        _loop.Start();
    }

    /// <summary>
    /// This process stored rows <paramref name="seqs"/> without vectors: embed them soon (one pending wake-up is
    /// enough, the loop embeds all that wait).
    /// </summary>
    public void Wake(IEnumerable<long> seqs)
    {
        // With no encoder nothing will embed them: the set would only grow. Rows are found by the read at start.
        if (!_indexes.Vectors.HasEncoder) return;
        lock (_queueLock)
        {
            _wakes++;
            foreach (var seq in seqs) _stored[seq] = _wakes;
        }
        if (_options.EmbeddingInterval > TimeSpan.Zero && _signal.CurrentCount == 0) _signal.Release();
    }

    /// <summary>
    /// Embeds up to one batch of memories stored without a vector (for this encoder). Returns how many were
    /// embedded; 0 when none are waiting or vectors are not ready. <paramref name="onThisThread"/>: the worker's own
    /// call, on its one low-priority thread; a caller that waits for the result (the CLI, consolidation) uses every core.
    /// </summary>
    public int EmbedPending(bool onThisThread = false)
    {
        if (_indexes.Vectors.Ready is not { } ready) return 0;
        lock (_embedLock)
        {
            // A caller that waits for the result embeds every row waiting; the worker, its own first (see the class).
            var queued = new Dictionary<long, long>();
            var pending = onThisThread ? NextBatch(queued) : VectorStore.Pending(_database, _options.EmbeddingBatchSize);
            if (pending.Count == 0) return 0;
            var texts = pending.Select(p => p.Content).ToList();
            var vectors = onThisThread ? ready.Embedder.EmbedOnThisThread(texts) : ready.Embedder.EmbedBatch(texts);
            // One transaction and one index catch-up for the whole batch.
            var written = VectorStore.WriteEmbedded(_database, pending, ready.Embedder.ModelId, vectors, UnixTime.ToMs(_options.Clock.GetUtcNow()));
            lock (_queueLock)
                foreach (var i in written)
                    if (queued.TryGetValue(pending[i].Seq, out var wake) && _stored.GetValueOrDefault(pending[i].Seq) == wake) _stored.Remove(pending[i].Seq);
            _indexes.Sync();
            // The merge rule's semantic part for rows stored write-behind, now that their vectors are in the index.
            _merge.Run(written.Select(i => pending[i]).ToList(), written.Select(i => vectors[i]).ToList(), ready.Embedder, ready.Index);
            return pending.Count;
        }
    }

    /// <summary>
    /// The worker's next batch: rows this process stored (their wake-ups into <paramref name="queued"/>), else (when
    /// due) others waiting since the last read.
    /// </summary>
    private List<PendingEmbedding> NextBatch(Dictionary<long, long> queued)
    {
        var batch = _options.EmbeddingBatchSize;
        lock (_queueLock)
            foreach (var (seq, wake) in _stored.Take(batch)) queued[seq] = wake;
        if (queued.Count > 0)
        {
            var rows = VectorStore.Pending(_database, batch, queued.Keys);
            // Those not returned were embedded by another instance meanwhile, or deleted; the others leave the queue
            // once written (a failed batch is tried again).
            var returned = rows.Select(r => r.Seq).ToHashSet();
            lock (_queueLock)
                foreach (var (seq, wake) in queued)
                    if (!returned.Contains(seq) && _stored.GetValueOrDefault(seq) == wake) _stored.Remove(seq);
            if (rows.Count > 0) return rows;
        }
        var now = DateTime.UtcNow;
        if (now < _nextOthersRead) return [];
        if (_othersHorizon < 0) _othersHorizon = VectorStore.LastSeq(_database);
        var others = VectorStore.Pending(_database, batch, upToSeq: _othersHorizon);
        if (others.Count < batch)
        {
            // The backlog up to the horizon is done: rows stored since wait one grace period for their own instance.
            _othersHorizon = VectorStore.LastSeq(_database);
            _nextOthersRead = now + _options.OtherInstancesGrace;
        }
        return others;
    }

    private void Loop(CancellationToken stopping)
    {
        // Access counts are flushed from the start; embedding begins once the encoder is ready (EmbedPending does
        // nothing before).
        var lastAccessFlush = DateTime.UtcNow;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                while (_options.BackgroundEmbedding && !stopping.IsCancellationRequested && EmbedPending(onThisThread: true) > 0) { }
                if (DateTime.UtcNow - lastAccessFlush >= _options.AccessFlushInterval)
                {
                    _access.Flush();
                    lastAccessFlush = DateTime.UtcNow;
                }
            }
            catch (Exception) when (!stopping.IsCancellationRequested)
            {
                // The encoder or the database failed this round; rows stay searchable by keywords, retry next round.
            }
            var wait = _options.EmbeddingInterval > TimeSpan.Zero && _options.EmbeddingInterval < _options.AccessFlushInterval
                ? _options.EmbeddingInterval : _options.AccessFlushInterval;
            if (wait <= TimeSpan.Zero) wait = TimeSpan.FromSeconds(1);
            if (!_indexes.Vectors.Loading.IsCompleted)
            {
                // Nothing to embed yet: sleep until the encoder is ready (then embed at once) or the next flush is due.
                try { _indexes.Vectors.Loading.Wait(wait, stopping); }
                catch (OperationCanceledException) { break; }
                catch (AggregateException) { /* the encoder failed to load: nothing to embed, flush counts */ }
                continue;
            }
            try
            {
                // Woken by a store: wait a moment so that a burst of stores shares one batch (one transaction, one catch-up).
                if (_signal.Wait(wait, stopping) && _options.EmbeddingBatchWindow > TimeSpan.Zero)
                    stopping.WaitHandle.WaitOne(_options.EmbeddingBatchWindow);
            }
            catch (OperationCanceledException) { break; }
        }
    }

    /// <summary>Stops the loop (waiting up to 10 s for a batch in flight) and writes the access counts gathered.</summary>
    public void Dispose()
    {
        _stopping.Cancel();
        _loop.Join(TimeSpan.FromSeconds(10));
        try { _access.Flush(); } catch (Exception) { /* best effort: counts are advisory */ }
    }
}
