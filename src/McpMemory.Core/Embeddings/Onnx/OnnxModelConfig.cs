using System.Text.Json;
using System.Text.Json.Serialization;

namespace McpMemory.Core.Embeddings.Onnx;

/// <summary>How the encoder's last hidden state becomes one vector.</summary>
public enum Pooling
{
    /// <summary>The [CLS] position's row (arctic-embed, bge).</summary>
    Cls,

    /// <summary>The mean of the rows of every real token, padding excluded (most sentence-transformers models).</summary>
    Mean,
}

/// <summary>What the encoder does with model.onnx's weights at load.</summary>
public enum OnnxWeights
{
    /// <summary>Run the file as it is (fp32 for the built-in model): vectors exactly as the model's authors compute them.</summary>
    AsStored,

    /// <summary>
    /// Quantize every MatMul weight to int8 at load (<see cref="Int8WeightQuantizer"/>): about twice as fast and smaller
    /// in memory, vectors within cosine 0.99 of the file's own (docs/encoder.md, "int8 weights"). A vector space of its own.
    /// </summary>
    Int8,
}

/// <summary>
/// What a sentence-transformers model folder needs besides its model.onnx and vocab.txt: <c>mcp-memory-model.json</c>,
/// e.g. <c>{"model_id": "snowflake-arctic-embed-xs@onnx", "dimension": 384, "pooling": "cls", "normalize": true,
/// "max_tokens": 512, "query_prefix": "Represent this sentence for searching relevant passages: ", "document_prefix": "",
/// "weights": "int8"}</c>.
/// </summary>
/// <param name="ModelId">Stored with every vector: a different id means a different vector space (re-embedded, never mixed).</param>
/// <param name="Dimension">Width of the model's hidden state, checked against the model at load.</param>
/// <param name="Pooling">cls or mean.</param>
/// <param name="Normalize">L2-normalise the pooled vector (search assumes unit vectors: keep true unless the model already does).</param>
/// <param name="MaxTokens">Longest input in tokens, special tokens included; longer texts are cut.</param>
/// <param name="QueryPrefix">Put before a search query (asymmetric models such as arctic-embed).</param>
/// <param name="DocumentPrefix">Put before a stored memory.</param>
/// <param name="Weights">as-stored (default) or int8: see <see cref="OnnxWeights"/>.</param>
public sealed partial record OnnxModelConfig(
    string ModelId, int Dimension, Pooling Pooling, bool Normalize, int MaxTokens, string QueryPrefix, string DocumentPrefix,
    OnnxWeights Weights = OnnxWeights.AsStored)
{
    /// <summary>The config file's name inside a model folder.</summary>
    public const string FileName = "mcp-memory-model.json";

    /// <summary>Reads and checks a config file; errors name the file, the field and the limit.</summary>
    public static OnnxModelConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"The model config '{path}' is missing ({FileName}: model_id, dimension, pooling, …).", path);
        Raw raw;
        try { raw = JsonSerializer.Deserialize(File.ReadAllText(path), RawJsonContext.Default.Raw) ?? throw new InvalidDataException($"{path}: empty"); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e); }

        InvalidDataException Invalid(string field, string rule, object? got) =>
            new($"{path}: {field}: {rule} (got {Quoted(got)})");
        if (string.IsNullOrWhiteSpace(raw.ModelId)) throw Invalid("model_id", "required, a name for this model's vector space", raw.ModelId);
        string modelId = raw.ModelId.Trim();
        if (modelId.Length > 100) throw Invalid("model_id", "at most 100 characters", modelId.Length);
        if (raw.Dimension is not (>= 8 and <= 4096)) throw Invalid("dimension", "required, between 8 and 4096", raw.Dimension);
        var pooling = raw.Pooling?.Trim().ToLowerInvariant() switch
        {
            null or "cls" => Pooling.Cls,
            "mean" => Pooling.Mean,
            var other => throw Invalid("pooling", "must be \"cls\" or \"mean\"", other),
        };
        int maxTokens = raw.MaxTokens ?? 512;
        if (maxTokens is < 3 or > 8192) throw Invalid("max_tokens", "must be between 3 and 8192", maxTokens);
        var weights = raw.Weights?.Trim().ToLowerInvariant() switch
        {
            null or "as-stored" => OnnxWeights.AsStored,
            "int8" => OnnxWeights.Int8,
            var other => throw Invalid("weights", "must be \"as-stored\" or \"int8\"", other),
        };
        return new OnnxModelConfig(modelId, raw.Dimension.Value, pooling, raw.Normalize ?? true, maxTokens, raw.QueryPrefix ?? "", raw.DocumentPrefix ?? "", weights);
    }

    /// <summary>A value as JSON writes it (strings quoted and escaped, numbers bare), for the error messages.</summary>
    private static string Quoted(object? value) => value switch
    {
        null => "null",
        string text => JsonSerializer.Serialize(text, RawJsonContext.Default.String),
        IFormattable number => number.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "null",
    };

    /// <summary>The file's fields, source-generated (no reflection: the Native AOT package reads it too).</summary>
    [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
    [JsonSerializable(typeof(Raw))]
    [JsonSerializable(typeof(string))]
    private sealed partial class RawJsonContext : JsonSerializerContext;

    private sealed record Raw(
        string? ModelId, int? Dimension, string? Pooling, bool? Normalize, int? MaxTokens, string? QueryPrefix, string? DocumentPrefix, string? Weights,
        [property: JsonPropertyName("$comment")] string? Comment);
}
