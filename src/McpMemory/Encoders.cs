using McpMemory.Core.Embeddings;

namespace McpMemory;

/// <summary>Which sentence encoder the tool uses: the built-in USE-lite, unless MCP_MEMORY_ENCODER=off.</summary>
public static class Encoders
{
    public const string Variable = "MCP_MEMORY_ENCODER";

    public static bool Disabled =>
        Environment.GetEnvironmentVariable(Variable) is { } v && v.Trim().ToLowerInvariant() is "off" or "none" or "0" or "false";

    /// <summary>Starts loading the built-in encoder now, in the background (for commands that wait for it), or null when disabled.</summary>
    public static EmbedderProvider? StartDefault() =>
        Disabled ? null : EmbedderProvider.StartLoading(UseLiteEncoder.LoadDefault);

    /// <summary>
    /// The built-in encoder, not loading yet (a server starts it once it has answered its first requests: see
    /// Transports/EncoderWarmup), or null when disabled.
    /// </summary>
    public static EmbedderProvider? Deferred() =>
        Disabled ? null : EmbedderProvider.Deferred(UseLiteEncoder.LoadDefault);
}
