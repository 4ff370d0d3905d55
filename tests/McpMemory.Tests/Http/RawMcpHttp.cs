using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FluentAssertions;

namespace McpMemory.Tests.Http;

/// <summary>Streamable HTTP spoken by hand over HttpClient, for checks a well-behaved SDK client never makes.</summary>
internal static class RawMcpHttp
{
    public const string Initialize =
        """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";
    public const string Initialized = """{"jsonrpc":"2.0","method":"notifications/initialized"}""";

    public static HttpRequestMessage Post(string body, string? sessionId = null, string accept = "application/json, text/event-stream", string path = "/mcp") =>
        Post(Encoding.UTF8.GetBytes(body), sessionId, accept, path);

    /// <summary>A POST of raw bytes: for bodies a string cannot hold, such as bytes that are not UTF-8.</summary>
    public static HttpRequestMessage Post(byte[] body, string? sessionId = null, string accept = "application/json, text/event-stream", string path = "/mcp")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation("Accept", accept);
        if (sessionId is not null) request.Headers.Add("Mcp-Session-Id", sessionId);
        return request;
    }

    public static string ToolCall(int id, string tool, object arguments) =>
        JsonSerializer.Serialize(new { jsonrpc = "2.0", id, method = "tools/call", @params = new { name = tool, arguments } });

    /// <summary>initialize + notifications/initialized; returns the session id.</summary>
    public static async Task<string> OpenSessionAsync(HttpClient client)
    {
        using var init = await client.SendAsync(Post(Initialize));
        init.StatusCode.Should().Be(System.Net.HttpStatusCode.OK, await init.Content.ReadAsStringAsync());
        var sessionId = init.Headers.GetValues("Mcp-Session-Id").Single();
        using var initialized = await client.SendAsync(Post(Initialized, sessionId));
        initialized.StatusCode.Should().Be(System.Net.HttpStatusCode.Accepted);
        return sessionId;
    }

    /// <summary>The JSON-RPC message carried by the first "data:" line of an SSE response body.</summary>
    public static async Task<JsonElement> ReadEventAsync(HttpResponseMessage response)
    {
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        var body = await response.Content.ReadAsStringAsync();
        var data = body.Split('\n').First(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
        return JsonDocument.Parse(data).RootElement.Clone();
    }

    public static async Task<JsonElement> CallAsync(HttpClient client, string sessionId, string tool, object arguments)
    {
        using var response = await client.SendAsync(Post(ToolCall(2, tool, arguments), sessionId));
        response.StatusCode.Should().Be(System.Net.HttpStatusCode.OK);
        return (await ReadEventAsync(response)).GetProperty("result");
    }

    public static async Task<JsonElement> ErrorBodyAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").Clone();

    public static MediaTypeWithQualityHeaderValue EventStream { get; } = new("text/event-stream");
}
