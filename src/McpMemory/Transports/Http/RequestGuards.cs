using System.Net;
using Microsoft.AspNetCore.Http;

namespace McpMemory.Transports.Http;

/// <summary>
/// DNS-rebinding protection, as the MCP specification asks of HTTP servers: a browser page on another site must not be
/// able to reach a local server. A request without Origin (every non-browser client) passes; a loopback origin on any
/// port passes; any other origin passes only when listed with --allowed-origins. When the server listens on loopback
/// only, the Host header must name loopback too (a rebound DNS name would not).
/// </summary>
public sealed class OriginGuard(IReadOnlyList<string> allowedOrigins, bool loopbackOnly)
{
    private readonly HashSet<string> _allowed = allowedOrigins.Select(o => o.TrimEnd('/')).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Null when the request may go on, else why it is refused.</summary>
    public string? Check(HttpRequest request)
    {
        if (loopbackOnly && !IsLoopbackHost(request.Host.Host))
            return $"Host \"{request.Host}\" is not a loopback name; this server listens on loopback only (DNS-rebinding protection)";
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0 || IsAllowedOrigin(origin)) return null;
        return $"Origin \"{origin}\" is not allowed; loopback origins are, others must be listed with --allowed-origins";
    }

    private bool IsAllowedOrigin(string origin)
    {
        if (_allowed.Contains(origin.TrimEnd('/'))) return true;
        return Uri.TryCreate(origin, UriKind.Absolute, out var uri)
               && uri.Scheme is "http" or "https"
               && IsLoopbackHost(uri.Host);
    }

    public static bool IsLoopbackHost(string host)
    {
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        var bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        return IPAddress.TryParse(bare, out var address) && IPAddress.IsLoopback(address);
    }
}

/// <summary>
/// What HTTP checks before the SDK's transport reads a request: each POST body must be JSON, at most the body limit, and
/// one JSON-RPC message the SDK can take (<see cref="JsonRpcMessageCheck"/>, the check stdio runs on each line). A body
/// that fails gets the answer it gets over stdio, one JSON-RPC error naming the problem under the message's id when that
/// can be read back, instead of the SDK's generic 400 without an id (or a 500 for a body that is not JSON).
/// </summary>
public static class McpRequestChecks
{
    public static async Task RunAsync(HttpContext context, RequestDelegate next)
    {
        var request = context.Request;
        if (HttpMethods.IsDelete(request.Method) && !request.Headers.ContainsKey(SessionIdHeader))
        {
            // The SDK ignores a DELETE without a session (200); the specification asks for 400.
            await WriteAsync(context, StatusCodes.Status400BadRequest, JsonRpcMessageCheck.Error(null, JsonRpcMessageCheck.InvalidRequest, $"{SessionIdHeader} header is required"));
            return;
        }
        if (!HttpMethods.IsPost(request.Method)) { await next(context); return; }
        if (!request.HasJsonContentType())
        {
            await WriteAsync(context, StatusCodes.Status415UnsupportedMediaType,
                JsonRpcMessageCheck.Error(null, JsonRpcMessageCheck.InvalidRequest, "Content-Type must be application/json"));
            return;
        }

        byte[] body;
        try
        {
            // Kestrel enforces the body limit while this reads.
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, context.RequestAborted);
            body = buffer.ToArray();
        }
        catch (BadHttpRequestException e)
        {
            await WriteAsync(context, e.StatusCode, JsonRpcMessageCheck.Error(null, JsonRpcMessageCheck.InvalidRequest,
                e.StatusCode == StatusCodes.Status413PayloadTooLarge ? $"the request body is larger than the limit of {HttpServer.MaxRequestBodyBytes} bytes" : e.Message));
            return;
        }
        if (JsonRpcMessageCheck.Check(body, out var id) is { } problem)
        {
            await WriteAsync(context, StatusCodes.Status400BadRequest, JsonRpcMessageCheck.Error(id, problem.Code, problem.Message));
            return;
        }
        request.Body = new MemoryStream(body, writable: false);
        await next(context);
    }

    private const string SessionIdHeader = "Mcp-Session-Id";

    /// <summary>An error response already serialized (its id may be one the SDK's RequestId cannot hold, such as 1.5).</summary>
    private static async Task WriteAsync(HttpContext context, int status, byte[] response)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(response, context.RequestAborted);
    }
}
