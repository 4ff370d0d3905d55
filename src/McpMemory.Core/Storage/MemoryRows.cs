using System.Text.Json.Nodes;
using McpMemory.Core.Memories;
using System.Data.Common;

namespace McpMemory.Core.Storage;

/// <summary>The one place that knows the column order of a memory row.</summary>
internal static class MemoryRows
{
    public const string Columns =
        "m.seq, m.id, m.namespace, m.agent_id, m.session_id, m.memory_type, m.content, m.metadata, m.tags, m.importance, " +
        "m.has_embedding, m.access_count, m.last_accessed, m.created_at, m.updated_at, m.expires_at, m.source, m.superseded_by, m.archived_at";

    /// <summary>Number of columns in <see cref="Columns"/>; extra selected columns start here.</summary>
    public const int Count = 19;

    public static Memory Read(DbDataReader r) => new()
    {
        Seq = r.GetInt64(0),
        Id = Guid.Parse(r.GetString(1)),
        Namespace = r.GetString(2),
        AgentId = r.IsDBNull(3) ? null : r.GetString(3),
        SessionId = r.IsDBNull(4) ? null : r.GetString(4),
        MemoryType = r.GetString(5),
        Content = r.GetString(6),
        Metadata = r.IsDBNull(7) ? null : JsonNode.Parse(r.GetString(7)) as JsonObject,
        Tags = SplitTags(r.GetString(8)),
        Importance = r.GetDouble(9),
        HasEmbedding = r.GetInt64(10) != 0,
        AccessCount = r.GetInt64(11),
        LastAccessed = r.IsDBNull(12) ? null : UnixTime.FromMs(r.GetInt64(12)),
        CreatedAt = UnixTime.FromMs(r.GetInt64(13)),
        UpdatedAt = UnixTime.FromMs(r.GetInt64(14)),
        ExpiresAt = r.IsDBNull(15) ? null : UnixTime.FromMs(r.GetInt64(15)),
        Source = r.IsDBNull(16) ? null : r.GetString(16),
        SupersededBy = r.IsDBNull(17) ? null : Guid.Parse(r.GetString(17)),
        ArchivedAt = r.IsDBNull(18) ? null : UnixTime.FromMs(r.GetInt64(18)),
    };

    /// <summary>The fields an in-memory index keeps of a memory, in the order <see cref="ReadIndexEntry"/> reads them.</summary>
    public const string IndexEntryColumns = "m.seq, m.namespace, m.memory_type, m.importance, m.created_at, m.expires_at, m.session_id, m.tags, CAST(CASE WHEN m.superseded_by IS NULL THEN 0 ELSE 1 END AS BIGINT), CAST(CASE WHEN m.archived_at IS NULL THEN 0 ELSE 1 END AS BIGINT)";

    /// <summary>Number of columns in <see cref="IndexEntryColumns"/>; extra selected columns start here.</summary>
    public const int IndexEntryCount = 10;

    public static Indexes.IndexEntry ReadIndexEntry(DbDataReader r) => new(
        Seq: r.GetInt64(0), Namespace: r.GetString(1), MemoryType: r.GetString(2), Importance: r.GetDouble(3),
        CreatedAt: r.GetInt64(4), ExpiresAt: r.IsDBNull(5) ? null : r.GetInt64(5), SessionId: r.IsDBNull(6) ? null : r.GetString(6),
        Tags: SplitTags(r.GetString(7)), Superseded: r.GetInt64(8) != 0, Archived: r.GetInt64(9) != 0);

    public static string JoinTags(IReadOnlyList<string> tags) => string.Join(' ', tags);

    public static IReadOnlyList<string> SplitTags(string tags) =>
        tags.Length == 0 ? [] : tags.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public static object Db(object? value) => value ?? DBNull.Value;
}
