using System.Text.Json.Nodes;

namespace McpMemory.Core.Storage;

/// <summary>SQL for feedback on memories: each signal is a row (ranking sums them) and an event.</summary>
internal sealed class FeedbackStore(MemoryDatabase database)
{
    /// <summary>Records one signal on memory <paramref name="id"/>; returns the feedback row's seq.</summary>
    public long Add(Guid id, string ns, string signal, string? note, long now) => database.Write((session, tx) =>
    {
        var insert = session.Command("INSERT INTO feedback (memory_id, namespace, signal, note, created_at) VALUES (@id, @ns, @signal, @note, @now) RETURNING seq", tx);
        insert.Parameters.AddWithValue("@id", id.ToString("D"));
        insert.Parameters.AddWithValue("@ns", ns);
        insert.Parameters.AddWithValue("@signal", signal);
        insert.Parameters.AddWithValue("@note", MemoryRows.Db(note));
        insert.Parameters.AddWithValue("@now", now);
        var seq = Convert.ToInt64(insert.ExecuteScalar());
        var detail = new JsonObject { ["signal"] = signal, ["note"] = note };
        MemoryStore.AppendEvent(session, tx, now, "feedback", ns, id.ToString("D"), detail.ToJsonString());
        return seq;
    });
}
