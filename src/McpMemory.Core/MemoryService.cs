using System.Text.Json;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Indexes;
using McpMemory.Core.Memories;
using McpMemory.Core.Portability;
using McpMemory.Core.Search;
using McpMemory.Core.Search.Time;
using McpMemory.Core.Storage;

namespace McpMemory.Core;

/// <summary>
/// The engine's front door, used alike by the MCP tools, the CLI and library callers. A store is validate → plan
/// (<see cref="StorePlanner"/>: merge only the same memory, see DuplicateRule) → write (Storage, one transaction) →
/// index (<see cref="MemoryIndexes"/>); a search is validate → <see cref="HybridSearch"/>. Thread-safe.
/// Every error a caller can cause is a <see cref="MemoryException"/> whose message names the field and the
/// limit; nothing is half-written. Background work (<see cref="EmbeddingWorker"/>) runs until disposal.
/// </summary>
public sealed class MemoryService : IDisposable
{
    private readonly MemoryStore _store;
    private readonly AgentStateStore _state;
    private readonly FeedbackStore _feedback;
    private readonly MemoryIndexes _indexes;
    private readonly StorePlanner _planner;
    private readonly HybridSearch _search;
    private readonly AccessTracker _access;
    private readonly EmbeddingWorker _worker;
    private readonly MemoryOptions _options;
    private readonly CallerRequests _requests;
    private readonly BrowseQueries _browse;
    private readonly IDisposable? _changes;
    private int _syncQueued;

    public MemoryDatabase Database { get; }

    /// <summary>Both in-memory indexes (tests watch where they stand in the event log).</summary>
    internal MemoryIndexes Indexes => _indexes;
    public MemoryValidator Validate { get; }
    public RankingOptions Ranking => _options.Ranking;

    public MemoryService(MemoryDatabase database, MemoryOptions? options = null, EmbedderProvider? embedder = null)
    {
        Database = database;
        _options = options ?? MemoryOptions.Default;
        Validate = new MemoryValidator(_options.Limits);
        _store = new MemoryStore(database);
        _requests = new CallerRequests(Validate, _store);
        _browse = new BrowseQueries(database);
        _state = new AgentStateStore(database);
        _feedback = new FeedbackStore(database);
        var sql = new MemorySearch(database);
        _indexes = new MemoryIndexes(new IndexSource(database), _options.KeywordIndex, _options.Ranking.Bm25K1, _options.Ranking.Bm25B, embedder);
        _planner = new StorePlanner(_indexes, sql, _options);
        _search = new HybridSearch(sql, _indexes, _options.Ranking);
        _access = new AccessTracker(database, _options.Clock, _indexes.AddAccess);
        _worker = new EmbeddingWorker(database, _indexes, _access, new DeferredMerge(_indexes, sql, _store, _options), _options);
        // A long-running service on a shared server follows other instances' writes as they commit (one-shot commands,
        // which have no background work, do not listen): the indexes are current before the next search asks.
        if (_options.EmbeddingInterval > TimeSpan.Zero) _changes = database.WatchChanges(QueueSync);
    }

    /// <summary>Catches the indexes up on the thread pool; notices arriving meanwhile fold into the one queued.</summary>
    private void QueueSync()
    {
        if (Interlocked.Exchange(ref _syncQueued, 1) == 1) return;
        ThreadPool.QueueUserWorkItem(_ =>
        {
            Volatile.Write(ref _syncQueued, 0);
            try { _indexes.Sync(); }
            catch (Exception) { /* the next search catches up from the log itself */ }
        });
    }

    /// <summary>
    /// Opens the database at <paramref name="path"/>: a SQLite file (created and migrated as needed; its folder must exist)
    /// or a PostgreSQL URL or connection string (see <see cref="DatabaseTarget"/>). A file SQLite cannot use, or a server
    /// that cannot be reached, is a <see cref="MemoryFileException"/> that says so in one line.
    /// </summary>
    public static MemoryService Open(string path, MemoryOptions? options = null, EmbedderProvider? embedder = null)
    {
        var database = MemoryDatabase.Open(path);
        try { return new(database, options, embedder); }
        catch (Exception e) when (database.Explain(e) is { } explained)
        {
            database.Dispose();
            throw explained;
        }
    }

    /// <summary>Opens with default options (a convenience for tests and tools).</summary>
    public static MemoryService Open(string path, MemoryLimits? limits, TimeProvider? clock = null) =>
        Open(path, new MemoryOptions { Limits = limits ?? MemoryLimits.Default, Clock = clock ?? TimeProvider.System });

    private long Now => UnixTime.ToMs(_options.Clock.GetUtcNow());

    /// <summary>True when stores answer before their vectors are made (<see cref="MemoryOptions.WriteBehind"/>).</summary>
    public bool WritesBehind => _options.WriteBehind;

    /// <summary>Recent search queries' vectors (hits and misses are counted).</summary>
    public QueryEmbeddingCache QueryVectors => _search.QueryVectors;

    /// <summary>The encoder, when it has loaded.</summary>
    public IEmbedder? Embedder => _indexes.Vectors.Embedder;

    /// <summary>True once the encoder and the vector index are ready (hybrid search and merging work).</summary>
    public bool VectorsReady => _indexes.Vectors.Ready is not null;

    /// <summary>Why vectors are unavailable, if the encoder failed.</summary>
    public Exception? VectorError => _indexes.Vectors.Error;

    /// <summary>Waits until the in-memory keyword index is built (keyword search runs in FTS5 until then).</summary>
    public bool WaitForKeywordIndex(TimeSpan timeout) => _indexes.Keywords.Loading.Wait(timeout) && _indexes.Keywords.Index is not null;

    /// <summary>Waits until vectors are ready (for batch jobs and one-shot commands); false on failure or timeout.</summary>
    public bool WaitForVectors(TimeSpan timeout)
    {
        try { return _indexes.Vectors.Loading.Wait(timeout) && VectorsReady; }
        catch (AggregateException) { return false; }
    }

    /// <summary>At most this many memories may be superseded by one store.</summary>
    public const int MaxSupersedes = CallerRequests.MaxSupersedes;

    public StoreResult Store(Caller caller, NewMemory memory) => StoreMany(caller, [memory])[0];

    /// <summary>
    /// Stores many memories in one transaction: all are written, or (on any invalid item) none. Each is embedded
    /// (in one batch) when the encoder is ready, unless <see cref="MemoryOptions.WriteBehind"/> leaves that to the
    /// worker (the lexical part of the merge rule runs now, the semantic part when the vector lands), and merged into
    /// an existing memory of the same namespace and type only when <see cref="DuplicateRule"/> judges it the same memory (status "updated"); otherwise it is stored and
    /// the closest other memories come back as <see cref="StoreResult.Similar"/>. Memories named in
    /// <see cref="NewMemory.Supersedes"/> are marked superseded by it.
    /// </summary>
    public IReadOnlyList<StoreResult> StoreMany(Caller caller, IReadOnlyList<NewMemory> memories)
    {
        // Validate.
        var now = Now;
        var rows = new List<MemoryRow>(memories.Count);
        var supersedes = new List<IReadOnlyList<Guid>>(memories.Count);
        for (var i = 0; i < memories.Count; i++)
        {
            try
            {
                rows.Add(_requests.Row(caller, memories[i], now));
                supersedes.Add(_requests.Superseded(caller, memories[i].Supersedes, now));
            }
            catch (MemoryValidationException e) when (memories.Count > 1)
            {
                throw new MemoryValidationException($"[{i}].{e.Field}", e.Message[(e.Field.Length + 2)..]);
            }
        }
        // Plan: embed (inline, when the encoder is ready), then insert or merge. Write-behind embeds nothing here: the
        // merge rule's lexical part runs now, its semantic part when the worker has the vector.
        var ready = _indexes.Vectors.Ready;
        var encoder = _indexes.Vectors.HasEncoder;
        float[][]? vectors = null;
        if (ready is { } r && !_options.WriteBehind)
        {
            try { vectors = r.Embedder.EmbedBatch(rows.Select(row => row.Content).ToList()); }
            catch (Exception) { vectors = null; } // the encoder failed: store without vectors; the worker retries
        }
        var plans = _planner.Plan(rows, supersedes, vectors, now);
        var semanticLater = vectors is null && encoder && _options.MergeDuplicates;
        var writes = plans.Select(p => semanticLater && p.Write.MergeIntoSeq is null && p.Write.MergeIntoBatchItem is null
            ? p.Write with { SemanticCheckPending = true } : p.Write).ToList();
        // Write, then index.
        var result = _store.Write(writes, vectors is null ? null : ready?.Embedder.ModelId, now);
        _indexes.Apply(result.ForIndexes());
        if (vectors is null) _worker.Wake(result.Written.Where(w => w.Vector is null).Select(w => w.Seq));
        var similarFloor = DuplicateRule.SimilarFloor(ready?.Embedder.ModelId);
        var check = vectors is not null ? StoreResult.CheckDone : encoder ? StoreResult.CheckPending : StoreResult.CheckOff;
        return result.Written.Select((w, i) => new StoreResult(w.Row.Id, w.Status, w.Vector is not null)
        {
            Namespace = w.Row.Namespace,
            Similar = plans[i].Similar.Where(s => s.MemoryId != w.Row.Id).ToList(),
            SimilarThreshold = similarFloor,
            SemanticCheck = check,
        }).ToList();
    }

    /// <summary>
    /// Every version of a memory, oldest first, from the event log: stored, merged (with the text after the merge),
    /// superseded, imported, deleted, expired; with the versions of the memories it superseded, in the order they happened.
    /// </summary>
    public IReadOnlyList<MemoryVersion> History(Caller caller, Guid id)
    {
        var ns = _store.NamespaceOf(id);
        var versions = ns is not null && caller.CanRead(ns) ? _store.History(id) : null;
        if (versions is null) throw new MemoryNotFoundException($"memory_id: no memory with id {id} (nor any trace of one in the event log)");
        // Predecessors the caller may not read are left out.
        var readable = versions.Select(v => v.MemoryId).Distinct().Where(m => m == id || (_store.NamespaceOf(m) is { } other && caller.CanRead(other))).ToHashSet();
        return versions.Where(v => readable.Contains(v.MemoryId)).ToList();
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
    /// Brings a memory that consolidation archived back to default search (its row is otherwise untouched; an
    /// "unarchive" event tells every process). A memory that was not archived is left as it is (<see cref="Unarchived.WasArchived"/> false).
    /// </summary>
    public Unarchived Unarchive(Caller caller, Guid id)
    {
        var memory = Get(caller, id);
        if (!caller.CanWrite(memory.Namespace))
            throw new MemoryValidationException("memory_id", $"this caller may not change memories in \"{memory.Namespace}\" (read-only access)");
        var archivedAt = _store.Unarchive(id, Now);
        if (archivedAt is not null) _indexes.Sync();
        return new Unarchived(memory.Id, memory.Namespace, archivedAt is not null, archivedAt);
    }

    /// <summary>
    /// Deletes the memory: its row, FTS entry and vector, in one transaction. Returns what was deleted. A memory the
    /// caller cannot see is "not found"; one it can see but not write (a read-only key) is refused, naming the namespace.
    /// </summary>
    public Memory Delete(Caller caller, Guid id)
    {
        var deleted = _store.Delete(id, Now, m => caller.CanWrite(m.Namespace) || (caller.CanRead(m.Namespace)
                          ? throw new MemoryValidationException("memory_id", $"this caller may not delete from \"{m.Namespace}\" (read-only access)")
                          : false))
                      ?? throw new MemoryNotFoundException($"memory_id: no memory with id {id} (nothing was deleted)");
        _indexes.Remove(deleted.Seq);
        return deleted;
    }

    public SearchResponse Search(Caller caller, SearchRequest request, bool trackAccess = true)
    {
        var query = Validate.Query(request.Query);
        var topK = Validate.TopK(request.TopK);
        var mode = (request.Mode ?? SearchResponse.Auto).Trim().ToLowerInvariant();
        if (!SearchResponse.RequestModes.Contains(mode))
            throw new MemoryValidationException("mode", $"\"{Namespaces.Truncate(request.Mode!, 40)}\" is not a search mode; use one of: {string.Join(", ", SearchResponse.RequestModes)}");
        if (mode == SearchResponse.Auto) mode = SearchResponse.Hybrid;
        var filter = _requests.Filter(caller, request, Now);
        var plan = TimeAwarePlan.For(request, query, filter, request.Now ?? _options.Clock.GetUtcNow(), _options.Time);
        var response = _search.Search(plan.Query, topK, plan.Filter, mode, request.Explain, plan.Time) with { Time = plan.Understood, Namespaces = filter.Namespaces };
        // Access counts are written by the background worker, or on Dispose.
        if (trackAccess && response.Results.Count > 0) _access.Record(response.Results.Select(h => h.Memory.Seq));
        return response;
    }

    public static readonly IReadOnlyList<string> FeedbackSignals = CallerRequests.FeedbackSignals;

    /// <summary>Records feedback on a memory; "useful" lifts it in later rankings, "wrong" lowers it (bounded).</summary>
    public RecordedFeedback Feedback(Caller caller, Guid id, string signal, string? note)
    {
        var normalized = CallerRequests.FeedbackSignal(signal, note);
        var memory = Get(caller, id);
        if (!caller.CanWrite(memory.Namespace))
            throw new MemoryValidationException("memory_id", $"this caller may not give feedback in \"{memory.Namespace}\"");
        return new RecordedFeedback(id, normalized, _feedback.Add(id, memory.Namespace, normalized, note, Now), memory.Namespace);
    }

    public AgentState GetState(Caller caller, string key, string? ns = null)
    {
        var (space, validKey) = _requests.StateScope(caller, key, ns, write: false);
        return _state.Get(space, caller.AgentId, validKey)
               ?? throw new MemoryNotFoundException($"key: no state \"{validKey}\" in {space} for agent {caller.AgentId}");
    }

    public AgentState SetState(Caller caller, string key, JsonElement value, long? expectedVersion, string? ns = null)
    {
        var (space, validKey) = _requests.StateScope(caller, key, ns, write: true);
        if (expectedVersion is < 0)
            throw new MemoryValidationException("expected_version", $"must be 0 (key must not exist) or a positive version (got {expectedVersion})");
        return _state.Set(space, caller.AgentId, validKey, Validate.StateValue(value), expectedVersion, Now);
    }

    public StoreStats Stats() => _store.Stats(Now);

    /// <summary>
    /// A page of the memories the caller may read (the dashboard's list), filtered like a search without a query, newest
    /// first or by use or importance. Not counted as an access.
    /// </summary>
    public BrowsePage Browse(Caller caller, BrowseRequest request)
    {
        if (request.Page is < 1 or > 1_000_000) throw new MemoryValidationException("page", $"must be between 1 and 1000000 (got {request.Page})");
        if (request.PageSize is < 1 or > 200) throw new MemoryValidationException("page_size", $"must be between 1 and 200 (got {request.PageSize})");
        if (request.MinImportance is { } min && (double.IsNaN(min) || min < 0 || min > 1))
            throw new MemoryValidationException("min_importance", $"must be between 0 and 1 (got {min})");
        var checkedRequest = request with
        {
            MemoryType = request.MemoryType is null ? null : Validate.MemoryType(request.MemoryType),
            Tags = Validate.Tags(request.Tags),
        };
        return _browse.Page(checkedRequest, ReadableNamespaces(caller, request.Namespaces), Now);
    }

    /// <summary>Counts and lists for the dashboard's overview, over the namespaces the caller may read.</summary>
    public StoreOverview Overview(Caller caller) => _browse.Overview(ReadableNamespaces(caller, null), Now, PendingEmbeddings());

    /// <summary>Feedback on a memory the caller may read, counted by signal.</summary>
    public FeedbackCounts FeedbackOn(Caller caller, Guid id)
    {
        Get(caller, id);
        return _browse.Feedback(id);
    }

    /// <summary>The state keys (of every agent) in the namespaces the caller may read, most recently set first.</summary>
    public IReadOnlyList<StateEntry> ListState(Caller caller, int limit = 500) => _browse.State(ReadableNamespaces(caller, null), limit);

    /// <summary>
    /// A number that grows whenever a memory, its feedback or a state key changes in the namespaces the caller may read
    /// (the newest event's seq): a cheap "anything new?" for a page that updates itself.
    /// </summary>
    public long ChangeMark(Caller caller) => _browse.LatestEvent(ReadableNamespaces(caller, null));

    /// <summary>
    /// An edit as a new version: the new text (and type, tags, importance) is stored in the old memory's namespace with its
    /// metadata, superseding it, so the old text stays in the history. Returns the new memory's store result.
    /// </summary>
    public StoreResult Edit(Caller caller, Guid id, string content, string? memoryType, IReadOnlyList<string>? tags, double? importance)
    {
        var old = Get(caller, id);
        if (!caller.CanWrite(old.Namespace))
            throw new MemoryValidationException("memory_id", $"this caller may not change memories in \"{old.Namespace}\" (read-only access)");
        return Store(caller, new NewMemory
        {
            Content = content,
            MemoryType = memoryType ?? old.MemoryType,
            Tags = tags ?? old.Tags,
            Importance = importance ?? old.Importance,
            MetadataJson = old.Metadata?.ToJsonString(),
            Namespace = old.Namespace,
            SessionId = old.SessionId,
            ExpiresAt = old.ExpiresAt,
            Source = old.Source,
            Supersedes = [id],
        });
    }

    /// <summary>
    /// Marks memory <paramref name="id"/> superseded by the existing memory <paramref name="by"/> (kept, hidden from default
    /// search, linked to it). The caller must be able to change the old one and read the new one.
    /// </summary>
    public void Supersede(Caller caller, Guid id, Guid by)
    {
        var old = Get(caller, id);
        if (!caller.CanWrite(old.Namespace))
            throw new MemoryValidationException("memory_id", $"this caller may not change memories in \"{old.Namespace}\" (read-only access)");
        var successor = Get(caller, by);
        if (successor.Id == old.Id) throw new MemoryValidationException("by", "a memory cannot supersede itself");
        _store.SupersedeExisting(id, by, Now);
        _indexes.Sync();
    }

    /// <summary>
    /// The namespaces a caller may read, narrowed to <paramref name="requested"/> when given (each must be readable); null
    /// for an unrestricted caller asking for everything.
    /// </summary>
    private IReadOnlyList<string>? ReadableNamespaces(Caller caller, IReadOnlyList<string>? requested)
    {
        if (Validate.NamespaceList(requested) is { } list)
        {
            foreach (var ns in list)
                if (!caller.CanRead(ns)) throw new MemoryValidationException("namespaces", $"this caller may not read \"{ns}\"");
            return list;
        }
        if (caller.Readable is null || caller.Writable is null) return null;
        return caller.Readable.Union(caller.Writable).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Deletes every memory whose expires_at has passed (reads already hide them; this reclaims the space and
    /// keeps the FTS index lean). Works in batches so that a large sweep never holds the write lock for long.
    /// Returns how many were deleted; each leaves an "expire" event with its text.
    /// </summary>
    public int PurgeExpired(int batchSize = 500)
    {
        var total = 0;
        int deleted;
        do total += deleted = _store.PurgeExpired(Now, batchSize);
        while (deleted == batchSize);
        return total;
    }

    /// <summary>Writes everything (memories, state, feedback, events) as JSONL; see <see cref="JsonlFormat"/>.</summary>
    public ExportCounts ExportJsonl(TextWriter output) => JsonlExporter.Write(Database, output, Now);

    /// <summary>The memories as Markdown, one document per namespace, grouped by type, newest first.</summary>
    public IReadOnlyList<MarkdownFile> ExportMarkdown() => MarkdownExporter.Render(Database, Now);

    /// <summary>
    /// Imports a JSONL export: validated whole before anything is written, then written in batches; ids and times are
    /// kept; records already present are skipped. <paramref name="progress"/> hears after each batch.
    /// </summary>
    public ImportResult ImportJsonl(string path, IProgress<ImportProgress>? progress = null) =>
        new JsonlImporter(Database, Validate).Import(path, Now, progress);

    /// <summary>Embeds up to one batch of memories stored without a vector (see <see cref="EmbeddingWorker.EmbedPending"/>).</summary>
    public int EmbedPending() => _worker.EmbedPending();

    /// <summary>Marks every memory for re-embedding (a new encoder, or a repair); <see cref="EmbedPending"/> does the work.</summary>
    public long ResetEmbeddings() => VectorStore.Reset(Database);

    /// <summary>Number of memories waiting for a vector.</summary>
    public long PendingEmbeddings() => VectorStore.PendingCount(Database);

    public void Dispose()
    {
        _changes?.Dispose();
        _worker.Dispose();
        Database.Dispose();
    }
}
