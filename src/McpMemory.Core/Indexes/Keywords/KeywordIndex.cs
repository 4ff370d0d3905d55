namespace McpMemory.Core.Indexes.Keywords;

/// <summary>
/// An in-memory inverted index over the same terms as the FTS5 table (content and tags, <see cref="Unicode61"/>
/// words, <see cref="PorterStemmer"/> stems), ranking by the same BM25 as FTS5's <c>bm25(memories_fts, 1.0, 2.0)</c>:
/// k1 = 1.2, b = 0.75, IDF = ln((N − n + 0.5) / (n + 0.5)) floored at 1e-6, tags counted twice, document length
/// over both columns; k1 and b are parameters (FTS5 fixes <see cref="Fts5K1"/> and <see cref="Fts5B"/>, and with
/// those the scores equal FTS5's, as the tests check). FTS5 computes BM25 for every match in SQL; here a query touches only its terms' postings,
/// with the filters applied to each match. Thread-safe: many concurrent searches, one writer at a time.
/// </summary>
public sealed class KeywordIndex(double k1 = KeywordIndex.Fts5K1, double b = KeywordIndex.Fts5B)
{
    /// <summary>The BM25 parameters built into FTS5's bm25().</summary>
    public const double Fts5K1 = 1.2, Fts5B = 0.75;
    private const int TagWeight = 2; // bm25 column weight of tags (content: 1)

    private readonly ReaderWriterLockSlim _lock = new();
    private readonly EntryColumns _columns = new();
    private readonly Dictionary<long, int> _slotBySeq = [];
    private readonly Stack<int> _freeSlots = new();
    private readonly Dictionary<string, int> _termIds = new(StringComparer.Ordinal);
    private readonly List<Postings> _postings = [];
    private int[] _length = new int[1024];
    private int[]?[] _terms = new int[]?[1024];
    private long[] _accessCount = new long[1024];
    private long[] _netFeedback = new long[1024];
    private int _slots;
    private long _totalLength;

    public int Count { get { _lock.EnterReadLock(); try { return _slotBySeq.Count; } finally { _lock.ExitReadLock(); } } }

    /// <summary>The search terms of a query: its words as FTS5 sees them (see <see cref="FtsQuery.Terms"/>), stemmed.</summary>
    public static List<string> QueryTerms(string query) => [.. FtsQuery.Terms(query).Select(PorterStemmer.Stem)];

    /// <summary>
    /// Adds a memory, or replaces what the index held for it. Its access count and net feedback (useful − wrong)
    /// travel with it for ranking; null keeps what the index had (0 for a new memory).
    /// </summary>
    public void Upsert(IndexEntry entry, string content, long? accessCount = null, long? netFeedback = null)
    {
        // Term frequencies weighted as bm25's column weights: content 1, tags 2. Tokenised outside the lock.
        var words = Unicode61.Words(content);
        var contentWords = words.Count;
        foreach (var tag in entry.Tags) Unicode61.Words(tag, words);
        var frequency = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < words.Count; i++)
        {
            var term = PorterStemmer.Stem(words[i]);
            frequency[term] = frequency.GetValueOrDefault(term) + (i < contentWords ? 1 : TagWeight);
        }

        _lock.EnterWriteLock();
        try
        {
            long access = 0, feedback = 0;
            if (_slotBySeq.TryGetValue(entry.Seq, out var old)) (access, feedback) = (_accessCount[old], _netFeedback[old]);
            RemoveLocked(entry.Seq);
            var slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : _slots++;
            if (slot >= _length.Length)
            {
                var capacity = _length.Length * 2;
                Array.Resize(ref _length, capacity);
                Array.Resize(ref _terms, capacity);
                Array.Resize(ref _accessCount, capacity);
                Array.Resize(ref _netFeedback, capacity);
            }
            _accessCount[slot] = accessCount ?? access;
            _netFeedback[slot] = netFeedback ?? feedback;
            _columns.EnsureCapacity(slot + 1);
            _columns.Set(slot, entry);
            _slotBySeq[entry.Seq] = slot;
            _length[slot] = words.Count;
            _totalLength += words.Count;
            var terms = new int[frequency.Count];
            var t = 0;
            foreach (var (term, count) in frequency)
            {
                if (!_termIds.TryGetValue(term, out var id))
                {
                    _termIds[term] = id = _postings.Count;
                    _postings.Add(new Postings());
                }
                _postings[id].Add(slot, (ushort)Math.Min(count, ushort.MaxValue));
                terms[t++] = id;
            }
            _terms[slot] = terms;
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>Adds this process's newly written access counts.</summary>
    public void AddAccess(IEnumerable<KeyValuePair<long, int>> counts)
    {
        _lock.EnterWriteLock();
        try
        {
            foreach (var (seq, count) in counts)
                if (_slotBySeq.TryGetValue(seq, out var slot)) _accessCount[slot] += count;
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>What ranking needs of each of <paramref name="seqs"/> that the index holds.</summary>
    internal Dictionary<long, CandidateRow> Ranking(IReadOnlyList<long> seqs)
    {
        var rows = new Dictionary<long, CandidateRow>(seqs.Count);
        _lock.EnterReadLock();
        try
        {
            foreach (var seq in seqs)
                if (_slotBySeq.TryGetValue(seq, out var slot))
                    rows[seq] = new CandidateRow(seq, _columns.CreatedAt(slot), _accessCount[slot], _columns.Importance(slot), _netFeedback[slot], null);
        }
        finally { _lock.ExitReadLock(); }
        return rows;
    }

    public bool Remove(long seq)
    {
        _lock.EnterWriteLock();
        try { return RemoveLocked(seq); }
        finally { _lock.ExitWriteLock(); }
    }

    private bool RemoveLocked(long seq)
    {
        if (!_slotBySeq.Remove(seq, out var slot)) return false;
        foreach (var term in _terms[slot]!) _postings[term].Remove(slot);
        _totalLength -= _length[slot];
        _terms[slot] = null;
        _columns.Clear(slot);
        _freeSlots.Push(slot);
        return true;
    }

    /// <summary>
    /// The <paramref name="k"/> best (seq, BM25) of the memories that pass the filter and hold any of the
    /// (stemmed) <paramref name="terms"/>, best first. A term given twice counts twice, as in an FTS5 OR query.
    /// </summary>
    public List<(long Seq, double Score)> Search(IReadOnlyList<string> terms, int k, IndexFilter filter)
    {
        _lock.EnterReadLock();
        try
        {
            var documents = _slotBySeq.Count;
            if (documents == 0 || k <= 0 || _columns.Compile(filter) is not { } accepts) return [];
            var scratch = Scratch.Rent(_slots);
            var scores = scratch.Scores;
            var touched = scratch.Touched;
            var touchedCount = 0;
            // bm25's length normalisation k1·(1 − b + b·len/avgdl) = lengthBase + lengthScale·len
            var lengthBase = k1 * (1 - b);
            var lengthScale = k1 * b * documents / (double)Math.Max(1, _totalLength);
            foreach (var term in terms)
            {
                if (!_termIds.TryGetValue(term, out var id)) continue;
                var postings = _postings[id];
                if (postings.Count == 0) continue;
                var idf = Math.Log((documents - postings.Count + 0.5) / (postings.Count + 0.5));
                if (idf <= 0) idf = 1e-6;
                var slots = postings.Slots;
                var frequencies = postings.Frequencies;
                for (var i = 0; i < postings.Count; i++)
                {
                    var slot = slots[i];
                    double tf = frequencies[i];
                    if (scores[slot] == 0) touched[touchedCount++] = slot;
                    scores[slot] += idf * tf * (k1 + 1) / (tf + lengthBase + lengthScale * _length[slot]);
                }
            }
            var top = new PriorityQueue<int, double>(k + 1);
            var worst = double.NegativeInfinity; // the root's score once the heap is full
            for (var i = 0; i < touchedCount; i++)
            {
                var slot = touched[i];
                var score = scores[slot];
                scores[slot] = 0;
                if (top.Count == k && score <= worst) continue;
                if (!accepts.Accepts(slot)) continue;
                if (top.Count < k) top.Enqueue(slot, score);
                else top.EnqueueDequeue(slot, score);
                if (top.Count == k) top.TryPeek(out _, out worst);
            }
            Scratch.Return(scratch);
            var hits = new List<(long Seq, double Score)>(top.Count);
            while (top.TryDequeue(out var slot, out var score)) hits.Add((_columns.Seq(slot), score));
            hits.Reverse();
            return hits;
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>One term's postings: the slots holding it and its weighted frequency there, in no order.</summary>
    private sealed class Postings
    {
        public int[] Slots = new int[4];
        public ushort[] Frequencies = new ushort[4];
        public int Count;

        public void Add(int slot, ushort frequency)
        {
            if (Count == Slots.Length)
            {
                Array.Resize(ref Slots, Count * 2);
                Array.Resize(ref Frequencies, Count * 2);
            }
            Slots[Count] = slot;
            Frequencies[Count++] = frequency;
        }

        public void Remove(int slot)
        {
            var i = Array.IndexOf(Slots, slot, 0, Count);
            if (i < 0) return;
            Count--;
            Slots[i] = Slots[Count];
            Frequencies[i] = Frequencies[Count];
        }
    }

    /// <summary>
    /// A score accumulator (all zero between searches) and a list of touched slots, rented per search from a small
    /// pool so that a search allocates neither, and memory grows with concurrent searches, not with threads.
    /// </summary>
    private sealed class Scratch
    {
        private static readonly System.Collections.Concurrent.ConcurrentBag<Scratch> Pool = [];
        public double[] Scores = [];
        public int[] Touched = [];

        public static Scratch Rent(int slots)
        {
            if (!Pool.TryTake(out var scratch)) scratch = new Scratch();
            if (scratch.Scores.Length < slots)
            {
                scratch.Scores = new double[Math.Max(slots, scratch.Scores.Length * 2)];
                scratch.Touched = new int[scratch.Scores.Length];
            }
            return scratch;
        }

        public static void Return(Scratch scratch) => Pool.Add(scratch);
    }
}
