using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Core.Storage;
using McpMemory.Tests.Support;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace McpMemory.Tests.Reliability;

/// <summary>
/// What every reliability test asks of the database afterwards, read with a plain connection of its own (SQLite or
/// Npgsql, as <see cref="DatabaseTarget.IsPostgres"/> decides), not through the engine under test.
/// </summary>
internal static class ReliabilityChecks
{
    /// <summary>id → content of every memory row.</summary>
    public static Dictionary<string, string> Memories(string db)
    {
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        Query(db, "SELECT id, content FROM memories", reader => rows.Add(reader.GetString(0), reader.GetString(1)));
        return rows;
    }

    /// <summary>
    /// SQLite: the verifier's checks (integrity, FTS in step with the rows, vectors in step with has_embedding, values).
    /// PostgreSQL (its own integrity, a generated tsvector and foreign keys need no check): vectors in step with has_embedding.
    /// </summary>
    public static void Consistent(string db)
    {
        if (!DatabaseTarget.IsPostgres(db))
        {
            var report = DatabaseVerifier.Verify(db);
            report.Faults.Should().BeEmpty($"{db} must verify clean");
            return;
        }
        long mismatched = -1;
        Query(db, "SELECT count(*) FROM memories m WHERE (m.has_embedding = 1) <> EXISTS (SELECT 1 FROM memory_vectors v WHERE v.seq = m.seq)",
            reader => mismatched = reader.GetInt64(0));
        mismatched.Should().Be(0, "has_embedding is 1 exactly for the memories that have a vector");
    }

    /// <summary>Runs <paramref name="sql"/> on a connection of its own to <paramref name="db"/> and hands each row to <paramref name="row"/>.</summary>
    public static void Query(string db, string sql, Action<System.Data.Common.DbDataReader> row)
    {
        using System.Data.Common.DbConnection connection = DatabaseTarget.IsPostgres(db)
            ? new NpgsqlConnection(Unpooled(db))
            : new SqliteConnection($"Data Source={db};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        while (reader.Read()) row(reader);
    }

    /// <summary>
    /// An Npgsql connection string for <paramref name="db"/> (a URL or a connection string) without pooling: closing the
    /// connection ends its server session, and with it any lock the session held.
    /// </summary>
    public static string Unpooled(string db)
    {
        var builder = DatabaseTarget.ConnectionString(db);
        builder.Pooling = false;
        return builder.ConnectionString;
    }

    /// <summary>The structured result of a successful tool call, or a failed assertion naming the error.</summary>
    public static JsonObject ToolResult(JsonObject response)
    {
        response["error"].Should().BeNull($"no JSON-RPC error expected: {response.ToJsonString()}");
        var result = response["result"]!.AsObject();
        (result["isError"]?.GetValue<bool>() ?? false).Should().BeFalse(result.ToJsonString());
        return result["structuredContent"]!.AsObject();
    }

    /// <summary>Runs the CLI in a child process and asserts it succeeded (the failure names the command and its stderr).</summary>
    public static async Task<ToolProcess.Result> RunCli(params string[] args)
    {
        var result = await ToolProcess.RunAsync(args, timeout: TimeSpan.FromMinutes(2));
        result.ExitCode.Should().Be(0, $"{string.Join(' ', args)}: {result.Stderr}");
        return result;
    }

    /// <summary>The memory_id of a `store --json` answer.</summary>
    public static string Id(ToolProcess.Result stored) => JsonDocument.Parse(stored.Stdout).RootElement.GetProperty("memory_id").GetString()!;

    public static JsonObject Args(params (string Key, JsonNode? Value)[] pairs)
    {
        var args = new JsonObject();
        foreach (var (key, value) in pairs) args[key] = value;
        return args;
    }
}
