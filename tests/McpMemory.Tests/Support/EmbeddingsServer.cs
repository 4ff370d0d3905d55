using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace McpMemory.Tests.Support;

/// <summary>
/// A real HTTP server on 127.0.0.1 (Kestrel, a free port) that speaks OpenAI's POST /v1/embeddings: input as a string
/// or an array of strings, model, optional dimensions and encoding_format (float or base64); answers
/// {object: list, data: [{object: embedding, index, embedding}], model, usage}. Its vectors are deterministic: a
/// hashed bag of concepts (words of one <see cref="Concepts"/> group share a direction), salted by the model name so
/// that two models give two different spaces, and scaled so that the client has to normalise them.
/// </summary>
public sealed class EmbeddingsServer : IAsyncDisposable
{
    public enum Behaviour { Answer, Fail500, Hang }

    /// <summary>Words that mean the same here: a memory about a cat is found by a query about a kitten.</summary>
    public static readonly string[][] Concepts =
    [
        ["cat", "cats", "kitten", "feline"],
        ["car", "cars", "automobile", "vehicle"],
        ["database", "sqlite", "postgres", "db"],
        ["deploy", "deployment", "release", "ship"],
    ];

    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>http://127.0.0.1:PORT/v1 (known once started).</summary>
    public string BaseUrl => _app.Urls.First().TrimEnd('/') + "/v1";
    /// <summary>Length of the vectors it answers with (when the request names no dimensions); may change under a client.</summary>
    public int Dimension { get => _dimension; set => _dimension = value; }
    private volatile int _dimension;
    public volatile Behaviour Now = Behaviour.Answer;

    /// <summary>Answer float arrays whatever encoding_format asks (as some local servers do).</summary>
    public volatile bool FloatsOnly;

    /// <summary>Every request that reached the endpoint: its Authorization header, model and inputs.</summary>
    public ConcurrentQueue<(string? Authorization, string Model, string[] Inputs, string? EncodingFormat)> Requests { get; } = new();

    private EmbeddingsServer(WebApplication app, int dimension)
    {
        _app = app;
        _dimension = dimension;
    }

    public static async Task<EmbeddingsServer> StartAsync(int dimension = 48)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new EmbeddingsServer(app, dimension);
        app.MapPost("/v1/embeddings", (Func<HttpContext, Task<IResult>>)server.Handle);
        await app.StartAsync();
        return server;
    }

    private async Task<IResult> Handle(HttpContext context)
    {
        JsonNode? body;
        try { body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted); }
        catch (JsonException) { return Results.BadRequest(Error("body is not JSON")); }
        var model = body?["model"]?.GetValue<string>();
        if (string.IsNullOrEmpty(model)) return Results.BadRequest(Error("model is required"));
        string[] inputs;
        switch (body!["input"])
        {
            case JsonValue single when single.TryGetValue<string>(out var text): inputs = [text]; break;
            case JsonArray array when array.All(n => n is JsonValue v && v.TryGetValue<string>(out _)):
                inputs = array.Select(n => n!.GetValue<string>()).ToArray(); break;
            default: return Results.BadRequest(Error("input must be a string or an array of strings"));
        }
        var format = body["encoding_format"]?.GetValue<string>();
        var dimension = body["dimensions"]?.GetValue<int>() ?? Dimension;
        Requests.Enqueue((context.Request.Headers.Authorization.FirstOrDefault(), model, inputs, format));

        switch (Now)
        {
            case Behaviour.Fail500:
                return Results.Json(Error("the model runner crashed"), statusCode: 500);
            case Behaviour.Hang:
                using (var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token))
                    try { await Task.Delay(TimeSpan.FromMinutes(2), linked.Token); } catch (OperationCanceledException) { }
                return Results.StatusCode(503);
        }

        var data = new JsonArray();
        for (var i = 0; i < inputs.Length; i++)
        {
            var vector = Vector(model, inputs[i], dimension);
            JsonNode embedding = format == "base64" && !FloatsOnly
                ? JsonValue.Create(Convert.ToBase64String(MemoryMarshalBytes(vector)))
                : new JsonArray(vector.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());
            data.Add(new JsonObject { ["object"] = "embedding", ["index"] = i, ["embedding"] = embedding });
        }
        var tokens = inputs.Sum(t => Words(t).Count());
        return Results.Json(new JsonObject
        {
            ["object"] = "list", ["data"] = data, ["model"] = model,
            ["usage"] = new JsonObject { ["prompt_tokens"] = tokens, ["total_tokens"] = tokens },
        });
    }

    /// <summary>The server's vector for a text, before the client normalises it (length 3 × the unit vector).</summary>
    public static float[] Vector(string model, string text, int dimension)
    {
        var vector = new float[dimension];
        foreach (var word in Words(text))
        {
            var concept = Concepts.FirstOrDefault(g => g.Contains(word))?[0] ?? word;
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(model + "\u0000" + concept));
            for (var k = 0; k < 3; k++) vector[BitConverter.ToUInt32(hash, 4 * k) % dimension] += (hash[16 + k] & 1) == 0 ? 1 : -1;
        }
        var norm = MathF.Sqrt(vector.Sum(v => v * v));
        if (norm == 0) vector[0] = 1; // a text without words still gets a (shared) direction
        else for (var i = 0; i < dimension; i++) vector[i] = 3 * vector[i] / norm;
        return vector;
    }

    private static IEnumerable<string> Words(string text) =>
        text.ToLowerInvariant().Split(text.Where(c => !char.IsLetterOrDigit(c)).Distinct().ToArray(), StringSplitOptions.RemoveEmptyEntries);

    private static byte[] MemoryMarshalBytes(float[] vector)
    {
        var bytes = new byte[vector.Length * 4];
        Buffer.BlockCopy(vector, 0, bytes, 0, bytes.Length);
        return bytes;
    }

    private static JsonObject Error(string message) =>
        new() { ["error"] = new JsonObject { ["message"] = message, ["type"] = "server_error" } };

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5))) await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
