using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Core.Storage;
using McpMemory.Tests.Support;
using Microsoft.Data.Sqlite;

namespace McpMemory.Tests.Reliability;

/// <summary>What every reliability test asks of the file afterwards, read with a plain SQLite connection.</summary>
internal static class ReliabilityChecks
{
    /// <summary>id → content of every memory row.</summary>
    public static Dictionary<string, string> Memories(string db)
    {
        using var connection = new SqliteConnection($"Data Source={db};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, content FROM memories";
        using var reader = command.ExecuteReader();
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read()) rows.Add(reader.GetString(0), reader.GetString(1));
        return rows;
    }

    /// <summary>PRAGMA integrity_check ok, FTS in step with the rows, vectors in step with has_embedding.</summary>
    public static void Consistent(string db)
    {
        var report = DatabaseVerifier.Verify(db);
        report.Faults.Should().BeEmpty($"{db} must verify clean");
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
