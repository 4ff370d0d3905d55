using System.Text.Json;
using McpMemory.Core.Memories;
using ModelContextProtocol;

namespace McpMemory.Tools;

/// <summary>Shared plumbing of the tool classes: engine errors become tool errors the agent can read and act on.</summary>
internal static class ToolCall
{
    public static T Run<T>(Func<T> call)
    {
        try { return call(); }
        catch (MemoryException e) { throw new McpException(e.Message); }
    }

    public static string? Metadata(JsonElement? metadata) => metadata switch
    {
        null => null,
        { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => null,
        { ValueKind: JsonValueKind.Object } m => m.GetRawText(),
        _ => throw new MemoryValidationException("metadata", "must be a JSON object, e.g. {\"file\": \"src/app.ts\"}"),
    };
}
