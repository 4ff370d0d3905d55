using System.CommandLine;
using McpMemory.Transports.Http;

namespace McpMemory.Cli;

/// <summary>
/// `ui`: the web dashboard on the local database, on loopback only and without keys (whoever can reach a loopback port is
/// this machine's user). `serve --http` serves the same dashboard at / under its keys.
/// </summary>
internal static class UiCommand
{
    public const string DefaultUrl = "http://127.0.0.1:7078";

    public static Command Create()
    {
        var urls = new Option<string[]>("--urls")
        {
            Description = $"Loopback address to listen on (default {DefaultUrl}; port 0 picks a free one)",
            AllowMultipleArgumentsPerToken = true,
        };
        var open = new Option<bool>("--open") { Description = "Open the dashboard in the default browser" };
        var command = new Command("ui", "The web dashboard on the local database: search, browse, curate and see what agents remember. " +
                                        "Loopback only; prints the URL") { urls, open };
        command.SetAction((parse, cancellationToken) => CliRunner.RunAsync(parse, settings =>
        {
            var http = HttpSettings.Resolve(parse.GetValue(urls) is { Length: > 0 } given ? given : [DefaultUrl], null, null, null);
            foreach (var url in http.Urls)
            {
                if (HttpServer.CheckBindings([url], hasKeys: false) is { } refusal)
                {
                    Console.Error.WriteLine($"mcp-memory: {refusal}");
                    return Task.FromResult(2);
                }
            }
            return HttpServer.RunAsync(settings with { Http = http }, http, cancellationToken, dashboardOnly: true, open: parse.GetValue(open));
        }));
        return command;
    }
}
