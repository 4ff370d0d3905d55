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
    private readonly Pipe _pipe;

    private JsonRpcLineGuard(Stream input, LineWriter output)
    {
        _input = input;
        _output = output;
        // Inline: a flushed line resumes the SDK's read loop on this guard's thread, not on a pool thread woken for it
        // (the loop only parses the message and queues its handler). Writes complete synchronously below the pipe's
        // 64 KiB pause threshold; above it, the read loop's next read resumes the writer.
        _pipe = new Pipe(new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
    }

    /// <summary>
    /// Starts pumping <paramref name="input"/> on a thread of its own; returns the stream of valid messages for the SDK
    /// to read. Its own thread blocks in read(2): the async read of a console stream is a synchronous read queued to the
    /// thread pool for every line, and with the pipe's default scheduler each line woke a second pool thread for the
    /// SDK's read loop. On two cores those hops (and the pool's spinning between them) cost as much CPU as a keyword search.
    /// </summary>
    public static Stream Start(Stream input, LineWriter output)
    {
        var guard = new JsonRpcLineGuard(input, output);
        new Thread(guard.Pump) { IsBackground = true, Name = "mcp-memory stdin" }.Start();
        return guard._pipe.Reader.AsStream();
    }

    private void Pump()
    {
        var line = new ArrayBufferWriter<byte>();
        var oversized = false;
        var idScanner = new TopLevelIdScanner();
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = _input.Read(buffer)) > 0)
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
                    if (oversized) _output.WriteLine(TooLarge(idScanner));
                    else Handle(line.WrittenMemory);
                    line.Clear();
                    oversized = false;
                }
            }
            if (line.WrittenCount > 0 && !oversized) Handle(line.WrittenMemory); // last line without a newline
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // stdin closed under us: end the session as on EOF.
        }
        finally { _pipe.Writer.Complete(); }
    }

    /// <summary>The answer to a line over the limit, under the id it carried (the client would otherwise wait for ever).</summary>
    private static byte[] TooLarge(TopLevelIdScanner scanned) => JsonRpcMessageCheck.Error(
        scanned.IdToken is { } id ? JsonRpcMessageCheck.EchoableId(id.Span) : null, JsonRpcMessageCheck.InvalidRequest,
        $"Invalid Request: the message is larger than the limit of {MaxMessageBytes} bytes ({MaxMessageBytes / (1024 * 1024)} MiB)");

    private void Handle(ReadOnlyMemory<byte> line)
    {
        var text = line.TrimEnd((byte)'\r');
        if (text.IsEmpty || IsWhiteSpace(text.Span)) return;
        byte[] answer;
        try
        {
            var problem = JsonRpcMessageCheck.Check(text.Span, out var id);
            if (problem is null)
            {
                _pipe.Writer.Write(text.Span);
                _pipe.Writer.Write("\n"u8);
                var flush = _pipe.Writer.FlushAsync();
                if (!flush.IsCompleted) flush.AsTask().GetAwaiter().GetResult(); // the SDK is 64 KiB behind: wait for it
                else flush.GetAwaiter().GetResult();
                return;
            }
            answer = JsonRpcMessageCheck.Error(id, problem.Value.Code, problem.Value.Message);
        }
        catch (Exception e) when (e is not IOException)
        {
            // Whatever a line holds, the guard answers and reads on: one bad message never ends the session.
            answer = JsonRpcMessageCheck.Error(null, JsonRpcMessageCheck.InvalidRequest, "Invalid Request: the message could not be read");
        }
        _output.WriteLine(answer);
    }

    private static bool IsWhiteSpace(ReadOnlySpan<byte> text)
    {
        foreach (var b in text) if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) return false;
        return true;
    }
}

/// <summary>
/// stdout shared by the SDK transport and <see cref="JsonRpcLineGuard"/>: bytes are held until a newline and each
/// complete line is written in one piece under a lock, so two writers never interleave inside a message. Lines are
/// written with a synchronous write(2): a console stream's async write is that same write queued to the thread pool,
/// one more thread hop per answer.
/// </summary>
internal sealed class LineWriter(Stream output) : Stream
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly MemoryStream _pending = new();

    /// <summary>Writes <paramref name="line"/> and a newline as one message (the guard's own answers).</summary>
    public void WriteLine(byte[] line)
    {
        _lock.Wait();
        try
        {
            var whole = new byte[line.Length + 1];
            line.CopyTo(whole, 0);
            whole[^1] = (byte)'\n';
            output.Write(whole);
            output.Flush();
        }
        finally { _lock.Release(); }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _lock.WaitAsync(cancellationToken);
        try { WriteCompleteLines(buffer.Span); }
        finally { _lock.Release(); }
    }

    private void WriteCompleteLines(ReadOnlySpan<byte> buffer)
    {
        _pending.Write(buffer);
        var bytes = _pending.GetBuffer().AsSpan(0, (int)_pending.Length);
        var end = bytes.LastIndexOf((byte)'\n');
        if (end < 0) return;
        output.Write(bytes[..(end + 1)]);
        output.Flush();
        var rest = bytes[(end + 1)..].ToArray();
        _pending.SetLength(0);
        _pending.Write(rest);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        _lock.Wait();
        try { WriteCompleteLines(buffer.AsSpan(offset, count)); }
        finally { _lock.Release(); }
    }

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
