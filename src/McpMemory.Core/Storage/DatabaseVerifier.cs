using McpMemory.Core.Memories;
using Microsoft.Data.Sqlite;

namespace McpMemory.Core.Storage;

/// <summary>What <see cref="DatabaseVerifier"/> found: the counts, and every fault (none means the file is sound).</summary>
public sealed record VerifyReport(string Path, int SchemaVersion, IReadOnlyDictionary<string, long> Counts, IReadOnlyList<string> Faults)
{
    public bool Ok => Faults.Count == 0;
}

/// <summary>
/// Checks a database or a backup: SQLite integrity, a schema version this build knows, the tables it expects, the
/// FTS index in step with the rows, vectors only for existing memories and matching has_embedding, and row values
/// the engine would accept. It works on a private snapshot (online backup), so a live database is checked
/// consistently and the file itself is never changed.
/// </summary>
public static class DatabaseVerifier
{
    private const int MaxReportedFaults = 20;

    private static readonly string[] Tables = ["memories", "memories_fts", "memory_vectors", "agent_state", "feedback", "events"];

    public static VerifyReport Verify(string path)
    {
        DatabaseTarget.RefuseServer(path, "verify");
        var full = UserPath.FullPath(path, "verify");
        if (!File.Exists(full)) throw new MemoryFileException($"{full} does not exist");
        var snapshot = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"mcp-memory-verify-{Guid.NewGuid():N}.db");
        try
        {
            try { SqliteFiles.Snapshot(full, snapshot); }
            catch (SqliteException e)
            {
                return new VerifyReport(full, 0, new Dictionary<string, long>(), [$"cannot be read as a SQLite database: {e.Message}"]);
            }
            using var connection = SqliteFiles.Open(snapshot, SqliteOpenMode.ReadWrite);
            return Check(connection, full);
        }
        finally { SqliteFiles.DeleteQuietly(snapshot); }
    }

    private static VerifyReport Check(SqliteConnection connection, string path)
    {
        var faults = new List<string>();
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);

        var integrity = Rows(connection, $"PRAGMA integrity_check({MaxReportedFaults})");
        if (integrity is not ["ok"]) faults.AddRange(integrity.Select(line => "integrity: " + line));

        var version = Convert.ToInt32(SqliteFiles.Scalar(connection, "PRAGMA user_version"));
        if (version == 0) faults.Add("schema: user_version is 0; this is not an mcp-memory database");
        else if (version > Schema.CurrentVersion)
            faults.Add($"schema: version {version} is newer than this mcp-memory knows ({Schema.CurrentVersion}); upgrade mcp-memory");

        var missing = Tables.Where(t => Convert.ToInt64(SqliteFiles.Scalar(connection,
            $"SELECT count(*) FROM sqlite_master WHERE name = '{t}'")) == 0).ToList();
        if (missing.Count > 0) faults.Add("schema: missing table(s) " + string.Join(", ", missing));
        if (missing.Count > 0 || integrity is not ["ok"])
            return new VerifyReport(path, version, counts, faults); // the remaining checks need a sound schema

        counts["memories"] = Count(connection, "SELECT count(*) FROM memories");
        counts["vectors"] = Count(connection, "SELECT count(*) FROM memory_vectors");
        counts["state"] = Count(connection, "SELECT count(*) FROM agent_state");
        counts["feedback"] = Count(connection, "SELECT count(*) FROM feedback");
        counts["events"] = Count(connection, "SELECT count(*) FROM events");

        // FTS5's own check compares every index entry with the content table (external content: the memories rows).
        try { SqliteFiles.Execute(connection, "INSERT INTO memories_fts(memories_fts, rank) VALUES ('integrity-check', 1)"); }
        catch (SqliteException e) { faults.Add($"fts: the index is out of step with the memories ({e.Message})"); }
        var indexed = Count(connection, "SELECT count(*) FROM memories_fts_docsize");
        if (indexed != counts["memories"])
            faults.Add($"fts: {indexed} documents indexed for {counts["memories"]} memories");

        Expect(faults, connection, "SELECT count(*) FROM memory_vectors v WHERE NOT EXISTS (SELECT 1 FROM memories m WHERE m.seq = v.seq)",
            n => $"vectors: {n} vector(s) belong to no memory");
        Expect(faults, connection, "SELECT count(*) FROM memories m WHERE m.has_embedding = 1 AND NOT EXISTS (SELECT 1 FROM memory_vectors v WHERE v.seq = m.seq)",
            n => $"vectors: {n} memory(ies) marked has_embedding = 1 have no vector");
        Expect(faults, connection, "SELECT count(*) FROM memories m WHERE m.has_embedding = 0 AND EXISTS (SELECT 1 FROM memory_vectors v WHERE v.seq = m.seq)",
            n => $"vectors: {n} memory(ies) marked has_embedding = 0 have a vector");
        Expect(faults, connection, $"SELECT count(*) FROM memory_vectors WHERE dimension <= 0 OR length(vector) <> dimension * {Indexes.Vectors.VectorCodec.BytesPerDimension}",
            n => $"vectors: {n} vector(s) whose size does not match their dimension");

        Expect(faults, connection, "SELECT count(*) FROM memories WHERE length(id) <> 36", n => $"memories: {n} id(s) are not UUIDs");
        Expect(faults, connection, "SELECT count(*) FROM memories WHERE NOT (importance BETWEEN 0 AND 1)", n => $"memories: {n} importance value(s) outside 0..1");
        Expect(faults, connection, "SELECT count(*) FROM memories WHERE metadata IS NOT NULL AND (json_valid(metadata) = 0 OR json_type(metadata) <> 'object')",
            n => $"memories: {n} metadata value(s) are not JSON objects");
        Expect(faults, connection, "SELECT count(*) FROM memories WHERE trim(content, char(32, 9, 10, 13)) = '' OR instr(content, char(0)) > 0", n => $"memories: {n} content value(s) empty or holding NUL");
        Expect(faults, connection, "SELECT count(*) FROM memories WHERE updated_at < created_at", n => $"memories: {n} row(s) updated before they were created");
        Expect(faults, connection, "SELECT count(*) FROM agent_state WHERE json_valid(value) = 0 OR version < 1",
            n => $"state: {n} value(s) that are not JSON or have no version");

        return new VerifyReport(path, version, counts, faults);
    }

    private static void Expect(List<string> faults, SqliteConnection connection, string countSql, Func<long, string> fault)
    {
        var n = Count(connection, countSql);
        if (n != 0) faults.Add(fault(n));
    }

    private static long Count(SqliteConnection connection, string sql) => Convert.ToInt64(SqliteFiles.Scalar(connection, sql));

    private static List<string> Rows(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read()) rows.Add(reader.GetString(0));
        return rows;
    }
}
