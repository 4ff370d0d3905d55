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

    private static readonly Option<string[]> Urls = new("--urls")
    {
        Description = $"Addresses to listen on, e.g. http://127.0.0.1:8080 (default {HttpSettings.DefaultUrl}; port 0 picks a free one). " +
                      "A non-loopback address needs an API key",
        AllowMultipleArgumentsPerToken = true,
    };

    private static readonly Option<string?> ApiKey = new("--api-key")
    {
        Description = $"One bearer key with full access (default: ${HttpSettings.ApiKeyVariable}); at least {ApiKeyRing.MinKeyLength} characters",
    };

    private static readonly Option<string?> KeysFile = new("--keys-file")
    {
        Description = $"JSON file of bearer keys, each limited to namespaces (default: ${HttpSettings.KeysFileVariable}):\n" +
                      "{\"keys\": [\n" +
                      "  {\"key\": \"<at least 16 characters>\", \"namespaces\": [\"project:web\", \"shared\"], \"access\": \"read-write\", \"default_namespace\": \"project:web\"},\n" +
                      "  {\"key\": \"<another>\", \"namespaces\": [\"shared\"], \"access\": \"read\"}\n" +
                      "]}\n" +
                      "access: \"read\" or \"read-write\" (default); default_namespace: where writes and searches go by default " +
                      "(default: the first); agent_id: optional. A key can never read, write or delete outside its namespaces",
    };

    private static readonly Option<string[]> AllowedOrigins = new("--allowed-origins")
    {
        Description = "Browser origins allowed besides loopback ones, e.g. https://app.example.com (others get 403)",
        AllowMultipleArgumentsPerToken = true,
    };

    private const string Help =
        "Serve MCP over stdio (the default when stdin is not a terminal), or over HTTP with --http: Streamable HTTP at /mcp, " +
        "legacy HTTP+SSE at /sse + /message, /health. HTTP binds 127.0.0.1 unless --urls says otherwise and refuses a " +
        "non-loopback address without a key; clients send Authorization: Bearer <key>; a foreign Origin gets 403";

    public static Command Create()
    {
        var command = new Command("serve", Help) { Http, Urls, ApiKey, KeysFile, AllowedOrigins };
        command.SetAction((parse, cancellationToken) =>
        {
            var settings = CliOptions.ResolveSettings(parse);
            if (!parse.GetValue(Http))
            {
                // A key given for stdio would silently protect nothing: say so instead.
                var httpOnly = new Option[] { Urls, ApiKey, KeysFile, AllowedOrigins }.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false });
                if (httpOnly is not null)
                {
                    Console.Error.WriteLine($"mcp-memory: {httpOnly.Name} applies only with --http (stdio serves the one agent that started it)");
                    return Task.FromResult(2);
                }
                return StdioServer.RunAsync(settings, cancellationToken);
            }
            var http = HttpSettings.Resolve(parse.GetValue(Urls), parse.GetValue(ApiKey), parse.GetValue(KeysFile), parse.GetValue(AllowedOrigins));
            return HttpServer.RunAsync(settings, http, cancellationToken);
        });
        return command;
    }
}
