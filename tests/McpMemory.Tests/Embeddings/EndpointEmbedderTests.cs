using System.Diagnostics;
using System.Numerics.Tensors;
using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit;

namespace McpMemory.Tests.Embeddings;

/// <summary>
/// The embeddings endpoint as the encoder, through Microsoft.Extensions.AI's OpenAI client, against a real HTTP server
/// on loopback that speaks POST /v1/embeddings (<see cref="EmbeddingsServer"/>): the request, the vectors, batching,
/// timeouts and errors, and the engine on top (store and search through it, fallback to keywords, a model change).
/// </summary>
public sealed class EndpointEmbedderTests : IAsyncLifetime
{
    private EmbeddingsServer _server = null!;

    public async Task InitializeAsync() => _server = await EmbeddingsServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private EmbeddingEndpoint Endpoint(string model = "hash-embed", string? key = "sk-test-0123456789", TimeSpan? timeout = null,
        TimeSpan? retryAfter = null, int? dimensions = null, string documentPrefix = "", string queryPrefix = "", int batchSize = 64, string? url = null)
    {
        var baseUrl = new Uri(url ?? _server.BaseUrl);
        return new EmbeddingEndpoint
        {
            BaseUrl = baseUrl, Model = model, Key = key,
            Options = new EndpointEmbedderOptions
            {
                Model = model, Location = baseUrl.Authority, Timeout = timeout ?? TimeSpan.FromSeconds(5),
                RetryAfter = retryAfter ?? TimeSpan.FromSeconds(30), Dimensions = dimensions, DocumentPrefix = documentPrefix,
                QueryPrefix = queryPrefix, BatchSize = batchSize,
            },
        };
    }

    private static float[] Unit(float[] v)
    {
        var copy = v.ToArray();
        TensorPrimitives.Divide(copy, TensorPrimitives.Norm(copy), copy);
        return copy;
    }

    [Fact]
    public void Connect_learns_the_dimension_sends_model_and_key_and_normalises()
    {
        var embedder = Endpoint(key: "sk-test-0123456789").Connect();

        var port = new Uri(_server.BaseUrl).Port;
        embedder.Dimension.Should().Be(48);
        embedder.ModelId.Should().Be($"endpoint:hash-embed@127.0.0.1:{port}#48");
        embedder.RoundTrip.Should().NotBeNull();
        var vector = embedder.Embed("The cat sleeps on the sofa");
        TensorPrimitives.Norm(vector).Should().BeApproximately(1, 1e-5f);
        vector.Should().Equal(Unit(EmbeddingsServer.Vector("hash-embed", "The cat sleeps on the sofa", 48)), (a, b) => Math.Abs(a - b) < 1e-5);
        _server.Requests.Should().HaveCount(2).And.OnlyContain(r => r.Authorization == "Bearer sk-test-0123456789" && r.Model == "hash-embed");
    }

    [Fact]
    public void Vectors_arrive_as_base64_or_as_float_arrays()
    {
        // The OpenAI client asks for base64; servers that ignore encoding_format answer float arrays, which work too.
        Endpoint().Connect().Embed("the cat");
        _server.Requests.Should().OnlyContain(r => r.EncodingFormat == "base64");
        _server.FloatsOnly = true;
        Endpoint().Connect().Embed("the cat").Should().Equal(Unit(EmbeddingsServer.Vector("hash-embed", "the cat", 48)), (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Fact]
    public void Without_a_key_a_placeholder_is_sent()
    {
        Endpoint(key: null).Connect().Embed("anything");
        _server.Requests.Should().OnlyContain(r => r.Authorization == "Bearer " + EmbeddingEndpoint.NoKey);
    }

    [Fact]
    public void Batches_keep_their_order()
    {
        var embedder = Endpoint(batchSize: 64).Connect();
        var texts = Enumerable.Range(0, 150).Select(i => $"note {i} about cats and cars number{i}").ToList();
        var before = _server.Requests.Count;

        var vectors = embedder.EmbedBatch(texts);

        _server.Requests.Skip(before).Select(r => r.Inputs.Length).Should().Equal(64, 64, 22);
        for (var i = 0; i < texts.Count; i++)
            vectors[i].Should().Equal(Unit(EmbeddingsServer.Vector("hash-embed", texts[i], 48)), (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Fact]
    public void A_server_error_fails_fast_until_the_retry_time_then_recovers()
    {
        var embedder = Endpoint(retryAfter: TimeSpan.FromMilliseconds(400)).Connect();
        _server.Now = EmbeddingsServer.Behaviour.Fail500;

        var first = () => embedder.Embed("the car");
        first.Should().Throw<EmbeddingEndpointException>().WithMessage($"*{new Uri(_server.BaseUrl).Authority}*500*");
        var requests = _server.Requests.Count;
        var again = Stopwatch.StartNew();
        first.Should().Throw<EmbeddingEndpointException>().WithMessage("*500*not retried*");
        again.Elapsed.Should().BeLessThan(TimeSpan.FromMilliseconds(300));
        _server.Requests.Count.Should().Be(requests, "a call within the retry time does not reach the endpoint");

        _server.Now = EmbeddingsServer.Behaviour.Answer;
        Thread.Sleep(500);
        embedder.Embed("the car").Should().HaveCount(48);
    }

    [Fact]
    public void A_hanging_endpoint_is_cut_at_the_timeout()
    {
        // A configured dimension: no probe, whose cold first request could itself outlast so short a timeout on a busy machine.
        var embedder = Endpoint(timeout: TimeSpan.FromMilliseconds(600), dimensions: 48).Connect();
        _server.Now = EmbeddingsServer.Behaviour.Hang;

        var stopwatch = Stopwatch.StartNew();
        var call = () => embedder.Embed("the car");
        call.Should().Throw<EmbeddingEndpointException>().WithMessage("*no answer within 0.6 s*");
        stopwatch.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(500)).And.BeLessThan(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public void Connecting_to_nothing_says_where()
    {
        var connect = () => Endpoint(url: "http://127.0.0.1:1/v1", timeout: TimeSpan.FromSeconds(3)).Connect();
        connect.Should().Throw<EmbeddingEndpointException>().WithMessage("embeddings endpoint 127.0.0.1:1:*");
    }

    [Fact]
    public void A_vector_of_another_length_is_refused()
    {
        var embedder = Endpoint().Connect();
        _server.Dimension = 32;
        var call = () => embedder.Embed("the car");
        call.Should().Throw<EmbeddingEndpointException>().WithMessage("*32 dimensions, expected 48*");
    }

    [Fact]
    public void A_configured_dimension_is_asked_for_and_no_probe_is_sent()
    {
        var embedder = Endpoint(dimensions: 16).Connect();
        _server.Requests.Should().BeEmpty();
        embedder.Dimension.Should().Be(16);
        embedder.ModelId.Should().EndWith("#16");
        embedder.Embed("the cat").Should().HaveCount(16);
    }

    [Fact]
    public void Prefixes_go_before_documents_and_queries_and_into_the_model_id()
    {
        var plain = Endpoint().Connect();
        var prefixed = Endpoint(documentPrefix: "search_document: ", queryPrefix: "search_query: ").Connect();
        var before = _server.Requests.Count;

        prefixed.Embed("the cat");
        prefixed.EmbedQuery("a kitten");

        _server.Requests.Skip(before).Select(r => r.Inputs.Single()).Should().Equal("search_document: the cat", "search_query: a kitten");
        prefixed.ModelId.Should().StartWith(plain.ModelId + "+prefix:").And.NotBe(plain.ModelId);
    }

    [Theory]
    [InlineData("http://localhost:11434", "http://localhost:11434/v1")]
    [InlineData("http://localhost:11434/", "http://localhost:11434/v1")]
    [InlineData("http://localhost:1234/v1/", "http://localhost:1234/v1")]
    [InlineData("https://api.openai.com/v1/embeddings", "https://api.openai.com/v1")]
    [InlineData("http://gpu-box:8080/openai/v1", "http://gpu-box:8080/openai/v1")]
    public void Base_urls_are_normalised(string given, string expected) =>
        EmbeddingEndpoint.BaseUrlOf(given).ToString().TrimEnd('/').Should().Be(expected);

    [Fact]
    public void Bad_settings_name_the_option()
    {
        var notHttp = () => EmbeddingEndpoint.BaseUrlOf("ftp://example.com");
        notHttp.Should().Throw<MemoryValidationException>().WithMessage("--embeddings-url: *http*");
        var noModel = () => EmbeddingEndpoint.Resolve("http://localhost:11434", null, _ => null);
        noModel.Should().Throw<MemoryValidationException>().WithMessage("--embeddings-model: is required*");
    }

    // ---- the engine over the endpoint ----

    private static MemoryService Open(string path, IEmbedder embedder) =>
        MemoryService.Open(path, MemoryOptions.Default with { EmbeddingInterval = TimeSpan.FromMilliseconds(50) }, EmbedderProvider.Ready(embedder));

    private static readonly Caller Agent = new("project:test", "agent-1");
    private const string Cat = "the cat sleeps on the sofa all afternoon";
    private const string Car = "our car needs new tyres before winter";
    private const string Db = "sqlite runs in WAL mode with synchronous full";

    private static StoreResult Store(MemoryService service, string content) => service.Store(Agent, new NewMemory { Content = content });

    private static SearchResponse Search(MemoryService service, string query, string? mode = null) =>
        service.Search(Agent, new SearchRequest { Query = query, Mode = mode });

    private static void WaitUntil(Func<bool> condition, TimeSpan limit, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            if (stopwatch.Elapsed > limit) throw new TimeoutException($"{what}: not within {limit}");
            Thread.Sleep(25);
        }
    }

    [Fact]
    public void Store_and_search_by_meaning_through_the_endpoint()
    {
        using var dir = new TempDirectory();
        using var service = Open(dir.File("memory.db"), Endpoint().Connect());
        service.WaitForVectors(TimeSpan.FromSeconds(10)).Should().BeTrue();

        var cat = Store(service, Cat);
        Store(service, Car).HasEmbedding.Should().BeTrue();
        Store(service, Db).HasEmbedding.Should().BeTrue();
        cat.HasEmbedding.Should().BeTrue();

        var byMeaning = Search(service, "kitten", "vector");
        byMeaning.Mode.Should().Be("vector");
        byMeaning.Results[0].Memory.Id.Should().Be(cat.MemoryId);
        var auto = Search(service, "where does the kitten sleep");
        auto.Mode.Should().Be("hybrid");
        auto.FallbackReason.Should().BeNull();
        auto.Results[0].Memory.Id.Should().Be(cat.MemoryId);
        Search(service, "kitten", "fts").Results.Should().NotContain(h => h.Memory.Id == cat.MemoryId, "no word of the query is in it");
    }

    [Fact]
    public void A_failing_endpoint_still_stores_searches_by_keywords_says_why_and_embeds_later()
    {
        using var dir = new TempDirectory();
        using var service = Open(dir.File("memory.db"), Endpoint(retryAfter: TimeSpan.FromMilliseconds(300)).Connect());
        service.WaitForVectors(TimeSpan.FromSeconds(10)).Should().BeTrue();
        Store(service, Car);

        _server.Now = EmbeddingsServer.Behaviour.Fail500;
        var stored = Store(service, Cat);
        stored.Status.Should().Be("stored");
        stored.HasEmbedding.Should().BeFalse();
        var search = Search(service, "cat on the sofa");
        search.Mode.Should().Be("fts");
        search.FallbackReason.Should().Contain("encoder failed on this query").And.Contain("500");
        search.Results.Should().ContainSingle(h => h.Memory.Id == stored.MemoryId);
        var vector = () => Search(service, "kitten", "vector");
        vector.Should().Throw<MemoryValidationException>().WithMessage("mode: vector search is not available*500*");

        _server.Now = EmbeddingsServer.Behaviour.Answer;
        WaitUntil(() => service.PendingEmbeddings() == 0, TimeSpan.FromSeconds(15), "the background queue embeds the memory stored meanwhile");
        var recovered = Search(service, "kitten");
        recovered.Mode.Should().Be("hybrid");
        recovered.FallbackReason.Should().BeNull();
        recovered.Results[0].Memory.Id.Should().Be(stored.MemoryId);
    }

    [Fact]
    public void A_hanging_endpoint_never_holds_a_store_or_a_search_beyond_the_timeout()
    {
        using var dir = new TempDirectory();
        using var service = Open(dir.File("memory.db"), Endpoint(timeout: TimeSpan.FromSeconds(1), dimensions: 48).Connect());
        service.WaitForVectors(TimeSpan.FromSeconds(10)).Should().BeTrue();
        _server.Now = EmbeddingsServer.Behaviour.Hang;

        var stopwatch = Stopwatch.StartNew();
        var stored = Store(service, Cat);
        var search = Search(service, "cat sofa");
        stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(4), "one timeout, then the recent failure answers at once");
        stored.HasEmbedding.Should().BeFalse();
        search.Mode.Should().Be("fts");
        search.FallbackReason.Should().Contain("no answer within 1 s");
        search.Results.Should().ContainSingle(h => h.Memory.Id == stored.MemoryId);
    }

    [Fact]
    public void A_server_keeps_trying_an_endpoint_that_is_down_at_start_and_says_so_meanwhile()
    {
        using var dir = new TempDirectory();
        _server.Now = EmbeddingsServer.Behaviour.Fail500;
        var provider = Endpoint().Deferred();
        using var service = MemoryService.Open(dir.File("memory.db"), MemoryOptions.Default with { EmbeddingInterval = TimeSpan.FromMilliseconds(50) }, provider);
        var stored = Store(service, Cat);
        stored.HasEmbedding.Should().BeFalse();
        provider.Start(lowPriority: false);

        WaitUntil(() => provider.LoadingStatus is not null, TimeSpan.FromSeconds(10), "the first attempt fails");
        var meanwhile = Search(service, "cat sofa");
        meanwhile.Mode.Should().Be("fts");
        meanwhile.FallbackReason.Should().Contain("has not answered yet").And.Contain("500").And.Contain("retrying");

        _server.Now = EmbeddingsServer.Behaviour.Answer;
        service.WaitForVectors(TimeSpan.FromSeconds(15)).Should().BeTrue("the loader retries within seconds");
        WaitUntil(() => service.PendingEmbeddings() == 0, TimeSpan.FromSeconds(15), "the queue embeds what was stored meanwhile");
        var search = Search(service, "kitten");
        search.Mode.Should().Be("hybrid");
        search.Results[0].Memory.Id.Should().Be(stored.MemoryId);
    }

    [Fact]
    public void A_model_change_re_embeds_everything_and_never_mixes_spaces()
    {
        using var dir = new TempDirectory();
        var path = dir.File("memory.db");
        var modelA = Endpoint(model: "model-a").Connect();
        var modelB = Endpoint(model: "model-b").Connect();
        Guid cat;
        using (var service = Open(path, modelA))
        {
            service.WaitForVectors(TimeSpan.FromSeconds(10)).Should().BeTrue();
            cat = Store(service, Cat).MemoryId;
            foreach (var text in new[] { Car, Db, "release the deploy on friday", "cars and more cars" }) Store(service, text);
            StoredModels(path).Should().Equal((modelA.ModelId, 5L));
        }

        using (var service = Open(path, modelB))
        {
            service.WaitForVectors(TimeSpan.FromSeconds(10)).Should().BeTrue();
            WaitUntil(() => service.PendingEmbeddings() == 0, TimeSpan.FromSeconds(15), "re-embedding with model-b");
            StoredModels(path).Should().Equal((modelB.ModelId, 5L));
            var search = Search(service, "kitten", "vector");
            search.Results[0].Memory.Id.Should().Be(cat);
            search.Results[0].Similarity.Should().BeApproximately(
                TensorPrimitives.Dot(Unit(EmbeddingsServer.Vector("model-b", "kitten", 48)), Unit(EmbeddingsServer.Vector("model-b", Cat, 48))), 0.01,
                "the score is model-b's cosine, not one against model-a's vectors");
        }
        _server.Requests.Where(r => r.Model == "model-b").SelectMany(r => r.Inputs).Should().Contain(Cat);
    }

    /// <summary>(model, count) of the stored vectors, read from the file as any SQLite client would.</summary>
    private static List<(string, long)> StoredModels(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT model, count(*) FROM memory_vectors GROUP BY model ORDER BY model";
        using var reader = command.ExecuteReader();
        var rows = new List<(string, long)>();
        while (reader.Read()) rows.Add((reader.GetString(0), reader.GetInt64(1)));
        return rows;
    }
}
