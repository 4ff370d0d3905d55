using System.Diagnostics;
using System.Numerics.Tensors;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;

namespace McpMemory.Core.Embeddings;

/// <summary>How an <see cref="EndpointEmbedder"/> calls its endpoint.</summary>
public sealed record EndpointEmbedderOptions
{
    /// <summary>The model name sent with every request, e.g. "nomic-embed-text" or "text-embedding-3-small".</summary>
    public required string Model { get; init; }

    /// <summary>Where the endpoint is, for the model id (host and port, no credentials), e.g. "localhost:11434".</summary>
    public required string Location { get; init; }

    /// <summary>Longest wait for one request; past it the call fails (and the caller falls back to keywords).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Ask for vectors of this length (models that can shorten them); null: learn it from the first answer.</summary>
    public int? Dimensions { get; init; }

    /// <summary>Put before every stored text, for models trained with one (e.g. "search_document: ").</summary>
    public string DocumentPrefix { get; init; } = "";

    /// <summary>Put before every query (e.g. "search_query: ").</summary>
    public string QueryPrefix { get; init; } = "";

    /// <summary>Most texts per request.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>
    /// After a failed request, calls fail at once (with that error) for this long instead of each waiting up to the
    /// timeout again; the engine's background queue embeds what was stored meanwhile once the endpoint answers.
    /// </summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>The endpoint failed, timed out, or answered something that is not a usable embedding.</summary>
public sealed class EmbeddingEndpointException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// An <see cref="IEmbedder"/> over any <see cref="IEmbeddingGenerator{TInput,TEmbedding}"/> (an OpenAI-compatible
/// /v1/embeddings endpoint such as Ollama, LM Studio or OpenAI): batches texts, bounds every request by
/// <see cref="EndpointEmbedderOptions.Timeout"/>, checks and L2-normalises each vector. Its <see cref="ModelId"/> names
/// the model, the endpoint, the dimension and the prefixes, so vectors of another model or endpoint are never mixed
/// with these: a change is detected and the stored vectors re-embedded. Thread-safe.
/// </summary>
public sealed class EndpointEmbedder : IEmbedder
{
    private readonly IEmbeddingGenerator<string, Embedding<float>> _generator;
    private readonly EndpointEmbedderOptions _options;
    private readonly EmbeddingGenerationOptions _request;
    private readonly Lock _failureLock = new();
    private long _failedUntil; // Environment.TickCount64; 0 while the endpoint answers
    private string? _lastFailure;

    private EndpointEmbedder(IEmbeddingGenerator<string, Embedding<float>> generator, EndpointEmbedderOptions options, int dimension)
    {
        _generator = generator;
        _options = options;
        _request = new EmbeddingGenerationOptions { ModelId = options.Model, Dimensions = options.Dimensions };
        Dimension = dimension;
        ModelId = IdFor(options, dimension);
    }

    /// <summary>
    /// An embedder for this endpoint. Without configured <see cref="EndpointEmbedderOptions.Dimensions"/> it asks the
    /// endpoint once to learn the vector length (and so that a dead endpoint is known at once); throws
    /// <see cref="EmbeddingEndpointException"/> if that request fails.
    /// </summary>
    public static EndpointEmbedder Connect(IEmbeddingGenerator<string, Embedding<float>> generator, EndpointEmbedderOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Model)) throw new ArgumentException("the embeddings model name is empty", nameof(options));
        if (options.Timeout <= TimeSpan.Zero) throw new ArgumentException("the timeout must be positive", nameof(options));
        if (options.Dimensions is { } configured) return new EndpointEmbedder(generator, options, configured);
        var probe = new EndpointEmbedder(generator, options, 0);
        var stopwatch = Stopwatch.StartNew();
        var vector = probe.Request(["dimension probe"]);
        var embedder = new EndpointEmbedder(generator, options, vector[0].Length) { RoundTrip = stopwatch.Elapsed };
        return embedder;
    }

    /// <summary>"endpoint:&lt;model&gt;@&lt;location&gt;#&lt;dimension&gt;", plus a hash of the prefixes when there are any.</summary>
    public static string IdFor(EndpointEmbedderOptions options, int dimension)
    {
        var id = $"endpoint:{options.Model.Trim()}@{options.Location}#{dimension}";
        if (options.DocumentPrefix.Length == 0 && options.QueryPrefix.Length == 0) return id;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(options.DocumentPrefix + "\u0000" + options.QueryPrefix));
        return id + "+prefix:" + Convert.ToHexStringLower(hash)[..8];
    }

    public string ModelId { get; }

    public int Dimension { get; }

    /// <summary>How long the first request (the probe in <see cref="Connect"/>) took, if one was made.</summary>
    public TimeSpan? RoundTrip { get; private init; }

    public float[] Embed(string text) => EmbedBatch([text])[0];

    /// <summary>Embeds a search query (with <see cref="EndpointEmbedderOptions.QueryPrefix"/>).</summary>
    public float[] EmbedQuery(string text) => Request([_options.QueryPrefix + text])[0];

    public float[][] EmbedBatch(IReadOnlyList<string> texts)
    {
        var result = new float[texts.Count][];
        for (var start = 0; start < texts.Count; start += _options.BatchSize)
        {
            var count = Math.Min(_options.BatchSize, texts.Count - start);
            var batch = new string[count];
            for (var i = 0; i < count; i++) batch[i] = _options.DocumentPrefix + texts[start + i];
            Request(batch).CopyTo(result, start);
        }
        return result;
    }

    /// <summary>One request: at most <see cref="EndpointEmbedderOptions.Timeout"/>, or at once while a recent failure stands.</summary>
    private float[][] Request(string[] inputs)
    {
        var failedUntil = Interlocked.Read(ref _failedUntil);
        if (failedUntil != 0 && Environment.TickCount64 < failedUntil)
            throw new EmbeddingEndpointException($"{_lastFailure} (not retried for {Seconds(_options.RetryAfter)} after a failure)");
        try
        {
            var vectors = Send(inputs);
            Interlocked.Exchange(ref _failedUntil, 0);
            return vectors;
        }
        catch (EmbeddingEndpointException e)
        {
            lock (_failureLock)
            {
                _lastFailure = e.Message;
                Interlocked.Exchange(ref _failedUntil, Environment.TickCount64 + (long)_options.RetryAfter.TotalMilliseconds);
            }
            throw;
        }
    }

    private float[][] Send(string[] inputs)
    {
        GeneratedEmbeddings<Embedding<float>> answer;
        using (var timeout = new CancellationTokenSource(_options.Timeout))
        {
            try
            {
                // Off the caller's synchronisation context, so blocking here cannot deadlock a caller that has one.
                answer = Task.Run(() => _generator.GenerateAsync(inputs, _request, timeout.Token), timeout.Token).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException e)
            {
                throw new EmbeddingEndpointException($"embeddings endpoint {_options.Location}: no answer within {Seconds(_options.Timeout)}", e);
            }
            catch (Exception e) when (e is not EmbeddingEndpointException)
            {
                // A timeout deep in the HTTP stack can surface as another exception type: name it as what it is.
                if (timeout.IsCancellationRequested)
                    throw new EmbeddingEndpointException($"embeddings endpoint {_options.Location}: no answer within {Seconds(_options.Timeout)}", e);
                throw new EmbeddingEndpointException($"embeddings endpoint {_options.Location}: {Describe(e)}", e);
            }
        }
        if (answer.Count != inputs.Length)
            throw new EmbeddingEndpointException($"embeddings endpoint {_options.Location}: {answer.Count} vectors for {inputs.Length} texts");
        var vectors = new float[inputs.Length][];
        for (var i = 0; i < inputs.Length; i++)
        {
            var vector = answer[i].Vector.ToArray();
            if (Dimension != 0 && vector.Length != Dimension)
                throw new EmbeddingEndpointException($"embeddings endpoint {_options.Location}: a vector of {vector.Length} dimensions, expected {Dimension} " +
                                                     $"(model \"{_options.Model}\" changed? restart to re-embed with it)");
            var norm = TensorPrimitives.Norm(vector);
            if (vector.Length == 0 || !float.IsFinite(norm) || norm == 0)
                throw new EmbeddingEndpointException($"embeddings endpoint {_options.Location}: vector {i} is empty, zero or not finite");
            TensorPrimitives.Divide(vector, norm, vector);
            vectors[i] = vector;
        }
        return vectors;
    }

    /// <summary>The error on one line, clipped: HTTP client errors carry the whole response body.</summary>
    private static string Describe(Exception e)
    {
        var message = string.Join(' ', e.Message.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return message.Length <= 200 ? message : message[..199] + "…";
    }

    private static string Seconds(TimeSpan time) => $"{time.TotalSeconds:0.###} s";
}
