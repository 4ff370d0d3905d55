using System.Security.Claims;
using System.Text.Encodings.Web;
using McpMemory.Core.Memories;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpMemory.Transports.Http;

/// <summary>
/// The request's user when it presented a configured key (or when no key is configured, on loopback): the key's number
/// is the user id the SDK binds a session to, and the identity carries the key's <see cref="Caller"/>.
/// </summary>
public sealed class ApiKeyClaimsIdentity : ClaimsIdentity
{
    public KeyIdentity Key { get; }

    public ApiKeyClaimsIdentity(KeyIdentity key)
        : base([new Claim(ClaimTypes.NameIdentifier, $"key-{key.KeyNumber}"), new Claim(ClaimTypes.Name, key.Label)], ApiKeyAuthentication.SchemeName)
    {
        Key = key;
    }

    /// <summary>The caller of the key that authenticated <paramref name="user"/>; null when it presented none.</summary>
    public static Caller? CallerOf(ClaimsPrincipal? user) =>
        user?.Identities.OfType<ApiKeyClaimsIdentity>().FirstOrDefault(i => i.IsAuthenticated)?.Key.Caller;
}

/// <summary>
/// Bearer-key authentication as an ASP.NET Core scheme. With no key configured every request is the unrestricted settings
/// caller (the server then listens on loopback only); otherwise a request needs "Authorization: Bearer &lt;key&gt;" with a
/// configured key, or is challenged with 401 and a JSON-RPC error saying so.
/// </summary>
public sealed class ApiKeyAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiKeyRing keys, KeyIdentity unrestricted)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    private const string BearerPrefix = "Bearer ";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (keys.Count == 0) return Task.FromResult(Success(unrestricted));
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase)) return Task.FromResult(AuthenticateResult.NoResult());
        var presented = header[BearerPrefix.Length..].Trim();
        return Task.FromResult(presented.Length > 0 && keys.Authenticate(presented) is { } identity
            ? Success(identity)
            : AuthenticateResult.Fail("no configured key matches"));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // Never log the presented value: a near-miss key is still a secret.
        Logger.LogWarning("refused {Method} {Path} from {Remote}: no valid API key", Request.Method, HttpServer.RequestedPath(Context), Context.Connection.RemoteIpAddress);
        Response.Headers.WWWAuthenticate = "Bearer realm=\"mcp-memory\"";
        await Results.Json(new JsonRpcError
        {
            Error = new JsonRpcErrorDetail { Code = (int)McpErrorCode.InvalidRequest, Message = "a valid API key is required: send Authorization: Bearer <key>" },
        }, HttpServer.JsonRpcErrorJson, statusCode: StatusCodes.Status401Unauthorized).ExecuteAsync(Context);
    }

    private static AuthenticateResult Success(KeyIdentity identity) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ApiKeyClaimsIdentity(identity)), SchemeName));
}
