using System.Text.Json;
using FluentAssertions;
using McpMemory.Tests.Support;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Xunit;

namespace McpMemory.Tests.Mcp;

/// <summary>The built server as a child process, driven over stdio by the SDK's McpClient, as an agent would.</summary>
public class StdioServerTests
{
    private static Task<McpClient> StartAsync(string db, string? ns = "project:e2e") => StdioMcpClient.StartAsync(db, ns);

    private static Task<JsonElement> CallAsync(McpClient client, string tool, Dictionary<string, object?> args) =>
        StdioMcpClient.CallAsync(client, tool, args);

    [Fact]
    public async Task Lists_the_tools_with_schemas_and_honest_annotations()
    {
        using var dir = new TempDirectory();
        await using var client = await StartAsync(dir.File("m.db"));
        var tools = (await client.ListToolsAsync()).ToDictionary(t => t.Name);

        tools.Keys.Should().BeEquivalentTo("store_memory", "search_memory", "get_agent_state", "set_agent_state", "delete_memory", "feedback", "memory_history", "get_briefing",
            "seed_memories", "find_skills", "consolidate_memories", "unarchive_memory");
        tools["get_briefing"].ProtocolTool.Annotations!.ReadOnlyHint.Should().BeTrue();
        tools["memory_history"].ProtocolTool.Annotations!.ReadOnlyHint.Should().BeTrue();
        tools["search_memory"].ProtocolTool.Annotations!.ReadOnlyHint.Should().BeTrue();
        tools["get_agent_state"].ProtocolTool.Annotations!.ReadOnlyHint.Should().BeTrue();
        tools["delete_memory"].ProtocolTool.Annotations!.DestructiveHint.Should().BeTrue();
        tools["store_memory"].ProtocolTool.Annotations!.DestructiveHint.Should().BeFalse();
        foreach (var tool in tools.Values)
        {
            tool.Description.Should().NotBeNullOrWhiteSpace();
            tool.ProtocolTool.OutputSchema.Should().NotBeNull($"{tool.Name} returns structured content");
        }
        var storeSchema = tools["store_memory"].JsonSchema;
        storeSchema.GetProperty("required").EnumerateArray().Select(e => e.GetString()).Should().Equal("content");
        storeSchema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Should()
            .Contain(["content", "memory_type", "metadata", "tags", "importance", "namespace", "session_id", "created_at", "expires_at", "supersedes"]);
        tools["search_memory"].JsonSchema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Should()
            .Contain(["query", "top_k", "memory_type", "tags", "min_importance", "namespaces", "session_id", "since", "until", "mode", "explain", "include_superseded"]);
        tools["feedback"].JsonSchema.GetProperty("required").EnumerateArray().Select(e => e.GetString()).Should().BeEquivalentTo("memory_id", "signal");
    }

    [Theory, BothBackends]
    public async Task Store_search_state_and_delete_over_stdio(Backend backend)
    {
        using var database = new TestDatabase(backend);
        await using var client = await StartAsync(database.Db);

        var stored = await CallAsync(client, "store_memory", new()
        {
            ["content"] = "website deployment uses cloudflare tunnel through docker compose with nginx reverse proxy",
            ["memory_type"] = "decision",
            ["tags"] = new[] { "nginx", "deploy" },
            ["importance"] = 0.8,
            ["metadata"] = new Dictionary<string, object> { ["repo"] = "portfolio" },
        });
        stored.GetProperty("status").GetString().Should().Be("stored");
        stored.GetProperty("has_embedding").ValueKind.Should().BeOneOf(JsonValueKind.True, JsonValueKind.False); // the encoder may still be loading
        var id = stored.GetProperty("memory_id").GetString()!;
        await CallAsync(client, "store_memory", new() { ["content"] = "The CI runs on GitHub Actions" });

        var found = await CallAsync(client, "search_memory", new() { ["query"] = "nginx reverse proxy", ["top_k"] = 5 });
        found.GetProperty("mode").GetString().Should().BeOneOf("fts", "hybrid");
        var first = found.GetProperty("results")[0];
        first.GetProperty("memory_id").GetString().Should().Be(id);
        first.GetProperty("memory_type").GetString().Should().Be("decision");
        first.GetProperty("importance").GetDouble().Should().Be(0.8);
        first.GetProperty("metadata").GetProperty("repo").GetString().Should().Be("portfolio");
        first.GetProperty("tags").EnumerateArray().Select(t => t.GetString()).Should().Equal("nginx", "deploy");
        first.GetProperty("created_at").GetString().Should().EndWith("Z");

        var set = await CallAsync(client, "set_agent_state", new() { ["key"] = "current_task", ["value"] = new { issue = 2, step = "tests" } });
        set.GetProperty("version").GetInt64().Should().Be(1);
        var got = await CallAsync(client, "get_agent_state", new() { ["key"] = "current_task" });
        got.GetProperty("value").GetProperty("step").GetString().Should().Be("tests");
        got.GetProperty("version").GetInt64().Should().Be(1);

        var stale = await client.CallToolAsync("set_agent_state", new Dictionary<string, object?> { ["key"] = "current_task", ["value"] = 1, ["expected_version"] = 0 });
        stale.IsError.Should().BeTrue();
        stale.Content.OfType<TextContentBlock>().Single().Text.Should().Contain("expected_version").And.Contain("is 1");

        var deleted = await CallAsync(client, "delete_memory", new() { ["memory_id"] = id });
        deleted.GetProperty("deleted").GetBoolean().Should().BeTrue();
        var after = await CallAsync(client, "search_memory", new() { ["query"] = "nginx reverse proxy" });
        after.GetProperty("results").EnumerateArray().Should().NotContain(r => r.GetProperty("memory_id").GetString() == id);
    }

    [Theory, BothBackends]
    public async Task Supersedes_hides_the_old_memory_and_memory_history_shows_every_version_over_stdio(Backend backend)
    {
        using var database = new TestDatabase(backend);
        await using var client = await StartAsync(database.Db);

        var old = await CallAsync(client, "store_memory", new() { ["content"] = "Kubernetes namespace is billing-prod" });
        var oldId = old.GetProperty("memory_id").GetString()!;
        old.GetProperty("similar").GetArrayLength().Should().Be(0);
        old.GetProperty("similar_threshold").GetDouble().Should().BeInRange(0, 1);
        var replacement = await CallAsync(client, "store_memory", new() { ["content"] = "Kubernetes namespace is billing-staging", ["supersedes"] = new[] { oldId } });
        replacement.GetProperty("status").GetString().Should().Be("stored");
        var newId = replacement.GetProperty("memory_id").GetString()!;

        var found = await CallAsync(client, "search_memory", new() { ["query"] = "Kubernetes namespace", ["mode"] = "fts" });
        found.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("memory_id").GetString()).Should().Equal(newId);
        var all = await CallAsync(client, "search_memory", new() { ["query"] = "Kubernetes namespace", ["mode"] = "fts", ["include_superseded"] = true });
        all.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("memory_id").GetString() == oldId)
            .GetProperty("superseded_by").GetString().Should().Be(newId);

        var history = await CallAsync(client, "memory_history", new() { ["memory_id"] = newId });
        history.GetProperty("versions").EnumerateArray()
            .Select(v => (v.GetProperty("memory_id").GetString(), v.GetProperty("kind").GetString(), v.GetProperty("content").GetString())).Should().Equal(
                (oldId, "stored", "Kubernetes namespace is billing-prod"),
                (newId, "stored", "Kubernetes namespace is billing-staging"),
                (oldId, "superseded", "Kubernetes namespace is billing-prod"));
        history.GetProperty("versions")[2].GetProperty("superseded_by").GetString().Should().Be(newId);
        history.GetProperty("versions")[0].GetProperty("at").GetString().Should().EndWith("Z");

        var bad = await client.CallToolAsync("store_memory", new Dictionary<string, object?> { ["content"] = "x", ["supersedes"] = new[] { "42" } });
        bad.IsError.Should().BeTrue();
        bad.Content.OfType<TextContentBlock>().Single().Text.Should().Contain("supersedes[0]").And.Contain("not a UUID");
        var missing = await client.CallToolAsync("memory_history", new Dictionary<string, object?> { ["memory_id"] = Guid.NewGuid().ToString() });
        missing.IsError.Should().BeTrue();
        missing.Content.OfType<TextContentBlock>().Single().Text.Should().Contain("no memory with id");
    }

    [Fact]
    public async Task Bad_input_is_a_tool_error_naming_the_field_and_the_server_stays_up()
    {
        using var dir = new TempDirectory();
        await using var client = await StartAsync(dir.File("m.db"));

        async Task<string> ErrorOf(string tool, Dictionary<string, object?> args)
        {
            var result = await client.CallToolAsync(tool, args);
            result.IsError.Should().BeTrue();
            return result.Content.OfType<TextContentBlock>().Single().Text;
        }

        (await ErrorOf("store_memory", new() { ["content"] = "" })).Should().Contain("content").And.Contain("empty");
        (await ErrorOf("store_memory", new() { ["content"] = "x", ["importance"] = 1.5 })).Should().Contain("importance: must be between 0 and 1");
        (await ErrorOf("store_memory", new() { ["content"] = "x", ["metadata"] = new[] { 1 } })).Should().Contain("metadata: must be a JSON object");
        (await ErrorOf("store_memory", new() { ["content"] = "x", ["expires_at"] = "next tuesday" })).Should().Contain("expires_at").And.Contain("ISO-8601");
        (await ErrorOf("search_memory", new() { ["query"] = "x", ["top_k"] = 1000 })).Should().Contain("top_k: must be between 1 and 100");
        (await ErrorOf("delete_memory", new() { ["memory_id"] = "42" })).Should().Contain("memory_id").And.Contain("not a UUID");
        (await ErrorOf("delete_memory", new() { ["memory_id"] = Guid.NewGuid().ToString() })).Should().Contain("no memory with id");
        (await ErrorOf("get_agent_state", new() { ["key"] = "missing" })).Should().Contain("no state");

        var ok = await CallAsync(client, "search_memory", new() { ["query"] = "anything" });
        ok.GetProperty("results").GetArrayLength().Should().Be(0);
    }

    [Theory, BothBackends]
    public async Task Memories_persist_across_server_restarts_and_searches_default_to_project_plus_shared(Backend backend)
    {
        using var database = new TestDatabase(backend);
        var db = database.Db;
        await using (var first = await StartAsync(db, "project:a"))
        {
            await CallAsync(first, "store_memory", new() { ["content"] = "alpha lives in project a" });
            await CallAsync(first, "store_memory", new() { ["content"] = "alpha is shared knowledge", ["namespace"] = "shared" });
        }
        await using (var other = await StartAsync(db, "project:b"))
        {
            await CallAsync(other, "store_memory", new() { ["content"] = "alpha in project b" });
            var seen = await CallAsync(other, "search_memory", new() { ["query"] = "alpha" });
            seen.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("namespace").GetString())
                .Should().BeEquivalentTo(["project:b", "shared"]);
            var everywhere = await CallAsync(other, "search_memory", new() { ["query"] = "alpha", ["namespaces"] = new[] { "project:a", "project:b", "shared" } });
            everywhere.GetProperty("results").GetArrayLength().Should().Be(3);
        }
    }
}
