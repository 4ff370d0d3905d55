using McpMemory.Core.Memories;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpMemory.Transports.Http;

/// <summary>
/// The caller of one HTTP tool call. The SDK runs every request in its own DI scope and hands the request's user (the
/// HTTP request's <see cref="System.Security.Claims.ClaimsPrincipal"/>) to the filters; <see cref="Filter"/> fills this
/// scoped holder from it before the tool is built, and the tools' <see cref="Caller"/> resolves from it. So a tool acts
/// as the key that sent this very request, and the SDK has already checked that key is the one that opened the session.
/// </summary>
public sealed class RequestCaller
{
    private Caller? _caller;

    public Caller Caller
    {
        get => _caller ?? throw new InvalidOperationException("no caller was bound to this request's scope");
        private set => _caller = value;
    }

    public static McpRequestHandler<CallToolRequestParams, CallToolResult> Filter(McpRequestHandler<CallToolRequestParams, CallToolResult> next) =>
        (context, cancellationToken) =>
        {
            // Every HTTP request is authenticated (with no key configured, as the unrestricted caller): no user means a
            // request that bypassed authentication, and it must not run as anybody.
            var caller = ApiKeyClaimsIdentity.CallerOf(context.User) ?? throw new McpException("this request carries no authenticated API key");
            context.Services!.GetRequiredService<RequestCaller>().Caller = caller;
            return next(context, cancellationToken);
        };
}
