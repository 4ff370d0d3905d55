using System.Text.Json;
using System.Text.Json.Nodes;
using McpMemory.Core.Memories;
using Microsoft.Data.Sqlite;

namespace McpMemory.Core.Storage;

/// <summary>A validated memory ready to be written (see <see cref="MemoryService"/> for the checks).</summary>
internal sealed record MemoryRow(
    Guid Id, string Namespace, string? AgentId, string? SessionId, string MemoryType, string Content,
    JsonObject? Metadata, IReadOnlyList<string> Tags, double Importance, long CreatedAt, long UpdatedAt,
    long? ExpiresAt, string? Source);

/// <summary>One memory to write: a new row, or a merge into an existing memory (by seq, or an earlier item of the same batch).</summary>
internal sealed record PendingWrite(MemoryRow Row, float[]? Vector, long? MergeIntoSeq = null, int? MergeIntoBatchItem = null, double Similarity = 0);

internal sealed record WrittenMemory(long Seq, MemoryRow Row, float[]? Vector, string Status);

internal sealed record WriteBatchResult(IReadOnlyList<WrittenMemory> Written, long FirstEventSeq, long LastEventSeq);

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
    /// near-duplicates into an existing memory, each with its event. Returns what was written, in order.
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
            if (target is not null)
                (seq, final, eventSeq) = Merge(session, tx, target.Value, write, now);
            else
                (seq, final, eventSeq) = (Insert(session, tx, write.Row), write.Row, AppendEvent(session, tx, now, "store", write.Row.Namespace, write.Row.Id.ToString("D"), null));
            if (write.Vector is not null && model is not null) VectorStore.Write(session, tx, seq, model, write.Vector);
            if (firstEvent == 0) firstEvent = eventSeq;
            lastEvent = eventSeq;
            written.Add(new WrittenMemory(seq, final, write.Vector, write.MergeIntoSeq is null && write.MergeIntoBatchItem is null ? StoreResult.Stored : StoreResult.Updated));
        }
        return new WriteBatchResult(written, firstEvent, lastEvent);
    });

    private static long Insert(SqliteSession session, SqliteTransaction tx, MemoryRow row)
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
    /// Folds a near-duplicate into memory <paramref name="seq"/>: the newer text wins, tags and metadata are merged,
    /// the higher importance is kept, and the old text is recorded in the event log.
    /// </summary>
    private static (long, MemoryRow, long) Merge(SqliteSession session, SqliteTransaction tx, long seq, PendingWrite write, long now)
    {
        var read = session.Command($"SELECT {MemoryRows.Columns} FROM memories m WHERE m.seq = @seq", tx);
        read.Parameters.AddWithValue("@seq", seq);
        Memory old;
        using (var reader = read.ExecuteReader())
        {
            if (!reader.Read()) throw new InvalidOperationException($"memory seq {seq} vanished during a merge");
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
            SessionId = old.SessionId ?? incoming.SessionId, CreatedAt = UnixTime.ToMs(old.CreatedAt), UpdatedAt = now,
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
            ["reason"] = "near-duplicate", ["similarity"] = Math.Round(write.Similarity, 4),
            ["old_content"] = old.Content, ["old_tags"] = string.Join(' ', old.Tags), ["old_importance"] = old.Importance,
        };
        var eventSeq = AppendEvent(session, tx, now, "update", old.Namespace, old.Id.ToString("D"), detail.ToJsonString());
        return (seq, merged, eventSeq);
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
    internal static long AppendEvent(SqliteSession session, SqliteTransaction tx, long at, string kind, string? ns, string? memoryId, string? detail)
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
            FileBytes: Scalar("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"),
            ByNamespace: byNamespace,
            ByType: byType);
    });
}

public sealed record StoreStats(
    string Path, int SchemaVersion, long Memories, long WithEmbedding, long StateKeys, long Events, long FileBytes,
    IReadOnlyDictionary<string, long> ByNamespace, IReadOnlyDictionary<string, long> ByType);
