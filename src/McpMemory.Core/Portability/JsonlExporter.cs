using System.Text.Json.Nodes;
using McpMemory.Core.Storage;

namespace McpMemory.Core.Portability;

/// <summary>How many records of each kind an export wrote.</summary>
public sealed record ExportCounts(long Memories, long States, long Feedback, long Events, long Vectors);

/// <summary>
/// Writes the whole database as JSONL (see <see cref="JsonlFormat"/>) from one read transaction, so the export is a
/// consistent snapshot even while a server writes. Expired memories are left out (they are gone for every reader).
/// Each memory's vector follows it as a "vector" record (float16 with the encoder's model id), and the event log goes
/// whole, except the markers earlier imports left in this database (they describe this file's past, and leaving them
/// out makes export → import → export give the same bytes).
/// </summary>
internal static class JsonlExporter
{
    public static ExportCounts Write(MemoryDatabase database, TextWriter output, long now) => database.Read(session =>
    {
        using var transaction = session.Connection.BeginTransaction(deferred: true);
        Line(output, JsonlFormat.HeaderRecord());
        long memories = 0, states = 0, feedback = 0, events = 0, vectors = 0;

        var memoryRows = session.Command(
            $"SELECT {MemoryRows.Columns} FROM memories m WHERE m.expires_at IS NULL OR m.expires_at > @now ORDER BY m.seq", transaction);
        memoryRows.Parameters.AddWithValue("@now", now);
        using (var reader = memoryRows.ExecuteReader())
            while (reader.Read())
            {
                Line(output, new JsonObject
                {
                    ["kind"] = JsonlFormat.Memory,
                    ["id"] = reader.GetString(1),
                    ["namespace"] = reader.GetString(2),
                    ["memory_type"] = reader.GetString(5),
                    ["content"] = reader.GetString(6),
                    ["metadata"] = reader.IsDBNull(7) ? null : JsonNode.Parse(reader.GetString(7)),
                    ["tags"] = new JsonArray(MemoryRows.SplitTags(reader.GetString(8)).Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
                    ["importance"] = reader.GetDouble(9),
                    ["agent_id"] = Text(reader, 3),
                    ["session_id"] = Text(reader, 4),
                    ["source"] = Text(reader, 16),
                    ["access_count"] = reader.GetInt64(11),
                    ["last_accessed"] = Time(reader, 12),
                    ["created_at"] = JsonlFormat.Time(reader.GetInt64(13)),
                    ["updated_at"] = JsonlFormat.Time(reader.GetInt64(14)),
                    ["expires_at"] = Time(reader, 15),
                    ["superseded_by"] = Text(reader, 17),
                });
                memories++;
                if (VectorRecord(session, transaction, reader.GetInt64(0), reader.GetString(1)) is { } vector) { Line(output, vector); vectors++; }
            }

        using (var reader = session.Command(
                   "SELECT namespace, agent_id, key, value, version, updated_at FROM agent_state ORDER BY namespace, agent_id, key", transaction).ExecuteReader())
            while (reader.Read())
            {
                Line(output, new JsonObject
                {
                    ["kind"] = JsonlFormat.State,
                    ["namespace"] = reader.GetString(0),
                    ["agent_id"] = reader.GetString(1),
                    ["key"] = reader.GetString(2),
                    ["value"] = JsonNode.Parse(reader.GetString(3)),
                    ["version"] = reader.GetInt64(4),
                    ["updated_at"] = JsonlFormat.Time(reader.GetInt64(5)),
                });
                states++;
            }

        using (var reader = session.Command(
                   "SELECT memory_id, namespace, signal, note, created_at FROM feedback ORDER BY seq", transaction).ExecuteReader())
            while (reader.Read())
            {
                Line(output, new JsonObject
                {
                    ["kind"] = JsonlFormat.Feedback,
                    ["memory_id"] = reader.GetString(0),
                    ["namespace"] = reader.GetString(1),
                    ["signal"] = reader.GetString(2),
                    ["note"] = Text(reader, 3),
                    ["created_at"] = JsonlFormat.Time(reader.GetInt64(4)),
                });
                feedback++;
            }

        using (var reader = session.Command(
                   $"SELECT at, kind, namespace, memory_id, detail FROM events WHERE NOT ({JsonlFormat.ImportMarkerSql}) ORDER BY seq", transaction).ExecuteReader())
            while (reader.Read())
            {
                Line(output, new JsonObject
                {
                    ["kind"] = JsonlFormat.Event,
                    ["event"] = reader.GetString(1),
                    ["at"] = JsonlFormat.Time(reader.GetInt64(0)),
                    ["namespace"] = Text(reader, 2),
                    ["memory_id"] = Text(reader, 3),
                    ["detail"] = reader.IsDBNull(4) ? null : JsonNode.Parse(reader.GetString(4)),
                });
                events++;
            }

        transaction.Commit();
        output.Flush();
        return new ExportCounts(memories, states, feedback, events, vectors);
    }, retryWhenBusy: false); // lines already written cannot be taken back

    /// <summary>The memory's stored vector as a record (the float16 bytes as they are, in base64), or null if it has none.</summary>
    private static JsonObject? VectorRecord(SqliteSession session, Microsoft.Data.Sqlite.SqliteTransaction transaction, long seq, string memoryId)
    {
        var command = session.Command("SELECT model, dimension, vector FROM memory_vectors WHERE seq = @seq", transaction);
        command.Parameters.AddWithValue("@seq", seq);
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        return new JsonObject
        {
            ["kind"] = JsonlFormat.Vector,
            ["memory_id"] = memoryId,
            ["model"] = reader.GetString(0),
            ["dimension"] = reader.GetInt64(1),
            ["vector"] = Convert.ToBase64String((byte[])reader[2]),
        };
    }

    private static void Line(TextWriter output, JsonObject record)
    {
        output.Write(record.ToJsonString(JsonlFormat.Options));
        output.Write('\n');
    }

    private static string? Text(Microsoft.Data.Sqlite.SqliteDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetString(column);

    private static string? Time(Microsoft.Data.Sqlite.SqliteDataReader reader, int column) =>
        reader.IsDBNull(column) ? null : JsonlFormat.Time(reader.GetInt64(column));
}
