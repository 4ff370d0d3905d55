using System.Text.Json;
using McpMemory.Core.Memories;

namespace McpMemory.Tools;

/// <summary>Shared plumbing of the tool classes: arguments read the way the engine's errors read (JSON options and times: Contracts/).</summary>
internal static class ToolCall
{
    public static string? Metadata(JsonElement? metadata) => metadata switch
    {
        null => null,
        { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => null,
        { ValueKind: JsonValueKind.Object } m => m.GetRawText(),
        _ => throw new MemoryValidationException("metadata", "must be a JSON object, e.g. {\"file\": \"src/app.ts\"}"),
    };
}
