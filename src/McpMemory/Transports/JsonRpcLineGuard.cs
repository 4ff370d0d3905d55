using System.Buffers;
using System.IO.Pipelines;

namespace McpMemory.Transports;

/// <summary>
/// Stands between stdin and the MCP SDK's stream transport. Each newline-delimited line that passes
/// <see cref="JsonRpcMessageCheck"/> is passed on untouched; anything else (not JSON, too deep, too big, not an
/// object, no jsonrpc "2.0", a method or id the SDK cannot carry, a string that is not valid Unicode) is answered here
/// with a JSON-RPC error response instead of being dropped in silence or failing deep in the SDK, and the server reads
/// on. Oversized lines are discarded as they stream in, so they cannot exhaust memory; their id is picked out on the
/// way, so the client still gets its answer.
/// </summary>
internal sealed class JsonRpcLineGuard
{
    /// <summary>Largest accepted message. Generous: the biggest valid tool call (a 256 KiB state value, escaped) is far below it.</summary>
    public const int MaxMessageBytes = 4 * 1024 * 1024;

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
        var idScanner = new TopLevelIdScanner();
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
                        idScanner.Reset();
                        idScanner.Feed(line.WrittenSpan);
                        line.Clear();
                    }
                    if (oversized) idScanner.Feed(part.Span);
                    else line.Write(part.Span);
                    if (newline < 0) break;
                    chunk = chunk[(newline + 1)..];
                    if (oversized) await _output.WriteLineAsync(TooLarge(idScanner));
                    else await HandleAsync(line.WrittenMemory);
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

    /// <summary>The answer to a line over the limit, under the id it carried (the client would otherwise wait for ever).</summary>
    private static byte[] TooLarge(TopLevelIdScanner scanned) => JsonRpcMessageCheck.Error(
        scanned.IdToken is { } id ? JsonRpcMessageCheck.EchoableId(id.Span) : null, JsonRpcMessageCheck.InvalidRequest,
        $"Invalid Request: the message is larger than the limit of {MaxMessageBytes} bytes ({MaxMessageBytes / (1024 * 1024)} MiB)");

    private async Task HandleAsync(ReadOnlyMemory<byte> line)
    {
        var text = line.TrimEnd((byte)'\r');
        if (text.IsEmpty || IsWhiteSpace(text.Span)) return;
        byte[] answer;
        try
        {
            var problem = JsonRpcMessageCheck.Check(text.Span, out var id);
            if (problem is null)
            {
                await _pipe.Writer.WriteAsync(text);
                await _pipe.Writer.WriteAsync("\n"u8.ToArray());
                return;
            }
            answer = JsonRpcMessageCheck.Error(id, problem.Value.Code, problem.Value.Message);
        }
        catch (Exception e) when (e is not IOException)
        {
            // Whatever a line holds, the guard answers and reads on: one bad message never ends the session.
            answer = JsonRpcMessageCheck.Error(null, JsonRpcMessageCheck.InvalidRequest, "Invalid Request: the message could not be read");
        }
        await _output.WriteLineAsync(answer);
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
