using McpMemory.Core.Embeddings;

namespace McpMemory;

/// <summary>Which sentence encoder the tool uses: the built-in USE-lite, unless MCP_MEMORY_ENCODER=off.</summary>
public static class Encoders
{
    public const string Variable = "MCP_MEMORY_ENCODER";

    public static bool Disabled =>
        Environment.GetEnvironmentVariable(Variable) is { } v && v.Trim().ToLowerInvariant() is "off" or "none" or "0" or "false";

    /// <summary>Starts loading the built-in encoder in the background, or null when disabled.</summary>
    public static EmbedderProvider? StartDefault() =>
        Disabled ? null : EmbedderProvider.StartLoading(UseLiteEncoder.LoadDefault);
}
