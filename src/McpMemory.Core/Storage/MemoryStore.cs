using System.Text.Json;
using System.Text.Json.Nodes;
using McpMemory.Core.Indexes;
using McpMemory.Core.Memories;
using System.Data.Common;

namespace McpMemory.Core.Storage;

/// <summary>A validated memory ready to be written (see <see cref="MemoryService"/> for the checks).</summary>
internal sealed record MemoryRow(
    Guid Id, string Namespace, string? AgentId, string? SessionId, string MemoryType, string Content,
    JsonObject? Metadata, IReadOnlyList<string> Tags, double Importance, long CreatedAt, long UpdatedAt,
    long? ExpiresAt, string? Source);

/// <summary>
/// One memory to write: a new row, or a merge into an existing memory (by seq, or an earlier item of the same batch),
/// and the older memories it supersedes.
/// </summary>
internal sealed record PendingWrite(MemoryRow Row, float[]? Vector, long? MergeIntoSeq = null, int? MergeIntoBatchItem = null, double? Similarity = null,
    string? MergeReason = null)
{
    public IReadOnlyList<Guid> Supersedes { get; init; } = [];

    /// <summary>
    /// Stored write-behind: the merge rule's semantic part runs when the vector lands. Recorded in the store event
    /// (<see cref="SemanticCheckMark"/>), so that a restart still runs it for a row a crash left without a vector.
    /// </summary>
    public bool SemanticCheckPending { get; init; }

    /// <summary>The store event's detail field that marks a pending semantic check.</summary>
    public const string SemanticCheckMark = "semantic_check";
}

internal sealed record WrittenMemory(long Seq, MemoryRow Row, float[]? Vector, string Status)
{
    public IndexedMemory ForIndexes() =>
        new(new IndexEntry(Seq, Row.Namespace, Row.MemoryType, Row.Importance, Row.CreatedAt, Row.ExpiresAt, Row.SessionId, Row.Tags), Row.Content, Vector);
}

/// <summary>What a batch wrote, in order, the events it appended, and whether it superseded older memories.</summary>
internal sealed record WriteBatchResult(IReadOnlyList<WrittenMemory> Written, long FirstEventSeq, long LastEventSeq, bool Superseded)
{
    /// <summary>The write as both in-memory indexes take it.</summary>
    public IndexedWrite ForIndexes() => new(Written.Select(w => w.ForIndexes()).ToList(), FirstEventSeq, LastEventSeq, Superseded);
}

/// <summary>SQL for memory rows and the event log. Every change and its event commit in one transaction.</summary>
internal sealed class MemoryStore(MemoryDatabase database)
{
    private const string InsertSql = """
        INSERT INTO memories (id, namespace, agent_id, session_id, memory_type, content, metadata, tags, importance,
                              has_embedding, created_at, updated_at, expires_at, source)
        VALUES (@id, @ns, @agent, @session, @type, @content, @metadata, @tags, @importance, 0, @created, @updated, @expires, @source)
        RETURNING seq
        """;

    private const string EventSql =
        "INSERT INTO events (at, kind, namespace, memory_id, detail) VALUES (@at, @kind, @ns, @memory, @detail) RETURNING seq";

    private const string GetSql = $"SELECT {MemoryRows.Columns} FROM memories m WHERE m.id = @id AND (m.expires_at IS NULL OR m.expires_at > @now)";

    public MemoryDatabase Database => database;

    /// <summary>
    /// Writes a batch in one transaction: new rows (with their vector when there is one) and merges of
    /// duplicates (the same memory, see DuplicateRule) into an existing memory, each with its event. Returns what was written, in order.
    /// </summary>
    public WriteBatchResult Write(IReadOnlyList<PendingWrite> writes, string? model, long now) => database.Write((session, tx) =>
    {
        var written = new List<WrittenMemory>(writes.Count);
        long firstEvent = 0, lastEvent = 0;
        foreach (var write in writes)
        {
            long seq, eventSeq;
            MemoryRow final;
            var target = write.MergeIntoSeq ?? (write.MergeIntoBatchItem is { } item ? written[item].Seq : (long?)null);
            // The merge target may have been deleted by another process since the plan was made: then store anew.
            var merged = target is not null ? Merge(session, tx, target.Value, write, now) : null;
            if (merged is { } m)
                (seq, final, eventSeq) = m;
            else
            {
                var details = new JsonObject();
                if (write.Supersedes.Count > 0) details["supersedes"] = new JsonArray([.. write.Supersedes.Select(id => (JsonNode)id.ToString("D"))]);
                if (write.SemanticCheckPending) details[PendingWrite.SemanticCheckMark] = "pending";
                var detail = details.Count == 0 ? null : details.ToJsonString();
                (seq, final, eventSeq) = (Insert(session, tx, write.Row), write.Row, AppendEvent(session, tx, now, "store", write.Row.Namespace, write.Row.Id.ToString("D"), detail));
            }
            if (write.Vector is not null && model is not null) VectorStore.Write(session, tx, seq, model, write.Vector);
            if (firstEvent == 0) firstEvent = eventSeq;
            lastEvent = eventSeq;
            for (var i = 0; i < write.Supersedes.Count; i++)
                lastEvent = Supersede(session, tx, write.Supersedes[i], final.Id, $"supersedes[{i}]", now);
            written.Add(new WrittenMemory(seq, final, write.Vector, merged is null ? StoreResult.Stored : StoreResult.Updated));
        }
        return new WriteBatchResult(written, firstEvent, lastEvent, writes.Any(w => w.Supersedes.Count > 0));
    });

    private static long Insert(DbSession session, DbTransaction tx, MemoryRow row)
    {
        var insert = session.Command(InsertSql, tx);
        var p = insert.Parameters;
        p.AddWithValue("@id", row.Id.ToString("D"));
        p.AddWithValue("@ns", row.Namespace);
        p.AddWithValue("@agent", MemoryRows.Db(row.AgentId));
        p.AddWithValue("@session", MemoryRows.Db(row.SessionId));
        p.AddWithValue("@type", row.MemoryType);
        p.AddWithValue("@content", row.Content);
        p.AddWithValue("@metadata", MemoryRows.Db(row.Metadata?.ToJsonString()));
        p.AddWithValue("@tags", MemoryRows.JoinTags(row.Tags));
        p.AddWithValue("@importance", row.Importance);
        p.AddWithValue("@created", row.CreatedAt);
        p.AddWithValue("@updated", row.UpdatedAt);
        p.AddWithValue("@expires", MemoryRows.Db(row.ExpiresAt));
        p.AddWithValue("@source", MemoryRows.Db(row.Source));
        return Convert.ToInt64(insert.ExecuteScalar());
    }

    /// <summary>
    /// Folds the same memory stored again into memory <paramref name="seq"/>: the newer text wins, tags and metadata are merged,
    /// the higher importance is kept, and the old text is recorded in the event log.
    /// </summary>
    private static (long, MemoryRow, long)? Merge(DbSession session, DbTransaction tx, long seq, PendingWrite write, long now)
    {
        var read = session.Command($"SELECT {MemoryRows.Columns} FROM memories m WHERE m.seq = @seq", tx);
        read.Parameters.AddWithValue("@seq", seq);
        Memory old;
        using (var reader = read.ExecuteReader())
        {
            if (!reader.Read()) return null;
            old = MemoryRows.Read(reader);
        }
        var incoming = write.Row;
        var tags = old.Tags.Concat(incoming.Tags).Distinct().Take(MemoryLimits.Default.MaxTags).ToList();
        var metadata = old.Metadata?.DeepClone().AsObject() ?? incoming.Metadata?.DeepClone().AsObject();
        if (metadata is not null && incoming.Metadata is not null && old.Metadata is not null)
            foreach (var (key, value) in incoming.Metadata) metadata[key] = value?.DeepClone();
        var merged = incoming with
        {
            Id = old.Id, Namespace = old.Namespace, MemoryType = old.MemoryType, Tags = tags, Metadata = metadata,
            Importance = Math.Max(old.Importance, incoming.Importance), AgentId = old.AgentId ?? incoming.AgentId,
            SessionId = old.SessionId ?? incoming.SessionId, CreatedAt = UnixTime.ToMs(old.CreatedAt),
            // created_at may be set ahead of the clock (store_memory's created_at): never updated before created.
            UpdatedAt = Math.Max(now, UnixTime.ToMs(old.CreatedAt)),
            ExpiresAt = old.ExpiresAt is null || incoming.ExpiresAt is null ? null : Math.Max(UnixTime.ToMs(old.ExpiresAt.Value), incoming.ExpiresAt.Value),
        };
        var update = session.Command("""
            UPDATE memories SET content = @content, tags = @tags, metadata = @metadata, importance = @importance,
                   session_id = @session, updated_at = @updated, expires_at = @expires WHERE seq = @seq
            """, tx);
        update.Parameters.AddWithValue("@content", merged.Content);
        update.Parameters.AddWithValue("@tags", MemoryRows.JoinTags(merged.Tags));
        update.Parameters.AddWithValue("@metadata", MemoryRows.Db(merged.Metadata?.ToJsonString()));
        update.Parameters.AddWithValue("@importance", merged.Importance);
        update.Parameters.AddWithValue("@session", MemoryRows.Db(merged.SessionId));
        update.Parameters.AddWithValue("@updated", now);
        update.Parameters.AddWithValue("@expires", MemoryRows.Db(merged.ExpiresAt));
        update.Parameters.AddWithValue("@seq", seq);
        update.ExecuteNonQuery();
        var detail = new JsonObject
        {
            ["reason"] = write.MergeReason ?? "near-duplicate",
            ["old_content"] = old.Content, ["old_tags"] = string.Join(' ', old.Tags), ["old_importance"] = old.Importance,
        };
        // A lexical merge made without vectors has no cosine to record.
        if (write.Similarity is { } similarity) detail["similarity"] = Math.Round(similarity, 4);
        // The text changed and no vector of the new text came with it: the old vector goes, the worker embeds the new text.
        if (write.Vector is null) VectorStore.Drop(session, tx, seq);
        if (write.Supersedes.Count > 0) detail["supersedes"] = new JsonArray([.. write.Supersedes.Select(id => (JsonNode)id.ToString("D"))]);
        var eventSeq = AppendEvent(session, tx, now, "update", old.Namespace, old.Id.ToString("D"), detail.ToJsonString());
        return (seq, merged, eventSeq);
    }

    /// <summary>
    /// The merge rule's semantic part, found after the store was acknowledged (write-behind): memory
    /// <paramref name="newSeq"/> restates memory <paramref name="oldSeq"/>. The old memory takes the new text exactly as
    /// an inline merge would ("update" event with the old text, reason and cosine), with the new text's vector; the
    /// new memory, whose id was already handed out, stays readable and is marked superseded by the old one ("supersede"
    /// event), so get and memory_history still resolve its id and the merge's event lists it. Nothing happens (false)
    /// when either row is gone, the new one is already superseded, or its text changed since it was judged.
    /// </summary>
    public bool FoldInto(long oldSeq, long newSeq, string judgedContent, float[] vector, string model, double similarity, string reason, long now) => database.Write((session, tx) =>
    {
        var read = session.Command($"SELECT {MemoryRows.Columns} FROM memories m WHERE m.seq = @seq", tx);
        read.Parameters.AddWithValue("@seq", newSeq);
        Memory incoming;
        using (var reader = read.ExecuteReader())
        {
            if (!reader.Read()) return false;
            incoming = MemoryRows.Read(reader);
        }
        if (incoming.SupersededBy is not null || incoming.Content != judgedContent) return false;
        var row = new MemoryRow(incoming.Id, incoming.Namespace, incoming.AgentId, incoming.SessionId, incoming.MemoryType, incoming.Content,
            incoming.Metadata, incoming.Tags, incoming.Importance, UnixTime.ToMs(incoming.CreatedAt), UnixTime.ToMs(incoming.UpdatedAt),
            incoming.ExpiresAt is { } e ? UnixTime.ToMs(e) : null, incoming.Source);
        var merge = new PendingWrite(row, vector, oldSeq, null, similarity, reason) { Supersedes = [incoming.Id] };
        if (Merge(session, tx, oldSeq, merge, now) is not { } merged) return false;
        VectorStore.Write(session, tx, oldSeq, model, vector);
        Supersede(session, tx, incoming.Id, merged.Item2.Id, "memory_id", now);
        return true;
    });

    /// <summary>Marks an existing memory superseded by another existing one (a curator's choice), with its "supersede" event.</summary>
    public long SupersedeExisting(Guid id, Guid successor, long now) => database.Write((session, tx) => Supersede(session, tx, id, successor, "memory_id", now));

    /// <summary>
    /// Marks memory <paramref name="id"/> superseded by <paramref name="successor"/> (kept, hidden from default search)
    /// with a "supersede" event carrying both ids and the old text. Returns the event's seq.
    /// </summary>
    private static long Supersede(DbSession session, DbTransaction tx, Guid id, Guid successor, string field, long now)
    {
        if (id == successor) throw new MemoryValidationException(field, $"{id} is the memory being stored; a memory cannot supersede itself");
        var read = session.Command("SELECT namespace, content, superseded_by FROM memories WHERE id = @id AND (expires_at IS NULL OR expires_at > @now)", tx);
        read.Parameters.AddWithValue("@id", id.ToString("D"));
        read.Parameters.AddWithValue("@now", now);
        string ns, content;
        string? previous;
        using (var reader = read.ExecuteReader())
        {
            if (!reader.Read()) throw new MemoryNotFoundException($"{field}: no memory with id {id} (nothing was stored)");
            (ns, content, previous) = (reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2));
        }
        var update = session.Command("UPDATE memories SET superseded_by = @successor WHERE id = @id", tx);
        update.Parameters.AddWithValue("@successor", successor.ToString("D"));
        update.Parameters.AddWithValue("@id", id.ToString("D"));
        update.ExecuteNonQuery();
        var detail = new JsonObject { ["superseded_by"] = successor.ToString("D"), ["content"] = content };
        if (previous is not null) detail["previously_superseded_by"] = previous;
        return AppendEvent(session, tx, now, "supersede", ns, id.ToString("D"), detail.ToJsonString());
    }

    /// <summary>
    /// Brings an archived memory back to default search: clears archived_at and appends an "unarchive" event (with the
    /// time it was archived), so every process's indexes follow. Its row is otherwise untouched. Returns the time it had
    /// been archived, or null when it was not archived (nothing written).
    /// </summary>
    public DateTimeOffset? Unarchive(Guid id, long now) => database.Write((session, tx) =>
    {
        var read = session.Command("SELECT namespace, content, archived_at FROM memories WHERE id = @id AND archived_at IS NOT NULL", tx);
        read.Parameters.AddWithValue("@id", id.ToString("D"));
        string ns, content;
        long archivedAt;
        using (var reader = read.ExecuteReader())
        {
            if (!reader.Read()) return (DateTimeOffset?)null;
            (ns, content, archivedAt) = (reader.GetString(0), reader.GetString(1), reader.GetInt64(2));
        }
        var update = session.Command("UPDATE memories SET archived_at = NULL WHERE id = @id", tx);
        update.Parameters.AddWithValue("@id", id.ToString("D"));
        update.ExecuteNonQuery();
        var detail = new JsonObject { ["archived_at"] = archivedAt, ["content"] = content };
        AppendEvent(session, tx, now, "unarchive", ns, id.ToString("D"), detail.ToJsonString());
        return UnixTime.FromMs(archivedAt);
    });

    /// <summary>
    /// Every version of a memory, oldest first, rebuilt from the event log: its own events (stored, merged, superseded,
    /// imported, deleted, expired) and those of the memories it superseded, in the order they happened (followed back up to
    /// <paramref name="maxDepth"/> links). Null when the log has never heard of it.
    /// </summary>
    public List<MemoryVersion>? History(Guid id, int maxDepth = 16) => database.Read(session =>
    {
        // A bulk import names no single memory: such a memory's history starts from its row.
        if (!HasEvents(session, id) && Get(session, id) is { } imported)
            return [new MemoryVersion(id, "stored", imported.CreatedAt, imported.Content)];
        var versions = new List<(long Seq, MemoryVersion Version)>();
        var seen = new HashSet<Guid>();
        var pending = new Queue<(Guid Id, int Depth)>([(id, 0)]);
        while (pending.TryDequeue(out var next))
        {
            if (!seen.Add(next.Id)) continue;
            var (own, predecessors) = VersionsOf(session, next.Id);
            versions.AddRange(own);
            if (next.Depth < maxDepth) foreach (var p in predecessors) pending.Enqueue((p, next.Depth + 1));
        }
        return versions.Count == 0 ? null : versions.OrderBy(v => v.Seq).Select(v => v.Version).ToList();
    });

    private static bool HasEvents(DbSession session, Guid id)
    {
        var command = session.Command("SELECT 1 FROM events WHERE memory_id = @id LIMIT 1");
        command.Parameters.AddWithValue("@id", id.ToString("D"));
        return command.ExecuteScalar() is not null;
    }

    private static (List<(long, MemoryVersion)> Versions, List<Guid> Predecessors) VersionsOf(DbSession session, Guid id)
    {
        var key = id.ToString("D");
        var events = new List<(long Seq, long At, string Kind, JsonObject? Detail)>();
        var select = session.Command("SELECT seq, at, kind, detail FROM events WHERE memory_id = @id ORDER BY seq");
        select.Parameters.AddWithValue("@id", key);
        using (var reader = select.ExecuteReader())
            while (reader.Read())
                events.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.IsDBNull(3) ? null : JsonNode.Parse(reader.GetString(3)) as JsonObject));
        var current = session.Command("SELECT content FROM memories WHERE id = @id");
        current.Parameters.AddWithValue("@id", key);
        var now = current.ExecuteScalar() as string;

        // A merge records the text it replaced, so the text after each event is the next merge's old text, else the
        // text the memory has now (or had when it was deleted).
        string? TextAfter(int index)
        {
            for (var j = index + 1; j < events.Count; j++)
            {
                if (events[j].Kind == "update") return events[j].Detail?["old_content"]?.GetValue<string>();
                if (events[j].Kind is "delete" or "expire") return events[j].Detail?["content"]?.GetValue<string>();
            }
            return now;
        }

        var versions = new List<(long, MemoryVersion)>();
        var predecessors = new List<Guid>();
        for (var i = 0; i < events.Count; i++)
        {
            var (seq, at, kind, detail) = events[i];
            var time = UnixTime.FromMs(at);
            foreach (var p in detail?["supersedes"]?.AsArray() ?? [])
                if (Guid.TryParse(p?.GetValue<string>(), out var predecessor)) predecessors.Add(predecessor);
            MemoryVersion? version = kind switch
            {
                "store" => new MemoryVersion(id, "stored", time, TextAfter(i)),
                "import" => new MemoryVersion(id, "imported", time, TextAfter(i)),
                "update" => new MemoryVersion(id, "merged", time, TextAfter(i), Similarity: detail?["similarity"]?.GetValue<double>()),
                "supersede" => new MemoryVersion(id, "superseded", time, detail?["content"]?.GetValue<string>(),
                    SupersededBy: Guid.TryParse(detail?["superseded_by"]?.GetValue<string>(), out var successor) ? successor : null),
                "delete" => new MemoryVersion(id, "deleted", time, detail?["content"]?.GetValue<string>()),
                "expire" => new MemoryVersion(id, "expired", time, detail?["content"]?.GetValue<string>()),
                "archive" => new MemoryVersion(id, "archived", time, detail?["content"]?.GetValue<string>()),
                "unarchive" => new MemoryVersion(id, "unarchived", time, detail?["content"]?.GetValue<string>()),
                "summarize" => new MemoryVersion(id, "summarized", time, detail?["content"]?.GetValue<string>(),
                    SummarizedBy: Guid.TryParse(detail?["summary_id"]?.GetValue<string>(), out var summary) ? summary : null),
                _ => null, // embed, feedback: not a version of the text
            };
            if (version is not null) versions.Add((seq, version));
        }
        return (versions, predecessors);
    }

    /// <summary>The namespace a memory lives (or lived) in, from its row or else its events; null if never seen.</summary>
    public string? NamespaceOf(Guid id) => database.Read(session =>
    {
        var command = session.Command("""
            SELECT namespace FROM memories WHERE id = @id
            UNION ALL SELECT namespace FROM (SELECT namespace FROM events WHERE memory_id = @id AND namespace IS NOT NULL ORDER BY seq LIMIT 1) first_event
            LIMIT 1
            """);
        command.Parameters.AddWithValue("@id", id.ToString("D"));
        return command.ExecuteScalar() as string;
    });

    private static Memory? Get(DbSession session, Guid id)
    {
        var command = session.Command($"SELECT {MemoryRows.Columns} FROM memories m WHERE m.id = @id");
        command.Parameters.AddWithValue("@id", id.ToString("D"));
        using var reader = command.ExecuteReader();
        return reader.Read() ? MemoryRows.Read(reader) : null;
    }

    public Memory? Get(Guid id, long now) => database.Read(session =>
    {
        var command = session.Command(GetSql);
        command.Parameters.AddWithValue("@id", id.ToString("D"));
        command.Parameters.AddWithValue("@now", now);
        using var reader = command.ExecuteReader();
        return reader.Read() ? MemoryRows.Read(reader) : null;
    });

    /// <summary>Deletes the memory (row, FTS entry and vector, via triggers) if <paramref name="mayDelete"/> allows it.</summary>
    public Memory? Delete(Guid id, long now, Func<Memory, bool> mayDelete) => database.Write((session, tx) =>
    {
        var get = session.Command(GetSql, tx);
        get.Parameters.AddWithValue("@id", id.ToString("D"));
        get.Parameters.AddWithValue("@now", now);
        Memory? memory;
        using (var reader = get.ExecuteReader())
            memory = reader.Read() ? MemoryRows.Read(reader) : null;
        if (memory is null || !mayDelete(memory)) return null;

        var delete = session.Command("DELETE FROM memories WHERE id = @id", tx);
        delete.Parameters.AddWithValue("@id", id.ToString("D"));
        delete.ExecuteNonQuery();
        // The event keeps the deleted text: nothing is lost without a trace.
        var detail = new JsonObject { ["seq"] = memory.Seq, ["content"] = memory.Content, ["memory_type"] = memory.MemoryType, ["tags"] = string.Join(' ', memory.Tags) };
        AppendEvent(session, tx, now, "delete", memory.Namespace, memory.Id.ToString("D"), detail.ToJsonString());
        return memory;
    });

    /// <summary>
    /// Deletes up to <paramref name="limit"/> memories whose expires_at has passed (row, FTS entry and vector),
    /// each with an "expire" event that keeps its text, in one transaction. Returns how many were deleted.
    /// </summary>
    public int PurgeExpired(long now, int limit) => database.Write((session, tx) =>
    {
        var expired = session.Command(
            "SELECT seq, id, namespace, memory_type, content, tags FROM memories WHERE expires_at IS NOT NULL AND expires_at <= @now ORDER BY expires_at LIMIT @limit", tx);
        expired.Parameters.AddWithValue("@now", now);
        expired.Parameters.AddWithValue("@limit", limit);
        var rows = new List<(long Seq, string Id, string Namespace, JsonObject Detail)>();
        using (var reader = expired.ExecuteReader())
            while (reader.Read())
                rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2),
                    new JsonObject { ["seq"] = reader.GetInt64(0), ["content"] = reader.GetString(4), ["memory_type"] = reader.GetString(3), ["tags"] = reader.GetString(5) }));
        foreach (var (seq, id, ns, detail) in rows)
        {
            var delete = session.Command("DELETE FROM memories WHERE seq = @seq", tx);
            delete.Parameters.AddWithValue("@seq", seq);
            delete.ExecuteNonQuery();
            AppendEvent(session, tx, now, "expire", ns, id, detail.ToJsonString());
        }
        return rows.Count;
    });


    /// <summary>Appends to the event log and returns the event's seq.</summary>
    internal static long AppendEvent(DbSession session, DbTransaction tx, long at, string kind, string? ns, string? memoryId, string? detail)
    {
        var command = session.Command(EventSql, tx);
        command.Parameters.AddWithValue("@at", at);
        command.Parameters.AddWithValue("@kind", kind);
        command.Parameters.AddWithValue("@ns", MemoryRows.Db(ns));
        command.Parameters.AddWithValue("@memory", MemoryRows.Db(memoryId));
        command.Parameters.AddWithValue("@detail", MemoryRows.Db(detail));
        return Convert.ToInt64(command.ExecuteScalar());
    }

    public StoreStats Stats(long now) => database.Read(session =>
    {
        var byNamespace = new Dictionary<string, long>(StringComparer.Ordinal);
        var byType = new Dictionary<string, long>(StringComparer.Ordinal);
        var grouped = session.Command(
            "SELECT namespace, memory_type, count(*) FROM memories WHERE expires_at IS NULL OR expires_at > @now GROUP BY 1, 2");
        grouped.Parameters.AddWithValue("@now", now);
        using (var reader = grouped.ExecuteReader())
        {
            while (reader.Read())
            {
                var count = reader.GetInt64(2);
                byNamespace[reader.GetString(0)] = byNamespace.GetValueOrDefault(reader.GetString(0)) + count;
                byType[reader.GetString(1)] = byType.GetValueOrDefault(reader.GetString(1)) + count;
            }
        }
        long Scalar(string sql) => Convert.ToInt64(session.Command(sql).ExecuteScalar());
        return new StoreStats(
            Path: database.Path,
            SchemaVersion: database.SchemaVersion,
            Memories: byNamespace.Values.Sum(),
            WithEmbedding: Scalar("SELECT count(*) FROM memories WHERE has_embedding = 1"),
            StateKeys: Scalar("SELECT count(*) FROM agent_state"),
            Events: Scalar("SELECT count(*) FROM events"),
            FileBytes: Scalar(database.Engine.SizeSql),
            ByNamespace: byNamespace,
            ByType: byType);
    });
}

public sealed record StoreStats(
    string Path, int SchemaVersion, long Memories, long WithEmbedding, long StateKeys, long Events, long FileBytes,
    IReadOnlyDictionary<string, long> ByNamespace, IReadOnlyDictionary<string, long> ByType);
