using System.CommandLine;
using McpMemory.Transports;
using McpMemory.Transports.Http;

namespace McpMemory.Cli;

/// <summary>`serve`: MCP over stdio (the default), or over HTTP with --http.</summary>
internal static class ServeCommand
{
    private static readonly Option<bool> Http = new("--http")
    {
        Description = "Serve over HTTP instead of stdio: Streamable HTTP at /mcp, legacy HTTP+SSE at /sse + /message, /health",
    };

    private const string Help =
        "Serve MCP over stdio (the default when stdin is not a terminal), or over HTTP with --http: Streamable HTTP at /mcp, " +
        "legacy HTTP+SSE at /sse + /message, /health. HTTP binds 127.0.0.1 unless --urls says otherwise and refuses a " +
        "non-loopback address without a key; clients send Authorization: Bearer <key>; a foreign Origin gets 403";

    public static Command Create()
    {
        var command = new Command("serve", Help) { Http };
        foreach (var option in CliOptions.HttpOnly) command.Options.Add(option);
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, async settings =>
        {
            // A quiet server gives back what a burst of work left committed (IdleMemoryTrim).
            using var trim = IdleMemoryTrim.StartIfEnabled();
            return await Serve(parse, settings, cancellationToken);
        }));
        return command;
    }

    private static Task<int> Serve(ParseResult parse, Settings settings, CancellationToken cancellationToken)
    {
        if (parse.GetValue(Http)) return HttpServer.RunAsync(settings, settings.Http, cancellationToken);
        // A key given for stdio would silently protect nothing: say so instead.
        var httpOnly = CliOptions.HttpOnly.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false });
        if (httpOnly is not null)
        {
            Console.Error.WriteLine($"mcp-memory: {httpOnly.Name} applies only with --http (stdio serves the one agent that started it)");
            return Task.FromResult(2);
        }
        return StdioServer.RunAsync(settings, cancellationToken);
    }
}
