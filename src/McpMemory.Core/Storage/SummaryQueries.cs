using System.Text.Json.Nodes;
using McpMemory.Core.Memories;

namespace McpMemory.Core.Storage;

/// <summary>
/// SQL for cluster summaries: the live tagged memories of a namespace (the clusters are drawn from them), and the
/// "summarize" events that link each original to the summary written for it, without touching the original's row.
/// </summary>
internal sealed class SummaryQueries(MemoryDatabase database)
{
    /// <summary>The live memories of <paramref name="ns"/> that carry at least one tag: most important, then newest first.</summary>
    public List<Memory> LiveTagged(string ns, long now) => database.Read(session =>
    {
        var command = session.Command(
            $"SELECT {MemoryRows.Columns} FROM memories m WHERE m.namespace = @ns AND m.tags <> '' AND m.superseded_by IS NULL AND m.archived_at IS NULL " +
            "AND (m.expires_at IS NULL OR m.expires_at > @now) ORDER BY m.importance DESC, m.created_at DESC, m.seq DESC");
        command.Parameters.AddWithValue("@ns", ns);
        command.Parameters.AddWithValue("@now", now);
        var rows = new List<Memory>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) rows.Add(MemoryRows.Read(reader));
        return rows;
    });

    /// <summary>Appends a "summarize" event to each original (its text as it is, the summary's id and the cluster's tag), in one transaction.</summary>
    public void Link(Guid summaryId, string tag, IReadOnlyList<Memory> originals, long now) => database.Write((session, tx) =>
    {
        foreach (var m in originals)
        {
            var detail = new JsonObject { ["summary_id"] = summaryId.ToString("D"), ["tag"] = tag, ["content"] = m.Content };
            MemoryStore.AppendEvent(session, tx, now, "summarize", m.Namespace, m.Id.ToString("D"), detail.ToJsonString());
        }
        return 0;
    });
}
