namespace McpMemory.Core.Vectors;

/// <summary>
/// A flat index of int8-quantised vectors with the filter fields of each entry kept beside them (struct of
/// arrays), so a scan touches 1 byte per dimension and skips filtered entries without a lookup. Scores are
/// approximate (quantised); callers re-rank the best candidates exactly (see Search.VectorSearch). Thread-safe:
/// many concurrent searches, one writer at a time. Large scans are split across the cores.
/// </summary>
public sealed class QuantizedVectorIndex(int dimension) : IVectorIndex
{
    private const int ParallelThreshold = 32_768;

    private readonly ReaderWriterLockSlim _lock = new();
    private readonly Dictionary<long, int> _slotBySeq = [];
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal); // interned namespaces, types, sessions, tags
    private byte[] _codes = new byte[1024 * dimension];
    private float[] _scales = new float[1024];
    private long[] _seqs = new long[1024];
    private int[] _namespace = new int[1024];
    private int[] _type = new int[1024];
    private int[] _session = new int[1024];
    private float[] _importance = new float[1024];
    private long[] _created = new long[1024];
    private long[] _expires = new long[1024];
    private int[]?[] _tags = new int[]?[1024];
    private int _count;

    public int Dimension { get; } = dimension;
    public int Count { get { _lock.EnterReadLock(); try { return _count; } finally { _lock.ExitReadLock(); } } }

    /// <summary>Bytes held by the index (codes + per-entry fields), for reporting.</summary>
    public long MemoryBytes => _codes.LongLength + (long)_seqs.Length * (4 + 8 + 4 + 4 + 4 + 4 + 8 + 8 + 8);

    public void Upsert(VectorEntry entry, ReadOnlySpan<float> vector)
    {
        if (vector.Length != Dimension)
            throw new ArgumentException($"vector has {vector.Length} dimensions; the index holds {Dimension}", nameof(vector));
        _lock.EnterWriteLock();
        try
        {
            if (!_slotBySeq.TryGetValue(entry.Seq, out var slot))
            {
                if (_count == _seqs.Length) Grow();
                slot = _count++;
                _slotBySeq[entry.Seq] = slot;
            }
            _scales[slot] = VectorCodec.Quantize(vector, _codes.AsSpan(slot * Dimension, Dimension));
            _seqs[slot] = entry.Seq;
            _namespace[slot] = Intern(entry.Namespace);
            _type[slot] = Intern(entry.MemoryType);
            _session[slot] = entry.SessionId is null ? -1 : Intern(entry.SessionId);
            _importance[slot] = (float)entry.Importance;
            _created[slot] = entry.CreatedAt;
            _expires[slot] = entry.ExpiresAt ?? long.MaxValue;
            _tags[slot] = entry.Tags.Count == 0 ? null : entry.Tags.Select(Intern).ToArray();
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
                _scales[slot] = _scales[last]; _seqs[slot] = _seqs[last]; _namespace[slot] = _namespace[last];
                _type[slot] = _type[last]; _session[slot] = _session[last]; _importance[slot] = _importance[last];
                _created[slot] = _created[last]; _expires[slot] = _expires[last]; _tags[slot] = _tags[last];
                _slotBySeq[_seqs[slot]] = slot;
            }
            _tags[last] = null;
            return true;
        }
        finally { _lock.ExitWriteLock(); }
    }

    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, VectorFilter filter)
    {
        if (query.Length != Dimension)
            throw new ArgumentException($"query has {query.Length} dimensions; the index holds {Dimension}", nameof(query));
        var queryCodes = new sbyte[Dimension];
        var queryScale = VectorCodec.QuantizeQuery(query, queryCodes, out var queryCodeSum);

        _lock.EnterReadLock();
        try
        {
            var compiled = Compile(filter);
            if (compiled is null || _count == 0) return [];
            var partitions = _count >= ParallelThreshold ? Environment.ProcessorCount : 1;
            var tops = new TopK[partitions];
            var chunk = (_count + partitions - 1) / partitions;
            Parallel.For(0, partitions, p =>
            {
                var top = new TopK(k);
                var end = Math.Min(_count, (p + 1) * chunk);
                for (var slot = p * chunk; slot < end; slot++)
                {
                    if (!compiled.Accepts(this, slot)) continue;
                    var dot = VectorCodec.DotInt8(_codes.AsSpan(slot * Dimension, Dimension), queryCodes, queryCodeSum);
                    top.Offer(_seqs[slot], dot * _scales[slot] * queryScale);
                }
                tops[p] = top;
            });
            return TopK.Merge(tops, k);
        }
        finally { _lock.ExitReadLock(); }
    }

    private int Intern(string value)
    {
        if (!_ids.TryGetValue(value, out var id)) _ids[value] = id = _ids.Count;
        return id;
    }

    private void Grow()
    {
        var capacity = _seqs.Length * 2;
        Array.Resize(ref _codes, capacity * Dimension);
        Array.Resize(ref _scales, capacity); Array.Resize(ref _seqs, capacity); Array.Resize(ref _namespace, capacity);
        Array.Resize(ref _type, capacity); Array.Resize(ref _session, capacity); Array.Resize(ref _importance, capacity);
        Array.Resize(ref _created, capacity); Array.Resize(ref _expires, capacity); Array.Resize(ref _tags, capacity);
    }

    /// <summary>The filter with its strings turned into interned ids; null when nothing can match.</summary>
    private CompiledFilter? Compile(VectorFilter filter)
    {
        var namespaces = new HashSet<int>();
        foreach (var ns in filter.Namespaces)
            if (_ids.TryGetValue(ns, out var id)) namespaces.Add(id);
        if (namespaces.Count == 0) return null;
        var type = -1;
        if (filter.MemoryType is not null && !_ids.TryGetValue(filter.MemoryType, out type)) return null;
        var session = -1;
        if (filter.SessionId is not null && !_ids.TryGetValue(filter.SessionId, out session)) return null;
        var tags = new int[filter.Tags.Count];
        for (var i = 0; i < tags.Length; i++)
            if (!_ids.TryGetValue(filter.Tags[i], out tags[i])) return null;
        var allowed = new bool[_ids.Count];
        foreach (var id in namespaces) allowed[id] = true;
        return new CompiledFilter(allowed, type, session, (float)filter.MinImportance, filter.Since ?? long.MinValue,
            filter.Until ?? long.MaxValue, filter.Now, tags);
    }

    private sealed record CompiledFilter(bool[] Namespaces, int Type, int Session, float MinImportance, long Since, long Until, long Now, int[] Tags)
    {
        public bool Accepts(QuantizedVectorIndex index, int slot)
        {
            if (!Namespaces[index._namespace[slot]]) return false;
            if (Type >= 0 && index._type[slot] != Type) return false;
            if (Session >= 0 && index._session[slot] != Session) return false;
            if (index._importance[slot] < MinImportance) return false;
            var created = index._created[slot];
            if (created < Since || created >= Until || index._expires[slot] <= Now) return false;
            if (Tags.Length > 0)
            {
                var have = index._tags[slot];
                if (have is null) return false;
                foreach (var tag in Tags) if (Array.IndexOf(have, tag) < 0) return false;
            }
            return true;
        }
    }

    /// <summary>The k best (seq, score) seen so far: a min-heap whose root is the worst kept.</summary>
    private sealed class TopK(int k)
    {
        private readonly PriorityQueue<long, float> _heap = new(k + 1);

        public void Offer(long seq, float score)
        {
            if (_heap.Count < k) _heap.Enqueue(seq, score);
            else if (_heap.TryPeek(out _, out var worst) && score > worst) _heap.EnqueueDequeue(seq, score);
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
