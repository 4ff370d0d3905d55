using System.Text.Json;
using System.Text.Json.Nodes;
using McpMemory.Core.Memories;

namespace McpMemory.Core.Storage;

/// <summary>
/// The reads a briefing needs that search does not answer: how many live memories of each type, the newest or most
/// important few of some types, and the agent's state keys. "Live" is what default search sees: not superseded, not
/// expired. Namespaces are bound as one JSON array so each statement stays prepared whatever the list.
/// </summary>
internal sealed class BriefingQueries(MemoryDatabase database)
{
    private const string Live =
        "m.namespace IN (SELECT value FROM json_each(@namespaces)) AND m.superseded_by IS NULL AND (m.expires_at IS NULL OR m.expires_at > @now)";

    /// <summary>Live memories per type in the namespaces.</summary>
    public Dictionary<string, long> CountByType(IReadOnlyList<string> namespaces, long now) => database.Read(session =>
    {
        var command = session.Command($"SELECT m.memory_type, count(*) FROM memories m WHERE {Live} GROUP BY m.memory_type");
        Bind(command, namespaces, now);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        using var reader = command.ExecuteReader();
        while (reader.Read()) counts[reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    });

    /// <summary>The newest live memories of these types (ties: the later row first).</summary>
    public List<Memory> Newest(IReadOnlyList<string> namespaces, IReadOnlyList<string> types, long now, int limit) =>
        Top(namespaces, types, now, limit, "m.created_at DESC, m.seq DESC");

    /// <summary>The live memories of these types that matter most: importance, then how often they were used, then the newest.</summary>
    public List<Memory> MostImportant(IReadOnlyList<string> namespaces, IReadOnlyList<string>? types, long now, int limit) =>
        Top(namespaces, types, now, limit, "m.importance DESC, m.access_count DESC, m.created_at DESC, m.seq DESC");

    // The order is chosen over the narrow columns first and the full rows are read for the winners only: sorting 10K
    // whole rows (content, metadata) costs several times more than sorting their keys.
    private List<Memory> Top(IReadOnlyList<string> namespaces, IReadOnlyList<string>? types, long now, int limit, string order) => database.Read(session =>
    {
        var typeFilter = types is null ? "" : " AND m.memory_type IN (SELECT value FROM json_each(@types))";
        var command = session.Command(
            $"SELECT {MemoryRows.Columns} FROM memories m WHERE m.seq IN " +
            $"(SELECT m.seq FROM memories m WHERE {Live}{typeFilter} ORDER BY {order} LIMIT @limit) ORDER BY {order}");
        Bind(command, namespaces, now);
        if (types is not null) command.Parameters.AddWithValue("@types", JsonSerializer.Serialize(types));
        command.Parameters.AddWithValue("@limit", limit);
        var rows = new List<Memory>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) rows.Add(MemoryRows.Read(reader));
        return rows;
    });

    /// <summary>The agent's state keys in the namespaces, most recently updated first, and how many there are in all.</summary>
    public (List<AgentState> States, long Total) States(IReadOnlyList<string> namespaces, string agentId, int limit) => database.Read(session =>
    {
        var count = session.Command("SELECT count(*) FROM agent_state WHERE agent_id = @agent AND namespace IN (SELECT value FROM json_each(@namespaces))");
        count.Parameters.AddWithValue("@agent", agentId);
        count.Parameters.AddWithValue("@namespaces", JsonSerializer.Serialize(namespaces));
        var total = Convert.ToInt64(count.ExecuteScalar());

        var command = session.Command(
            "SELECT namespace, key, value, version, updated_at FROM agent_state " +
            "WHERE agent_id = @agent AND namespace IN (SELECT value FROM json_each(@namespaces)) " +
            "ORDER BY updated_at DESC, namespace, key LIMIT @limit");
        command.Parameters.AddWithValue("@agent", agentId);
        command.Parameters.AddWithValue("@namespaces", JsonSerializer.Serialize(namespaces));
        command.Parameters.AddWithValue("@limit", limit);
        var states = new List<AgentState>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
            states.Add(new AgentState(reader.GetString(0), agentId, reader.GetString(1), JsonNode.Parse(reader.GetString(2)),
                reader.GetInt64(3), UnixTime.FromMs(reader.GetInt64(4))));
        return (states, total);
    });

    private static void Bind(Microsoft.Data.Sqlite.SqliteCommand command, IReadOnlyList<string> namespaces, long now)
    {
        command.Parameters.AddWithValue("@namespaces", JsonSerializer.Serialize(namespaces));
        command.Parameters.AddWithValue("@now", now);
    }
}
