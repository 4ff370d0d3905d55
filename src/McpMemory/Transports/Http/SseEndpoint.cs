using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpMemory.Transports.Http;

/// <summary>
/// The legacy HTTP+SSE transport (MCP 2024-11-05): GET /sse holds a stream open, announces the POST address in an
/// "endpoint" event, and carries every answer; POST /message?sessionId= delivers client messages. The session lives as
/// long as the stream: a client that disconnects frees it.
/// </summary>
public sealed class SseEndpoint(SessionServers servers, IHostApplicationLifetime lifetime)
{
    private readonly ConcurrentDictionary<string, (SseResponseStreamTransport Transport, KeyIdentity Owner)> _sessions = new(StringComparer.Ordinal);

    public int Count => _sessions.Count;

    public async Task StreamAsync(HttpContext context)
    {
        var id = McpHttp.NewSessionId();
        var owner = RequestIdentity.Get(context);
        // Linked to shutdown: otherwise Kestrel would wait for this open stream until the host's timeout.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        McpHttp.StartEventStream(context);
        var transport = new SseResponseStreamTransport(context.Response.Body, $"{context.Request.PathBase}/message?sessionId={id}", id);
        _sessions[id] = (transport, owner);
        try
        {
            // RunAsync writes the endpoint event first; messages may be posted from then on.
            var transportRun = transport.RunAsync(stop.Token);
            var (server, scope) = servers.Create(transport, owner);
            try
            {
                await server.RunAsync(stop.Token);
            }
            finally
            {
                await transport.DisposeAsync();
                try { await transportRun; } catch (OperationCanceledException) { }
                await server.DisposeAsync();
                await scope.DisposeAsync();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The client disconnected or the server is stopping.
        }
        finally
        {
            _sessions.TryRemove(id, out _);
        }
    }

    public async Task MessageAsync(HttpContext context)
    {
        var id = context.Request.Query["sessionId"].ToString();
        if (id.Length == 0)
        {
            await McpHttp.WriteErrorAsync(context, StatusCodes.Status400BadRequest, (int)McpErrorCode.InvalidRequest, "sessionId query parameter is required");
            return;
        }
        if (!_sessions.TryGetValue(id, out var session))
        {
            await McpHttp.WriteErrorAsync(context, StatusCodes.Status404NotFound, McpHttp.SessionNotFoundCode, "session not found; open a new one with GET /sse");
            return;
        }
        if (session.Owner.KeyNumber != RequestIdentity.Get(context).KeyNumber)
        {
            await McpHttp.WriteErrorAsync(context, StatusCodes.Status403Forbidden, (int)McpErrorCode.InvalidRequest, "this session belongs to another API key");
            return;
        }
        var message = await McpHttp.ReadMessageAsync(context);
        if (message is null) return; // answered with the reason
        await session.Transport.OnMessageReceivedAsync(message, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        await context.Response.WriteAsync("Accepted");
    }
}
