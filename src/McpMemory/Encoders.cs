using System.Diagnostics;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Embeddings.Onnx;

namespace McpMemory;

/// <summary>
/// Which sentence encoder the tool uses. An embeddings endpoint when one is configured (--embeddings-url, see
/// EmbeddingEndpoint); else by default snowflake-arctic-embed-xs on ONNX Runtime; USE-lite (managed code,
/// runs anywhere .NET does) when ONNX Runtime's native library or the model cannot be loaded, or when asked for
/// (--model use-lite, MCP_MEMORY_MODEL=use-lite); any sentence-transformers ONNX folder with --model DIR; none with
/// MCP_MEMORY_ENCODER=off (keyword search only).
/// </summary>
public static class Encoders
{
    public const string Arctic = "arctic-embed-xs";

    /// <summary>The built-in model with its weights as stored (fp32): exact vectors, about half the speed of the default int8.</summary>
    public const string ArcticFp32 = "arctic-embed-xs-fp32";
    public const string UseLite = "use-lite";

    /// <summary>
    /// Where int8 weights are kept once quantized (OnnxEncoder.Int8Session): the user's data folder (the default
    /// database's), whatever --db says, so a project-local database never gets a models/ folder beside it.
    /// </summary>
    public static string ModelCacheDirectory => Path.Combine(Path.GetDirectoryName(Settings.DefaultDatabasePath())!, "models");

    /// <summary>Whether <paramref name="model"/> names a built-in encoder rather than a model folder.</summary>
    public static bool IsBuiltIn(string model) =>
        new[] { Arctic, ArcticFp32, UseLite }.Any(name => name.Equals(model.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The encoder in use and why: "default", "configured: …" or "fallback: …" (the reason the model could not load).</summary>
    public sealed record Choice(IEmbedder Embedder, string Reason, TimeSpan LoadTime);

    /// <summary>The choice the last <see cref="Load"/> made in this process (for logs and doctor).</summary>
    public static Choice? Last { get; private set; }

    /// <summary>
    /// Loads the encoder the settings' model names (null or empty: the default). A transformer model that fails to
    /// load (no native ONNX Runtime for this platform, a missing or corrupt file, a bad config) falls back to USE-lite,
    /// and the reason says why; USE-lite failing throws.
    /// </summary>
    public static Choice Load(Settings settings)
    {
        var model = settings.Model;
        var useLite = () => UseLiteEncoder.Load(settings.UseLiteDirectory ?? UseLiteModelFiles.DefaultDirectory);
        var stopwatch = Stopwatch.StartNew();
        var name = string.IsNullOrWhiteSpace(model) ? Arctic : model.Trim();
        Choice choice;
        if (name.Equals(UseLite, StringComparison.OrdinalIgnoreCase))
            choice = new Choice(useLite(), $"configured: {UseLite}", stopwatch.Elapsed);
        else
        {
            bool fp32 = name.Equals(ArcticFp32, StringComparison.OrdinalIgnoreCase);
            bool builtIn = fp32 || name.Equals(Arctic, StringComparison.OrdinalIgnoreCase);
            var directory = builtIn ? OnnxEncoder.DefaultDirectory : Path.GetFullPath(name);
            try
            {
                var encoder = OnnxEncoder.Load(directory, weights: fp32 ? OnnxWeights.AsStored : null, int8Cache: ModelCacheDirectory);
                var reason = string.IsNullOrWhiteSpace(model) ? "default" : $"configured: {(builtIn ? name : directory)}";
                choice = new Choice(encoder, reason, stopwatch.Elapsed);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                var reason = $"fallback: {(builtIn ? name : directory)} could not be loaded ({Describe(e)})";
                choice = new Choice(useLite(), reason, stopwatch.Elapsed);
            }
        }
        Last = choice;
        if (choice.Reason.StartsWith("fallback", StringComparison.Ordinal)) Console.Error.WriteLine($"mcp-memory: encoder {choice.Embedder.ModelId}, {choice.Reason}");
        return choice;
    }

    // ONNX Runtime's missing native library surfaces as a type initializer failing around a DllNotFoundException.
    private static string Describe(Exception e)
    {
        var root = e;
        while (root is TypeInitializationException { InnerException: { } inner }) root = inner;
        return root is DllNotFoundException or BadImageFormatException
            ? $"ONNX Runtime's native library is not available on this platform: {root.Message}"
            : root.Message.ReplaceLineEndings(" ");
    }

    /// <summary>Starts loading the configured encoder now, in the background (for commands that wait for it), or null when disabled.</summary>
    public static EmbedderProvider? StartDefault(Settings settings)
    {
        if (settings.Embeddings is { } endpoint) return endpoint.StartLoading();
        return settings.EncoderOff ? null : EmbedderProvider.StartLoading(() => Load(settings).Embedder);
    }

    /// <summary>
    /// The configured encoder, not loading yet (a server starts it once it has answered its first requests: see
    /// Transports/EncoderWarmup), or null when disabled.
    /// </summary>
    public static EmbedderProvider? Deferred(Settings settings)
    {
        if (settings.Embeddings is { } endpoint) return endpoint.Deferred();
        return settings.EncoderOff ? null : EmbedderProvider.Deferred(() => Load(settings).Embedder);
    }

    /// <summary>The configured encoder, loaded now (embed, eval); throws if an endpoint cannot be reached.</summary>
    public static IEmbedder LoadNow(Settings settings) =>
        settings.Embeddings is { } endpoint ? endpoint.Connect() : Load(settings).Embedder;
}
