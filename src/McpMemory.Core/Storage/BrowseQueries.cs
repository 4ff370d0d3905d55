using System.Text;
using System.Text.Json.Nodes;
using McpMemory.Core.Memories;
using System.Data.Common;

namespace McpMemory.Core.Storage;

/// <summary>How a browsed page is ordered.</summary>
public enum BrowseSort { Newest, MostUsed, Importance }

/// <summary>
/// One page of memories as a person browses them (the dashboard's list), filtered like a search but without a query.
/// <see cref="Namespaces"/> null means every namespace (an unrestricted caller only; <see cref="MemoryService"/> fills in a
/// restricted caller's own).
/// </summary>
public sealed record BrowseRequest
{
    public IReadOnlyList<string>? Namespaces { get; init; }
    public string? MemoryType { get; init; }
    public IReadOnlyList<string>? Tags { get; init; }
    public double? MinImportance { get; init; }
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    public bool IncludeSuperseded { get; init; }
    /// <summary>Also list memories that consolidation archived as stale (hidden by default, as in search).</summary>
    public bool IncludeArchived { get; init; }
    public BrowseSort Sort { get; init; } = BrowseSort.Newest;
    public int Page { get; init; } = 1;
    public int PageSize { get; init; } = 50;
}

/// <summary>A page of memories and how many match in all.</summary>
public sealed record BrowsePage(IReadOnlyList<Memory> Items, long Total, int Page, int PageSize);

/// <summary>Feedback on one memory, counted by signal.</summary>
public sealed record FeedbackCounts(long Useful, long Noted, long Wrong);

/// <summary>A state key as listed: the agent it belongs to, its version and value.</summary>
public sealed record StateEntry(string Namespace, string AgentId, string Key, string ValueJson, long Version, DateTimeOffset UpdatedAt);

/// <summary>What the dashboard's overview shows of the memories a caller may read.</summary>
public sealed record StoreOverview(
    long Memories,
    IReadOnlyList<(DateOnly Week, string MemoryType, long Count)> PerWeek,
    IReadOnlyList<(string Tag, long Count)> TopTags,
    IReadOnlyList<(string Namespace, long Count)> Namespaces,
    IReadOnlyList<Memory> MostAccessed,
    long NeverAccessed,
    IReadOnlyList<Memory> NeverAccessedOldest,
    long FileBytes,
    long PendingEmbeddings);

/// <summary>
/// The read-only SQL behind browsing: pages of memories with filters and a sort, counts for the overview, feedback per
/// memory, the state keys of some namespaces, and the newest event (the dashboard's "something changed" signal).
/// </summary>
internal sealed class BrowseQueries(MemoryDatabase database)
{
    public BrowsePage Page(BrowseRequest request, IReadOnlyList<string>? namespaces, long now) => database.Read(session =>
    {
        var (where, bind) = Where(request, namespaces, now);
        var order = request.Sort switch
        {
            BrowseSort.MostUsed => "m.access_count DESC, m.created_at DESC",
            BrowseSort.Importance => "m.importance DESC, m.created_at DESC",
            _ => "m.created_at DESC, m.seq DESC",
        };
        var count = session.Command($"SELECT count(*) FROM memories m WHERE {where}");
        bind(count);
        var total = Convert.ToInt64(count.ExecuteScalar());
        // Sort narrow rows (the sort keys and seq), then read the page's full rows: the sorter never carries every text.
        var select = session.Command($"""
            SELECT {MemoryRows.Columns} FROM (SELECT m.seq FROM memories m WHERE {where} ORDER BY {order} LIMIT @limit OFFSET @offset) page
            JOIN memories m ON m.seq = page.seq ORDER BY {order}
            """);
        bind(select);
        select.Parameters.AddWithValue("@limit", request.PageSize);
        select.Parameters.AddWithValue("@offset", (long)(request.Page - 1) * request.PageSize);
        return new BrowsePage(ReadAll(select), total, request.Page, request.PageSize);
    });

    public StoreOverview Overview(IReadOnlyList<string>? namespaces, long now, long pendingEmbeddings) => database.Read(session =>
    {
        var (where, bind) = Where(new BrowseRequest { IncludeSuperseded = true }, namespaces, now);
        DbCommand Command(string sql) { var c = session.Command(sql); bind(c); return c; }

        var perWeek = new List<(DateOnly, string, long)>();
        // Weeks start on Monday (unix day 0 was a Thursday, hence the +3 / -3).
        using (var reader = Command($"""
                   SELECT ((m.created_at / 86400000 + 3) / 7) * 7 - 3 AS week, m.memory_type, count(*)
                   FROM memories m WHERE {where} GROUP BY 1, 2 ORDER BY 1
                   """).ExecuteReader())
            while (reader.Read())
                perWeek.Add((DateOnly.FromDateTime(DateTime.UnixEpoch.AddDays(reader.GetInt64(0))), reader.GetString(1), reader.GetInt64(2)));

        var tags = new Dictionary<string, long>(StringComparer.Ordinal);
        using (var reader = Command($"SELECT m.tags FROM memories m WHERE {where} AND m.tags <> ''").ExecuteReader())
            while (reader.Read())
                foreach (var tag in MemoryRows.SplitTags(reader.GetString(0)))
                    tags[tag] = tags.GetValueOrDefault(tag) + 1;

        var spaces = new List<(string, long)>();
        using (var reader = Command($"SELECT m.namespace, count(*) FROM memories m WHERE {where} GROUP BY 1 ORDER BY 2 DESC").ExecuteReader())
            while (reader.Read()) spaces.Add((reader.GetString(0), reader.GetInt64(1)));

        return new StoreOverview(
            Memories: spaces.Sum(s => s.Item2),
            PerWeek: perWeek,
            TopTags: tags.OrderByDescending(t => t.Value).ThenBy(t => t.Key, StringComparer.Ordinal).Take(15).Select(t => (t.Key, t.Value)).ToList(),
            Namespaces: spaces,
            MostAccessed: ReadAll(Command($"SELECT {MemoryRows.Columns} FROM memories m WHERE {where} AND m.access_count > 0 ORDER BY m.access_count DESC, m.created_at DESC LIMIT 5")),
            NeverAccessed: Convert.ToInt64(Command($"SELECT count(*) FROM memories m WHERE {where} AND m.access_count = 0").ExecuteScalar()),
            NeverAccessedOldest: ReadAll(Command($"SELECT {MemoryRows.Columns} FROM memories m WHERE {where} AND m.access_count = 0 ORDER BY m.created_at LIMIT 5")),
            FileBytes: Convert.ToInt64(session.Command(database.Engine.SizeSql).ExecuteScalar()),
            PendingEmbeddings: pendingEmbeddings);
    });

    public FeedbackCounts Feedback(Guid id) => database.Read(session =>
    {
        var command = session.Command("""
            SELECT coalesce(sum(CASE WHEN signal = 'useful' THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN signal = 'noted' THEN 1 ELSE 0 END), 0),
                   coalesce(sum(CASE WHEN signal = 'wrong' THEN 1 ELSE 0 END), 0)
            FROM feedback WHERE memory_id = @id
            """);
        command.Parameters.AddWithValue("@id", id.ToString("D"));
        using var reader = command.ExecuteReader();
        reader.Read();
        return new FeedbackCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    });

    public IReadOnlyList<StateEntry> State(IReadOnlyList<string>? namespaces, int limit) => database.Read(session =>
    {
        var command = session.Command($"""
            SELECT namespace, agent_id, key, value, version, updated_at FROM agent_state
            {(namespaces is null ? "" : $"WHERE namespace IN ({database.Engine.ListOf("@ns")})")}
            ORDER BY updated_at DESC LIMIT @limit
            """);
        if (namespaces is not null) command.Parameters.AddWithValue("@ns", JsonArrayOf(namespaces));
        command.Parameters.AddWithValue("@limit", limit);
        var entries = new List<StateEntry>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
            entries.Add(new StateEntry(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4),
                UnixTime.FromMs(reader.GetInt64(5))));
        return entries;
    });

    /// <summary>The seq of the newest event in these namespaces (0 when none): it moves whenever a memory or key changes.</summary>
    public long LatestEvent(IReadOnlyList<string>? namespaces) => database.Read(session =>
    {
        var command = session.Command(namespaces is null
            ? "SELECT coalesce(max(seq), 0) FROM events"
            : $"SELECT coalesce(max(seq), 0) FROM events WHERE namespace IN ({database.Engine.ListOf("@ns")})");
        if (namespaces is not null) command.Parameters.AddWithValue("@ns", JsonArrayOf(namespaces));
        return Convert.ToInt64(command.ExecuteScalar());
    });

    private (string Where, Action<DbCommand> Bind) Where(BrowseRequest request, IReadOnlyList<string>? namespaces, long now)
    {
        var sql = new StringBuilder("(m.expires_at IS NULL OR m.expires_at > @now)");
        if (namespaces is not null) sql.Append($" AND m.namespace IN ({database.Engine.ListOf("@ns")})");
        if (request.MemoryType is not null) sql.Append(" AND m.memory_type = @type");
        if (request.MinImportance is > 0) sql.Append(" AND m.importance >= @min");
        if (request.Since is not null) sql.Append(" AND m.created_at >= @since");
        if (request.Until is not null) sql.Append(" AND m.created_at < @until");
        if (!request.IncludeSuperseded) sql.Append(" AND m.superseded_by IS NULL");
        if (!request.IncludeArchived) sql.Append(" AND m.archived_at IS NULL");
        var tags = request.Tags ?? [];
        for (var i = 0; i < tags.Count; i++) sql.Append($" AND (' ' || m.tags || ' ') LIKE @tag{i} ESCAPE '\\'");
        return (sql.ToString(), command =>
        {
            command.Parameters.AddWithValue("@now", now);
            if (namespaces is not null) command.Parameters.AddWithValue("@ns", JsonArrayOf(namespaces));
            if (request.MemoryType is not null) command.Parameters.AddWithValue("@type", request.MemoryType);
            if (request.MinImportance is > 0) command.Parameters.AddWithValue("@min", request.MinImportance);
            if (request.Since is { } since) command.Parameters.AddWithValue("@since", UnixTime.ToMs(since));
            if (request.Until is { } until) command.Parameters.AddWithValue("@until", UnixTime.ToMs(until));
            for (var i = 0; i < tags.Count; i++)
                command.Parameters.AddWithValue($"@tag{i}", "% " + tags[i].Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + " %");
        });
    }

    private static string JsonArrayOf(IReadOnlyList<string> values) => new JsonArray([.. values.Select(v => (JsonNode)v)]).ToJsonString();

    private static List<Memory> ReadAll(DbCommand command)
    {
        var list = new List<Memory>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) list.Add(MemoryRows.Read(reader));
        return list;
    }
}
