using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpMemory.Core.Memories;

namespace McpMemory.Core.Storage;

/// <summary>
/// The reads a briefing needs that search does not answer: the live memories' ranking fields (one scan gives every
/// section's count and order), the full rows of the chosen few, and the agent's state keys. "Live" is what default search sees: not superseded, not
/// archived, not expired. Namespaces are bound as one JSON array so each statement stays prepared whatever the list.
/// </summary>
/// <summary>What ordering a briefing section needs of a memory; the full row is read for the chosen few only.</summary>
internal sealed record LiveMemory(long Seq, string MemoryType, double Importance, long AccessCount, long CreatedAt);

internal sealed class BriefingQueries(MemoryDatabase database)
{
    private string LiveFilter =>
        $"m.namespace IN ({database.Engine.ListOf("@namespaces")}) AND m.superseded_by IS NULL AND m.archived_at IS NULL AND (m.expires_at IS NULL OR m.expires_at > @now)";

    /// <summary>The ranking fields of every live memory in the namespaces: one scan serves every section's order and count.</summary>
    public List<LiveMemory> Live(IReadOnlyList<string> namespaces, long now) => database.Read(session =>
    {
        var command = session.Command($"SELECT m.seq, m.memory_type, m.importance, m.access_count, m.created_at FROM memories m WHERE {LiveFilter}");
        Bind(command, namespaces, now);
        var rows = new List<LiveMemory>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) rows.Add(new LiveMemory(reader.GetInt64(0), reader.GetString(1), reader.GetDouble(2), reader.GetInt64(3), reader.GetInt64(4)));
        return rows;
    });

    /// <summary>The full rows of these memories, keyed by seq (rows gone meanwhile are left out).</summary>
    public Dictionary<long, Memory> Rows(IEnumerable<long> seqs) => database.Read(session =>
    {
        var command = session.Command($"SELECT {MemoryRows.Columns} FROM memories m WHERE m.seq IN ({database.Engine.ListOf("@seqs", numbers: true)})");
        command.Parameters.AddWithValue("@seqs", StorageEngine.NumberList(seqs));
        var rows = new Dictionary<long, Memory>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) { var memory = MemoryRows.Read(reader); rows[memory.Seq] = memory; }
        return rows;
    });

    /// <summary>The agent's state keys in the namespaces, most recently updated first, and how many there are in all.</summary>
    public (List<AgentState> States, long Total) States(IReadOnlyList<string> namespaces, string agentId, int limit) => database.Read(session =>
    {
        var count = session.Command($"SELECT count(*) FROM agent_state WHERE agent_id = @agent AND namespace IN ({database.Engine.ListOf("@namespaces")})");
        count.Parameters.AddWithValue("@agent", agentId);
        count.Parameters.AddWithValue("@namespaces", JsonSerializer.Serialize(namespaces, CoreJsonContext.Default.IReadOnlyListString));
        var total = Convert.ToInt64(count.ExecuteScalar());

        var command = session.Command(
            "SELECT namespace, key, value, version, updated_at FROM agent_state " +
            $"WHERE agent_id = @agent AND namespace IN ({database.Engine.ListOf("@namespaces")}) " +
            "ORDER BY updated_at DESC, namespace, key LIMIT @limit");
        command.Parameters.AddWithValue("@agent", agentId);
        command.Parameters.AddWithValue("@namespaces", JsonSerializer.Serialize(namespaces, CoreJsonContext.Default.IReadOnlyListString));
        command.Parameters.AddWithValue("@limit", limit);
        var states = new List<AgentState>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
            states.Add(new AgentState(reader.GetString(0), agentId, reader.GetString(1), JsonNode.Parse(reader.GetString(2)),
                reader.GetInt64(3), UnixTime.FromMs(reader.GetInt64(4))));
        return (states, total);
    });

    private static void Bind(DbCommand command, IReadOnlyList<string> namespaces, long now)
    {
        command.Parameters.AddWithValue("@namespaces", JsonSerializer.Serialize(namespaces, CoreJsonContext.Default.IReadOnlyListString));
        command.Parameters.AddWithValue("@now", now);
    }
}
