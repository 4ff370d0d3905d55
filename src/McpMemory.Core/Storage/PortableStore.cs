using McpMemory.Core.Memories;
using System.Data.Common;

namespace McpMemory.Core.Storage;

// The rows as an export carries them and an import writes them back: every column as stored (times in unix ms, tags
// joined by spaces, metadata, values and details as JSON text).
internal sealed record StoredMemory(string Id, string Namespace, string MemoryType, string Content, string? Metadata, string Tags,
    double Importance, string? AgentId, string? SessionId, string? Source, long AccessCount, long? LastAccessed,
    long CreatedAt, long UpdatedAt, long? ExpiresAt, string? SupersededBy, long? ArchivedAt = null);
internal sealed record StoredState(string Namespace, string AgentId, string Key, string Value, long Version, long UpdatedAt);
internal sealed record StoredFeedback(string MemoryId, string Namespace, string Signal, string? Note, long CreatedAt);
internal sealed record StoredEvent(string Event, long At, string? Namespace, string? MemoryId, string? Detail);
internal sealed record StoredVector(string MemoryId, string Model, int Dimension, byte[] Blob);

/// <summary>SQL for export and import: the whole database read as its rows, and rows written back exactly.</summary>
internal static class PortableStore
{
    /// <summary>
    /// The event an import leaves in the database it writes to (kind "import", no memory): bookkeeping of that file,
    /// not history of the memories, so exports leave it out and imports skip it.
    /// </summary>
    private const string ImportMarkerSql = "kind = 'import' AND memory_id IS NULL";

    /// <summary>Runs <paramref name="read"/> over one snapshot (a deferred read transaction), consistent while others write.</summary>
    public static T ReadSnapshot<T>(MemoryDatabase database, Func<Snapshot, T> read, bool retryWhenBusy = true) => database.Read(session =>
    {
        using var transaction = database.Engine.BeginSnapshot(session);
        var result = read(new Snapshot(session, transaction));
        transaction.Commit();
        return result;
    }, retryWhenBusy);

    /// <summary>Runs <paramref name="write"/> in one write transaction.</summary>
    public static T Write<T>(MemoryDatabase database, Func<Writer, T> write) =>
        database.Write((session, tx) => write(new Writer(session, tx)));

    /// <summary>The memories that have not expired, by namespace, newest first (for the Markdown export).</summary>
    public static List<Memory> LiveMemoriesByNamespace(MemoryDatabase database, long now) => database.Read(session =>
    {
        var command = session.Command($"SELECT {MemoryRows.Columns} FROM memories m WHERE m.expires_at IS NULL OR m.expires_at > @now ORDER BY m.namespace, m.created_at DESC, m.seq DESC");
        command.Parameters.AddWithValue("@now", now);
        using var reader = command.ExecuteReader();
        var list = new List<Memory>();
        while (reader.Read()) list.Add(MemoryRows.Read(reader));
        return list;
    });

    public sealed class Snapshot(DbSession session, DbTransaction transaction)
    {
        /// <summary>The memories that have not expired, in seq order, each with its seq.</summary>
        public IEnumerable<(long Seq, StoredMemory Memory)> Memories(long now)
        {
            // PostgreSQL has one open result per connection, and the exporter reads each memory's vector while it goes
            // through them: pages of rows, each read whole (the snapshot keeps the pages consistent), on both engines.
            for (long after = 0; ;)
            {
                var page = Page(now, after, PageSize).ToList();
                foreach (var row in page) yield return row;
                if (page.Count < PageSize) yield break;
                after = page[^1].Seq;
            }
        }

        private const int PageSize = 500;

        private IEnumerable<(long Seq, StoredMemory Memory)> Page(long now, long after, int limit)
        {
            var command = session.Command($"SELECT {MemoryRows.Columns} FROM memories m WHERE (m.expires_at IS NULL OR m.expires_at > @now)" +
                " AND m.seq > @after ORDER BY m.seq LIMIT @limit", transaction);
            command.Parameters.AddWithValue("@now", now);
            command.Parameters.AddWithValue("@after", after);
            command.Parameters.AddWithValue("@limit", limit);
            using var reader = command.ExecuteReader();
            while (reader.Read())
                yield return (reader.GetInt64(0), new StoredMemory(
                    Id: reader.GetString(1), Namespace: reader.GetString(2), MemoryType: reader.GetString(5), Content: reader.GetString(6),
                    Metadata: Text(reader, 7), Tags: reader.GetString(8), Importance: reader.GetDouble(9), AgentId: Text(reader, 3),
                    SessionId: Text(reader, 4), Source: Text(reader, 16), AccessCount: reader.GetInt64(11), LastAccessed: Number(reader, 12),
                    CreatedAt: reader.GetInt64(13), UpdatedAt: reader.GetInt64(14), ExpiresAt: Number(reader, 15), SupersededBy: Text(reader, 17),
                    ArchivedAt: Number(reader, 18)));
        }

        /// <summary>The stored vector of the memory at <paramref name="seq"/>, if it has one.</summary>
        public StoredVector? Vector(long seq, string memoryId)
        {
            var command = session.Command("SELECT model, dimension, vector FROM memory_vectors WHERE seq = @seq", transaction);
            command.Parameters.AddWithValue("@seq", seq);
            using var reader = command.ExecuteReader();
            return reader.Read() ? new StoredVector(memoryId, reader.GetString(0), (int)reader.GetInt64(1), (byte[])reader[2]) : null;
        }

        public IEnumerable<StoredState> States()
        {
            using var reader = session.Command(
                "SELECT namespace, agent_id, key, value, version, updated_at FROM agent_state ORDER BY namespace, agent_id, key", transaction).ExecuteReader();
            while (reader.Read())
                yield return new StoredState(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt64(4), reader.GetInt64(5));
        }

        public IEnumerable<StoredFeedback> Feedback()
        {
            using var reader = session.Command("SELECT memory_id, namespace, signal, note, created_at FROM feedback ORDER BY seq", transaction).ExecuteReader();
            while (reader.Read())
                yield return new StoredFeedback(reader.GetString(0), reader.GetString(1), reader.GetString(2), Text(reader, 3), reader.GetInt64(4));
        }

        /// <summary>The event log in order, without the markers of earlier imports.</summary>
        public IEnumerable<StoredEvent> Events()
        {
            using var reader = session.Command(
                $"SELECT at, kind, namespace, memory_id, detail FROM events WHERE NOT ({ImportMarkerSql}) ORDER BY seq", transaction).ExecuteReader();
            while (reader.Read())
                yield return new StoredEvent(reader.GetString(1), reader.GetInt64(0), Text(reader, 2), Text(reader, 3), Text(reader, 4));
        }
    }

    public sealed class Writer(DbSession session, DbTransaction tx)
    {
        /// <summary>Adds the memory as it was (no vector yet); false when its id is already here.</summary>
        public bool Add(StoredMemory m)
        {
            var insert = session.Command("""
                INSERT INTO memories (id, namespace, agent_id, session_id, memory_type, content, metadata, tags, importance,
                                      has_embedding, access_count, last_accessed, created_at, updated_at, expires_at, source, superseded_by, archived_at)
                VALUES (@id, @ns, @agent, @session, @type, @content, @metadata, @tags, @importance,
                        0, @accessCount, @lastAccessed, @created, @updated, @expires, @source, @supersededBy, @archivedAt)
                ON CONFLICT (id) DO NOTHING
                """, tx);
            var p = insert.Parameters;
            p.AddWithValue("@id", m.Id);
            p.AddWithValue("@ns", m.Namespace);
            p.AddWithValue("@agent", MemoryRows.Db(m.AgentId));
            p.AddWithValue("@session", MemoryRows.Db(m.SessionId));
            p.AddWithValue("@type", m.MemoryType);
            p.AddWithValue("@content", m.Content);
            p.AddWithValue("@metadata", MemoryRows.Db(m.Metadata));
            p.AddWithValue("@tags", m.Tags);
            p.AddWithValue("@importance", m.Importance);
            p.AddWithValue("@accessCount", m.AccessCount);
            p.AddWithValue("@lastAccessed", MemoryRows.Db(m.LastAccessed));
            p.AddWithValue("@created", m.CreatedAt);
            p.AddWithValue("@updated", m.UpdatedAt);
            p.AddWithValue("@expires", MemoryRows.Db(m.ExpiresAt));
            p.AddWithValue("@source", MemoryRows.Db(m.Source));
            p.AddWithValue("@supersededBy", MemoryRows.Db(m.SupersededBy));
            p.AddWithValue("@archivedAt", MemoryRows.Db(m.ArchivedAt));
            return insert.ExecuteNonQuery() == 1;
        }

        /// <summary>Adds the state key as it was; false when the key is already here.</summary>
        public bool Add(StoredState s)
        {
            var insert = session.Command("""
                INSERT INTO agent_state (namespace, agent_id, key, value, version, updated_at)
                VALUES (@ns, @agent, @key, @value, @version, @updated)
                ON CONFLICT (namespace, agent_id, key) DO NOTHING
                """, tx);
            insert.Parameters.AddWithValue("@ns", s.Namespace);
            insert.Parameters.AddWithValue("@agent", s.AgentId);
            insert.Parameters.AddWithValue("@key", s.Key);
            insert.Parameters.AddWithValue("@value", s.Value);
            insert.Parameters.AddWithValue("@version", s.Version);
            insert.Parameters.AddWithValue("@updated", s.UpdatedAt);
            return insert.ExecuteNonQuery() == 1;
        }

        public void Add(StoredFeedback f)
        {
            var insert = session.Command("""
                INSERT INTO feedback (memory_id, namespace, signal, note, created_at) VALUES (@memory, @ns, @signal, @note, @created)
                """, tx);
            insert.Parameters.AddWithValue("@memory", f.MemoryId);
            insert.Parameters.AddWithValue("@ns", f.Namespace);
            insert.Parameters.AddWithValue("@signal", f.Signal);
            insert.Parameters.AddWithValue("@note", MemoryRows.Db(f.Note));
            insert.Parameters.AddWithValue("@created", f.CreatedAt);
            insert.ExecuteNonQuery();
        }

        public void Add(StoredEvent e) => MemoryStore.AppendEvent(session, tx, e.At, e.Event, e.Namespace, e.MemoryId, e.Detail);

        /// <summary>Stores the vector with its memory (which must be here).</summary>
        public void Add(StoredVector v)
        {
            var find = session.Command("SELECT seq FROM memories WHERE id = @id", tx);
            find.Parameters.AddWithValue("@id", v.MemoryId);
            VectorStore.WriteBlob(session, tx, Convert.ToInt64(find.ExecuteScalar()), v.Model, v.Dimension, v.Blob);
        }
    }

    private static string? Text(DbDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetString(column);

    private static long? Number(DbDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetInt64(column);
}
