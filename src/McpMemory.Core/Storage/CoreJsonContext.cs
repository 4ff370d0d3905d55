using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace McpMemory.Core.Storage;

/// <summary>
/// Source-generated JSON for what Core writes itself (default options, like the reflection-based calls it replaces): the
/// namespace lists bound to SQL as one JSON array, state values. No reflection, so the Native AOT package can run it.
/// </summary>
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(JsonNode))]
internal sealed partial class CoreJsonContext : JsonSerializerContext;
