namespace McpMemory.Core.Storage;

/// <summary>A memory made by seeding, as seeding needs it: its id, which piece of which source it is, and that piece's hash.</summary>
internal sealed record SeededMemory(Guid Id, string Key, string? Hash, string? SourcePath);

/// <summary>
/// The read seeding needs: the live memories of a namespace that seeding made, by their seed key (metadata
/// <c>seed_key</c>), so a re-run touches only what changed. Superseded memories are history, not current pieces.
/// </summary>
internal sealed class SeedQueries(MemoryDatabase database)
{
    public List<SeededMemory> Seeded(string ns) => database.Read(session =>
    {
        var engine = database.Engine;
        var command = session.Command(
            $"SELECT id, {engine.JsonText("metadata", "seed_key")}, {engine.JsonText("metadata", "content_hash")}, {engine.JsonText("metadata", "source_path")} " +
            "FROM memories WHERE namespace = @ns AND superseded_by IS NULL AND metadata IS NOT NULL " +
            $"AND {engine.JsonText("metadata", "seed_key")} IS NOT NULL ORDER BY seq");
        command.Parameters.AddWithValue("@ns", ns);
        var rows = new List<SeededMemory>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
            rows.Add(new SeededMemory(Guid.Parse(reader.GetString(0)), reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
        return rows;
    });
}
