using System.Data.Common;
using System.Text.Json.Nodes;
using McpMemory.Core.Memories;

namespace McpMemory.Core.Storage;

/// <summary>A state value with its optimistic-concurrency version.</summary>
public sealed record AgentState(string Namespace, string AgentId, string Key, JsonNode? Value, long Version, DateTimeOffset UpdatedAt);

/// <summary>(namespace, agent_id, key) → JSON value, versioned so that concurrent writers never silently overwrite.</summary>
internal sealed class AgentStateStore(MemoryDatabase database)
{
    private const string GetSql =
        "SELECT value, version, updated_at FROM agent_state WHERE namespace = @ns AND agent_id = @agent AND key = @key";

    public AgentState? Get(string ns, string agentId, string key) => database.Read(session => Read(session, null, ns, agentId, key));

    /// <summary>
    /// Sets the value. With <paramref name="expectedVersion"/>, the write happens only if the stored version
    /// equals it (0 = the key must not exist yet); otherwise <see cref="MemoryConflictException"/> names the current version.
    /// </summary>
    public AgentState Set(string ns, string agentId, string key, string valueJson, long? expectedVersion, long now) =>
        database.Write((session, tx) =>
        {
            var current = Read(session, tx, ns, agentId, key);
            var currentVersion = current?.Version ?? 0;
            if (expectedVersion is { } expected && expected != currentVersion) throw Conflict(key, current, expected);

            var upsert = session.Command("""
                INSERT INTO agent_state (namespace, agent_id, key, value, version, updated_at)
                VALUES (@ns, @agent, @key, @value, @version, @now)
                ON CONFLICT (namespace, agent_id, key) DO UPDATE SET value = excluded.value, version = excluded.version, updated_at = excluded.updated_at
                WHERE agent_state.version = excluded.version - 1
                """, tx);
            upsert.Parameters.AddWithValue("@ns", ns);
            upsert.Parameters.AddWithValue("@agent", agentId);
            upsert.Parameters.AddWithValue("@key", key);
            upsert.Parameters.AddWithValue("@value", valueJson);
            upsert.Parameters.AddWithValue("@version", currentVersion + 1);
            upsert.Parameters.AddWithValue("@now", now);
            // The write lock already makes read-then-write atomic across processes; the conditional upsert is the
            // compare-and-set itself, so the version can never move twice from the same value, whatever the lock does.
            if (upsert.ExecuteNonQuery() != 1)
                throw Conflict(key, Read(session, tx, ns, agentId, key), expectedVersion ?? currentVersion);

            var detail = new JsonObject { ["agent_id"] = agentId, ["key"] = key, ["version"] = currentVersion + 1 };
            MemoryStore.AppendEvent(session, tx, now, "state_set", ns, null, detail.ToJsonString());
            return new AgentState(ns, agentId, key, JsonNode.Parse(valueJson), currentVersion + 1, UnixTime.FromMs(now));
        });

    private static MemoryConflictException Conflict(string key, AgentState? current, long expected)
    {
        var currentVersion = current?.Version ?? 0;
        return new MemoryConflictException(
            $"expected_version: the stored version of \"{key}\" is {currentVersion}" +
            (current is null ? " (the key does not exist yet)" : "") +
            $", not {expected}; read it again (get_agent_state) and retry with expected_version={currentVersion}",
            currentVersion);
    }

    private static AgentState? Read(DbSession session, DbTransaction? tx, string ns, string agentId, string key)
    {
        var command = session.Command(GetSql, tx);
        command.Parameters.AddWithValue("@ns", ns);
        command.Parameters.AddWithValue("@agent", agentId);
        command.Parameters.AddWithValue("@key", key);
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        return new AgentState(ns, agentId, key, JsonNode.Parse(reader.GetString(0)), reader.GetInt64(1), UnixTime.FromMs(reader.GetInt64(2)));
    }
}
