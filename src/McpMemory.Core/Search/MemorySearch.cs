using System.Text;
using McpMemory.Core.Memories;
using McpMemory.Core.Storage;
using Microsoft.Data.Sqlite;

namespace McpMemory.Core.Search;

/// <summary>
/// Keyword retrieval: FTS5 BM25 over content and tags with every filter applied inside the query, and a
/// substring match as the last resort. (Vectors and fusion build on this in the hybrid search.)
/// </summary>
internal sealed class MemorySearch(MemoryDatabase database)
{
    /// <summary>BM25 column weights: content, tags. Tags are deliberate labels, so they weigh more.</summary>
    private const string Bm25 = "bm25(memories_fts, 1.0, 2.0)";

    public SearchResponse Search(string query, int topK, SearchFilter filter)
    {
        var match = FtsQuery.Build(query);
        if (match is not null)
        {
            var hits = Fts(match, topK, filter);
            if (hits.Count > 0) return new SearchResponse(SearchResponse.Fts, hits);
        }
        return new SearchResponse(SearchResponse.Like, Like(query, topK, filter));
    }

    /// <summary>
    /// BM25 top-k with every filter. Fast path: rank in the FTS index alone (no per-match join), then filter the
    /// best <see cref="CandidateFactor"/>×k. Only when the filters leave fewer than k does the exhaustive query run
    /// (filters joined before ranking), so the answer is always the true filtered top-k.
    /// </summary>
    public List<SearchHit> Fts(string match, int topK, SearchFilter filter) => database.Read(session =>
    {
        var fast = new StringBuilder($"SELECT {MemoryRows.Columns}, top.rank FROM (SELECT rowid AS seq, {Bm25} AS rank FROM memories_fts WHERE memories_fts MATCH @match ORDER BY rank LIMIT @candidates) top JOIN memories m ON m.seq = top.seq WHERE 1");
        AppendFilter(fast, filter);
        fast.Append(" ORDER BY top.rank LIMIT @k");
        var hits = RunFts(session, fast.ToString(), match, topK, filter);
        if (hits.Count >= topK) return hits;

        var exhaustive = new StringBuilder($"SELECT {MemoryRows.Columns}, top.rank FROM (SELECT m.seq AS seq, {Bm25} AS rank FROM memories_fts JOIN memories m ON m.seq = memories_fts.rowid WHERE memories_fts MATCH @match");
        AppendFilter(exhaustive, filter);
        exhaustive.Append(" ORDER BY rank LIMIT @k) top JOIN memories m ON m.seq = top.seq ORDER BY top.rank");
        return RunFts(session, exhaustive.ToString(), match, topK, filter);
    });

    /// <summary>How many unfiltered FTS candidates the fast path considers per wanted result.</summary>
    private const int CandidateFactor = 10;

    private static List<SearchHit> RunFts(SqliteSession session, string sql, string match, int topK, SearchFilter filter)
    {
        var command = session.Command(sql);
        command.Parameters.AddWithValue("@match", match);
        command.Parameters.AddWithValue("@k", topK);
        if (sql.Contains("@candidates")) command.Parameters.AddWithValue("@candidates", Math.Max(100, topK * CandidateFactor));
        BindFilter(command, filter);
        return ReadHits(command, r => -r.GetDouble(MemoryRows.Count)); // bm25 is lower-is-better
    }

    public List<SearchHit> Like(string query, int topK, SearchFilter filter) => database.Read(session =>
    {
        var sql = new StringBuilder($"SELECT {MemoryRows.Columns} FROM memories m WHERE m.content LIKE @pattern ESCAPE '\\'");
        AppendFilter(sql, filter);
        sql.Append(" ORDER BY m.created_at DESC LIMIT @k");
        var command = session.Command(sql.ToString());
        command.Parameters.AddWithValue("@pattern", "%" + EscapeLike(query.Trim()) + "%");
        command.Parameters.AddWithValue("@k", topK);
        BindFilter(command, filter);
        return ReadHits(command, _ => 0);
    });

    /// <summary>Appends the filter clauses. The SQL depends only on the counts, so prepared statements are reused.</summary>
    internal static void AppendFilter(StringBuilder sql, SearchFilter filter)
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
            sql.Append(" AND instr(' ' || m.tags || ' ', ' ' || @tag").Append(i).Append(" || ' ') > 0");
        sql.Append(" AND (m.expires_at IS NULL OR m.expires_at > @now)");
    }

    internal static void BindFilter(SqliteCommand command, SearchFilter filter)
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

    private static List<SearchHit> ReadHits(SqliteCommand command, Func<SqliteDataReader, double> score)
    {
        var hits = new List<SearchHit>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) hits.Add(new SearchHit(MemoryRows.Read(reader), score(reader)));
        return hits;
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
}
