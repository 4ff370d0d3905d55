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
/// Bearer-key authentication. With no key configured every request is the unrestricted settings caller (the server then
/// listens on loopback only); otherwise a request needs "Authorization: Bearer &lt;key&gt;" with a configured key, or gets 401.
/// </summary>
public sealed class KeyAuthenticator(ApiKeyRing keys, KeyIdentity unrestricted)
{
    public bool Required => keys.Count > 0;

    public KeyIdentity? Authenticate(HttpRequest request)
    {
        if (!Required) return unrestricted;
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return null;
        var presented = header[scheme.Length..].Trim();
        return presented.Length == 0 ? null : keys.Authenticate(presented);
    }
}

/// <summary>The authenticated identity of the current request, set by the guard middleware.</summary>
public static class RequestIdentity
{
    private static readonly object Key = new();

    public static void Set(HttpContext context, KeyIdentity identity) => context.Items[Key] = identity;

    public static KeyIdentity Get(HttpContext context) =>
        context.Items[Key] as KeyIdentity ?? throw new InvalidOperationException("the request was not authenticated");
}
