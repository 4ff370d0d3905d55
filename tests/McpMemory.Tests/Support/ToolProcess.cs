using System.Diagnostics;

namespace McpMemory.Tests.Support;

/// <summary>Runs the built mcp-memory tool (the dll next to the tests) as a real child process.</summary>
public static class ToolProcess
{
    public static string Dll { get; } = System.IO.Path.Combine(AppContext.BaseDirectory, "mcp-memory.dll");

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static async Task<Result> RunAsync(IEnumerable<string> args, IDictionary<string, string>? env = null, string? stdin = null,
        string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment.Remove("MCP_MEMORY_DB");
        start.Environment.Remove("MCP_MEMORY_NAMESPACE");
        if (env is not null) foreach (var (k, v) in env) start.Environment[k] = v;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"mcp-memory {string.Join(' ', args)} did not finish in time; stderr: {await stderr}");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
