using McpMemory.Core.Indexes;
using McpMemory.Core.Indexes.Vectors;
using System.Data.Common;

namespace McpMemory.Core.Storage;

/// <summary>
/// A memory stored without a vector (write-behind, or the encoder was not ready, or failed), waiting for one;
/// <see cref="SemanticCheck"/>: stored write-behind and never embedded, so the merge rule's semantic part is still due.
/// </summary>
internal sealed record PendingEmbedding(long Seq, string Id, string Namespace, string Content, string MemoryType = "fact", bool SemanticCheck = false);

/// <summary>SQL for stored vectors: written with their memory, tagged with the encoder's model id; the rows still waiting for one.</summary>
internal static class VectorStore
{
    public static void Write(DbSession session, DbTransaction tx, long seq, string model, ReadOnlySpan<float> vector) =>
        WriteBlob(session, tx, seq, model, vector.Length, VectorCodec.ToBlob(vector));

    /// <summary>Stores an already encoded vector (little-endian float16[dimension]), as an import carries it.</summary>
    public static void WriteBlob(DbSession session, DbTransaction tx, long seq, string model, int dimension, byte[] blob)
    {
        var insert = session.Command("INSERT INTO memory_vectors (seq, model, dimension, vector) VALUES (@seq, @model, @dim, @vector) " +
            "ON CONFLICT (seq) DO UPDATE SET model = excluded.model, dimension = excluded.dimension, vector = excluded.vector", tx);
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
    public static IEnumerable<(IndexEntry Entry, float[] Vector)> ReadAll(DbSession session, string model, long afterSeq = 0)
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
    public static (IndexEntry Entry, float[] Vector)? ReadOne(DbSession session, string model, string memoryId)
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
    public static int DropOtherModels(DbSession session, DbTransaction tx, string model)
    {
        var reset = session.Command("UPDATE memories SET has_embedding = 0 WHERE seq IN (SELECT seq FROM memory_vectors WHERE model <> @model)", tx);
        reset.Parameters.AddWithValue("@model", model);
        var count = reset.ExecuteNonQuery();
        var drop = session.Command("DELETE FROM memory_vectors WHERE model <> @model", tx);
        drop.Parameters.AddWithValue("@model", model);
        drop.ExecuteNonQuery();
        return count;
    }

    /// <summary>
    /// Up to <paramref name="limit"/> memories stored without a vector, oldest first: the write-behind queue, rebuilt
    /// from the rows at every start. <paramref name="seqs"/>: only those rows (a primary-key lookup each: the rows this
    /// process just stored); <paramref name="upToSeq"/>: only rows up to that seq. Without <paramref name="seqs"/> the
    /// query reads every memory (there is no index on has_embedding: one would add a page to every store's commit).
    /// A row whose store event marks the semantic check pending and that was never embedded (no "embed" event) still
    /// needs the check; a reindex's rows do not.
    /// </summary>
    public static List<PendingEmbedding> Pending(MemoryDatabase database, int limit, IReadOnlyCollection<long>? seqs = null, long upToSeq = long.MaxValue) =>
        database.Read(session =>
    {
        var which = seqs is null ? "m.seq <= @upTo" : $"m.seq IN ({database.Engine.ListOf("@seqs", numbers: true)})";
        var select = session.Command($"""
            SELECT m.seq, m.id, m.namespace, m.content, m.memory_type,
                   CAST(CASE WHEN EXISTS (SELECT 1 FROM events e WHERE e.memory_id = m.id AND e.kind = 'store' AND e.detail LIKE '%"{PendingWrite.SemanticCheckMark}":"pending"%')
                   AND NOT EXISTS (SELECT 1 FROM events e WHERE e.memory_id = m.id AND e.kind = 'embed') THEN 1 ELSE 0 END AS BIGINT)
            FROM memories m WHERE m.has_embedding = 0 AND {which} ORDER BY m.seq LIMIT @n
            """);
        select.Parameters.AddWithValue("@n", limit);
        if (seqs is null) select.Parameters.AddWithValue("@upTo", upToSeq);
        else select.Parameters.AddWithValue("@seqs", StorageEngine.NumberList(seqs));
        var rows = new List<PendingEmbedding>();
        using var reader = select.ExecuteReader();
        while (reader.Read())
            rows.Add(new(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt64(5) != 0));
        return rows;
    });

    /// <summary>The highest seq of any memory (0 when there is none).</summary>
    public static long LastSeq(MemoryDatabase database) => database.Read(session =>
        Convert.ToInt64(session.Command("SELECT coalesce(max(seq), 0) FROM memories").ExecuteScalar()));

    /// <summary>A merge changed the text without a new vector: the old one goes, and the row waits for the worker.</summary>
    public static void Drop(DbSession session, DbTransaction tx, long seq)
    {
        var drop = session.Command("DELETE FROM memory_vectors WHERE seq = @seq", tx);
        drop.Parameters.AddWithValue("@seq", seq);
        drop.ExecuteNonQuery();
        var flag = session.Command("UPDATE memories SET has_embedding = 0 WHERE seq = @seq", tx);
        flag.Parameters.AddWithValue("@seq", seq);
        flag.ExecuteNonQuery();
    }

    /// <summary>Number of memories waiting for a vector.</summary>
    public static long PendingCount(MemoryDatabase database) => database.Read(session =>
        Convert.ToInt64(session.Command("SELECT count(*) FROM memories WHERE has_embedding = 0").ExecuteScalar()));

    /// <summary>
    /// Stores the vectors of pending memories, each with its "embed" event, in one transaction. A row whose text
    /// changed since it was read (a merge), that is gone, or that another process embedded meanwhile is skipped. Returns
    /// the indexes (into <paramref name="rows"/>) of the rows written.
    /// </summary>
    public static List<int> WriteEmbedded(MemoryDatabase database, IReadOnlyList<PendingEmbedding> rows,
        string model, IReadOnlyList<float[]> vectors, long now) => database.Write((session, tx) =>
    {
        var written = new List<int>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            // Another process's worker (servers sharing the file each embed the rows waiting) may have been first.
            var same = session.Command("SELECT 1 FROM memories WHERE seq = @seq AND content = @content AND has_embedding = 0", tx);
            same.Parameters.AddWithValue("@seq", rows[i].Seq);
            same.Parameters.AddWithValue("@content", rows[i].Content);
            if (same.ExecuteScalar() is null) continue;
            Write(session, tx, rows[i].Seq, model, vectors[i]);
            MemoryStore.AppendEvent(session, tx, now, "embed", rows[i].Namespace, rows[i].Id, null);
            written.Add(i);
        }
        return written;
    });

    /// <summary>Drops every vector and marks every memory for re-embedding; returns how many memories were marked.</summary>
    public static long Reset(MemoryDatabase database) => database.Write((session, tx) =>
    {
        var count = session.Command("UPDATE memories SET has_embedding = 0", tx).ExecuteNonQuery();
        session.Command("DELETE FROM memory_vectors", tx).ExecuteNonQuery();
        return (long)count;
    });
}
