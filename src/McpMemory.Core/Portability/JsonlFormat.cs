using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace McpMemory.Core.Portability;

/// <summary>
/// The JSONL export format: one JSON object per line, each with a "kind": a header line first
/// (<c>{"kind":"header","format":"mcp-memory","version":1}</c>), then memory records (each followed by its vector
/// record, if it has a vector), state, feedback and event records. Files without vector records (older exports)
/// are read the same way.
/// Field names are snake_case as on the MCP wire; times are UTC ISO-8601 with milliseconds (exactly what is stored).
/// </summary>
public static class JsonlFormat
{
    public const string FormatName = "mcp-memory";
    public const int Version = 1;

    public const string Header = "header";
    public const string Memory = "memory";
    public const string State = "state";
    public const string Feedback = "feedback";
    public const string Event = "event";
    public const string Vector = "vector";

    /// <summary>Largest vector dimension an import accepts.</summary>
    public const int MaxVectorDimension = 4096;

    /// <summary>Deep enough for any metadata the validator accepts (16) inside a record; deeper is refused before parsing.</summary>
    internal const int MaxDepth = 64;

    internal static readonly JsonSerializerOptions Options = new()
    {
        // Memories are prose and code: keep them readable in the file (this JSON never lands in HTML).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    public static string Time(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    internal static JsonObject HeaderRecord() => new() { ["kind"] = Header, ["format"] = FormatName, ["version"] = Version };
}
