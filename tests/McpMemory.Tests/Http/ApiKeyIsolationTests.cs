using System.Net;
using System.Text.Json;
using FluentAssertions;
using McpMemory.Tests.Support;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Xunit;

namespace McpMemory.Tests.Http;

/// <summary>
/// Keys from a keys file, each limited to its namespaces: a key can never read, write or delete outside them, a read-only
/// key can never write, and a session opened with one key cannot be used with another. Driven by the C# SDK client.
/// </summary>
public class ApiKeyIsolationTests
{
    private const string KeyA = "key-a-0123456789abcdef";
    private const string KeyB = "key-b-0123456789abcdef";
    private const string ReadOnlyA = "key-r-0123456789abcdef";

    private static string WriteKeysFile(TempDirectory dir)
    {
        var path = dir.File("keys.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new
        {
            keys = new object[]
            {
                new { key = KeyA, namespaces = new[] { "project:a", "shared" }, access = "read-write", default_namespace = "project:a" },
                new { key = KeyB, namespaces = new[] { "project:b" }, access = "read-write" },
                new { key = ReadOnlyA, namespaces = new[] { "project:a" }, access = "read" },
            },
        }));
        return path;
    }

    private static async Task<McpClient> ConnectAsync(HttpServerProcess server, string key, string? protocolVersion = "2025-11-25") =>
        await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri($"{server.BaseUrl}/mcp"),
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {key}" },
            }),
            new McpClientOptions { ProtocolVersion = protocolVersion },
            cancellationToken: new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

    private static async Task<JsonElement> OkAsync(McpClient client, string tool, Dictionary<string, object?> args)
    {
        var result = await client.CallToolAsync(tool, args);
        result.IsError.Should().NotBe(true, string.Join("\n", result.Content.OfType<TextContentBlock>().Select(c => c.Text)));
        return JsonSerializer.SerializeToElement(result.StructuredContent);
    }

    private static async Task<string> ErrorAsync(McpClient client, string tool, Dictionary<string, object?> args)
    {
        var result = await client.CallToolAsync(tool, args);
        result.IsError.Should().BeTrue($"{tool} must be refused");
        return result.Content.OfType<TextContentBlock>().Single().Text;
    }

    private static IEnumerable<string?> Ids(JsonElement search) =>
        search.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("memory_id").GetString());

    [Theory, BothBackends]
    public async Task A_key_cannot_see_search_or_delete_another_keys_namespace(Backend backend)
    {
        using var dir = new TempDirectory();
        using var database = new TestDatabase(backend);
        await using var server = await HttpServerProcess.StartAsync(database.Db, ["--keys-file", WriteKeysFile(dir)]);
        await using var a = await ConnectAsync(server, KeyA);
        await using var b = await ConnectAsync(server, KeyB);

        var stored = await OkAsync(a, "store_memory", new() { ["content"] = "the secret deploy token rotates every friday" });
        stored.GetProperty("namespace").GetString().Should().Be("project:a");
        var id = stored.GetProperty("memory_id").GetString();
        var bId = (await OkAsync(b, "store_memory", new() { ["content"] = "project b deploys on monday" })).GetProperty("memory_id").GetString();

        Ids(await OkAsync(b, "search_memory", new() { ["query"] = "deploy token friday" })).Should().NotContain(id);
        (await ErrorAsync(b, "search_memory", new() { ["query"] = "deploy", ["namespaces"] = new[] { "project:a" } }))
            .Should().Contain("namespaces").And.Contain("project:a");
        (await ErrorAsync(b, "store_memory", new() { ["content"] = "sneaky", ["namespace"] = "project:a" }))
            .Should().Contain("project:a");
        (await ErrorAsync(b, "store_memory", new() { ["content"] = "sneaky", ["namespace"] = "shared" }))
            .Should().Contain("shared");
        (await ErrorAsync(b, "delete_memory", new() { ["memory_id"] = id })).Should().Contain("no memory with id");

        Ids(await OkAsync(a, "search_memory", new() { ["query"] = "deploy token friday" })).Should().Contain(id, "B's attempts changed nothing");
        var seenByA = await OkAsync(a, "search_memory", new() { ["query"] = "project b deploys on monday" });
        Ids(seenByA).Should().NotContain(bId, "A cannot see project:b either");
        seenByA.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("namespace").GetString()).Should().OnlyContain(ns => ns == "project:a" || ns == "shared");
        Ids(await OkAsync(b, "search_memory", new() { ["query"] = "the secret deploy token rotates every friday" })).Should().NotContain(id);
        (await ErrorAsync(b, "feedback", new() { ["memory_id"] = id, ["signal"] = "wrong" })).Should().Contain("no memory with id");

        // State is per namespace: the same key name in two namespaces is two values.
        await OkAsync(a, "set_agent_state", new() { ["key"] = "current_task", ["value"] = "a's task" });
        (await ErrorAsync(b, "get_agent_state", new() { ["key"] = "current_task" })).Should().Contain("no state").And.Contain("project:b");
        (await OkAsync(b, "set_agent_state", new() { ["key"] = "current_task", ["value"] = "b's task" })).GetProperty("namespace").GetString().Should().Be("project:b");
        (await OkAsync(a, "get_agent_state", new() { ["key"] = "current_task" })).GetProperty("value").GetString().Should().Be("a's task");
    }

    [Fact]
    public async Task A_read_only_key_reads_its_namespace_and_every_write_is_refused_naming_it()
    {
        using var dir = new TempDirectory();
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"), ["--keys-file", WriteKeysFile(dir)]);
        await using var a = await ConnectAsync(server, KeyA);
        await using var reader = await ConnectAsync(server, ReadOnlyA);

        var id = (await OkAsync(a, "store_memory", new() { ["content"] = "builds run with dotnet test -c Release" })).GetProperty("memory_id").GetString();
        await OkAsync(a, "set_agent_state", new() { ["key"] = "current_task", ["value"] = "issue 5" });

        Ids(await OkAsync(reader, "search_memory", new() { ["query"] = "dotnet test release" })).Should().Contain(id);
        (await OkAsync(reader, "get_agent_state", new() { ["key"] = "current_task" })).GetProperty("namespace").GetString().Should().Be("project:a");

        (await ErrorAsync(reader, "store_memory", new() { ["content"] = "x" })).Should().Contain("may not write").And.Contain("\"project:a\"");
        (await ErrorAsync(reader, "delete_memory", new() { ["memory_id"] = id })).Should().Contain("may not delete").And.Contain("\"project:a\"");
        (await ErrorAsync(reader, "set_agent_state", new() { ["key"] = "current_task", ["value"] = "mine" })).Should().Contain("may not write").And.Contain("\"project:a\"");
        (await ErrorAsync(reader, "feedback", new() { ["memory_id"] = id, ["signal"] = "useful" })).Should().Contain("\"project:a\"");
        (await ErrorAsync(reader, "search_memory", new() { ["query"] = "x", ["namespaces"] = new[] { "shared" } })).Should().Contain("\"shared\"");

        Ids(await OkAsync(a, "search_memory", new() { ["query"] = "dotnet test release" })).Should().Contain(id, "the refused delete deleted nothing");
    }

    [Fact]
    public async Task A_session_opened_with_one_key_cannot_be_used_with_another()
    {
        using var dir = new TempDirectory();
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"), ["--keys-file", WriteKeysFile(dir)]);
        using var a = server.Client(KeyA);
        using var b = server.Client(KeyB);
        var session = await RawMcpHttp.OpenSessionAsync(a);

        using var hijack = await b.SendAsync(RawMcpHttp.Post(RawMcpHttp.ToolCall(2, "search_memory", new { query = "x" }), session));
        hijack.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        using var delete = new HttpRequestMessage(HttpMethod.Delete, "/mcp");
        delete.Headers.Add("Mcp-Session-Id", session);
        (await b.SendAsync(delete)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var own = await RawMcpHttp.CallAsync(a, session, "search_memory", new { query = "x" });
        own.GetProperty("structuredContent").GetProperty("namespaces").EnumerateArray().Select(n => n.GetString()).Should().Equal("project:a", "shared");
    }

    [Fact]
    public async Task A_legacy_sse_session_acts_as_its_key_and_refuses_another_key()
    {
        using var dir = new TempDirectory();
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"), ["--keys-file", WriteKeysFile(dir)]);
        await using var b = await McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri($"{server.BaseUrl}/sse"),
                TransportMode = HttpTransportMode.Sse,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {KeyB}" },
            }),
            cancellationToken: new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        (await OkAsync(b, "store_memory", new() { ["content"] = "sse with key b" })).GetProperty("namespace").GetString().Should().Be("project:b");
        (await ErrorAsync(b, "store_memory", new() { ["content"] = "sneaky", ["namespace"] = "project:a" })).Should().Contain("project:a");

        using var a = server.Client(KeyA);
        using var other = server.Client(KeyB);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var sse = await a.GetAsync("/sse", HttpCompletionOption.ResponseHeadersRead, cts.Token);
        using var reader = new StreamReader(await sse.Content.ReadAsStreamAsync(cts.Token));
        (await reader.ReadLineAsync(cts.Token)).Should().Be("event: endpoint");
        var endpoint = (await reader.ReadLineAsync(cts.Token))!["data: ".Length..];
        using (var hijack = await other.SendAsync(RawMcpHttp.Post(RawMcpHttp.Initialize, path: endpoint), cts.Token))
            hijack.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        using (var own = await a.SendAsync(RawMcpHttp.Post(RawMcpHttp.Initialize, path: endpoint), cts.Token))
            own.StatusCode.Should().Be(HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task The_default_csharp_client_falls_back_from_the_sessionless_revision_and_works()
    {
        using var dir = new TempDirectory();
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"), ["--keys-file", WriteKeysFile(dir)]);
        await using var client = await ConnectAsync(server, KeyA, protocolVersion: null);
        client.NegotiatedProtocolVersion.Should().Be("2025-11-25");
        (await OkAsync(client, "store_memory", new() { ["content"] = "default client works" })).GetProperty("namespace").GetString().Should().Be("project:a");
    }

    [Theory]
    [InlineData("""{"keys":[{"key":"k-0123456789abcdef","namespaces":["project:a"],"access":"rw"}]}""", "keys[0].access", "\"read\" or \"read-write\"")]
    [InlineData("""{"keys":[{"key":"short","namespaces":["project:a"]}]}""", "keys[0].key", "at least 16 characters")]
    [InlineData("""{"keys":[{"key":"k-0123456789abcdef","namespaces":[]}]}""", "keys[0].namespaces", "non-empty")]
    [InlineData("""{"keys":[{"key":"k-0123456789abcdef","namespaces":["projects"]}]}""", "keys[0].namespaces[0]", "not a namespace")]
    [InlineData("""{"keys":[{"key":"k-0123456789abcdef","namespaces":["shared"],"default_namespace":"project:x"}]}""", "keys[0].default_namespace", "not one of")]
    [InlineData("""{"keys":[]}""", "keys", "at least one key")]
    [InlineData("""not json""", "keys file", "not valid JSON")]
    public async Task A_bad_keys_file_stops_the_server_naming_the_field(string content, string field, string rule)
    {
        using var dir = new TempDirectory();
        var path = dir.File("keys.json");
        await File.WriteAllTextAsync(path, content);
        var run = await HttpServerProcess.RunToExitAsync(["serve", "--http", "--urls", "http://127.0.0.1:0", "--keys-file", path, "--db", dir.File("m.db")]);
        run.ExitCode.Should().NotBe(0);
        run.Stderr.Should().Contain(field).And.Contain(rule).And.NotContain("k-0123456789abcdef");
    }

    [Fact]
    public async Task The_briefing_prompt_and_resources_read_only_the_keys_namespaces()
    {
        using var dir = new TempDirectory();
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"), ["--keys-file", WriteKeysFile(dir)]);
        await using var a = await ConnectAsync(server, KeyA);
        await using var b = await ConnectAsync(server, KeyB);
        var id = (await OkAsync(a, "store_memory", new() { ["content"] = "project a ships the ledger on fridays", ["memory_type"] = "decision" }))
            .GetProperty("memory_id").GetString()!;
        await OkAsync(a, "set_agent_state", new() { ["key"] = "current_task", ["value"] = "ledger release" });
        (await OkAsync(a, "get_briefing", new())).GetProperty("markdown").GetString().Should().Contain("ships the ledger").And.Contain("ledger release");

        var briefing = await OkAsync(b, "get_briefing", new() { ["task"] = "ledger fridays" });
        briefing.GetProperty("namespaces").EnumerateArray().Select(e => e.GetString()).Should().Equal("project:b");
        briefing.GetProperty("markdown").GetString().Should().NotContain("ledger release").And.NotContain(id);
        (await ErrorAsync(b, "get_briefing", new() { ["namespaces"] = new[] { "project:a" } })).Should().Contain("namespaces").And.Contain("project:a");
        (await b.GetPromptAsync("briefing")).Messages.Single().Content.Should().BeOfType<TextContentBlock>().Which.Text.Should().NotContain("ledger");
        (await b.ReadResourceAsync("memory://briefing")).Contents.OfType<TextResourceContents>().Single().Text.Should().NotContain("ledger");
        var memory = async () => await b.ReadResourceAsync($"memory://memories/{id}");
        (await memory.Should().ThrowAsync<ModelContextProtocol.McpException>()).Which.Message.Should().Contain("no memory with id");
        var state = async () => await b.ReadResourceAsync("memory://state/current_task");
        (await state.Should().ThrowAsync<ModelContextProtocol.McpException>()).Which.Message.Should().Contain("no state");
        (await a.ReadResourceAsync($"memory://memories/{id}")).Contents.OfType<TextResourceContents>().Single().Text.Should().Contain("ships the ledger");
    }
}
