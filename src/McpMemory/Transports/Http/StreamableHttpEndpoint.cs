using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpMemory.Transports.Http;

/// <summary>
/// Streamable HTTP (MCP 2025-03-26 and later) on one path: POST carries client messages and streams the answer back as
/// SSE; GET opens the optional stream for server-initiated messages; DELETE ends the session. Sessions are stateful:
/// initialize opens one, bound to the key that sent it.
/// </summary>
public sealed class StreamableHttpEndpoint(SessionStore sessions, SessionServers servers, ILoggerFactory loggerFactory,
    IHostApplicationLifetime lifetime, TimeProvider clock)
{
    public async Task PostAsync(HttpContext context)
    {
        var request = context.Request;
        if (!McpHttp.Accepts(request, "application/json") || !McpHttp.Accepts(request, "text/event-stream"))
        {
            await McpHttp.WriteErrorAsync(context, StatusCodes.Status406NotAcceptable, (int)McpErrorCode.InvalidRequest,
                "Accept must list both application/json and text/event-stream");
            return;
        }
        if (McpHttp.CheckProtocolVersion(request) is { } versionError)
        {
            await McpHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, versionError);
            return;
        }
        var message = await McpHttp.ReadMessageAsync(context);
        if (message is null) return; // answered with the reason

        var identity = RequestIdentity.Get(context);
        var sessionId = request.Headers[McpHttp.SessionIdHeader].ToString();
        StreamableSession? session;
        if (sessionId.Length == 0)
        {
            if (message is not JsonRpcRequest { Method: RequestMethods.Initialize })
            {
                await McpHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, (int)McpErrorCode.InvalidRequest,
                    $"{McpHttp.SessionIdHeader} header is required for everything but initialize");
                return;
            }
            session = await OpenSessionAsync(identity);
            if (session is null)
            {
                await McpHttp.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, (int)McpErrorCode.InternalError,
                    $"too many open sessions (limit {SessionStore.MaxSessions}); end unused ones with DELETE");
                return;
            }
        }
        else if ((session = await FindOwnedAsync(context, sessionId, identity)) is null)
        {
            return;
        }

        context.Response.Headers[McpHttp.SessionIdHeader] = session.Id;
        using var _ = session.Enter();
        McpHttp.StartEventStream(context);
        try
        {
            if (!await session.Transport.HandlePostRequestAsync(message, context.Response.Body, context.RequestAborted))
            {
                // A notification or a client response: nothing was written, so the answer can still become 202.
                context.Response.Headers.ContentType = default;
                context.Response.StatusCode = StatusCodes.Status202Accepted;
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away mid-answer; its session stays until DELETE or idle expiry.
        }
    }

    public async Task GetAsync(HttpContext context)
    {
        var request = context.Request;
        if (McpHttp.CheckProtocolVersion(request) is { } versionError)
        {
            await McpHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, versionError);
            return;
        }
        if (!McpHttp.Accepts(request, "text/event-stream"))
        {
            await McpHttp.WriteErrorAsync(context, StatusCodes.Status406NotAcceptable, (int)McpErrorCode.InvalidRequest, "Accept must list text/event-stream");
            return;
        }
        if (await RequiredSessionAsync(context) is not { } session) return;
        if (request.Headers.ContainsKey(McpHttp.LastEventIdHeader))
        {
            await McpHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, (int)McpErrorCode.InvalidRequest,
                $"{McpHttp.LastEventIdHeader}: resuming a stream is not supported (events carry no ids)");
            return;
        }
        if (!session.TryOpenGetStream())
        {
            await McpHttp.WriteErrorAsync(context, StatusCodes.Status409Conflict, (int)McpErrorCode.InvalidRequest,
                "this session already has its GET stream open");
            return;
        }

        context.Response.Headers[McpHttp.SessionIdHeader] = session.Id;
        using var _ = session.Enter();
        McpHttp.StartEventStream(context);
        // Linked to shutdown: otherwise Kestrel would wait for this open stream until the host's timeout.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        try { await session.Transport.HandleGetRequestAsync(context.Response.Body, stop.Token); }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
    }

    public async Task DeleteAsync(HttpContext context)
    {
        if (await RequiredSessionAsync(context) is not { } session) return;
        await sessions.EndAsync(session.Id);
        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    private async Task<StreamableSession?> OpenSessionAsync(KeyIdentity identity)
    {
        var transport = new StreamableHttpServerTransport(loggerFactory) { SessionId = McpHttp.NewSessionId() };
        var session = new StreamableSession(transport.SessionId!, identity, transport, servers, clock);
        if (sessions.TryAdd(session)) return session;
        await session.DisposeAsync();
        return null;
    }

    private async Task<StreamableSession?> RequiredSessionAsync(HttpContext context)
    {
        var sessionId = context.Request.Headers[McpHttp.SessionIdHeader].ToString();
        if (sessionId.Length > 0) return await FindOwnedAsync(context, sessionId, RequestIdentity.Get(context));
        await McpHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, (int)McpErrorCode.InvalidRequest, $"{McpHttp.SessionIdHeader} header is required");
        return null;
    }

    /// <summary>The session, when it exists and belongs to the request's key; else writes 404 or 403 and returns null.</summary>
    private async Task<StreamableSession?> FindOwnedAsync(HttpContext context, string sessionId, KeyIdentity identity)
    {
        var session = sessions.Find(sessionId);
        if (session is null)
        {
            await McpHttp.WriteErrorAsync(context, StatusCodes.Status404NotFound, McpHttp.SessionNotFoundCode, "session not found; start a new one with initialize");
            return null;
        }
        if (session.Owner.KeyNumber != identity.KeyNumber)
        {
            await McpHttp.WriteErrorAsync(context, StatusCodes.Status403Forbidden, (int)McpErrorCode.InvalidRequest, "this session belongs to another API key");
            return null;
        }
        return session;
    }
}
