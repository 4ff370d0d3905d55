namespace McpMemory.Core.Indexes;

/// <summary>
/// The filter fields of an index's entries, one array per field indexed by slot (struct of arrays), with strings
/// interned to ids so a filter test is a few array reads. Not thread-safe: the owning index locks.
/// </summary>
internal sealed class EntryColumns
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal); // namespaces, types, sessions, tags
    private long[] _seqs = new long[1024];
    private int[] _namespace = new int[1024];
    private int[] _type = new int[1024];
    private int[] _session = new int[1024];
    private double[] _importance = new double[1024];
    private long[] _created = new long[1024];
    private long[] _expires = new long[1024];
    private int[]?[] _tags = new int[]?[1024];
    private bool[] _superseded = new bool[1024];
    private bool[] _archived = new bool[1024];

    public int Capacity => _seqs.Length;

    /// <summary>Bytes per slot held by the columns, for reporting.</summary>
    public const int BytesPerSlot = 8 + 4 + 4 + 4 + 8 + 8 + 8 + 8 + 1 + 1;

    public long Seq(int slot) => _seqs[slot];
    public long CreatedAt(int slot) => _created[slot];
    public double Importance(int slot) => _importance[slot];

    public void EnsureCapacity(int slots)
    {
        if (slots <= _seqs.Length) return;
        var capacity = Math.Max(slots, _seqs.Length * 2);
        Array.Resize(ref _seqs, capacity); Array.Resize(ref _namespace, capacity); Array.Resize(ref _type, capacity);
        Array.Resize(ref _session, capacity); Array.Resize(ref _importance, capacity); Array.Resize(ref _created, capacity);
        Array.Resize(ref _expires, capacity); Array.Resize(ref _tags, capacity); Array.Resize(ref _superseded, capacity);
        Array.Resize(ref _archived, capacity);
    }

    public void Set(int slot, IndexEntry entry)
    {
        _seqs[slot] = entry.Seq;
        _namespace[slot] = Intern(entry.Namespace);
        _type[slot] = Intern(entry.MemoryType);
        _session[slot] = entry.SessionId is null ? -1 : Intern(entry.SessionId);
        _importance[slot] = entry.Importance;
        _created[slot] = entry.CreatedAt;
        _expires[slot] = entry.ExpiresAt ?? long.MaxValue;
        _tags[slot] = entry.Tags.Count == 0 ? null : entry.Tags.Select(Intern).ToArray();
        _superseded[slot] = entry.Superseded;
        _archived[slot] = entry.Archived;
    }

    public void Move(int from, int to)
    {
        _seqs[to] = _seqs[from]; _namespace[to] = _namespace[from]; _type[to] = _type[from]; _session[to] = _session[from];
        _importance[to] = _importance[from]; _created[to] = _created[from]; _expires[to] = _expires[from]; _tags[to] = _tags[from];
        _superseded[to] = _superseded[from];
        _archived[to] = _archived[from];
        _tags[from] = null;
    }

    public void Clear(int slot) => _tags[slot] = null;

    private int Intern(string value)
    {
        if (!_ids.TryGetValue(value, out var id)) _ids[value] = id = _ids.Count;
        return id;
    }

    /// <summary>The filter with its strings turned into interned ids; null when nothing can match.</summary>
    public Filter? Compile(IndexFilter filter)
    {
        var namespaces = new bool[_ids.Count];
        var any = false;
        foreach (var ns in filter.Namespaces)
            if (_ids.TryGetValue(ns, out var id)) any = namespaces[id] = true;
        if (!any) return null;
        var type = -1;
        if (filter.MemoryType is not null && !_ids.TryGetValue(filter.MemoryType, out type)) return null;
        var session = -1;
        if (filter.SessionId is not null && !_ids.TryGetValue(filter.SessionId, out session)) return null;
        var tags = new int[filter.Tags.Count];
        for (var i = 0; i < tags.Length; i++)
            if (!_ids.TryGetValue(filter.Tags[i], out tags[i])) return null;
        return new Filter(this, namespaces, type, session, filter.MinImportance, filter.Since ?? long.MinValue,
            filter.Until ?? long.MaxValue, filter.Now, tags, filter.IncludeSuperseded, filter.IncludeArchived);
    }

    public sealed class Filter(EntryColumns columns, bool[] namespaces, int type, int session, double minImportance, long since, long until, long now, int[] tags, bool includeSuperseded, bool includeArchived)
    {
        public bool Accepts(int slot)
        {
            if (!includeSuperseded && columns._superseded[slot]) return false;
            if (!includeArchived && columns._archived[slot]) return false;
            if (!namespaces[columns._namespace[slot]]) return false;
            if (type >= 0 && columns._type[slot] != type) return false;
            if (session >= 0 && columns._session[slot] != session) return false;
            if (columns._importance[slot] < minImportance) return false;
            var created = columns._created[slot];
            if (created < since || created >= until || columns._expires[slot] <= now) return false;
            if (tags.Length > 0)
            {
                var have = columns._tags[slot];
                if (have is null) return false;
                foreach (var tag in tags) if (Array.IndexOf(have, tag) < 0) return false;
            }
            return true;
        }
    }
}
