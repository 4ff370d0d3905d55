using System.Text.Json;

namespace McpMemory.Contracts;

/// <summary>How results are written as JSON, by the MCP tools and by the command line's --json alike.</summary>
public static class ResultJson
{
    /// <summary>Snake_case on the wire, as agents and the MCP ecosystem expect.</summary>
    public static readonly JsonSerializerOptions Options = new(ModelContextProtocol.McpJsonUtilities.DefaultOptions)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // Memories are code and prose: keep quotes, '<' and non-ASCII readable (this JSON never lands in HTML).
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        // The output schemas list every property as required (null allowed where the type is nullable), and clients
        // such as the TypeScript SDK validate structured content against them: write nulls instead of omitting them.
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never,
    };
}
