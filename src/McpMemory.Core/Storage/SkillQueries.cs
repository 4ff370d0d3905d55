using System.Text.Json;
using McpMemory.Core.Memories;

namespace McpMemory.Core.Storage;

/// <summary>A live skill memory with its success record: "useful" feedback counts as a success, "wrong" as a failure.</summary>
internal sealed record SkillRow(Memory Memory, long Successes, long Failures);

/// <summary>The reads skills need: the live skill memories of some namespaces (or all), each with its feedback counts.</summary>
internal sealed class SkillQueries(MemoryDatabase database)
{
    private const string Counts =
        "(SELECT count(*) FROM feedback f WHERE f.memory_id = m.id AND f.signal = 'useful'), " +
        "(SELECT count(*) FROM feedback f WHERE f.memory_id = m.id AND f.signal = 'wrong')";

    /// <summary>
    /// The query behind <see cref="Live"/>. It names the skills' partial index: given namespaces, SQLite's planner
    /// prefers the namespace index and reads every memory of the namespace (~850 page reads at 10,000 memories, on
    /// every search_memory call), where the skills are a handful of rows.
    /// </summary>
    internal static string LiveSql(StorageEngine engine, bool byNamespace) =>
        $"SELECT {MemoryRows.Columns}, {Counts} FROM memories m {engine.IndexedBy("ix_memories_skills")} WHERE m.memory_type = 'skill' AND m.superseded_by IS NULL AND m.archived_at IS NULL " +
        "AND (m.expires_at IS NULL OR m.expires_at > @now) " +
        (byNamespace ? $"AND m.namespace IN ({engine.ListOf("@namespaces")}) " : "") + "ORDER BY m.seq";

    /// <summary>Skills in these namespaces (null: every namespace), not superseded, not archived, not expired.</summary>
    public List<SkillRow> Live(IReadOnlyList<string>? namespaces, long now) => database.Read(session =>
    {
        var command = session.Command(LiveSql(database.Engine, namespaces is not null));
        command.Parameters.AddWithValue("@now", now);
        if (namespaces is not null) command.Parameters.AddWithValue("@namespaces", JsonSerializer.Serialize(namespaces, CoreJsonContext.Default.IReadOnlyListString));
        var rows = new List<SkillRow>();
        using var reader = command.ExecuteReader();
        var columns = reader.FieldCount;
        while (reader.Read()) rows.Add(new SkillRow(MemoryRows.Read(reader), reader.GetInt64(columns - 2), reader.GetInt64(columns - 1)));
        return rows;
    });
}
