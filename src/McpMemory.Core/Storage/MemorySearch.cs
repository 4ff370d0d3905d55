using System.Text;
using McpMemory.Core.Indexes;
using McpMemory.Core.Memories;
using System.Data.Common;

namespace McpMemory.Core.Storage;

/// <summary>
/// The SQL side of retrieval: FTS5 BM25 candidates over content and tags with every filter applied inside the
/// query, the candidate rows with vectors and feedback, and a substring match as the last resort.
/// </summary>
internal sealed class MemorySearch(MemoryDatabase database)
{
    /// <summary>BM25 column weights: content, tags. Tags are deliberate labels, so they weigh more.</summary>
    private const string Bm25 = "bm25(memories_fts, 1.0, 2.0)";

    /// <summary>
    /// BM25 candidates (seq, score; higher is better) with every filter. Fast path: rank in the FTS index alone
    /// (no per-match join), then filter the best <see cref="CandidateFactor"/>×n. Only when the filters leave fewer
    /// than n does the exhaustive query run (filters joined before ranking), so the answer is the true filtered top-n.
    /// </summary>
    public List<(long Seq, double Score)> FtsCandidates(string match, int n, IndexFilter filter) => database.Read(session =>
    {
        if (database.IsServer) return PostgresCandidates(session, match, n, filter);
        var candidates = Math.Max(100, n * CandidateFactor);
        // The CTE is materialised once; its size tells whether the fast path saw every match.
        var fast = new StringBuilder($"WITH top AS MATERIALIZED (SELECT rowid AS seq, {Bm25} AS rank FROM memories_fts WHERE memories_fts MATCH @match ORDER BY rank LIMIT @candidates) " +
                                     "SELECT top.seq, top.rank, (SELECT count(*) FROM top) FROM top JOIN memories m ON m.seq = top.seq WHERE TRUE");
        AppendFilter(fast, filter);
        fast.Append(" ORDER BY top.rank LIMIT @k");
        var (hits, seen) = RunFts(session, fast.ToString(), match, n, candidates, filter);
        if (hits.Count >= n || (hits.Count > 0 && seen < candidates)) return hits;

        var exhaustive = new StringBuilder($"SELECT m.seq, {Bm25} AS rank, 0 FROM memories_fts JOIN memories m ON m.seq = memories_fts.rowid WHERE memories_fts MATCH @match");
        AppendFilter(exhaustive, filter);
        exhaustive.Append(" ORDER BY rank LIMIT @k");
        return RunFts(session, exhaustive.ToString(), match, n, candidates, filter).Hits;
    });

    /// <summary>How many unfiltered FTS candidates the fast path considers per wanted result.</summary>
    private const int CandidateFactor = 4;

    /// <summary>
    /// PostgreSQL's full-text search in place of FTS5: the same words (<see cref="FtsQuery"/> quoted them, OR-ed), stemmed by
    /// the English configuration, over the generated tsvector column (tags weigh more than content), ranked by ts_rank
    /// (higher is better) with every filter inside the query; the GIN index finds the matches.
    /// </summary>
    private List<(long Seq, double Score)> PostgresCandidates(DbSession session, string match, int n, IndexFilter filter)
    {
        var terms = match.Split(" OR ", StringSplitOptions.RemoveEmptyEntries).Select(t => t.Trim().Trim('"')).Where(t => t.Length > 0);
        var sql = new StringBuilder($"SELECT m.seq, ts_rank(m.fts, q) AS rank FROM memories m, to_tsquery('{PostgresSchema.TextSearchConfig}', @match) q WHERE m.fts @@ q");
        AppendFilter(sql, filter);
        sql.Append(" ORDER BY rank DESC, m.seq LIMIT @k");
        var command = session.Command(sql.ToString());
        // Only letters and digits are left in each term (FtsQuery), so "a | b" is a plain OR of words, never tsquery syntax.
        command.Parameters.AddWithValue("@match", string.Join(" | ", terms));
        command.Parameters.AddWithValue("@k", n);
        BindFilter(command, filter);
        var hits = new List<(long, double)>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) hits.Add((reader.GetInt64(0), reader.GetFloat(1)));
        return hits;
    }

    private (List<(long, double)> Hits, long Seen) RunFts(DbSession session, string sql, string match, int n, int candidates, IndexFilter filter)
    {
        var command = session.Command(sql);
        command.Parameters.AddWithValue("@match", match);
        command.Parameters.AddWithValue("@k", n);
        if (sql.Contains("@candidates")) command.Parameters.AddWithValue("@candidates", candidates);
        BindFilter(command, filter);
        var hits = new List<(long, double)>();
        long seen = 0;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            hits.Add((reader.GetInt64(0), -reader.GetDouble(1))); // bm25() is lower-is-better
            seen = reader.GetInt64(2);
        }
        return (hits, seen);
    }

    /// <summary>A memory's net feedback (useful − wrong), as a column expression over <c>memories m</c>.</summary>
    internal const string NetFeedback = "(SELECT coalesce(sum(CASE f.signal WHEN 'useful' THEN 1 WHEN 'wrong' THEN -1 ELSE 0 END), 0) FROM feedback f WHERE f.memory_id = m.id)";

    /// <summary>
    /// The ranking fields of the candidates, their net feedback (useful − wrong) and, when
    /// <paramref name="withVectors"/>, their stored vector. Candidates that vanished meanwhile are left out.
    /// </summary>
    public Dictionary<long, CandidateRow> ReadCandidates(IEnumerable<long> seqs, bool withVectors) => database.Read(session =>
    {
        var command = session.Command($"""
            SELECT m.seq, m.created_at, m.access_count, m.importance,
                   {NetFeedback},
                   {(withVectors ? "(SELECT v.vector FROM memory_vectors v WHERE v.seq = m.seq)" : "NULL")}
            FROM memories m WHERE m.seq IN ({database.Engine.ListOf("@seqs", numbers: true)})
            """);
        command.Parameters.AddWithValue("@seqs", StorageEngine.NumberList(seqs));
        var rows = new Dictionary<long, CandidateRow>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
            rows[reader.GetInt64(0)] = new CandidateRow(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetDouble(3), reader.GetInt64(4),
                reader.IsDBNull(5) ? null : Indexes.Vectors.VectorCodec.FromBlob((byte[])reader[5]));
        return rows;
    });

    /// <summary>
    /// The id, type and text of each of <paramref name="seqs"/> that exists: what the merge rule's lexical part judges
    /// at every write-behind store (the whole row, with its metadata and tags parsed, took as long as the keyword search).
    /// </summary>
    public Dictionary<long, (Guid Id, string MemoryType, string Content)> ReadTexts(IEnumerable<long> seqs) => database.Read(session =>
    {
        var command = session.Command($"SELECT m.seq, m.id, m.memory_type, m.content FROM memories m WHERE m.seq IN ({database.Engine.ListOf("@seqs", numbers: true)})");
        command.Parameters.AddWithValue("@seqs", StorageEngine.NumberList(seqs));
        var texts = new Dictionary<long, (Guid, string, string)>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) texts[reader.GetInt64(0)] = (Guid.Parse(reader.GetString(1)), reader.GetString(2), reader.GetString(3));
        return texts;
    });

    /// <summary>The full memories for the given seqs (those still present).</summary>
    public Dictionary<long, Memory> ReadMemories(IEnumerable<long> seqs) => database.Read(session =>
    {
        var command = session.Command($"SELECT {MemoryRows.Columns} FROM memories m WHERE m.seq IN ({database.Engine.ListOf("@seqs", numbers: true)})");
        command.Parameters.AddWithValue("@seqs", StorageEngine.NumberList(seqs));
        var memories = new Dictionary<long, Memory>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) memories[reader.GetInt64(0)] = MemoryRows.Read(reader);
        return memories;
    });


    /// <summary>The newest memories whose text contains <paramref name="query"/>: the last resort of a search.</summary>
    public List<Memory> Like(string query, int topK, IndexFilter filter) => database.Read(session =>
    {
        var sql = new StringBuilder($"SELECT {MemoryRows.Columns} FROM memories m WHERE m.content {database.Engine.LikeInsensitive} @pattern ESCAPE '\\'");
        AppendFilter(sql, filter);
        sql.Append(" ORDER BY m.created_at DESC LIMIT @k");
        var command = session.Command(sql.ToString());
        command.Parameters.AddWithValue("@pattern", "%" + EscapeLike(query.Trim()) + "%");
        command.Parameters.AddWithValue("@k", topK);
        BindFilter(command, filter);
        var memories = new List<Memory>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) memories.Add(MemoryRows.Read(reader));
        return memories;
    });

    /// <summary>Appends the filter clauses. The SQL depends only on the counts, so prepared statements are reused.</summary>
    internal void AppendFilter(StringBuilder sql, IndexFilter filter)
    {
        sql.Append(" AND m.namespace IN (");
        for (var i = 0; i < filter.Namespaces.Count; i++) sql.Append(i == 0 ? "" : ", ").Append("@ns").Append(i);
        sql.Append(')');
        if (filter.MemoryType is not null) sql.Append(" AND m.memory_type = @type");
        if (filter.MinImportance > 0) sql.Append(" AND m.importance >= @minImportance");
        if (filter.SessionId is not null) sql.Append(" AND m.session_id = @session");
        if (filter.Since is not null) sql.Append(" AND m.created_at >= @since");
        if (filter.Until is not null) sql.Append(" AND m.created_at < @until");
        for (var i = 0; i < filter.Tags.Count; i++)
            sql.Append(" AND ").Append(database.Engine.Position("' ' || m.tags || ' '", $"' ' || @tag{i} || ' '")).Append(" > 0");
        sql.Append(" AND (m.expires_at IS NULL OR m.expires_at > @now)");
        if (!filter.IncludeSuperseded) sql.Append(" AND m.superseded_by IS NULL");
        if (!filter.IncludeArchived) sql.Append(" AND m.archived_at IS NULL");
    }

    internal static void BindFilter(DbCommand command, IndexFilter filter)
    {
        var p = command.Parameters;
        for (var i = 0; i < filter.Namespaces.Count; i++) p.AddWithValue("@ns" + i, filter.Namespaces[i]);
        if (filter.MemoryType is not null) p.AddWithValue("@type", filter.MemoryType);
        if (filter.MinImportance > 0) p.AddWithValue("@minImportance", filter.MinImportance);
        if (filter.SessionId is not null) p.AddWithValue("@session", filter.SessionId);
        if (filter.Since is not null) p.AddWithValue("@since", filter.Since);
        if (filter.Until is not null) p.AddWithValue("@until", filter.Until);
        for (var i = 0; i < filter.Tags.Count; i++) p.AddWithValue("@tag" + i, filter.Tags[i]);
        p.AddWithValue("@now", filter.Now);
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
}
