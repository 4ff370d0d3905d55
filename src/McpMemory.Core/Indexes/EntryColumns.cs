using System.Runtime.CompilerServices;

namespace McpMemory.Core.Indexes;

/// <summary>
/// The filter fields of an index's entries, one array per field indexed by slot (struct of arrays), with strings
/// interned to ids so a filter test is a few array reads. Not thread-safe: the owning index locks.
/// </summary>
internal sealed class EntryColumns
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal); // namespaces, types, sessions, tags
    private long[] _seqs = new long[1024];
    private int[] _state = new int[1024]; // namespace id · 4 + superseded · 2 + archived: one read tests all three
    private int[] _type = new int[1024];
    private int[] _session = new int[1024];
    private double[] _importance = new double[1024];
    private long[] _created = new long[1024];
    private long[] _expires = new long[1024];
    private int[]?[] _tags = new int[]?[1024];

    public int Capacity => _seqs.Length;

    /// <summary>Bytes per slot held by the columns, for reporting.</summary>
    public const int BytesPerSlot = 8 + 4 + 4 + 4 + 8 + 8 + 8 + 8;

    public long Seq(int slot) => _seqs[slot];
    public long CreatedAt(int slot) => _created[slot];
    public double Importance(int slot) => _importance[slot];

    public void EnsureCapacity(int slots)
    {
        if (slots <= _seqs.Length) return;
        var capacity = Math.Max(slots, _seqs.Length * 2);
        Array.Resize(ref _seqs, capacity); Array.Resize(ref _state, capacity); Array.Resize(ref _type, capacity);
        Array.Resize(ref _session, capacity); Array.Resize(ref _importance, capacity); Array.Resize(ref _created, capacity);
        Array.Resize(ref _expires, capacity); Array.Resize(ref _tags, capacity);
    }

    public void Set(int slot, IndexEntry entry)
    {
        _seqs[slot] = entry.Seq;
        _state[slot] = Intern(entry.Namespace) * 4 + (entry.Superseded ? 2 : 0) + (entry.Archived ? 1 : 0);
        _type[slot] = Intern(entry.MemoryType);
        _session[slot] = entry.SessionId is null ? -1 : Intern(entry.SessionId);
        _importance[slot] = entry.Importance;
        _created[slot] = entry.CreatedAt;
        _expires[slot] = entry.ExpiresAt ?? long.MaxValue;
        _tags[slot] = entry.Tags.Count == 0 ? null : entry.Tags.Select(Intern).ToArray();
    }

    public void Move(int from, int to)
    {
        _seqs[to] = _seqs[from]; _state[to] = _state[from]; _type[to] = _type[from]; _session[to] = _session[from];
        _importance[to] = _importance[from]; _created[to] = _created[from]; _expires[to] = _expires[from]; _tags[to] = _tags[from];
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
        // Which states (namespace, superseded, archived) pass: one lookup by the slot's state.
        var states = new bool[_ids.Count * 4];
        var any = false;
        foreach (var ns in filter.Namespaces)
            if (_ids.TryGetValue(ns, out var id))
            {
                any = true;
                for (var flags = 0; flags < 4; flags++)
                    states[id * 4 + flags] = (filter.IncludeSuperseded || (flags & 2) == 0) && (filter.IncludeArchived || (flags & 1) == 0);
            }
        if (!any) return null;
        var type = -1;
        if (filter.MemoryType is not null && !_ids.TryGetValue(filter.MemoryType, out type)) return null;
        var session = -1;
        if (filter.SessionId is not null && !_ids.TryGetValue(filter.SessionId, out session)) return null;
        var tags = new int[filter.Tags.Count];
        for (var i = 0; i < tags.Length; i++)
            if (!_ids.TryGetValue(filter.Tags[i], out tags[i])) return null;
        return new Filter(this, states, type, session, filter.MinImportance, filter.Since ?? long.MinValue,
            filter.Until ?? long.MaxValue, filter.Now, tags);
    }

    public sealed class Filter(EntryColumns columns, bool[] states, int type, int session, double minImportance, long since, long until, long now, int[] tags)
    {
        /// <summary>Inlined into the scans' loops; the rare tag test stays out of line.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Accepts(int slot)
        {
            if (!states[columns._state[slot]]) return false;
            if (type >= 0 && columns._type[slot] != type) return false;
            if (session >= 0 && columns._session[slot] != session) return false;
            if (columns._importance[slot] < minImportance) return false;
            var created = columns._created[slot];
            if (created < since || created >= until || columns._expires[slot] <= now) return false;
            return tags.Length == 0 || HasTags(slot);
        }

        private bool HasTags(int slot)
        {
            var have = columns._tags[slot];
            if (have is null) return false;
            foreach (var tag in tags) if (Array.IndexOf(have, tag) < 0) return false;
            return true;
        }
    }
}
