using System.ClientModel;
using System.ClientModel.Primitives;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Memories;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Embeddings;

namespace McpMemory;

/// <summary>
/// An OpenAI-compatible /v1/embeddings endpoint (Ollama, LM Studio, OpenAI, …) as the encoder, through
/// Microsoft.Extensions.AI: `--embeddings-url` / MCP_MEMORY_EMBEDDINGS_URL and `--embeddings-model` /
/// MCP_MEMORY_EMBEDDINGS_MODEL, the key only from MCP_MEMORY_EMBEDDINGS_KEY (never a command-line argument, which other
/// users can read in the process list, and never printed).
/// </summary>
public sealed record EmbeddingEndpoint
{
    /// <summary>The API base, e.g. http://localhost:11434/v1 (requests go to its /embeddings).</summary>
    public required Uri BaseUrl { get; init; }
    public required string Model { get; init; }
    /// <summary>The bearer key (from the environment only); null sends none.</summary>
    public string? Key { get; init; }
    public EndpointEmbedderOptions Options { get; init; } = null!;

    /// <summary>The base URL without any user:password part, for messages.</summary>
    public string DisplayUrl => $"{BaseUrl.Scheme}://{BaseUrl.Authority}{BaseUrl.AbsolutePath.TrimEnd('/')}";

    /// <summary>
    /// The endpoint from the options, else the environment (<see cref="Settings"/> passes its own); null when no URL is
    /// set (the built-in encoder is used). Bad values are refused naming the option and what is expected.
    /// </summary>
    public static EmbeddingEndpoint? Resolve(string? url, string? model, Func<string, string?> environment)
    {
        url = Settings.FirstNonEmpty(url, environment(Settings.EmbeddingsUrlVariable));
        if (url is null) return null;
        model = Settings.FirstNonEmpty(model, environment(Settings.EmbeddingsModelVariable))
                ?? throw new MemoryValidationException("--embeddings-model", $"is required with --embeddings-url (or ${Settings.EmbeddingsModelVariable}), e.g. nomic-embed-text or text-embedding-3-small");
        var baseUrl = BaseUrlOf(url);
        var timeout = Settings.Number(environment(Settings.EmbeddingsTimeoutVariable), Settings.EmbeddingsTimeoutVariable, 0.1, 600) ?? 10;
        var dimensions = Settings.Number(environment(Settings.EmbeddingsDimensionsVariable), Settings.EmbeddingsDimensionsVariable, 1, 65536);
        if (dimensions is { } whole && whole != Math.Floor(whole))
            throw new MemoryValidationException(Settings.EmbeddingsDimensionsVariable, $"must be a whole number (got {whole})");
        return new EmbeddingEndpoint
        {
            BaseUrl = baseUrl,
            Model = model.Trim(),
            Key = Settings.FirstNonEmpty(environment(Settings.EmbeddingsKeyVariable)),
            Options = new EndpointEmbedderOptions
            {
                Model = model.Trim(),
                Location = baseUrl.Authority,
                Timeout = TimeSpan.FromSeconds(timeout),
                Dimensions = dimensions is { } d ? (int)d : null,
                QueryPrefix = environment(Settings.EmbeddingsQueryPrefixVariable) ?? "",
                DocumentPrefix = environment(Settings.EmbeddingsDocumentPrefixVariable) ?? "",
            },
        };
    }

    /// <summary>
    /// http(s)://host[:port][/path]: a bare host gets /v1 (Ollama, LM Studio and OpenAI all serve it there); a URL that
    /// already ends in /embeddings is cut back to its base.
    /// </summary>
    internal static Uri BaseUrlOf(string url)
    {
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new MemoryValidationException("--embeddings-url", $"\"{Namespaces.Truncate(url, 80)}\" is not an http:// or https:// URL, e.g. http://localhost:11434/v1");
        var path = uri.AbsolutePath.TrimEnd('/');
        if (path.EndsWith("/embeddings", StringComparison.OrdinalIgnoreCase)) path = path[..^"/embeddings".Length];
        if (path.Length == 0) path = "/v1";
        return new UriBuilder(uri) { Path = path, Query = "", Fragment = "" }.Uri;
    }

    /// <summary>Microsoft.Extensions.AI's generator over the OpenAI client, without its own retries (the engine retries).</summary>
    public IEmbeddingGenerator<string, Embedding<float>> CreateGenerator()
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = BaseUrl,
            NetworkTimeout = Options.Timeout,
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        };
        // The client insists on a key; local servers (Ollama, LM Studio) ignore the placeholder, as their docs advise.
        return new EmbeddingClient(Model, new ApiKeyCredential(Key ?? NoKey), options).AsIEmbeddingGenerator(Options.Dimensions);
    }

    /// <summary>Connects once (one request, bounded by the timeout); throws <see cref="EmbeddingEndpointException"/>.</summary>
    public EndpointEmbedder Connect() => EndpointEmbedder.Connect(CreateGenerator(), Options);

    /// <summary>For one-shot commands: starts connecting now, once; if the endpoint fails they go on with keywords only.</summary>
    public EmbedderProvider StartLoading() => EmbedderProvider.StartLoading(Connect);

    /// <summary>
    /// For a server: connects once started (see Transports/EncoderWarmup), retrying in the background until the endpoint
    /// answers (an Ollama started after the agent is picked up). Meanwhile search answers from keywords and says why.
    /// </summary>
    public EmbedderProvider Deferred()
    {
        string? lastError = null;
        return EmbedderProvider.Deferred(() =>
        {
            var wait = TimeSpan.FromSeconds(1);
            while (true)
            {
                try { return Connect(); }
                catch (EmbeddingEndpointException e) { lastError = e.Message; }
                Thread.Sleep(wait);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, MaxRetryWait.Ticks));
            }
        }, () => lastError is null ? null : $"the embeddings endpoint has not answered yet ({lastError}); retrying in the background");
    }

    private static readonly TimeSpan MaxRetryWait = TimeSpan.FromSeconds(30);

    /// <summary>Sent as the bearer key when none is configured.</summary>
    internal const string NoKey = "no-key";
}
