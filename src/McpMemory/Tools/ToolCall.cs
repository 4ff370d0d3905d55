using System.Globalization;
using System.Text.Json;
using McpMemory.Core.Memories;

namespace McpMemory.Tools;

/// <summary>Shared plumbing of the tool classes: the JSON options, and arguments read the way the engine's errors read.</summary>
internal static class ToolCall
{
    /// <summary>Snake_case on the wire, as agents and the MCP ecosystem expect.</summary>
    public static readonly JsonSerializerOptions Json = new(ModelContextProtocol.McpJsonUtilities.DefaultOptions)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // Memories are code and prose: keep quotes, '<' and non-ASCII readable (this JSON never lands in HTML).
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        // The output schemas list every property as required (null allowed where the type is nullable), and clients
        // such as the TypeScript SDK validate structured content against them: write nulls instead of omitting them.
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never,
    };

    /// <summary>Parses an optional ISO-8601 time; the error names the field and the expected form.</summary>
    public static DateTimeOffset? Time(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            return time;
        throw new MemoryValidationException(field, $"\"{Namespaces.Truncate(value, 60)}\" is not an ISO-8601 time (e.g. 2026-11-22T14:30:00Z)");
    }

    public static string? Metadata(JsonElement? metadata) => metadata switch
    {
        null => null,
        { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => null,
        { ValueKind: JsonValueKind.Object } m => m.GetRawText(),
        _ => throw new MemoryValidationException("metadata", "must be a JSON object, e.g. {\"file\": \"src/app.ts\"}"),
    };
}
