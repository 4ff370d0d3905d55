using System.Diagnostics;

namespace McpMemory.Tests.Support;

/// <summary>
/// The real MCP clients in tests/mcp-clients (the TypeScript SDK client, the MCP Inspector CLI), installed by
/// `npm ci` from the committed package-lock.json (scripts/test.sh does it). Missing clients fail the test, never skip it.
/// </summary>
public static class NodeClients
{
    public static string Folder { get; } = FindFolder();

    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "tests", "mcp-clients");
            if (File.Exists(System.IO.Path.Combine(candidate, "package.json"))) return candidate;
        }
        throw new InvalidOperationException($"tests/mcp-clients/package.json not found above {AppContext.BaseDirectory}");
    }

    private static void RequireInstalled()
    {
        if (!Directory.Exists(System.IO.Path.Combine(Folder, "node_modules", "@modelcontextprotocol", "sdk")))
            throw new InvalidOperationException(
                $"the npm test clients are not installed in {Folder}/node_modules: run `npm ci --prefix tests/mcp-clients` (./scripts/test.sh does it)");
    }

    /// <summary>Runs `node &lt;script&gt; args` (a script in tests/mcp-clients, or any path) from <paramref name="workingDirectory"/>.</summary>
    public static async Task<ToolProcess.Result> NodeAsync(IEnumerable<string> args, IDictionary<string, string>? env = null,
        string? workingDirectory = null, TimeSpan? timeout = null)
    {
        RequireInstalled();
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Folder,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment.Remove("MCP_MEMORY_DB");
        start.Environment.Remove("MCP_MEMORY_NAMESPACE");
        if (env is not null) foreach (var (k, v) in env) start.Environment[k] = v;

        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception e) { throw new InvalidOperationException("node is not on PATH; the real-client tests need Node 20+", e); }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardInput.Close();
            using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
            try { await process.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"node {string.Join(' ', args)} did not finish in time; stderr: {await stderr}");
            }
            return new ToolProcess.Result(process.ExitCode, await stdout, await stderr);
        }
    }

    /// <summary>tests/mcp-clients/all-tools.mjs: the TypeScript SDK client calling all five tools over one transport.</summary>
    public static Task<ToolProcess.Result> AllToolsAsync(string transport, IEnumerable<string> target, string? key = null) =>
        NodeAsync(["all-tools.mjs", transport, .. target], key is null ? null : new Dictionary<string, string> { ["MCP_KEY"] = key });

    /// <summary>
    /// The MCP Inspector CLI. It looks for its own package.json as "../package.json" relative to the working directory,
    /// so it runs from node_modules (whose parent holds tests/mcp-clients/package.json).
    /// </summary>
    public static Task<ToolProcess.Result> InspectorAsync(IEnumerable<string> args) =>
        NodeAsync([System.IO.Path.Combine(Folder, "node_modules", "@modelcontextprotocol", "inspector-cli", "build", "cli.js"), "--cli", .. args],
            workingDirectory: System.IO.Path.Combine(Folder, "node_modules"));
}
