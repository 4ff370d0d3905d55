using McpMemory.Core.Embeddings;

namespace McpMemory;

/// <summary>
/// Which sentence encoder the tool uses: an embeddings endpoint when one is configured (--embeddings-url), else the
/// built-in USE-lite, unless MCP_MEMORY_ENCODER=off.
/// </summary>
public static class Encoders
{
    public const string Variable = "MCP_MEMORY_ENCODER";

    public static bool Disabled =>
        Environment.GetEnvironmentVariable(Variable) is { } v && v.Trim().ToLowerInvariant() is "off" or "none" or "0" or "false";

    /// <summary>Starts loading the encoder now, in the background (for commands that wait for it), or null when disabled.</summary>
    public static EmbedderProvider? StartDefault(Settings settings)
    {
        if (settings.Embeddings is { } endpoint) return endpoint.StartLoading();
        return Disabled ? null : EmbedderProvider.StartLoading(UseLiteEncoder.LoadDefault);
    }

    /// <summary>
    /// The encoder, not loading yet (a server starts it once it has answered its first requests: see
    /// Transports/EncoderWarmup), or null when disabled.
    /// </summary>
    public static EmbedderProvider? Deferred(Settings settings)
    {
        if (settings.Embeddings is { } endpoint) return endpoint.Deferred();
        return Disabled ? null : EmbedderProvider.Deferred(UseLiteEncoder.LoadDefault);
    }

    /// <summary>The encoder, loaded now (embed, eval); throws if it cannot be loaded or reached.</summary>
    public static IEmbedder LoadNow(Settings settings)
    {
        if (settings.Embeddings is { } endpoint) return endpoint.Connect();
        return UseLiteEncoder.LoadDefault();
    }
}
