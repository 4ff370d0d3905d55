using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace McpMemory.Tests.Support;

/// <summary>
/// The built tool running `serve --http` on a free loopback port as a child process. The bound address is read from
/// the "listening on" line the server prints on stderr.
/// </summary>
public sealed partial class HttpServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    public string BaseUrl { get; }
    public Process Process => _process;
    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    private HttpServerProcess(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public static async Task<HttpServerProcess> StartAsync(string db, IEnumerable<string>? extraArgs = null, IDictionary<string, string>? env = null,
        string ns = "project:http", string url = "http://127.0.0.1:0", string? command = null)
    {
        var start = Info(["serve", "--http", "--urls", url, "--db", db, "--namespace", ns, .. extraArgs ?? []], env, command);
        var process = Process.Start(start)!;
        var stderr = new StringBuilder();
        var bound = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) { bound.TrySetException(new InvalidOperationException($"mcp-memory exited before listening; stderr:\n{stderr}")); return; }
            lock (stderr) stderr.AppendLine(e.Data);
            if (ListeningLine().Match(e.Data) is { Success: true } m) bound.TrySetResult(m.Groups[1].Value);
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        process.StandardInput.Close();
        try
        {
            var baseUrl = await bound.Task.WaitAsync(StartTimeout);
            var server = new HttpServerProcess(process, baseUrl);
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (server._stderr) server._stderr.AppendLine(e.Data); };
            lock (stderr) server._stderr.Append(stderr);
            return server;
        }
        catch
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Runs the tool to completion (for refusals at startup): exit code and stderr.</summary>
    public static Task<ToolProcess.Result> RunToExitAsync(IEnumerable<string> args, IDictionary<string, string>? env = null) =>
        ToolProcess.RunAsync(args, env, timeout: TimeSpan.FromSeconds(30));

    public HttpClient Client(string? key = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null) client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return client;
    }

    /// <summary>Sends SIGTERM (as a service manager or Ctrl+C would) and returns how long the process took to exit.</summary>
    public async Task<TimeSpan> TerminateAsync(TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString()]) { UseShellExecute = false })!)
            await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(limit);
        try { await _process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { throw new TimeoutException($"mcp-memory did not exit within {limit.TotalSeconds} s of SIGTERM"); }
        return watch.Elapsed;
    }

    /// <summary>`dotnet mcp-memory.dll` of this build, or <paramref name="command"/> (an installed tool) when given.</summary>
    private static ProcessStartInfo Info(IEnumerable<string> args, IDictionary<string, string>? env, string? command = null)
    {
        var start = new ProcessStartInfo(command ?? "dotnet")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        if (command is null) start.ArgumentList.Add(ToolProcess.Dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var variable in new[] { "MCP_MEMORY_DB", "MCP_MEMORY_NAMESPACE", "MCP_MEMORY_API_KEY", "MCP_MEMORY_KEYS_FILE" })
            start.Environment.Remove(variable);
        if (env is not null) foreach (var (k, v) in env) start.Environment[k] = v;
        return start;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"listening on (http://\S+)")]
    private static partial Regex ListeningLine();
}
