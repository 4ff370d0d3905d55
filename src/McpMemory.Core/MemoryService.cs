using System.Numerics.Tensors;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Memories;
using McpMemory.Core.Portability;
using McpMemory.Core.Search;
using McpMemory.Core.Search.Keywords;
using McpMemory.Core.Search.Time;
using McpMemory.Core.Storage;
using McpMemory.Core.Vectors;

namespace McpMemory.Core;

/// <summary>
/// The engine's front door, used alike by the MCP tools, the CLI and library callers: validate → embed →
/// merge only the same memory (DuplicateRule) → store, and search (hybrid when the encoder is ready, keywords otherwise). Thread-safe.
/// Every error a caller can cause is a <see cref="MemoryException"/> whose message names the field and the
/// limit; nothing is half-written. Background work runs until disposal: writing access counts in batches and,
/// with an encoder, embedding rows stored without a vector.
/// </summary>
public sealed class MemoryService : IDisposable
{
    private readonly MemoryStore _store;
    private readonly AgentStateStore _state;
    private readonly MemorySearch _sql;
    private readonly HybridSearch _search;
    private readonly VectorIndexHost _vectors;
    private readonly KeywordIndexHost _keywords;
    private readonly AccessTracker _access;
    private readonly MemoryOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _embedSignal = new(0);
    private readonly Lock _embedLock = new();
    private readonly Task _background = Task.CompletedTask;

    public MemoryDatabase Database { get; }
    public MemoryValidator Validate { get; }
    public RankingOptions Ranking => _options.Ranking;

    public MemoryService(MemoryDatabase database, MemoryOptions? options = null, EmbedderProvider? embedder = null)
    {
        Database = database;
        _options = options ?? MemoryOptions.Default;
        Validate = new MemoryValidator(_options.Limits);
        _store = new MemoryStore(database);
        _state = new AgentStateStore(database);
        _sql = new MemorySearch(database);
        _vectors = new VectorIndexHost(database, embedder);
        _keywords = new KeywordIndexHost(database, _options.KeywordIndex, _options.Ranking);
        _search = new HybridSearch(_sql, _keywords, _vectors, _options.Ranking);
        _access = new AccessTracker(database, _options.Clock, counts => _keywords.Index?.AddAccess(counts));
        _background = Task.Run(() => BackgroundLoop(_stopping.Token));
    }

    /// <summary>
    /// Opens the database file at <paramref name="path"/> (creating and migrating it as needed; its folder must exist).
    /// A file SQLite cannot use is a <see cref="MemoryFileException"/> that says so in one line.
    /// </summary>
    public static MemoryService Open(string path, MemoryOptions? options = null, EmbedderProvider? embedder = null)
    {
        var database = MemoryDatabase.Open(path);
        try { return new(database, options, embedder); }
        catch (Microsoft.Data.Sqlite.SqliteException e) when (!MemoryDatabase.IsBusy(e))
        {
            database.Dispose();
            throw MemoryDatabase.Unusable(database.Path, e);
        }
    }

    /// <summary>Opens with default options (a convenience for tests and tools).</summary>
    public static MemoryService Open(string path, MemoryLimits? limits, TimeProvider? clock = null) =>
        Open(path, new MemoryOptions { Limits = limits ?? MemoryLimits.Default, Clock = clock ?? TimeProvider.System });

    private long Now => UnixTime.ToMs(_options.Clock.GetUtcNow());

    /// <summary>Recent search queries' vectors (hits and misses are counted).</summary>
    public QueryEmbeddingCache QueryVectors => _search.QueryVectors;

    /// <summary>The encoder, when it has loaded.</summary>
    public IEmbedder? Embedder => _vectors.Embedder;

    /// <summary>True once the encoder and the vector index are ready (hybrid search and merging work).</summary>
    public bool VectorsReady => _vectors.Ready is not null;

    /// <summary>Why vectors are unavailable, if the encoder failed.</summary>
    public Exception? VectorError => _vectors.Error;

    /// <summary>Waits until the in-memory keyword index is built (keyword search runs in FTS5 until then).</summary>
    public bool WaitForKeywordIndex(TimeSpan timeout) => _keywords.Loading.Wait(timeout) && _keywords.Index is not null;

    /// <summary>Waits until vectors are ready (for batch jobs and one-shot commands); false on failure or timeout.</summary>
    public bool WaitForVectors(TimeSpan timeout)
    {
        try { return _vectors.Loading.Wait(timeout) && VectorsReady; }
        catch (AggregateException) { return false; }
    }

    public StoreResult Store(Caller caller, NewMemory memory) => StoreMany(caller, [memory])[0];

    /// <summary>
    /// Stores many memories in one transaction: all are written, or (on any invalid item) none. Each is embedded
    /// (in one batch) when the encoder is ready, and merged into an existing memory of the same namespace and type
    /// only when <see cref="DuplicateRule"/> judges it the same memory (status "updated"); otherwise it is stored and
    /// the closest other memories come back as <see cref="StoreResult.Similar"/>. Memories named in
    /// <see cref="NewMemory.Supersedes"/> are marked superseded by it.
    /// </summary>
    public IReadOnlyList<StoreResult> StoreMany(Caller caller, IReadOnlyList<NewMemory> memories)
    {
        var now = Now;
        var rows = new List<MemoryRow>(memories.Count);
        var supersedes = new List<IReadOnlyList<Guid>>(memories.Count);
        for (var i = 0; i < memories.Count; i++)
        {
            try
            {
                rows.Add(ToRow(caller, memories[i], now));
                supersedes.Add(Superseded(caller, memories[i].Supersedes, now));
            }
            catch (MemoryValidationException e) when (memories.Count > 1)
            {
                throw new MemoryValidationException($"[{i}].{e.Field}", e.Message[(e.Field.Length + 2)..]);
            }
        }

        var ready = _vectors.Ready;
        float[][]? vectors = null;
        if (ready is { } r)
        {
            try { vectors = r.Embedder.EmbedBatch(rows.Select(row => row.Content).ToList()); }
            catch (Exception) { vectors = null; } // the encoder failed: store without vectors; the queue retries
        }
        var plans = PlanWrites(rows, supersedes, vectors, now);
        var writes = plans.Select(p => p.Write).ToList();
        var result = _store.Write(writes, ready?.Embedder.ModelId, now);

        if (writes.Any(w => w.Supersedes.Count > 0))
        {
            // Superseded rows change in both indexes: let them replay this batch's events like another process's.
            _keywords.Sync();
            _vectors.Sync();
        }
        else
        {
            if (_keywords.Index is { } keywords)
            {
                foreach (var w in result.Written) keywords.Upsert(IndexEntry(w.Seq, w.Row), w.Row.Content);
                _keywords.Applied(result.FirstEventSeq, result.LastEventSeq);
            }
            if (ready is { } done)
            {
                foreach (var w in result.Written)
                    if (w.Vector is not null) done.Index.Upsert(IndexEntry(w.Seq, w.Row), w.Vector);
                _vectors.Applied(result.FirstEventSeq, result.LastEventSeq);
            }
        }
        // One pending wake-up is enough: the loop embeds everything waiting before it sleeps again.
        if (vectors is null && _options.EmbeddingInterval > TimeSpan.Zero && _embedSignal.CurrentCount == 0) _embedSignal.Release();
        var similarFloor = DuplicateRule.SimilarFloor(ready?.Embedder.ModelId);
        return result.Written.Select((w, i) => new StoreResult(w.Row.Id, w.Status, w.Vector is not null)
        {
            Similar = plans[i].Similar.Where(s => s.MemoryId != w.Row.Id).ToList(),
            SimilarThreshold = similarFloor,
        }).ToList();
    }

    /// <summary>At most this many memories may be superseded by one store.</summary>
    public const int MaxSupersedes = 32;

    /// <summary>The ids a new memory supersedes, each one a memory the caller can see and write.</summary>
    private IReadOnlyList<Guid> Superseded(Caller caller, IReadOnlyList<Guid>? ids, long now)
    {
        if (ids is null || ids.Count == 0) return [];
        if (ids.Count > MaxSupersedes)
            throw new MemoryValidationException("supersedes", $"has {ids.Count} ids; the limit is {MaxSupersedes}");
        var distinct = ids.Distinct().ToList();
        for (var i = 0; i < distinct.Count; i++)
        {
            var old = _store.Get(distinct[i], now);
            if (old is null || !caller.CanRead(old.Namespace))
                throw new MemoryValidationException($"supersedes[{i}]", $"no memory with id {distinct[i]} (nothing was stored)");
            if (!caller.CanWrite(old.Namespace))
                throw new MemoryValidationException($"supersedes[{i}]", $"this caller may not change memories in \"{old.Namespace}\" (read-only access)");
        }
        return distinct;
    }

    /// <summary>A store's plan: the write, and the other memories close to it in meaning.</summary>
    private sealed record Plan(PendingWrite Write, IReadOnlyList<SimilarMemory> Similar);

    /// <summary>An existing memory, or an earlier new row of the batch, that a new row may merge into or resemble.</summary>
    private sealed record Candidate(double Cosine, long? Seq, int? BatchItem, Guid Id, string MemoryType, string Content);

    /// <summary>Existing memories read back per new row: the nearest few in its namespace, from this cosine up.</summary>
    private const int CandidateCount = 8;
    private const double CandidateFloor = 0.5;

    /// <summary>Decides, for each row, insert or merge (into an existing memory or an earlier row of this batch).</summary>
    private List<Plan> PlanWrites(List<MemoryRow> rows, List<IReadOnlyList<Guid>> supersedes, float[][]? vectors, long now)
    {
        var plans = new List<Plan>(rows.Count);
        if (vectors is null || _vectors.Ready is not { } ready)
        {
            for (var i = 0; i < rows.Count; i++) plans.Add(new Plan(new PendingWrite(rows[i], vectors?[i]) { Supersedes = supersedes[i] }, []));
            return plans;
        }
        var floor = _options.DuplicateThreshold ?? DuplicateRule.CosineFloor(ready.Embedder.ModelId);
        var similarFloor = DuplicateRule.SimilarFloor(ready.Embedder.ModelId);
        _vectors.Sync();
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var vector = vectors[i];
            var candidates = new List<Candidate>();
            // Earlier new rows of this batch.
            for (var j = 0; j < i; j++)
            {
                if (plans[j].Write.MergeIntoSeq is not null || plans[j].Write.MergeIntoBatchItem is not null) continue;
                if (rows[j].Namespace != row.Namespace) continue;
                var cosine = TensorPrimitives.Dot(vector, vectors[j]);
                if (cosine >= CandidateFloor) candidates.Add(new Candidate(cosine, null, j, rows[j].Id, rows[j].MemoryType, rows[j].Content));
            }
            // Existing memories (quantised scan, confirmed with the exact stored vectors; int8 scores stay within
            // ~0.002 of the exact cosine, so only those near the floor are read back).
            var filter = new IndexFilter([row.Namespace], null, 0, null, null, now, null, []);
            var hits = ready.Index.Search(vector, CandidateCount, filter).Where(c => c.Score >= CandidateFloor - QuantisationMargin).Select(c => c.Seq).ToList();
            if (hits.Count > 0)
            {
                var stored = _sql.ReadCandidates(hits, withVectors: true);
                var texts = _sql.ReadMemories(hits);
                foreach (var seq in hits)
                {
                    if (!stored.TryGetValue(seq, out var c) || !texts.TryGetValue(seq, out var m)) continue;
                    if (c.Vector is null || c.Vector.Length != vector.Length) continue;
                    var cosine = TensorPrimitives.Dot(vector, c.Vector);
                    if (cosine >= CandidateFloor) candidates.Add(new Candidate(cosine, seq, null, m.Id, m.MemoryType, m.Content));
                }
            }
            candidates.RemoveAll(c => supersedes[i].Contains(c.Id));
            candidates.Sort((a, b) => b.Cosine.CompareTo(a.Cosine));

            var write = new PendingWrite(row, vector) { Supersedes = supersedes[i] };
            Guid? mergedInto = null;
            if (_options.MergeDuplicates)
                foreach (var c in candidates.Where(c => c.MemoryType == row.MemoryType))
                {
                    var verdict = DuplicateRule.Judge(c.Content, row.Content, c.Cosine, floor);
                    if (verdict == DuplicateVerdict.Distinct) continue;
                    write = new PendingWrite(row, vector, c.Seq, c.BatchItem, c.Cosine, verdict.ToString().ToLowerInvariant()) { Supersedes = supersedes[i] };
                    mergedInto = c.Id;
                    break;
                }
            var similar = candidates.Where(c => c.Cosine >= similarFloor && c.Id != mergedInto).Take(3)
                .Select(c => new SimilarMemory(c.Id, Math.Round(c.Cosine, 4), c.Content.Length <= SimilarContentChars ? c.Content : c.Content[..SimilarContentChars] + "…")).ToList();
            plans.Add(new Plan(write, similar));
        }
        return plans;
    }

    private const double QuantisationMargin = 0.03;

    /// <summary>A similar memory's text is cut here in a store's answer (the whole memory is one search or get away).</summary>
    private const int SimilarContentChars = 500;

    private static IndexEntry IndexEntry(long seq, MemoryRow row) =>
        new(seq, row.Namespace, row.MemoryType, row.Importance, row.CreatedAt, row.ExpiresAt, row.SessionId, row.Tags);

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
    /// Deletes the memory: its row, FTS entry and vector, in one transaction. Returns what was deleted. A memory the
    /// caller cannot see is "not found"; one it can see but not write (a read-only key) is refused, naming the namespace.
    /// </summary>
    public Memory Delete(Caller caller, Guid id)
    {
        var deleted = _store.Delete(id, Now, m => caller.CanWrite(m.Namespace) || (caller.CanRead(m.Namespace)
                          ? throw new MemoryValidationException("memory_id", $"this caller may not delete from \"{m.Namespace}\" (read-only access)")
                          : false))
                      ?? throw new MemoryNotFoundException($"memory_id: no memory with id {id} (nothing was deleted)");
        _vectors.Ready?.Index.Remove(deleted.Seq);
        _keywords.Index?.Remove(deleted.Seq);
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
        var plan = TimeAwarePlan.For(request, query, Filter(caller, request), request.Now ?? _options.Clock.GetUtcNow(), _options.Time);
        var response = _search.Search(plan.Query, topK, plan.Filter, mode, request.Explain, plan.Time) with { Time = plan.Understood };
        if (trackAccess && response.Results.Count > 0)
        {
            _access.Record(response.Results.Select(h => h.Memory.Seq)); // written by the background loop, or on Dispose
        }
        return response;
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
            Now: Now,
            IncludeSuperseded: request.IncludeSuperseded);
    }

    public static readonly IReadOnlyList<string> FeedbackSignals = ["useful", "noted", "wrong"];

    /// <summary>Records feedback on a memory; "useful" lifts it in later rankings, "wrong" lowers it (bounded).</summary>
    public long Feedback(Caller caller, Guid id, string signal, string? note)
    {
        var normalized = (signal ?? "").Trim().ToLowerInvariant();
        if (!FeedbackSignals.Contains(normalized))
            throw new MemoryValidationException("signal", $"\"{Namespaces.Truncate(signal ?? "", 40)}\" is not a signal; use one of: {string.Join(", ", FeedbackSignals)}");
        if (note is not null && note.Length > 2000)
            throw new MemoryValidationException("note", $"is {note.Length} characters; the limit is 2000");
        var memory = Get(caller, id);
        if (!caller.CanWrite(memory.Namespace))
            throw new MemoryValidationException("memory_id", $"this caller may not give feedback in \"{memory.Namespace}\"");
        var now = Now;
        return Database.Write((session, tx) =>
        {
            var insert = session.Command("INSERT INTO feedback (memory_id, namespace, signal, note, created_at) VALUES (@id, @ns, @signal, @note, @now) RETURNING seq", tx);
            insert.Parameters.AddWithValue("@id", id.ToString("D"));
            insert.Parameters.AddWithValue("@ns", memory.Namespace);
            insert.Parameters.AddWithValue("@signal", normalized);
            insert.Parameters.AddWithValue("@note", MemoryRows.Db(note));
            insert.Parameters.AddWithValue("@now", now);
            var seq = Convert.ToInt64(insert.ExecuteScalar());
            var detail = new JsonObject { ["signal"] = normalized, ["note"] = note };
            MemoryStore.AppendEvent(session, tx, now, "feedback", memory.Namespace, id.ToString("D"), detail.ToJsonString());
            return seq;
        });
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

    /// <summary>
    /// Embeds up to one batch of memories stored without a vector (for this encoder). Returns how many were
    /// embedded; 0 when none are waiting or vectors are not ready.
    /// </summary>
    public int EmbedPending()
    {
        if (_vectors.Ready is not { } ready) return 0;
        lock (_embedLock)
        {
            var pending = Database.Read(session =>
            {
                var select = session.Command("SELECT seq, id, namespace, content FROM memories WHERE has_embedding = 0 ORDER BY seq LIMIT @n");
                select.Parameters.AddWithValue("@n", _options.EmbeddingBatchSize);
                var rows = new List<(long Seq, string Id, string Namespace, string Content)>();
                using var reader = select.ExecuteReader();
                while (reader.Read()) rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3)));
                return rows;
            });
            if (pending.Count == 0) return 0;
            var vectors = ready.Embedder.EmbedBatch(pending.Select(p => p.Content).ToList());
            var now = Now;
            Database.Write((session, tx) =>
            {
                for (var i = 0; i < pending.Count; i++)
                {
                    VectorStore.Write(session, tx, pending[i].Seq, ready.Embedder.ModelId, vectors[i]);
                    MemoryStore.AppendEvent(session, tx, now, "embed", pending[i].Namespace, pending[i].Id, null);
                }
                return 0;
            });
            _vectors.Sync();
            return pending.Count;
        }
    }

    /// <summary>Marks every memory for re-embedding (a new encoder, or a repair); <see cref="EmbedPending"/> does the work.</summary>
    public long ResetEmbeddings() => Database.Write((session, tx) =>
    {
        var reset = session.Command("UPDATE memories SET has_embedding = 0", tx);
        var count = reset.ExecuteNonQuery();
        session.Command("DELETE FROM memory_vectors", tx).ExecuteNonQuery();
        return (long)count;
    });

    /// <summary>Number of memories waiting for a vector.</summary>
    public long PendingEmbeddings() => Database.Read(session =>
        Convert.ToInt64(session.Command("SELECT count(*) FROM memories WHERE has_embedding = 0").ExecuteScalar()));

    /// <summary>Background work: embed rows stored without vectors; write access counts.</summary>
    private async Task BackgroundLoop(CancellationToken stopping)
    {
        // Access counts are flushed from the start; embedding begins once the encoder is ready (EmbedPending does
        // nothing before).
        var lastAccessFlush = DateTime.UtcNow;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                while (!stopping.IsCancellationRequested && EmbedPending() > 0) { }
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
            if (!_vectors.Loading.IsCompleted)
            {
                // Nothing to embed yet: sleep until the encoder is ready (then embed at once) or the next flush is due.
                await Task.WhenAny(_vectors.Loading, Task.Delay(wait, stopping));
                continue;
            }
            try { await _embedSignal.WaitAsync(wait, stopping); }
            catch (OperationCanceledException) { break; }
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        try { _background.Wait(TimeSpan.FromSeconds(10)); } catch (AggregateException) { }
        try { _access.Flush(); } catch (Exception) { /* best effort: counts are advisory */ }
        Database.Dispose();
    }
}
