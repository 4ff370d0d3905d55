using System.Diagnostics;
using System.Text.Json;
using FluentAssertions;
using McpMemory.Tests.Support;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Xunit;

namespace McpMemory.Tests.Mcp;

/// <summary>
/// Issue 19's embeddings endpoint end to end: the real server over stdio (the SDK's client) and the real CLI, both
/// embedding through an OpenAI-compatible /v1/embeddings server on loopback (<see cref="EmbeddingsServer"/>).
/// </summary>
public class EmbeddingEndpointEndToEndTests
{
    private const string Key = "sk-e2e-secret-5d2f9a71c3";
    private const string Cat = "the cat sleeps on the sofa all afternoon";
    private const string Car = "our car needs new tyres before winter";
    private const string Db = "sqlite runs in WAL mode with synchronous full";

    [Fact]
    public async Task The_server_searches_by_meaning_through_the_endpoint_and_falls_back_to_keywords_when_it_hangs()
    {
        await using var endpoint = await EmbeddingsServer.StartAsync();
        using var dir = new TempDirectory();
        await using var client = await McpClient.CreateAsync(new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = "mcp-memory",
            Command = "dotnet",
            Arguments = [ToolProcess.Dll, "--db", dir.File("memory.db"), "--namespace", "project:e2e",
                         "--embeddings-url", endpoint.BaseUrl, "--embeddings-model", "hash-embed"],
            EnvironmentVariables = new Dictionary<string, string?>
            {
                [Settings.EmbeddingsKeyVariable] = Key, [Settings.EmbeddingsTimeoutVariable] = "3",
            },
            ShutdownTimeout = TimeSpan.FromSeconds(10),
        }),
        // Pinned: the default first probes with server/discover under a short timeout, and on a busy machine the late
        // answer to that probe made the server refuse the fallback initialize (seen once here).
        new McpClientOptions { ProtocolVersion = "2025-11-25" },
        cancellationToken: new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

        foreach (var text in new[] { Cat, Car, Db })
            (await StdioMcpClient.CallAsync(client, "store_memory", new() { ["content"] = text })).GetProperty("status").GetString().Should().Be("stored");

        // The encoder connects after the first answer; the background queue embeds what was stored before.
        var hybrid = await Eventually(async () =>
        {
            var found = await StdioMcpClient.CallAsync(client, "search_memory", new() { ["query"] = "where does the kitten sleep" });
            return found.GetProperty("mode").GetString() == "hybrid" && found.GetProperty("results").GetArrayLength() == 3 ? found : (JsonElement?)null;
        });
        hybrid.GetProperty("fallback_reason").ValueKind.Should().Be(JsonValueKind.Null);
        hybrid.GetProperty("results")[0].GetProperty("content").GetString().Should().Be(Cat);
        var byMeaning = await StdioMcpClient.CallAsync(client, "search_memory", new() { ["query"] = "kitten", ["mode"] = "vector" });
        byMeaning.GetProperty("results")[0].GetProperty("content").GetString().Should().Be(Cat);
        endpoint.Requests.Should().NotBeEmpty().And.OnlyContain(r => r.Authorization == "Bearer " + Key && r.Model == "hash-embed");

        endpoint.Now = EmbeddingsServer.Behaviour.Hang;
        var stopwatch = Stopwatch.StartNew();
        var stored = await StdioMcpClient.CallAsync(client, "store_memory", new() { ["content"] = "a kitten named Miso joined the team" });
        var search = await StdioMcpClient.CallAsync(client, "search_memory", new() { ["query"] = "Miso" });
        stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(8), "the 3 s timeout bounds the store; the search then fails over at once");
        stored.GetProperty("has_embedding").GetBoolean().Should().BeFalse();
        search.GetProperty("mode").GetString().Should().Be("fts");
        search.GetProperty("fallback_reason").GetString().Should().Contain("no answer within 3 s");
        search.GetProperty("results")[0].GetProperty("content").GetString().Should().Contain("Miso");
    }

    [Fact]
    public async Task The_cli_doctor_store_search_and_reindex_use_the_endpoint()
    {
        await using var endpoint = await EmbeddingsServer.StartAsync();
        using var dir = new TempDirectory();
        var env = new Dictionary<string, string>
        {
            [Settings.EmbeddingsUrlVariable] = endpoint.BaseUrl, [Settings.EmbeddingsModelVariable] = "hash-embed",
            [Settings.EmbeddingsKeyVariable] = Key, // the default 10 s timeout: a cold process's first request can take seconds on a busy machine
        };
        Task<ToolProcess.Result> Cli(params string[] args) => ToolProcess.RunAsync(["--db", dir.File("memory.db"), "--namespace", "project:e2e", .. args], env);
        var modelId = $"endpoint:hash-embed@{new Uri(endpoint.BaseUrl).Authority}#48";

        McpMemory.Core.Storage.MemoryDatabase.Open(dir.File("memory.db")).Dispose(); // doctor, as every reading command, needs one
        var doctor = await Cli("doctor", "--json");
        doctor.ExitCode.Should().Be(0, doctor.Stdout + doctor.Stderr);
        var encoder = JsonDocument.Parse(doctor.Stdout).RootElement.GetProperty("encoder");
        encoder.GetProperty("kind").GetString().Should().Be("endpoint");
        encoder.GetProperty("model").GetString().Should().Be(modelId);
        encoder.GetProperty("dimension").GetInt32().Should().Be(48);
        encoder.GetProperty("round_trip_ms").GetDouble().Should().BePositive();
        encoder.GetProperty("key").GetString().Should().Be("set");
        (doctor.Stdout + doctor.Stderr).Should().NotContain(Key);

        (await Cli("store", Car)).ExitCode.Should().Be(0);

        endpoint.Now = EmbeddingsServer.Behaviour.Fail500;
        var store = await Cli("store", Cat, "--json");
        store.ExitCode.Should().Be(0, store.Stderr);
        JsonDocument.Parse(store.Stdout).RootElement.GetProperty("has_embedding").GetBoolean().Should().BeFalse();
        store.Stderr.Should().Contain("500").And.Contain("keywords only");
        var search = await Cli("search", "cat sofa", "--json");
        var fallback = JsonDocument.Parse(search.Stdout).RootElement;
        fallback.GetProperty("mode").GetString().Should().Be("fts");
        fallback.GetProperty("fallback_reason").GetString().Should().Contain("500");
        var failing = await Cli("doctor", "--json");
        failing.ExitCode.Should().Be(1);
        JsonDocument.Parse(failing.Stdout).RootElement.GetProperty("encoder").GetProperty("error").GetString().Should().Contain("500");

        endpoint.Now = EmbeddingsServer.Behaviour.Answer;
        var reindex = await Cli("reindex", "--json");
        reindex.ExitCode.Should().Be(0, reindex.Stderr);
        JsonDocument.Parse(reindex.Stdout).RootElement.GetProperty("model").GetString().Should().Be(modelId);
        // (The engine's background queue may embed the row before reindex counts it: check the database instead.)
        var stats = JsonDocument.Parse((await Cli("stats", "--json")).Stdout).RootElement;
        stats.GetProperty("memories").GetInt64().Should().Be(2);
        stats.GetProperty("with_embedding").GetInt64().Should().Be(2);
        var vector = await Cli("search", "kitten", "--mode", "vector", "--json");
        JsonDocument.Parse(vector.Stdout).RootElement.GetProperty("results")[0].GetProperty("content").GetString().Should().Be(Cat);
        endpoint.Requests.Should().OnlyContain(r => r.Authorization == "Bearer " + Key);
    }

    private static async Task<JsonElement> Eventually(Func<Task<JsonElement?>> attempt)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (await attempt() is { } done) return done;
            await Task.Delay(100);
        }
        throw new TimeoutException("the server did not answer in hybrid mode within 60 s");
    }
}
