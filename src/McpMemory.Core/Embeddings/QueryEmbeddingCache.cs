namespace McpMemory.Core.Embeddings;

/// <summary>
/// The vectors of the most recent search queries, least recently used first out. Agents repeat their queries (the same
/// question at the start of each session, a search retried with another filter), and a query's embedding costs
/// milliseconds of encoder time while a hit costs a dictionary lookup. Entries are keyed by the encoder's model id as
/// well as the text, so a change of encoder never serves a vector from another space. Thread-safe.
/// </summary>
public sealed class QueryEmbeddingCache(int capacity = QueryEmbeddingCache.DefaultCapacity)
{
    /// <summary>1,024 queries: 1.5 MB of 384-d vectors (2 MB at 512-d).</summary>
    public const int DefaultCapacity = 1024;

    private readonly int _capacity = capacity >= 1 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "capacity: must be at least 1");

    private readonly Dictionary<(string Model, string Query), LinkedListNode<Entry>> _entries = new(capacity >= 1 ? capacity : 1);
    private readonly LinkedList<Entry> _recency = new(); // most recently used first
    private readonly Lock _lock = new();

    private sealed record Entry((string Model, string Query) Key, float[] Vector);

    public long Hits { get; private set; }
    public long Misses { get; private set; }

    public int Count { get { lock (_lock) return _entries.Count; } }

    /// <summary>
    /// The query's vector from <paramref name="embedder"/>, embedded once and then served from the cache. The array
    /// is shared between callers: read it, never write to it.
    /// </summary>
    public float[] EmbedQuery(IEmbedder embedder, string query)
    {
        var key = (embedder.ModelId, query);
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                Hits++;
                return node.Value.Vector;
            }
            Misses++;
        }
        // Embedded outside the lock: concurrent misses run in parallel (the same query twice at once is embedded twice).
        var vector = embedder.EmbedQuery(query);
        lock (_lock)
        {
            if (_entries.ContainsKey(key)) return vector;
            _entries[key] = _recency.AddFirst(new Entry(key, vector));
            if (_entries.Count > _capacity)
            {
                var last = _recency.Last!;
                _recency.RemoveLast();
                _entries.Remove(last.Value.Key);
            }
        }
        return vector;
    }
}
