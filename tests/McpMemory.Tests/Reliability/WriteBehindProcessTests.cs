using System.Diagnostics;
using System.Numerics.Tensors;
using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Core.Memories;
using McpMemory.Tests.Core;
using McpMemory.Tests.Embeddings;
using McpMemory.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static McpMemory.Tests.Reliability.ReliabilityChecks;

namespace McpMemory.Tests.Reliability;

/// <summary>
/// Issue 20's write-behind through the real server over stdio: a store answers before its vector exists, so a crash
/// right after the acknowledgements must lose nothing (the queue is the rows without a vector, rebuilt at start),
/// keyword search finds a memory at once and meaning once it is embedded, and a restatement is folded into the older
/// memory when its vector lands, its id still resolving.
/// </summary>
[Collection(EncoderCollection.Name)]
public class WriteBehindProcessTests(EncoderFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    /// <summary>USE-lite loads fastest; the tests pick their texts with the same encoder in-process.</summary>
    private static readonly IReadOnlyDictionary<string, string> UseLite = new Dictionary<string, string> { ["MCP_MEMORY_MODEL"] = "use-lite" };

    private static JsonObject Search(string query, string mode, bool includeSuperseded = false) =>
        Args(("query", query), ("mode", mode), ("top_k", 100), ("include_superseded", includeSuperseded));

    private static List<JsonObject> Results(JsonObject response) =>
        ToolResult(response)["results"]!.AsArray().Select(r => r!.AsObject()).ToList();

    /// <summary>The results, or none while the search is refused (vector mode before the encoder has loaded).</summary>
    private static List<JsonObject> ResultsOrNone(JsonObject response) =>
        response["result"]?["isError"]?.GetValue<bool>() == true ? [] : Results(response);

    private static long Scalar(string db, string sql)
    {
        long value = 0;
        Query(db, sql, row => value = Convert.ToInt64(row.GetValue(0)));
        return value;
    }

    /// <summary>Polls <paramref name="done"/> (bounded by <see cref="Bound"/>) and returns whether it came true.</summary>
    private static async Task<bool> Eventually(Func<Task<bool>> done)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Bound)
        {
            if (await done()) return true;
            await Task.Delay(100);
        }
        return await done();
    }

    [Theory, BothBackends]
    public async Task Memories_acknowledged_before_their_vectors_survive_SIGKILL_and_get_them_after_restart(Backend backend)
    {
        const int Count = 40;
        using var database = new TestDatabase(backend);
        var db = database.Db;
        var acknowledged = new Dictionary<string, string>(StringComparer.Ordinal);
        // The worker gathers stores for a minute before it embeds them: the kill lands in the gap for certain.
        var server = await RawMcpServer.StartAsync(db, "project:crash", new Dictionary<string, string>(UseLite) { ["MCP_MEMORY_EMBED_BATCH_WINDOW_MS"] = "60000" });
        try
        {
            // Once the encoder is ready (vector search answers), so that the stores meet the running worker.
            (await Eventually(async () => (await server.CallToolAsync("search_memory", Search("warm up", "vector"), Bound))["result"]?["isError"]?.GetValue<bool>() != true))
                .Should().BeTrue("the encoder loads");
            for (var i = 0; i < Count; i++)
            {
                var text = $"crashcheck {i}: the worker pool {i} drains queue q{i} on port {7000 + i}";
                var stored = ToolResult(await server.CallToolAsync("store_memory", Args(("content", text)), Bound));
                stored["status"]!.GetValue<string>().Should().Be("stored");
                acknowledged[stored["memory_id"]!.GetValue<string>()] = text;
            }
            server.Kill(); // SIGKILL at once after the last acknowledgement: no shutdown code runs
        }
        finally { await server.DisposeAsync(); }

        Memories(db).Should().Contain(acknowledged, "every acknowledged store is durable before its vector");
        var waiting = Scalar(db, "SELECT count(*) FROM memories WHERE has_embedding = 0");
        output.WriteLine($"write-behind crash: {Count} acknowledged, {waiting} without a vector at the SIGKILL");
        waiting.Should().BeGreaterThan(0, "the kill must land in the gap between acknowledgement and vector, or this test proves nothing");

        var restarted = await RawMcpServer.StartAsync(db, "project:crash", UseLite);
        try
        {
            // Keyword search finds every one at once; the restarted worker embeds those the crash left without a vector.
            Results(await restarted.CallToolAsync("search_memory", Search("crashcheck", "fts"), Bound)).Select(r => r["memory_id"]!.GetValue<string>())
                .Should().BeEquivalentTo(acknowledged.Keys);
            var embedded = await Eventually(async () =>
                Results(await restarted.CallToolAsync("search_memory", Search("crashcheck", "fts"), Bound)).Count(r => r["has_embedding"]!.GetValue<bool>()) == Count);
            embedded.Should().BeTrue($"every memory gets its vector within {Bound.TotalSeconds:0} s of the restart");
            Results(await restarted.CallToolAsync("search_memory", Search("which worker pool drains queue q17", "vector"), Bound))
                .Select(r => r["memory_id"]!.GetValue<string>()).Should().Contain(acknowledged.Single(a => a.Value.StartsWith("crashcheck 17:")).Key);
        }
        finally { await restarted.DisposeAsync(); }
        Memories(db).Should().BeEquivalentTo(acknowledged, "nothing lost, nothing merged");
        Consistent(db);
    }

    [Fact]
    public async Task Keyword_search_finds_a_memory_at_once_and_a_restatement_is_folded_when_its_vector_lands()
    {
        var floor = DuplicateRule.CosineFloor(fixture.Encoder.ModelId);
        var pair = DuplicateRuleMeasurement.Load().Same.First(p =>
            DuplicateRule.Judge(p[0], p[1], 0, null) == DuplicateVerdict.Distinct
            && DuplicateRule.Judge(p[0], p[1], TensorPrimitives.Dot(fixture.Encoder.Embed(p[0]), fixture.Encoder.Embed(p[1])), floor) == DuplicateVerdict.Restated);
        using var dir = new TempDirectory();
        await using var server = await RawMcpServer.StartAsync(dir.File("m.db"), "project:gap", UseLite);

        var old = ToolResult(await server.CallToolAsync("store_memory", Args(("content", pair[0])), Bound));
        var oldId = old["memory_id"]!.GetValue<string>();
        old["semantic_check"]!.GetValue<string>().Should().Be("pending");
        // Keyword search finds it in the very next call, whether or not its vector has landed.
        Results(await server.CallToolAsync("search_memory", Search(pair[0], "fts"), Bound)).Select(r => r["memory_id"]!.GetValue<string>()).Should().Contain(oldId);
        (await Eventually(async () => ResultsOrNone(await server.CallToolAsync("search_memory", Search(pair[0], "vector"), Bound))
            .Any(r => r["memory_id"]!.GetValue<string>() == oldId && r["has_embedding"]!.GetValue<bool>()))).Should().BeTrue("meaning finds it once embedded");

        var restated = ToolResult(await server.CallToolAsync("store_memory", Args(("content", pair[1])), Bound));
        var newId = restated["memory_id"]!.GetValue<string>();
        restated["status"]!.GetValue<string>().Should().Be("stored", "the strict test needs the vector");
        newId.Should().NotBe(oldId);
        (await Eventually(async () => Results(await server.CallToolAsync("search_memory", Search(pair[1], "fts", includeSuperseded: true), Bound))
            .Any(r => r["memory_id"]!.GetValue<string>() == newId && r["superseded_by"]?.GetValue<string>() == oldId))).Should().BeTrue("the restatement is folded into the older memory");

        var visible = Results(await server.CallToolAsync("search_memory", Search(pair[1], "hybrid"), Bound));
        visible.Should().ContainSingle(r => r["memory_id"]!.GetValue<string>() == oldId).Which["content"]!.GetValue<string>().Should().Be(pair[1]);
        visible.Should().NotContain(r => r["memory_id"]!.GetValue<string>() == newId);
        var history = ToolResult(await server.CallToolAsync("memory_history", Args(("memory_id", newId)), Bound))["versions"]!.AsArray();
        history.Select(v => v!["kind"]!.GetValue<string>()).Should().Equal("stored", "superseded");
        history[1]!["superseded_by"]!.GetValue<string>().Should().Be(oldId);
        var merged = ToolResult(await server.CallToolAsync("memory_history", Args(("memory_id", oldId)), Bound))["versions"]!.AsArray();
        merged.Select(v => v!["kind"]!.GetValue<string>()).Should().Equal("stored", "stored", "merged", "superseded");
    }
}
