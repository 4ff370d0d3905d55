using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpMemory.Transports.Http;

/// <summary>Protocol plumbing shared by the Streamable HTTP and legacy SSE endpoints (the SDK keeps its own constants internal).</summary>
internal static class McpHttp
{
    public const string SessionIdHeader = "Mcp-Session-Id";
    public const string ProtocolVersionHeader = "MCP-Protocol-Version";
    public const string LastEventIdHeader = "Last-Event-ID";

    /// <summary>JSON-RPC code the SDK's clients read as "session not found: start a new one".</summary>
    public const int SessionNotFoundCode = -32001;

    /// <summary>
    /// The revisions served, all of which open a session with initialize. 2026-07-28 (session-less, no initialize) is
    /// refused with -32022 so its clients fall back to initialize: every session here is bound to the key that opened it.
    /// </summary>
    public static readonly string[] SupportedVersions = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

    /// <summary>128 random bits, URL-safe base64: unguessable and visible ASCII only, as the specification requires.</summary>
    public static string NewSessionId() => WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(16));

    /// <summary>Null when the version header is absent or supported; else the error to answer with.</summary>
    public static JsonRpcErrorDetail? CheckProtocolVersion(HttpRequest request)
    {
        var version = request.Headers[ProtocolVersionHeader].ToString();
        if (version.Length == 0 || SupportedVersions.Contains(version)) return null;
        return new JsonRpcErrorDetail
        {
            Code = (int)McpErrorCode.UnsupportedProtocolVersion,
            Message = $"{ProtocolVersionHeader} \"{version}\" is not supported; supported: {string.Join(", ", SupportedVersions)}",
            Data = JsonSerializer.SerializeToNode(
                new UnsupportedProtocolVersionErrorData { Supported = [.. SupportedVersions], Requested = version }, McpJsonUtilities.DefaultOptions),
        };
    }

    public static bool Accepts(HttpRequest request, string mediaType) =>
        request.Headers.Accept.Any(value => value is not null && (value.Contains(mediaType, StringComparison.OrdinalIgnoreCase) || value.Contains("*/*", StringComparison.Ordinal)));

    /// <summary>
    /// One JSON-RPC message from the body, checked as stdio checks each line (<see cref="JsonRpcMessageCheck"/>); when
    /// it fails, the JSON-RPC error is written with 400 (under the message's id when it has a usable one) and null returned.
    /// </summary>
    public static async Task<JsonRpcMessage?> ReadMessageAsync(HttpContext context)
    {
        // The body is at most MaxRequestBodySize (Kestrel enforces it while this reads).
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        if (JsonRpcMessageCheck.Check(body.Span, out var id) is { } problem)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, JsonRpcMessageCheck.Error(id, problem.Code, problem.Message));
            return null;
        }
        JsonRpcMessage? message = null;
        var failure = "the body is not a JSON-RPC message";
        try { message = JsonSerializer.Deserialize<JsonRpcMessage>(body.Span, McpJsonUtilities.DefaultOptions); }
        catch (JsonException e) { failure = e.Message.Split(" Path:")[0]; }
        if (message is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, JsonRpcMessageCheck.Error(id, JsonRpcMessageCheck.InvalidRequest, "Invalid Request: " + failure));
            return null;
        }
        message.Context ??= new JsonRpcMessageContext();
        // A stateless-style check in the server reads the version from here (see the hosting guide, pitfall 6).
        var version = context.Request.Headers[ProtocolVersionHeader].ToString();
        if (version.Length > 0) message.Context.ProtocolVersion = version;
        return message;
    }

    /// <summary>Headers for an SSE response; must run before the body is handed to a transport (it flushes headers first).</summary>
    public static void StartEventStream(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache,no-store";
        context.Response.Headers.ContentEncoding = "identity";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        context.Features.GetRequiredFeature<IHttpResponseBodyFeature>().DisableBuffering();
    }

    public static Task WriteErrorAsync(HttpContext context, int status, int code, string message, RequestId id = default) =>
        WriteErrorAsync(context, status, new JsonRpcErrorDetail { Code = code, Message = message }, id);

    public static Task WriteErrorAsync(HttpContext context, int status, JsonRpcErrorDetail error, RequestId id = default) =>
        Results.Json(new JsonRpcError { Id = id, Error = error }, McpJsonUtilities.DefaultOptions, statusCode: status).ExecuteAsync(context);

    /// <summary>An error response already serialized (its id may be one the SDK's RequestId cannot hold, such as 1.5).</summary>
    private static async Task WriteErrorAsync(HttpContext context, int status, byte[] response)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(response, context.RequestAborted);
    }
}
