using System.Text.Json;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Core.Storage;

namespace McpMemory.Core;

/// <summary>
/// The engine's front door, used alike by the MCP tools, the CLI and library callers: validate → store or
/// search → shape the answer. Thread-safe. Every error a caller can cause is a <see cref="MemoryException"/>
/// whose message names the field and the limit; nothing is half-written.
/// </summary>
public sealed class MemoryService : IDisposable
{
    private readonly MemoryStore _store;
    private readonly AgentStateStore _state;
    private readonly MemorySearch _search;
    private readonly TimeProvider _clock;

    public MemoryDatabase Database { get; }
    public MemoryValidator Validate { get; }

    public MemoryService(MemoryDatabase database, MemoryLimits? limits = null, TimeProvider? clock = null)
    {
        Database = database;
        Validate = new MemoryValidator(limits ?? MemoryLimits.Default);
        _clock = clock ?? TimeProvider.System;
        _store = new MemoryStore(database);
        _state = new AgentStateStore(database);
        _search = new MemorySearch(database);
    }

    /// <summary>Opens the database file at <paramref name="path"/> (creating and migrating it as needed).</summary>
    public static MemoryService Open(string path, MemoryLimits? limits = null, TimeProvider? clock = null) =>
        new(MemoryDatabase.Open(path), limits, clock);

    private long Now => UnixTime.ToMs(_clock.GetUtcNow());

    public StoreResult Store(Caller caller, NewMemory memory) => StoreMany(caller, [memory])[0];

    /// <summary>Stores many memories in one transaction: all are written, or (on any invalid item) none.</summary>
    public IReadOnlyList<StoreResult> StoreMany(Caller caller, IReadOnlyList<NewMemory> memories)
    {
        var now = Now;
        var rows = new List<MemoryRow>(memories.Count);
        for (var i = 0; i < memories.Count; i++)
        {
            try { rows.Add(ToRow(caller, memories[i], now)); }
            catch (MemoryValidationException e) when (memories.Count > 1)
            {
                throw new MemoryValidationException($"[{i}].{e.Field}", e.Message[(e.Field.Length + 2)..]);
            }
        }
        _store.Insert(rows, now);
        return rows.Select(r => new StoreResult(r.Id, StoreResult.Stored, HasEmbedding: false)).ToList();
    }

    private MemoryRow ToRow(Caller caller, NewMemory m, long now)
    {
        var ns = m.Namespace is null ? caller.DefaultNamespace : Namespaces.Validate(m.Namespace);
        if (!caller.CanWrite(ns))
            throw new MemoryValidationException("namespace", $"this caller may not write to \"{ns}\"");
        var created = m.CreatedAt is { } c ? UnixTime.ToMs(c) : now;
        long? expires = m.ExpiresAt is { } e ? UnixTime.ToMs(e) : null;
        if (expires is not null && expires <= now)
            throw new MemoryValidationException("expires_at", $"{m.ExpiresAt:O} is not in the future");
        return new MemoryRow(
            Id: Guid.NewGuid(),
            Namespace: ns,
            AgentId: Validate.AgentId(m.AgentId) ?? caller.AgentId,
            SessionId: Validate.SessionId(m.SessionId),
            MemoryType: Validate.MemoryType(m.MemoryType),
            Content: Validate.Content(m.Content),
            Metadata: Validate.Metadata(m.MetadataJson),
            Tags: Validate.Tags(m.Tags),
            Importance: Validate.Importance(m.Importance),
            CreatedAt: created,
            UpdatedAt: Math.Max(created, now),
            ExpiresAt: expires,
            Source: Validate.Source(m.Source));
    }

    /// <summary>The memory with this id, if it exists, has not expired, and the caller may read its namespace.</summary>
    public Memory Get(Caller caller, Guid id)
    {
        var memory = _store.Get(id, Now);
        if (memory is null || !caller.CanRead(memory.Namespace))
            throw new MemoryNotFoundException($"memory_id: no memory with id {id}");
        return memory;
    }

    /// <summary>
    /// Deletes the memory: its row, FTS entry and vector, in one transaction. Returns what was deleted. A memory the
    /// caller cannot see is "not found"; one it can see but not write (a read-only key) is refused, naming the namespace.
    /// </summary>
    public Memory Delete(Caller caller, Guid id) =>
        _store.Delete(id, Now, m => caller.CanWrite(m.Namespace) || (caller.CanRead(m.Namespace)
            ? throw new MemoryValidationException("memory_id", $"this caller may not delete from \"{m.Namespace}\" (read-only access)")
            : false))
        ?? throw new MemoryNotFoundException($"memory_id: no memory with id {id} (nothing was deleted)");

    public SearchResponse Search(Caller caller, SearchRequest request)
    {
        var query = Validate.Query(request.Query);
        var topK = Validate.TopK(request.TopK);
        return _search.Search(query, topK, Filter(caller, request));
    }

    private SearchFilter Filter(Caller caller, SearchRequest request)
    {
        var namespaces = Validate.NamespaceList(request.Namespaces) ?? caller.DefaultSearchNamespaces();
        foreach (var ns in namespaces)
            if (!caller.CanRead(ns))
                throw new MemoryValidationException("namespaces", $"this caller may not read \"{ns}\"");
        if (request.MinImportance is { } min && (double.IsNaN(min) || min < 0 || min > 1))
            throw new MemoryValidationException("min_importance", $"must be between 0 and 1 (got {min})");
        if (request.Since is { } since && request.Until is { } until && since >= until)
            throw new MemoryValidationException("since", $"{since:O} is not before until {until:O}");
        return new SearchFilter(
            Namespaces: namespaces,
            MemoryType: request.MemoryType is null ? null : Validate.MemoryType(request.MemoryType),
            Tags: Validate.Tags(request.Tags),
            MinImportance: request.MinImportance ?? 0,
            SessionId: Validate.SessionId(request.SessionId),
            Since: UnixTime.ToMs(request.Since),
            Until: UnixTime.ToMs(request.Until),
            Now: Now);
    }

    public AgentState GetState(Caller caller, string key, string? ns = null)
    {
        var (space, validKey) = StateScope(caller, key, ns, write: false);
        return _state.Get(space, caller.AgentId, validKey)
               ?? throw new MemoryNotFoundException($"key: no state \"{validKey}\" in {space} for agent {caller.AgentId}");
    }

    public AgentState SetState(Caller caller, string key, JsonElement value, long? expectedVersion, string? ns = null)
    {
        var (space, validKey) = StateScope(caller, key, ns, write: true);
        if (expectedVersion is < 0)
            throw new MemoryValidationException("expected_version", $"must be 0 (key must not exist) or a positive version (got {expectedVersion})");
        return _state.Set(space, caller.AgentId, validKey, Validate.StateValue(value), expectedVersion, Now);
    }

    private (string Namespace, string Key) StateScope(Caller caller, string key, string? ns, bool write)
    {
        var space = ns is null ? caller.DefaultNamespace : Namespaces.Validate(ns);
        if (write ? !caller.CanWrite(space) : !caller.CanRead(space))
            throw new MemoryValidationException("namespace", $"this caller may not {(write ? "write" : "read")} \"{space}\"");
        return (space, Validate.StateKey(key));
    }

    public StoreStats Stats() => _store.Stats(Now);

    public void Dispose() => Database.Dispose();
}
