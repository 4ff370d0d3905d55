using System.Text.Json.Nodes;
using McpMemory.Core.Indexes;

namespace McpMemory.Core.Storage;

/// <summary>The SQL behind <see cref="IIndexSource"/>: what the in-memory indexes read of the database.</summary>
internal sealed class IndexSource(MemoryDatabase database) : IIndexSource
{
    public T Read<T>(Func<IIndexReader, T> read) => database.Read(session => read(new Reader(session)));

    public void DropOtherModels(string model) => database.Write((session, tx) => VectorStore.DropOtherModels(session, tx, model));

    private sealed class Reader(DbSession session) : IIndexReader
    {
        /// <summary>The index entry, content, access count and net feedback of a memory.</summary>
        private const string KeywordColumns = $"{MemoryRows.IndexEntryColumns}, m.content, m.access_count, {MemorySearch.NetFeedback}";

        public long LastEventSeq() =>
            Convert.ToInt64(session.Command("SELECT coalesce(max(seq), 0) FROM events").ExecuteScalar());

        public IReadOnlyList<(long Seq, MemoryEvent Event)> EventsAfter(long seq, int limit)
        {
            var command = session.Command("SELECT seq, kind, memory_id, detail FROM events WHERE seq > @after ORDER BY seq LIMIT @limit");
            command.Parameters.AddWithValue("@after", seq);
            command.Parameters.AddWithValue("@limit", limit);
            var events = new List<(long Seq, MemoryEvent Event)>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var kind = reader.GetString(1);
                long? removed = kind is "delete" or "expire" && !reader.IsDBNull(3)
                    ? JsonNode.Parse(reader.GetString(3))?["seq"]?.GetValue<long>() : null;
                events.Add((reader.GetInt64(0), new MemoryEvent(kind, reader.IsDBNull(2) ? null : reader.GetString(2), removed)));
            }
            return events;
        }

        public bool SeqIsLive(long seq)
        {
            var command = session.Command("SELECT 1 FROM memories WHERE seq = @seq");
            command.Parameters.AddWithValue("@seq", seq);
            return command.ExecuteScalar() is not null;
        }

        public IEnumerable<KeywordRow> KeywordRows(string? memoryId = null)
        {
            var command = session.Command(memoryId is null
                ? $"SELECT {KeywordColumns} FROM memories m"
                : $"SELECT {KeywordColumns} FROM memories m WHERE m.id = @id");
            if (memoryId is not null) command.Parameters.AddWithValue("@id", memoryId);
            using var reader = command.ExecuteReader();
            while (reader.Read())
                yield return new KeywordRow(MemoryRows.ReadIndexEntry(reader), reader.GetString(MemoryRows.IndexEntryCount),
                    reader.GetInt64(MemoryRows.IndexEntryCount + 1), reader.GetInt64(MemoryRows.IndexEntryCount + 2));
        }

        public IEnumerable<(IndexEntry Entry, float[] Vector)> Vectors(string model, string? memoryId = null) =>
            memoryId is null ? VectorStore.ReadAll(session, model)
            : VectorStore.ReadOne(session, model, memoryId) is { } one ? [one] : [];
    }
}
