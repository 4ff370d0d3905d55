using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;
using McpMemory.Core.Memories;

namespace McpMemory.Transports;

/// <summary>
/// The one check every transport runs on an incoming message before the MCP SDK sees it (the stdio line guard on each
/// line, the HTTP endpoints on each body): a message the SDK would drop in silence or fail on without a reason is
/// answered here with a JSON-RPC error instead. What passes is a JSON-RPC 2.0 request, notification or response whose
/// id the SDK can carry and whose strings are valid Unicode.
/// </summary>
internal static class JsonRpcMessageCheck
{
    /// <summary>Same nesting limit the SDK parses with; deeper input would otherwise be dropped without an answer.</summary>
    public const int MaxDepth = 64;

    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int InvalidParams = -32602;

    /// <summary>Null when <paramref name="message"/> may go on to the SDK; else the error to answer with, and the id to answer it under.</summary>
    public static (int Code, string Message)? Check(ReadOnlySpan<byte> message, out JsonNode? id)
    {
        id = null;
        JsonDocument document;
        try { document = JsonDocument.Parse(message.ToArray(), new JsonDocumentOptions { MaxDepth = MaxDepth }); }
        catch (JsonException e) { return (ParseError, "Parse error: " + FirstSentence(e.Message)); }
        using (document) return CheckMessage(document.RootElement, out id);
    }

    private static (int Code, string Message)? CheckMessage(JsonElement root, out JsonNode? id)
    {
        id = null;
        if (root.ValueKind != JsonValueKind.Object)
            return (InvalidRequest, $"Invalid Request: a message must be a JSON object (got {Kind(root)}; batches are not supported)");
        var hasId = root.TryGetProperty("id", out var idElement);
        if (hasId)
        {
            if (IdProblem(idElement) is { } idProblem)
            {
                id = EchoableId(idElement);
                return (InvalidRequest, "Invalid Request: id " + idProblem);
            }
            id = JsonNode.Parse(idElement.GetRawText());
        }
        if (!root.TryGetProperty("jsonrpc", out var version) || version.ValueKind != JsonValueKind.String || !version.ValueEquals("2.0"u8))
            return (InvalidRequest, "Invalid Request: jsonrpc must be \"2.0\"");
        if (root.TryGetProperty("method", out var method))
        {
            if (method.ValueKind != JsonValueKind.String || method.ValueEquals(""u8))
                return (InvalidRequest, $"Invalid Request: method must be a non-empty string (got {Kind(method)})");
            if (InvalidTextAt(method, "$.method") is { } badMethod)
                return (InvalidRequest, "Invalid Request: method " + badMethod.Problem);
            if (hasId && idElement.ValueKind == JsonValueKind.Null)
                return (InvalidRequest, "Invalid Request: id must not be null in a request (MCP request ids are strings or integers)");
            // The SDK fails on such strings with a bare "An error occurred", or stores U+FFFD in place of bad bytes.
            return InvalidTextAt(root, "$") is { } bad ? (InvalidParams, $"Invalid params: the string at {bad.Path} {bad.Problem}") : null;
        }
        if (hasId && (root.TryGetProperty("result", out _) || root.TryGetProperty("error", out _)))
            return null; // a response to a request the server sent
        return (InvalidRequest, "Invalid Request: a message needs a method (request or notification) or an id with a result or error (response)");
    }

    /// <summary>
    /// Why the SDK cannot carry this id, or null when it can: a string of valid Unicode, an integer in the 64-bit range,
    /// or null (refused for requests, allowed in responses).
    /// </summary>
    private static string? IdProblem(JsonElement id) => id.ValueKind switch
    {
        JsonValueKind.String => InvalidTextAt(id, "$.id")?.Problem,
        JsonValueKind.Number => id.TryGetInt64(out _) ? null
            : $"must be a string or an integer from -2^63 to 2^63-1 (got {Namespaces.Truncate(id.GetRawText(), 40)})",
        JsonValueKind.Null => null,
        _ => $"must be a string or an integer (got {Kind(id)})",
    };

    /// <summary>
    /// The id to answer an invalid message under, so the client can match the answer: a string of valid Unicode, or a
    /// number that is a finite double, echoed as the exact token sent (1.5 stays 1.5, 1e20 stays 1e20). Anything else
    /// (an object, 1e400, bytes that are not text) cannot be read back as sent: JSON-RPC then says answer with null.
    /// </summary>
    public static JsonNode? EchoableId(JsonElement id) => id.ValueKind switch
    {
        JsonValueKind.String when InvalidTextAt(id, "$") is null => JsonNode.Parse(id.GetRawText()),
        JsonValueKind.Number when double.TryParse(id.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            => JsonNode.Parse(id.GetRawText()),
        _ => null,
    };

    /// <summary>The id token <see cref="TopLevelIdScanner"/> found, as <see cref="EchoableId(JsonElement)"/> would echo it.</summary>
    public static JsonNode? EchoableId(ReadOnlySpan<byte> idToken)
    {
        try
        {
            using var document = JsonDocument.Parse(idToken.ToArray());
            return EchoableId(document.RootElement);
        }
        catch (JsonException) { return null; }
    }

    /// <summary>
    /// The JSON path of the first string or property name that is not valid Unicode text, and what is wrong with it:
    /// raw bytes that are not UTF-8, or an escaped lone surrogate (\uD800-\uDFFF).
    /// </summary>
    private static (string Path, string Problem)? InvalidTextAt(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return TextProblem(JsonMarshal.GetRawUtf8Value(element), () => element.GetString()!) is { } problem ? (path, problem) : null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                    if (InvalidTextAt(item, $"{path}[{index++}]") is { } found) return found;
                return null;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (TextProblem(JsonMarshal.GetRawUtf8PropertyName(property), () => property.Name) is { } nameProblem)
                        return (path + " (a property name)", nameProblem);
                    if (InvalidTextAt(property.Value, $"{path}.{Namespaces.Truncate(property.Name, 40)}") is { } found) return found;
                }
                return null;
            default:
                return null;
        }
    }

    /// <summary>Null when the raw JSON string <paramref name="raw"/> is valid text; else what is wrong with it.</summary>
    private static string? TextProblem(ReadOnlySpan<byte> raw, Func<string> decode)
    {
        if (FirstInvalidUtf8(raw) is var at && at >= 0)
            return $"is not valid UTF-8 (byte 0x{raw[at]:X2})";
        if (raw.IndexOf((byte)'\\') < 0) return null; // no escape, so no escaped surrogate either
        try { decode(); return null; }
        catch (InvalidOperationException) { return "holds an unpaired UTF-16 surrogate escape (not valid Unicode text)"; }
    }

    /// <summary>Index of the first byte that does not start a valid UTF-8 sequence, or -1.</summary>
    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes)) return -1;
        for (var i = 0; i < bytes.Length;)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes[i..], out _, out var consumed) != System.Buffers.OperationStatus.Done) return i;
            i += consumed;
        }
        return -1;
    }

    /// <summary>A JSON-RPC error response, UTF-8. The id is written as given: a number keeps the exact token it arrived as.</summary>
    public static byte[] Error(JsonNode? id, int code, string message)
    {
        var response = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = id?.DeepClone(),
            ["error"] = new JsonObject { ["code"] = code, ["message"] = message },
        };
        return Encoding.UTF8.GetBytes(response.ToJsonString());
    }

    private static string Kind(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }
}

/// <summary>
/// Finds the top-level "id" of a JSON object that arrives in pieces and is too big to keep: strings of any length are
/// skipped, and only the id's value (at most <see cref="MaxIdBytes"/>) is kept, so memory stays constant. The whole
/// message is scanned, not just its start: the TypeScript SDK, for one, writes "id" after "params".
/// </summary>
internal sealed class TopLevelIdScanner
{
    public const int MaxIdBytes = 256;

    private readonly byte[] _value = new byte[MaxIdBytes];
    private readonly byte[] _name = new byte[4];
    private int _depth;
    private bool _inString, _escaped, _done;
    private bool _expectName, _inName, _nameIsId, _inIdValue;
    private int _nameLength, _valueLength;

    /// <summary>The raw id token (a string with its quotes, a number, …) once seen; null until then or when there is none.</summary>
    public ReadOnlyMemory<byte>? IdToken { get; private set; }

    public void Reset()
    {
        _depth = _nameLength = _valueLength = 0;
        _inString = _escaped = _done = _expectName = _inName = _nameIsId = _inIdValue = false;
        IdToken = null;
    }

    public void Feed(ReadOnlySpan<byte> bytes)
    {
        for (var i = 0; i < bytes.Length && !_done; i++)
        {
            var b = bytes[i];
            if (_inString && !_inName && !_inIdValue && !_escaped)
            {
                // Inside a string nobody needs: jump to the next quote or backslash.
                var next = bytes[i..].IndexOfAny((byte)'"', (byte)'\\');
                if (next < 0) return;
                i += next;
                b = bytes[i];
            }
            if (_inIdValue)
            {
                if (!_inString && _depth == 1 && b is (byte)',' or (byte)'}') { Finish(); return; }
                if (_valueLength == MaxIdBytes) { _done = true; return; } // too long to be an id worth echoing
                _value[_valueLength++] = b;
            }
            if (_inString)
            {
                if (_inName && !(b == '"' && !_escaped)) { if (_nameLength < _name.Length) _name[_nameLength] = b; _nameLength++; }
                if (_escaped) _escaped = false;
                else if (b == '\\') _escaped = true;
                else if (b == '"')
                {
                    _inString = false;
                    if (_inName) { _inName = false; _nameIsId = _nameLength == 2 && _name[0] == 'i' && _name[1] == 'd'; }
                }
                continue;
            }
            switch (b)
            {
                case (byte)'"':
                    _inString = true;
                    if (_depth == 1 && _expectName) { _inName = true; _expectName = false; _nameLength = 0; }
                    break;
                case (byte)'{' or (byte)'[':
                    if (_depth == 0 && b == '[') { _done = true; return; } // a batch or garbage: no single id
                    if (++_depth == 1) _expectName = true;
                    break;
                case (byte)'}' or (byte)']':
                    _depth--;
                    break;
                case (byte)':' when _depth == 1 && _nameIsId:
                    _inIdValue = true;
                    break;
                case (byte)',' when _depth == 1:
                    _expectName = true;
                    _nameIsId = false;
                    break;
                case (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n':
                    break;
                default:
                    if (_depth == 0) { _done = true; return; } // not an object
                    break;
            }
        }
    }

    private void Finish()
    {
        IdToken = _value.AsMemory(0, _valueLength).ToArray();
        _done = true;
    }
}
