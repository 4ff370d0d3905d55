using System.Globalization;
using System.Text.Json;
using McpMemory.Core.Memories;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpMemory.Tools;

/// <summary>
/// Tool errors as an agent should see them: one line that starts with the field. Arguments of the wrong JSON type
/// never reach a tool method (the SDK fails to bind them and would answer only "An error occurred invoking
/// 'store_memory'"), so this call-tool filter names the argument and the expected type. It is also the one place
/// where engine errors (<see cref="MemoryException"/>: bad input, not found, a stale version) become tool errors,
/// as they are, without the SDK's prefix; so each tool method is just its call into the engine.
/// </summary>
internal static class ToolArgumentErrors
{
    public static McpRequestHandler<CallToolRequestParams, CallToolResult> Filter(McpRequestHandler<CallToolRequestParams, CallToolResult> next) =>
        async (context, cancellationToken) =>
        {
            try { return await next(context, cancellationToken); }
            catch (MemoryException e)
            {
                // Already names the field and the limit (the SDK would answer only "An error occurred invoking …").
                return Error(e.Message);
            }
            catch (McpException e) when (e is not McpProtocolException)
            {
                // A tool's own error, already phrased for the agent: pass it on as is.
                return Error(e.Message);
            }
            catch (Exception e) when (e is JsonException or ArgumentException or FormatException or InvalidOperationException or OverflowException)
            {
                var schema = (context.MatchedPrimitive as McpServerTool)?.ProtocolTool.InputSchema;
                return Error(Describe(schema, context.Params?.Arguments, e));
            }
        };

    private static CallToolResult Error(string message) => new() { IsError = true, Content = [new TextContentBlock { Text = message }] };

    /// <summary>The first argument that does not fit the tool's input schema, else a short form of the binder's message.</summary>
    internal static string Describe(JsonElement? schema, IDictionary<string, JsonElement>? arguments, Exception error)
    {
        if (schema is { ValueKind: JsonValueKind.Object } s && s.TryGetProperty("properties", out var properties))
        {
            if (s.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
                foreach (var name in required.EnumerateArray().Select(r => r.GetString()!))
                    if (arguments is null || !arguments.TryGetValue(name, out var v) || v.ValueKind == JsonValueKind.Null)
                        return $"{name}: is required";
            foreach (var (name, value) in arguments ?? new Dictionary<string, JsonElement>())
            {
                if (HasLoneSurrogate(value)) return $"{name}: contains an unpaired UTF-16 surrogate (not valid Unicode text)";
                if (properties.TryGetProperty(name, out var property) && Mismatch(property, value) is { } expected)
                    return $"{name}: must be {expected} (got {Show(value)})";
            }
        }
        var message = error.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return "arguments: " + (cut < 0 ? message : message[..cut]);
    }

    /// <summary>What the property expects, when <paramref name="value"/> does not fit; null when it fits.</summary>
    private static string? Mismatch(JsonElement property, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null) return null;
        var types = TypesOf(property);
        if (types.Count == 0) return null; // any JSON value
        if (types.Contains("string") && value.ValueKind == JsonValueKind.String) return null;
        if (types.Contains("integer") && IsWholeNumber(value)) return null;
        if (types.Contains("number") && (value.ValueKind == JsonValueKind.Number || IsNumberText(value))) return null;
        if (types.Contains("boolean") && value.ValueKind is JsonValueKind.True or JsonValueKind.False) return null;
        if (types.Contains("object") && value.ValueKind == JsonValueKind.Object) return null;
        if (types.Contains("array") && value.ValueKind == JsonValueKind.Array)
        {
            var itemTypes = property.TryGetProperty("items", out var items) ? TypesOf(items) : [];
            if (!itemTypes.Contains("string") || value.EnumerateArray().All(i => i.ValueKind is JsonValueKind.String or JsonValueKind.Null)) return null;
            return "an array of strings";
        }
        var expected = types.Where(t => t != "null").Select(t => t switch
        {
            "integer" => "a whole number within range",
            "array" => "an array",
            "object" => "an object",
            var other => "a " + other,
        });
        return string.Join(" or ", expected);
    }

    /// <summary>
    /// Judged against the narrowest integer parameter (top_k, an int): this runs only after binding failed, so a
    /// large value that a long parameter would have taken is not what failed.
    /// </summary>
    private static bool IsWholeNumber(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number ? value.TryGetInt32(out _)
        : value.ValueKind == JsonValueKind.String && int.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out _);

    /// <summary>True when a string in <paramref name="value"/> is an escaped lone surrogate, which no binder can turn into text.</summary>
    private static bool HasLoneSurrogate(JsonElement value)
    {
        try
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String: value.GetString(); break;
                case JsonValueKind.Array: foreach (var item in value.EnumerateArray()) if (HasLoneSurrogate(item)) return true; break;
                case JsonValueKind.Object:
                    foreach (var property in value.EnumerateObject())
                        if (HasLoneSurrogate(property.Value)) return true;
                    break;
            }
            return false;
        }
        catch (InvalidOperationException) { return true; }
    }

    /// <summary>The schema's "type": one name or a list of names (nullable parameters list "null" too).</summary>
    private static List<string?> TypesOf(JsonElement schema) =>
        !schema.TryGetProperty("type", out var type) ? []
        : type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()).ToList()
        : [type.GetString()];

    private static bool IsNumberText(JsonElement value) =>
        value.ValueKind == JsonValueKind.String &&
        (double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out _) || value.GetString() is "NaN" or "Infinity" or "-Infinity");

    private static string Show(JsonElement value)
    {
        var text = value.GetRawText();
        return text.Length <= 40 ? text : value.ValueKind.ToString().ToLowerInvariant() + " of " + text.Length + " characters";
    }
}
