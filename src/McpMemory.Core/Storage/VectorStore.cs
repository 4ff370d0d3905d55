using McpMemory.Core.Search;
using McpMemory.Core.Vectors;
using Microsoft.Data.Sqlite;

namespace McpMemory.Core.Storage;

/// <summary>SQL for stored vectors: written with their memory, tagged with the encoder's model id.</summary>
internal static class VectorStore
{
    public static void Write(SqliteSession session, SqliteTransaction tx, long seq, string model, ReadOnlySpan<float> vector) =>
        WriteBlob(session, tx, seq, model, vector.Length, VectorCodec.ToBlob(vector));

    /// <summary>Stores an already encoded vector (little-endian float16[dimension]), as an import carries it.</summary>
    public static void WriteBlob(SqliteSession session, SqliteTransaction tx, long seq, string model, int dimension, byte[] blob)
    {
        var insert = session.Command("INSERT OR REPLACE INTO memory_vectors (seq, model, dimension, vector) VALUES (@seq, @model, @dim, @vector)", tx);
        insert.Parameters.AddWithValue("@seq", seq);
        insert.Parameters.AddWithValue("@model", model);
        insert.Parameters.AddWithValue("@dim", dimension);
        insert.Parameters.AddWithValue("@vector", blob);
        insert.ExecuteNonQuery();
        var flag = session.Command("UPDATE memories SET has_embedding = 1 WHERE seq = @seq", tx);
        flag.Parameters.AddWithValue("@seq", seq);
        flag.ExecuteNonQuery();
    }

    /// <summary>Every stored vector of <paramref name="model"/> with the fields the index filters on.</summary>
    public static IEnumerable<(IndexEntry Entry, float[] Vector)> ReadAll(SqliteSession session, string model, long afterSeq = 0)
    {
        var command = session.Command($"""
            SELECT {MemoryRows.IndexEntryColumns}, v.vector
            FROM memory_vectors v JOIN memories m ON m.seq = v.seq WHERE v.model = @model AND v.seq > @after ORDER BY v.seq
            """);
        command.Parameters.AddWithValue("@model", model);
        command.Parameters.AddWithValue("@after", afterSeq);
        using var reader = command.ExecuteReader();
        while (reader.Read())
            yield return (MemoryRows.ReadIndexEntry(reader), VectorCodec.FromBlob((byte[])reader[MemoryRows.IndexEntryCount]));
    }

    /// <summary>The index entry for one memory, or null if it has no vector of <paramref name="model"/>.</summary>
    public static (IndexEntry Entry, float[] Vector)? ReadOne(SqliteSession session, string model, string memoryId)
    {
        var command = session.Command($"""
            SELECT {MemoryRows.IndexEntryColumns}, v.vector
            FROM memories m JOIN memory_vectors v ON v.seq = m.seq WHERE m.id = @id AND v.model = @model
            """);
        command.Parameters.AddWithValue("@id", memoryId);
        command.Parameters.AddWithValue("@model", model);
        using var reader = command.ExecuteReader();
        return reader.Read() ? (MemoryRows.ReadIndexEntry(reader), VectorCodec.FromBlob((byte[])reader[MemoryRows.IndexEntryCount])) : null;
    }

    /// <summary>Vectors of another encoder are never mixed with ours: drop them so the rows get re-embedded.</summary>
    public static int DropOtherModels(SqliteSession session, SqliteTransaction tx, string model)
    {
        var reset = session.Command("UPDATE memories SET has_embedding = 0 WHERE seq IN (SELECT seq FROM memory_vectors WHERE model <> @model)", tx);
        reset.Parameters.AddWithValue("@model", model);
        var count = reset.ExecuteNonQuery();
        var drop = session.Command("DELETE FROM memory_vectors WHERE model <> @model", tx);
        drop.Parameters.AddWithValue("@model", model);
        drop.ExecuteNonQuery();
        return count;
    }
}
