
namespace McpMemory.Core.Indexes.Vectors;

/// <summary>One entry found by a scan: its seq and its approximate cosine to the query.</summary>
public readonly record struct VectorHit(long Seq, float Score);

/// <summary>
/// A flat index of int8-quantised vectors with the filter fields of each entry kept beside them (struct of
/// arrays), so a scan touches 1 byte per dimension and skips filtered entries without a lookup. Scores are
/// approximate (quantised, within ~0.002 of the exact cosine); vector-mode search re-ranks its candidates exactly from the stored vectors (HybridSearch). Thread-safe:
/// many concurrent searches, one writer at a time. Large scans are split across the cores.
/// </summary>
public sealed class QuantizedVectorIndex(int dimension)
{
    private const int ParallelThreshold = 32_768;

    private readonly ReaderWriterLockSlim _lock = new();
    private readonly Dictionary<long, int> _slotBySeq = [];
    private readonly EntryColumns _columns = new();
    private byte[] _codes = new byte[1024 * dimension];
    private float[] _scales = new float[1024];
    private int _count;

    public int Dimension { get; } = dimension;
    public int Count { get { _lock.EnterReadLock(); try { return _count; } finally { _lock.ExitReadLock(); } } }

    /// <summary>Bytes held by the index (codes + per-entry fields), for reporting.</summary>
    public long MemoryBytes => _codes.LongLength + (long)_scales.Length * (4 + 4 + EntryColumns.BytesPerSlot);

    public void Upsert(IndexEntry entry, ReadOnlySpan<float> vector)
    {
        if (vector.Length != Dimension)
            throw new ArgumentException($"vector has {vector.Length} dimensions; the index holds {Dimension}", nameof(vector));
        _lock.EnterWriteLock();
        try
        {
            if (!_slotBySeq.TryGetValue(entry.Seq, out var slot))
            {
                if (_count == _scales.Length)
                {
                    Array.Resize(ref _codes, _scales.Length * 2 * Dimension);
                    Array.Resize(ref _scales, _scales.Length * 2);
                }
                _columns.EnsureCapacity(_count + 1);
                slot = _count++;
                _slotBySeq[entry.Seq] = slot;
            }
            _scales[slot] = VectorCodec.Quantize(vector, _codes.AsSpan(slot * Dimension, Dimension));
            _columns.Set(slot, entry);
        }
        finally { _lock.ExitWriteLock(); }
    }

    public bool Remove(long seq)
    {
        _lock.EnterWriteLock();
        try
        {
            if (!_slotBySeq.Remove(seq, out var slot)) return false;
            var last = --_count;
            if (slot != last)
            {
                // Move the last entry into the hole so the arrays stay dense.
                _codes.AsSpan(last * Dimension, Dimension).CopyTo(_codes.AsSpan(slot * Dimension, Dimension));
                _scales[slot] = _scales[last];
                _columns.Move(last, slot);
                _slotBySeq[_columns.Seq(slot)] = slot;
            }
            else _columns.Clear(last);
            return true;
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>
    /// The quantised cosine of the unit-length query with each of <paramref name="seqs"/> that the index holds
    /// (within ~0.002 of the exact cosine: <c>QuantizedVectorIndexTests</c>).
    /// </summary>
    public Dictionary<long, double> Similarities(ReadOnlySpan<float> query, IEnumerable<long> seqs)
    {
        if (query.Length != Dimension)
            throw new ArgumentException($"query has {query.Length} dimensions; the index holds {Dimension}", nameof(query));
        var queryCodes = new sbyte[Dimension];
        var queryScale = VectorCodec.QuantizeQuery(query, queryCodes, out var queryCodeSum);
        var similarities = new Dictionary<long, double>();
        _lock.EnterReadLock();
        try
        {
            foreach (var seq in seqs)
                if (_slotBySeq.TryGetValue(seq, out var slot))
                    similarities[seq] = VectorCodec.DotInt8(_codes.AsSpan(slot * Dimension, Dimension), queryCodes, queryCodeSum) * _scales[slot] * queryScale;
        }
        finally { _lock.ExitReadLock(); }
        return similarities;
    }

    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, IndexFilter filter)
    {
        if (query.Length != Dimension)
            throw new ArgumentException($"query has {query.Length} dimensions; the index holds {Dimension}", nameof(query));
        var queryCodes = new sbyte[Dimension];
        var queryScale = VectorCodec.QuantizeQuery(query, queryCodes, out var queryCodeSum);

        _lock.EnterReadLock();
        try
        {
            var compiled = _columns.Compile(filter);
            if (compiled is null || _count == 0) return [];
            var partitions = _count >= ParallelThreshold ? Environment.ProcessorCount : 1;
            var tops = new TopK[partitions];
            var chunk = (_count + partitions - 1) / partitions;
            if (partitions == 1) ScanPart(0);
            else Parallel.For(0, partitions, ScanPart);
            return TopK.Merge(tops, k);

            void ScanPart(int part)
            {
                // Locals, not the closure's fields, in the loop: the JIT keeps them in registers.
                var top = new TopK(k);
                ReadOnlySpan<byte> codes = _codes.AsSpan(0, _count * Dimension);
                var (accepts, scales, dimension, q, qSum, qScale) = (compiled, _scales, Dimension, queryCodes, queryCodeSum, queryScale);
                for (int slot = part * chunk, end = Math.Min(_count, slot + chunk); slot < end; slot++)
                {
                    if (!accepts.Accepts(slot)) continue;
                    var score = VectorCodec.DotInt8(codes.Slice(slot * dimension, dimension), q, qSum) * scales[slot] * qScale;
                    if (score > top.Threshold) top.Add(_columns.Seq(slot), score); // most slots stop at the threshold
                }
                tops[part] = top;
            }
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>The k best (seq, score) seen so far: a min-heap whose root is the worst kept.</summary>
    private sealed class TopK(int k)
    {
        private readonly PriorityQueue<long, float> _heap = new(k + 1);

        /// <summary>What a score must beat to be kept: −∞ until the heap is full, then its root's score. Most slots of a
        /// scan fall below it, so the scan tests it before reading the slot's seq.</summary>
        public float Threshold { get; private set; } = float.NegativeInfinity;

        /// <summary>Keeps a score above <see cref="Threshold"/>.</summary>
        public void Add(long seq, float score)
        {
            if (_heap.Count < k)
            {
                _heap.Enqueue(seq, score);
                if (_heap.Count == k && _heap.TryPeek(out _, out var root)) Threshold = root;
            }
            else
            {
                _heap.EnqueueDequeue(seq, score);
                _heap.TryPeek(out _, out var root);
                Threshold = root;
            }
        }

        public static IReadOnlyList<VectorHit> Merge(TopK[] parts, int k)
        {
            var all = new List<VectorHit>();
            foreach (var part in parts)
                while (part._heap.TryDequeue(out var seq, out var score)) all.Add(new VectorHit(seq, score));
            all.Sort((a, b) => b.Score.CompareTo(a.Score));
            return all.Count > k ? all.GetRange(0, k) : all;
        }
    }
}
