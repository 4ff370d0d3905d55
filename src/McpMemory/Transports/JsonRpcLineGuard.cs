using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpMemory.Core.Memories;

namespace McpMemory.Transports;

/// <summary>
/// Stands between stdin and the MCP SDK's stream transport. Each newline-delimited line that is a well-formed
/// JSON-RPC 2.0 message is passed on untouched; anything else (not JSON, too deep, too big, not an object, no
/// jsonrpc "2.0", a method or id of the wrong type, a string that is not valid Unicode) is answered here with a
/// JSON-RPC error response (-32700 parse error, -32600 invalid request, -32602 invalid params) instead of being
/// dropped in silence or failing deep in the SDK, and the server reads on. Oversized lines
/// are discarded as they stream in, so they cannot exhaust memory.
/// </summary>
internal sealed class JsonRpcLineGuard
{
    /// <summary>Largest accepted message. Generous: the biggest valid tool call (a 256 KiB state value, escaped) is far below it.</summary>
    public const int MaxMessageBytes = 4 * 1024 * 1024;

    /// <summary>Same nesting limit the SDK parses with; deeper input would otherwise be dropped without an answer.</summary>
    public const int MaxDepth = 64;

    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int InvalidParams = -32602;

    private readonly Stream _input;
    private readonly LineWriter _output;
    private readonly Pipe _pipe = new();

    private JsonRpcLineGuard(Stream input, LineWriter output)
    {
        _input = input;
        _output = output;
    }

    /// <summary>Starts pumping <paramref name="input"/>; returns the stream of valid messages for the SDK to read.</summary>
    public static Stream Start(Stream input, LineWriter output)
    {
        var guard = new JsonRpcLineGuard(input, output);
        _ = Task.Run(guard.PumpAsync);
        return guard._pipe.Reader.AsStream();
    }

    private async Task PumpAsync()
    {
        var line = new ArrayBufferWriter<byte>();
        var oversized = false;
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await _input.ReadAsync(buffer)) > 0)
            {
                var chunk = buffer.AsMemory(0, read);
                while (chunk.Length > 0)
                {
                    var newline = chunk.Span.IndexOf((byte)'\n');
                    var part = newline < 0 ? chunk : chunk[..newline];
                    if (!oversized && line.WrittenCount + part.Length > MaxMessageBytes)
                    {
                        oversized = true;
                        line.Clear();
                    }
                    if (!oversized) line.Write(part.Span);
                    if (newline < 0) break;
                    chunk = chunk[(newline + 1)..];
                    if (oversized)
                        await _output.WriteLineAsync(Error(null, InvalidRequest, $"Invalid Request: the message is larger than the limit of {MaxMessageBytes} bytes"));
                    else
                        await HandleAsync(line.WrittenMemory);
                    line.Clear();
                    oversized = false;
                }
            }
            if (line.WrittenCount > 0 && !oversized) await HandleAsync(line.WrittenMemory); // last line without a newline
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // stdin closed under us: end the session as on EOF.
        }
        finally { await _pipe.Writer.CompleteAsync(); }
    }

    private async Task HandleAsync(ReadOnlyMemory<byte> line)
    {
        var text = line.TrimEnd((byte)'\r');
        if (text.IsEmpty || IsWhiteSpace(text.Span)) return;
        byte[] answer;
        try
        {
            var problem = Check(text.Span, out var id);
            if (problem is null)
            {
                await _pipe.Writer.WriteAsync(text);
                await _pipe.Writer.WriteAsync("\n"u8.ToArray());
                return;
            }
            answer = Error(id, problem.Value.Code, problem.Value.Message);
        }
        catch (Exception e) when (e is not IOException)
        {
            // Whatever a line holds, the guard answers and reads on: one bad message never ends the session.
            answer = Error(null, InvalidRequest, "Invalid Request: the message could not be read");
        }
        await _output.WriteLineAsync(answer);
    }

    /// <summary>Null when <paramref name="line"/> is a JSON-RPC 2.0 request, notification or response; else why not.</summary>
    internal static (int Code, string Message)? Check(ReadOnlySpan<byte> line, out JsonNode? id)
    {
        id = null;
        JsonDocument document;
        try { document = JsonDocument.Parse(line.ToArray(), new JsonDocumentOptions { MaxDepth = MaxDepth }); }
        catch (JsonException e) { return (ParseError, "Parse error: " + FirstSentence(e.Message)); }
        using (document)
        {
            try { return CheckMessage(document.RootElement, out id); }
            catch (InvalidOperationException) // a string holding an escaped lone surrogate cannot be read as text
            {
                return (ParseError, "Parse error: a string holds an unpaired UTF-16 surrogate escape (not valid Unicode text)");
            }
        }
    }

    private static (int Code, string Message)? CheckMessage(JsonElement root, out JsonNode? id)
    {
        id = null;
        if (root.ValueKind != JsonValueKind.Object)
            return (InvalidRequest, $"Invalid Request: a message must be a JSON object (got {Kind(root)}; batches are not supported)");
        if (root.TryGetProperty("id", out var idElement))
        {
            if (idElement.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.Null))
                return (InvalidRequest, $"Invalid Request: id must be a string or a number (got {Kind(idElement)})");
            id = JsonNode.Parse(idElement.GetRawText());
        }
        if (!root.TryGetProperty("jsonrpc", out var version) || version.ValueKind != JsonValueKind.String || version.GetString() != "2.0")
            return (InvalidRequest, "Invalid Request: jsonrpc must be \"2.0\"");
        if (root.TryGetProperty("method", out var method))
        {
            if (method.ValueKind != JsonValueKind.String || method.GetString()!.Length == 0)
                return (InvalidRequest, $"Invalid Request: method must be a non-empty string (got {Kind(method)})");
            // The SDK fails on such strings with a bare "An error occurred"; say what is wrong instead.
            return LoneSurrogateAt(root, "$") is { } path
                ? (InvalidParams, $"Invalid params: the string at {path} holds an unpaired UTF-16 surrogate escape (not valid Unicode text)")
                : null;
        }
        if (idElement.ValueKind != JsonValueKind.Undefined && (root.TryGetProperty("result", out _) || root.TryGetProperty("error", out _)))
            return null; // a response to a request the server sent
        return (InvalidRequest, "Invalid Request: a message needs a method (request or notification) or an id with a result or error (response)");
    }

    /// <summary>The JSON path of the first string or property name that is not valid Unicode (a lone \uD800-\uDFFF escape), if any.</summary>
    private static string? LoneSurrogateAt(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                try { element.GetString(); return null; }
                catch (InvalidOperationException) { return path; }
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                    if (LoneSurrogateAt(item, $"{path}[{index++}]") is { } found) return found;
                return null;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    string name;
                    try { name = property.Name; }
                    catch (InvalidOperationException) { return path + " (a property name)"; }
                    if (LoneSurrogateAt(property.Value, $"{path}.{Namespaces.Truncate(name, 40)}") is { } found) return found;
                }
                return null;
            default:
                return null;
        }
    }

    internal static byte[] Error(JsonNode? id, int code, string message)
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

    private static bool IsWhiteSpace(ReadOnlySpan<byte> text)
    {
        foreach (var b in text) if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) return false;
        return true;
    }
}

/// <summary>
/// stdout shared by the SDK transport and <see cref="JsonRpcLineGuard"/>: bytes are held until a newline and each
/// complete line is written in one piece under a lock, so two writers never interleave inside a message.
/// </summary>
internal sealed class LineWriter(Stream output) : Stream
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly MemoryStream _pending = new();

    public async Task WriteLineAsync(byte[] line)
    {
        await _lock.WaitAsync();
        try
        {
            await output.WriteAsync(line);
            await output.WriteAsync("\n"u8.ToArray());
            await output.FlushAsync();
        }
        finally { _lock.Release(); }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken);
        try
        {
            _pending.Write(buffer.Span);
            var bytes = _pending.GetBuffer().AsMemory(0, (int)_pending.Length);
            var end = bytes.Span.LastIndexOf((byte)'\n');
            if (end < 0) return;
            await output.WriteAsync(bytes[..(end + 1)], cancellationToken);
            await output.FlushAsync(cancellationToken);
            var rest = bytes[(end + 1)..].ToArray();
            _pending.SetLength(0);
            _pending.Write(rest);
        }
        finally { _lock.Release(); }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask; // complete lines are flushed as written
    public override void Flush() { }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
