using System.Diagnostics;
using System.Runtime;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpMemory.Transports;

/// <summary>
/// MCP_MEMORY_STARTUP_TRACE=1: one stderr line per startup phase (process start → Main → settings → database → host
/// built → initialize answered → first tool answered), each with the time since the process started, the methods
/// JIT-compiled so far and the JIT's time, and the assemblies loaded. How docs/startup.md's breakdown was measured;
/// without the variable every call returns at once.
/// </summary>
internal static class StartupTrace
{
    public const string Variable = "MCP_MEMORY_STARTUP_TRACE";

    public static readonly bool Enabled = Environment.GetEnvironmentVariable(Variable) is "1" or "true";

    private static int _answers;

    public static void Mark(string phase)
    {
        if (!Enabled) return;
        var sinceStart = DateTime.Now - Process.GetCurrentProcess().StartTime;
        Console.Error.WriteLine(
            $"startup: {phase,-22} {sinceStart.TotalMilliseconds,6:F0} ms  jit {JitInfo.GetCompiledMethodCount(),5} methods " +
            $"{JitInfo.GetCompilationTime().TotalMilliseconds,5:F0} ms  assemblies {AppDomain.CurrentDomain.GetAssemblies().Length,3}  " +
            $"cpu {Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds,5:F0} ms");
    }

    /// <summary>Marks the first request read.</summary>
    public static McpMessageHandler Incoming(McpMessageHandler next) => (context, cancellationToken) =>
    {
        if (Interlocked.Increment(ref _requests) == 1) Mark("first request read");
        return next(context, cancellationToken);
    };

    private static int _requests;

    /// <summary>Marks the first two answers the server writes (initialize, then the first tool call's).</summary>
    public static McpMessageHandler Outgoing(McpMessageHandler next) => async (context, cancellationToken) =>
    {
        await next(context, cancellationToken);
        if (context.JsonRpcMessage is JsonRpcResponse or JsonRpcError)
            switch (Interlocked.Increment(ref _answers))
            {
                case 1: Mark("initialize answered"); break;
                case 2: Mark("first answer"); break;
            }
    };
}
