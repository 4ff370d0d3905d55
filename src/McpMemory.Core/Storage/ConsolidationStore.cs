using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpMemory.Core.Indexes.Vectors;
using McpMemory.Core.Memories;

namespace McpMemory.Core.Storage;

/// <summary>A live memory as consolidation compares it: text, the fields a merge combines, and its vector of the current encoder.</summary>
internal sealed record ConsolidationRow(
    long Seq, Guid Id, string Namespace, string MemoryType, string Content, IReadOnlyList<string> Tags, double Importance,
    long AccessCount, long CreatedAt, float[]? Vector);

/// <summary>One merge to write: the memory kept, the memories it absorbs, and why (the rule's verdict per member).</summary>
/// <summary>A live memory that the archive rule finds stale.</summary>
internal sealed record StaleRow(Guid Id, string Namespace, string MemoryType, string Content, double Importance, long CreatedAt);

internal sealed record ConsolidationMerge(ConsolidationRow Canonical, IReadOnlyList<(ConsolidationRow Member, string Reason, double Cosine)> Members);

/// <summary>
/// Consolidation's SQL: the live memories of some namespaces with their vectors, and the merges, each in the store's
/// event vocabulary so history and the in-memory indexes follow them like any write: the canonical memory gets an
/// "update" event (old tags and importance, the ids it supersedes) and each restatement a "supersede" event with its text.
/// </summary>
internal sealed class ConsolidationStore(MemoryDatabase database)
{
    public List<ConsolidationRow> Live(IReadOnlyList<string>? namespaces, string? model, long now) => database.Read(session =>
    {
        var command = session.Command(
            "SELECT m.seq, m.id, m.namespace, m.memory_type, m.content, m.tags, m.importance, m.access_count, m.created_at, " +
            "(SELECT v.vector FROM memory_vectors v WHERE v.seq = m.seq AND v.model = @model) " +
            "FROM memories m WHERE m.superseded_by IS NULL AND m.archived_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > @now) " +
            (namespaces is null ? "" : $"AND m.namespace IN ({database.Engine.ListOf("@namespaces")}) ") + "ORDER BY m.seq");
        command.Parameters.AddWithValue("@model", (object?)model ?? DBNull.Value);
        command.Parameters.AddWithValue("@now", now);
        if (namespaces is not null) command.Parameters.AddWithValue("@namespaces", JsonSerializer.Serialize(namespaces, CoreJsonContext.Default.IReadOnlyListString));
        var rows = new List<ConsolidationRow>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
            rows.Add(new ConsolidationRow(reader.GetInt64(0), Guid.Parse(reader.GetString(1)), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                MemoryRows.SplitTags(reader.GetString(5)), reader.GetDouble(6), reader.GetInt64(7), reader.GetInt64(8),
                reader.IsDBNull(9) ? null : VectorCodec.FromBlob((byte[])reader[9])));
        return rows;
    });

    /// <summary>Writes the merges in one transaction; a member superseded or deleted meanwhile is left out of its merge.</summary>
    public int Apply(IReadOnlyList<ConsolidationMerge> merges, long now) => database.Write((session, tx) =>
    {
        var merged = 0;
        foreach (var merge in merges)
        {
            var canonical = merge.Canonical;
            var members = merge.Members.Where(m => StillLive(session, tx, m.Member.Id)).ToList();
            if (members.Count == 0 || !StillLive(session, tx, canonical.Id)) continue;
            var all = members.Select(m => m.Member).Prepend(canonical).ToList();
            var tags = all.SelectMany(r => r.Tags).Distinct().Take(MemoryLimits.Default.MaxTags).ToList();
            var update = session.Command(
                "UPDATE memories SET tags = @tags, importance = @importance, access_count = @access, updated_at = CASE WHEN @now > created_at THEN @now ELSE created_at END WHERE id = @id", tx);
            update.Parameters.AddWithValue("@tags", MemoryRows.JoinTags(tags));
            update.Parameters.AddWithValue("@importance", all.Max(r => r.Importance));
            update.Parameters.AddWithValue("@access", all.Sum(r => r.AccessCount));
            update.Parameters.AddWithValue("@now", now);
            update.Parameters.AddWithValue("@id", canonical.Id.ToString("D"));
            update.ExecuteNonQuery();
            var detail = new JsonObject
            {
                ["reason"] = "consolidated", ["similarity"] = Math.Round(members.Min(m => m.Cosine), 4),
                ["old_content"] = canonical.Content, ["old_tags"] = string.Join(' ', canonical.Tags), ["old_importance"] = canonical.Importance,
                ["supersedes"] = new JsonArray([.. members.Select(m => (JsonNode)m.Member.Id.ToString("D"))]),
            };
            MemoryStore.AppendEvent(session, tx, now, "update", canonical.Namespace, canonical.Id.ToString("D"), detail.ToJsonString());
            foreach (var (member, reason, cosine) in members)
            {
                var mark = session.Command("UPDATE memories SET superseded_by = @successor WHERE id = @id", tx);
                mark.Parameters.AddWithValue("@successor", canonical.Id.ToString("D"));
                mark.Parameters.AddWithValue("@id", member.Id.ToString("D"));
                mark.ExecuteNonQuery();
                var memberDetail = new JsonObject
                {
                    ["superseded_by"] = canonical.Id.ToString("D"), ["content"] = member.Content, ["reason"] = "consolidated: " + reason,
                    ["similarity"] = Math.Round(cosine, 4),
                };
                MemoryStore.AppendEvent(session, tx, now, "supersede", member.Namespace, member.Id.ToString("D"), memberDetail.ToJsonString());
                merged++;
            }
        }
        return merged;
    });

    /// <summary>
    /// The stale memories of some namespaces (null: every one): live (not superseded, archived or expired), less important
    /// than <paramref name="belowImportance"/>, never accessed (no search or briefing returned them, no feedback),
    /// created and last changed before <paramref name="cutoff"/>, and not unarchived since then (a memory brought back
    /// gets the whole age again before it can go).
    /// </summary>
    public List<StaleRow> Stale(IReadOnlyList<string>? namespaces, long cutoff, double belowImportance, long now) => database.Read(session =>
    {
        var command = session.Command($"SELECT m.id, m.namespace, m.memory_type, m.content, m.importance, m.created_at FROM memories m WHERE {StaleSql} " +
            (namespaces is null ? "" : $"AND m.namespace IN ({database.Engine.ListOf("@namespaces")}) ") + "ORDER BY m.seq");
        BindStale(command, cutoff, belowImportance, now);
        if (namespaces is not null) command.Parameters.AddWithValue("@namespaces", JsonSerializer.Serialize(namespaces, CoreJsonContext.Default.IReadOnlyListString));
        var rows = new List<StaleRow>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
            rows.Add(new StaleRow(Guid.Parse(reader.GetString(0)), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetDouble(4), reader.GetInt64(5)));
        return rows;
    });

    private const string StaleSql =
        "m.superseded_by IS NULL AND m.archived_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > @now) " +
        "AND m.importance < @below AND m.access_count = 0 AND m.last_accessed IS NULL AND m.created_at < @cutoff AND m.updated_at < @cutoff " +
        "AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.memory_id = m.id) " +
        "AND NOT EXISTS (SELECT 1 FROM events e WHERE e.memory_id = m.id AND e.kind = 'unarchive' AND e.at >= @cutoff) ";

    private static void BindStale(DbCommand command, long cutoff, double belowImportance, long now)
    {
        command.Parameters.AddWithValue("@cutoff", cutoff);
        command.Parameters.AddWithValue("@below", belowImportance);
        command.Parameters.AddWithValue("@now", now);
    }

    /// <summary>
    /// Archives the memories in one transaction, each with an "archive" event (its text and why), checking each is still
    /// stale (another process may have used or changed it since it was read). Returns the ids archived.
    /// </summary>
    public List<Guid> Archive(IReadOnlyList<StaleRow> rows, long cutoff, double belowImportance, int afterDays, long now) => database.Write((session, tx) =>
    {
        var archived = new List<Guid>();
        foreach (var row in rows)
        {
            var update = session.Command($"UPDATE memories AS m SET archived_at = @now WHERE m.id = @id AND {StaleSql}", tx);
            BindStale(update, cutoff, belowImportance, now);
            update.Parameters.AddWithValue("@id", row.Id.ToString("D"));
            if (update.ExecuteNonQuery() == 0) continue;
            var detail = new JsonObject
            {
                ["reason"] = "stale", ["archive_after_days"] = afterDays, ["below_importance"] = belowImportance,
                ["importance"] = row.Importance, ["created_at"] = row.CreatedAt, ["content"] = row.Content,
            };
            MemoryStore.AppendEvent(session, tx, now, "archive", row.Namespace, row.Id.ToString("D"), detail.ToJsonString());
            archived.Add(row.Id);
        }
        return archived;
    });

    private static bool StillLive(DbSession session, DbTransaction tx, Guid id)
    {
        var command = session.Command("SELECT 1 FROM memories WHERE id = @id AND superseded_by IS NULL AND archived_at IS NULL", tx);
        command.Parameters.AddWithValue("@id", id.ToString("D"));
        return command.ExecuteScalar() is not null;
    }
}
