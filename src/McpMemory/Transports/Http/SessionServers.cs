using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpMemory.Transports.Http;

/// <summary>
/// Creates the McpServer of one session (Streamable HTTP or legacy SSE) on its own DI scope bound to the session's key.
/// The shared options have ScopeRequests off, so every request of the session resolves tools from that scope.
/// </summary>
public sealed class SessionServers(IServiceScopeFactory scopes, IOptions<McpServerOptions> options, ILoggerFactory loggerFactory)
{
    public (McpServer Server, AsyncServiceScope Scope) Create(ITransport transport, KeyIdentity owner)
    {
        var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<SessionCaller>().Caller = owner.Caller;
        return (McpServer.Create(transport, options.Value, loggerFactory, scope.ServiceProvider), scope);
    }
}
