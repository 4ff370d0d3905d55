using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;

namespace McpMemory.Tests.Support;

/// <summary>
/// The built server as a child process, spoken to in raw newline-delimited JSON-RPC (no SDK client in between), so a
/// test can send anything, see every byte the server writes on stdout, and kill the process at any moment.
/// </summary>
public sealed class RawMcpServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly ConcurrentQueue<string> _stdoutLines = new();
    private readonly Task _reader;
    private readonly Task<string> _stderr; // drained so that the server never blocks on a full stderr pipe
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private long _nextId;

    /// <summary>Every line the server wrote on stdout, in order.</summary>
    public IReadOnlyCollection<string> StdoutLines => _stdoutLines;
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    private RawMcpServer(Process process)
    {
        _process = process;
        _reader = Task.Run(ReadLoopAsync);
        _stderr = process.StandardError.ReadToEndAsync();
    }

    /// <summary>Merging off: tests of durability and recovery write many near-identical texts and check each one.</summary>
    public static readonly IReadOnlyDictionary<string, string> NoMerging = new Dictionary<string, string> { ["MCP_MEMORY_DUPLICATE_THRESHOLD"] = "0" };

    /// <summary>Every store embeds before it answers (no write-behind): tests that judge the inline answer (has_embedding, merges).</summary>
    public static readonly IReadOnlyDictionary<string, string> InlineEmbedding = new Dictionary<string, string> { ["MCP_MEMORY_EMBED_INLINE"] = "on" };

    public static async Task<RawMcpServer> StartAsync(string db, string ns = "project:raw", IReadOnlyDictionary<string, string>? env = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var a in new[] { ToolProcess.Dll, "serve", "--db", db, "--namespace", ns }) start.ArgumentList.Add(a);
        start.Environment.Remove("MCP_MEMORY_DB");
        start.Environment.Remove("MCP_MEMORY_NAMESPACE");
        if (env is not null) foreach (var (k, v) in env) start.Environment[k] = v;
        var server = new RawMcpServer(Process.Start(start)!);
        await server.RequestAsync("initialize", new JsonObject
        {
            ["protocolVersion"] = "2025-06-18",
            ["capabilities"] = new JsonObject(),
            ["clientInfo"] = new JsonObject { ["name"] = "raw-test", ["version"] = "1" },
        });
        await server.SendLineAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        return server;
    }

    /// <summary>Sends a request and waits for its response (the whole JSON-RPC message: result or error).</summary>
    public async Task<JsonObject> RequestAsync(string method, JsonNode? parameters, TimeSpan? timeout = null)
    {
        var id = "r" + Interlocked.Increment(ref _nextId);
        var response = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = response;
        var request = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method, ["params"] = parameters };
        await SendLineAsync(request.ToJsonString());
        return await response.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
    }

    /// <summary>Calls a tool; returns the whole response message.</summary>
    public Task<JsonObject> CallToolAsync(string tool, JsonObject arguments, TimeSpan? timeout = null) =>
        RequestAsync("tools/call", new JsonObject { ["name"] = tool, ["arguments"] = arguments }, timeout);

    public async Task SendLineAsync(string line)
    {
        await _writeLock.WaitAsync();
        try
        {
            await _process.StandardInput.WriteAsync(line + "\n");
            await _process.StandardInput.FlushAsync();
        }
        finally { _writeLock.Release(); }
    }

    /// <summary>Sends raw bytes and a newline: for input a string cannot hold, such as bytes that are not UTF-8.</summary>
    public async Task SendBytesAsync(byte[] line)
    {
        await _writeLock.WaitAsync();
        try
        {
            await _process.StandardInput.FlushAsync();
            var stdin = _process.StandardInput.BaseStream;
            await stdin.WriteAsync(line);
            await stdin.WriteAsync("\n"u8.ToArray());
            await stdin.FlushAsync();
        }
        finally { _writeLock.Release(); }
    }

    /// <summary>Waits until the server has written at least <paramref name="count"/> stdout lines.</summary>
    public async Task WaitForLinesAsync(int count, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (_stdoutLines.Count < count && DateTime.UtcNow < until && !_process.HasExited) await Task.Delay(20);
    }

    /// <summary>SIGKILL: no shutdown code runs, exactly like a crash or an OOM kill.</summary>
    public void Kill()
    {
        try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process.WaitForExit();
    }

    private async Task ReadLoopAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            _stdoutLines.Enqueue(line);
            JsonObject? message;
            try { message = JsonNode.Parse(line) as JsonObject; }
            catch (System.Text.Json.JsonException) { continue; } // the tests assert on StdoutLines
            if (message?["id"] is JsonValue id && id.TryGetValue<string>(out var key) && _pending.TryRemove(key, out var waiter))
                waiter.TrySetResult(message);
        }
        foreach (var waiter in _pending.Values) waiter.TrySetException(new IOException("the server closed stdout"));
    }

    /// <summary>Closes stdin (the polite way to stop a stdio server) and waits for the exit.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try { _process.StandardInput.Close(); } catch (IOException) { }
            try { await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20)); }
            catch (TimeoutException) { Kill(); }
        }
        try { await Task.WhenAll(_reader, _stderr).WaitAsync(TimeSpan.FromSeconds(5)); } catch (TimeoutException) { }
        _process.Dispose();
    }
}
