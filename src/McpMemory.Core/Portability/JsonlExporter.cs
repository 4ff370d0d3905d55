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
    public static ExportCounts Write(MemoryDatabase database, TextWriter output, long now) => PortableStore.ReadSnapshot(database, snapshot =>
    {
        Line(output, JsonlFormat.HeaderRecord());
        long memories = 0, states = 0, feedback = 0, events = 0, vectors = 0;

        foreach (var (seq, m) in snapshot.Memories(now))
        {
            var record = new JsonObject
            {
                ["kind"] = JsonlFormat.Memory,
                ["id"] = m.Id,
                ["namespace"] = m.Namespace,
                ["memory_type"] = m.MemoryType,
                ["content"] = m.Content,
                ["metadata"] = m.Metadata is null ? null : JsonNode.Parse(m.Metadata),
                ["tags"] = new JsonArray(MemoryRows.SplitTags(m.Tags).Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
                ["importance"] = m.Importance,
                ["agent_id"] = m.AgentId,
                ["session_id"] = m.SessionId,
                ["source"] = m.Source,
                ["access_count"] = m.AccessCount,
                ["last_accessed"] = Time(m.LastAccessed),
                ["created_at"] = JsonlFormat.Time(m.CreatedAt),
                ["updated_at"] = JsonlFormat.Time(m.UpdatedAt),
                ["expires_at"] = Time(m.ExpiresAt),
                ["superseded_by"] = m.SupersededBy,
            };
            // Written only when set, so an export of a store without archived memories reads in older versions too.
            if (m.ArchivedAt is { } archivedAt) record["archived_at"] = JsonlFormat.Time(archivedAt);
            Line(output, record);
            memories++;
            if (snapshot.Vector(seq, m.Id) is { } v)
            {
                // The float16 bytes as they are, in base64.
                Line(output, new JsonObject
                {
                    ["kind"] = JsonlFormat.Vector,
                    ["memory_id"] = v.MemoryId,
                    ["model"] = v.Model,
                    ["dimension"] = (long)v.Dimension,
                    ["vector"] = Convert.ToBase64String(v.Blob),
                });
                vectors++;
            }
        }

        foreach (var s in snapshot.States())
        {
            Line(output, new JsonObject
            {
                ["kind"] = JsonlFormat.State,
                ["namespace"] = s.Namespace,
                ["agent_id"] = s.AgentId,
                ["key"] = s.Key,
                ["value"] = JsonNode.Parse(s.Value),
                ["version"] = s.Version,
                ["updated_at"] = JsonlFormat.Time(s.UpdatedAt),
            });
            states++;
        }

        foreach (var f in snapshot.Feedback())
        {
            Line(output, new JsonObject
            {
                ["kind"] = JsonlFormat.Feedback,
                ["memory_id"] = f.MemoryId,
                ["namespace"] = f.Namespace,
                ["signal"] = f.Signal,
                ["note"] = f.Note,
                ["created_at"] = JsonlFormat.Time(f.CreatedAt),
            });
            feedback++;
        }

        foreach (var e in snapshot.Events())
        {
            Line(output, new JsonObject
            {
                ["kind"] = JsonlFormat.Event,
                ["event"] = e.Event,
                ["at"] = JsonlFormat.Time(e.At),
                ["namespace"] = e.Namespace,
                ["memory_id"] = e.MemoryId,
                ["detail"] = e.Detail is null ? null : JsonNode.Parse(e.Detail),
            });
            events++;
        }

        output.Flush();
        return new ExportCounts(memories, states, feedback, events, vectors);
    }, retryWhenBusy: false); // lines already written cannot be taken back

    private static void Line(TextWriter output, JsonObject record)
    {
        output.Write(record.ToJsonString(JsonlFormat.Options));
        output.Write('\n');
    }

    private static string? Time(long? ms) => ms is { } t ? JsonlFormat.Time(t) : null;
}
