using System.Text.Json;
using FluentAssertions;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpMemory.Tests.Support;

/// <summary>The SDK's McpClient connected over stdio to the built server as a child process, as an agent runs it.</summary>
public static class StdioMcpClient
{
    public static async Task<McpClient> StartAsync(string db, string? ns = "project:e2e", IReadOnlyList<string>? options = null,
        IReadOnlyDictionary<string, string>? env = null, string? workingDirectory = null, string? command = null) =>
        await McpClient.CreateAsync(new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = "mcp-memory",
            // The build under test (`dotnet mcp-memory.dll`), or an installed command such as the Native AOT tool's.
            Command = command ?? "dotnet",
            Arguments = [.. command is null ? [ToolProcess.Dll] : Array.Empty<string>(), "--db", db, .. ns is null ? [] : new[] { "--namespace", ns }, .. options ?? []],
            ShutdownTimeout = TimeSpan.FromSeconds(10),
            WorkingDirectory = workingDirectory,
            EnvironmentVariables = env?.ToDictionary(e => e.Key, e => (string?)e.Value),
        }),
        // The client probes with server/discover (protocol 2026-07-28) and, after 5 s by default, falls back to
        // initialize. On a loaded machine the server can answer the probe after that: it then speaks 2026-07-28 and
        // refuses the late initialize. Waiting for the probe's answer (bounded by the 60 s connect budget) avoids the race.
        new McpClientOptions { DiscoverProbeTimeout = Timeout.InfiniteTimeSpan },
        cancellationToken: new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

    /// <summary>Calls a tool that must succeed and returns its structured result.</summary>
    public static async Task<JsonElement> CallAsync(McpClient client, string tool, Dictionary<string, object?> args)
    {
        var result = await client.CallToolAsync(tool, args);
        result.IsError.Should().NotBe(true, string.Join("\n", result.Content.OfType<TextContentBlock>().Select(c => c.Text)));
        result.StructuredContent.Should().NotBeNull();
        return JsonSerializer.SerializeToElement(result.StructuredContent);
    }
}
