using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;
using McpMemory.Dashboard;

namespace McpMemory.Transports.Http;

/// <summary>
/// `serve --http`: the MCP server on Kestrel, through the SDK's HTTP transport. Streamable HTTP at /mcp, the legacy
/// HTTP+SSE pair at /sse + /message, and /health. Binds 127.0.0.1 by default and refuses any other address unless API
/// keys are configured. In front of the SDK: the Origin/Host guard, bearer-key authentication (the key is the request's
/// user; its caller is what the tools act as) and the JSON-RPC message checks.
/// </summary>
public static class HttpServer
{
    public const int MaxRequestBodyBytes = 1024 * 1024;

    public static async Task<int> RunAsync(Settings settings, HttpSettings http, CancellationToken cancellationToken, bool dashboardOnly = false, bool open = false)
    {
        ApiKeyRing keys;
        try { keys = http.HasKeys ? ApiKeyRing.Load(http, settings) : ApiKeyRing.Empty; }
        catch (ApiKeyConfigurationException e)
        {
            await Console.Error.WriteLineAsync($"mcp-memory: {e.Message}");
            return 2;
        }
        if (CheckBindings(http.Urls, keys.Count > 0) is { } refusal)
        {
            await Console.Error.WriteLineAsync($"mcp-memory: {refusal}");
            return 2;
        }

        RequestThreads.Reserve();
        WebApplication built;
        // Building opens (and migrates) the database: a bad path fails here, at startup, not on some client's first call.
        try { built = Build(settings, http, keys); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await Console.Error.WriteLineAsync($"mcp-memory: cannot start with the database {settings.DatabaseDisplay}: {e.Message}");
            return 2;
        }
        await using var app = built;
        using var stopOnCancel = cancellationToken.Register(() => app.Lifetime.StopApplication());
        try { await app.StartAsync(cancellationToken); }
        catch (IOException e)
        {
            // Kestrel reports an address in use (or not available) as an IOException.
            await Console.Error.WriteLineAsync($"mcp-memory: cannot listen on {string.Join(", ", http.Urls)}: {e.Message}");
            return 2;
        }
        catch (OperationCanceledException) { return 0; }

        var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        foreach (var address in addresses)
            await Console.Error.WriteLineAsync($"mcp-memory listening on {address} (dashboard {address}/, Streamable HTTP {address}/mcp, SSE {address}/sse, health {address}/health)");
        if (dashboardOnly)
        {
            // `ui`: the dashboard's address on stdout, for a person (or a script) to open.
            var url = addresses.First().TrimEnd('/') + "/";
            await Console.Out.WriteLineAsync($"mcp-memory dashboard: {url}");
            if (open) Dashboard.BrowserLauncher.TryOpen(url);
        }
        await Console.Error.WriteLineAsync(keys.Count > 0
            ? $"mcp-memory: {keys.Count} API key(s) configured; requests need Authorization: Bearer <key>"
            : $"mcp-memory: no API key configured; every local client has full access to {settings.DatabaseDisplay}");

        await app.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>
    /// Null when the URLs may be bound; else why not. Without a key, only loopback addresses are allowed: anyone who can
    /// reach the port could otherwise read and change every memory.
    /// </summary>
    public static string? CheckBindings(IReadOnlyList<string> urls, bool hasKeys)
    {
        foreach (var url in urls)
        {
            BindingAddress address;
            try { address = BindingAddress.Parse(url); }
            catch (FormatException) { return $"--urls: \"{url}\" is not a URL like http://127.0.0.1:7077"; }
            if (address.Scheme != "http")
                return $"--urls: \"{url}\": only http:// is served (put a TLS-terminating proxy in front for https)";
            if (!hasKeys && !OriginGuard.IsLoopbackHost(address.Host))
                return $"refusing to listen on non-loopback address \"{url}\" without an API key: anyone who can reach it could read and change every memory. " +
                       $"Configure a key with --api-key or ${HttpSettings.ApiKeyVariable} (full access) or --keys-file / ${HttpSettings.KeysFileVariable} (per-namespace keys), " +
                       "or bind 127.0.0.1.";
        }
        return null;
    }

    private static WebApplication Build(Settings settings, HttpSettings http, ApiKeyRing keys)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("McpMemory", LogLevel.Information);
        // The refused request is logged once, by the challenge; not also as the handler's "not authenticated" lines.
        builder.Logging.AddFilter(typeof(ApiKeyAuthentication).FullName, LogLevel.Warning);
        // A failed start is reported once, as one line naming the address (RunAsync), not as the host's stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.WebHost.UseUrls([.. http.Urls]);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = MaxRequestBodyBytes);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));

        var services = builder.Services;
        services.AddSingleton(keys);
        services.AddSingleton(KeyIdentity.Unrestricted(settings));
        services.AddAuthentication(ApiKeyAuthentication.SchemeName).AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        services.AddAuthorization();
        var server = StdioServer.AddMemoryServer(services, settings);
        // Over HTTP the caller is the key of each request (the request's user), not the process's settings.
        services.AddScoped<RequestCaller>();
        services.Replace(ServiceDescriptor.Scoped(sp => sp.GetRequiredService<RequestCaller>().Caller));
        server.WithRequestFilters(filters =>
        {
            filters.AddCallToolFilter(RequestCaller.Filter);
            filters.AddGetPromptFilter(RequestCaller.Filter);
            filters.AddReadResourceFilter(RequestCaller.Filter);
        })
            .WithHttpTransport(o =>
            {
                // Sessions, each bound by the SDK to the user (the key) that opened it: the legacy SSE pair needs them,
                // and so do server-to-client messages. A client of the session-less 2026-07-28 revision is refused with
                // -32022 and falls back to initialize.
                o.SessionMode = HttpServerSessionMode.Stateful;
#pragma warning disable MCP9004 // The legacy HTTP+SSE transport: obsolete in the SDK (no backpressure), still used by older clients.
                o.EnableLegacySse = true;
#pragma warning restore MCP9004
            });

        services.AddSingleton(sp => new DashboardSessions(keys, sp.GetRequiredService<KeyIdentity>(), TimeProvider.System));

        var app = builder.Build();
        app.Services.GetRequiredService<McpMemory.Core.MemoryService>(); // owned by the host from now on: disposed (WAL checkpointed) on shutdown
        var loopbackOnly = http.Urls.All(u => OriginGuard.IsLoopbackHost(BindingAddress.Parse(u).Host));
        var guard = new OriginGuard(http.AllowedOrigins, loopbackOnly);
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("McpMemory.Http");

        app.Use(async (context, next) =>
        {
            if (guard.Check(context.Request) is { } refusal)
            {
                log.LogWarning("refused {Method} {Path}: {Reason}", context.Request.Method, context.Request.Path, refusal);
                await Results.Json(new JsonRpcError { Error = new JsonRpcErrorDetail { Code = (int)McpErrorCode.InvalidRequest, Message = refusal } },
                    JsonRpcErrorJson, statusCode: StatusCodes.Status403Forbidden).ExecuteAsync(context);
                return;
            }
            // The SDK serves Streamable HTTP at the root of MapMcp and the legacy pair beside it (/sse, /message): /mcp is
            // that root, and the bare root is not an address of this server.
            // The bare root is the dashboard's home page (GET only: MCP is never served there).
            if (context.Request.Path == StreamablePath || context.Request.Path == StreamablePath + "/") context.Request.Path = "/";
            else if (context.Request.Path == "/")
            {
                if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method)) { context.Response.StatusCode = StatusCodes.Status404NotFound; return; }
                context.Request.Path = DashboardEndpoints.HomePath;
            }
            await next(context);
        });
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseWhen(context => context.Request.Path == "/" || context.Request.Path == "/message", checks => checks.Use(McpRequestChecks.RunAsync));
        app.MapMcp().RequireAuthorization();
        // A RequestDelegate, not a lambda the framework binds by reflection (Native AOT).
        app.MapGet("/health", context => Results.Json(new JsonObject { ["status"] = "ok" }, Contracts.ResultJsonContext.Default.JsonObject).ExecuteAsync(context));
        DashboardEndpoints.Map(app, new DashboardOptions(settings.DatabasePath, http.AllowedOrigins, settings.EncoderOff));
        return app;
    }

    private const string StreamablePath = "/mcp";

    /// <summary>The SDK's own metadata for the JSON-RPC errors written outside it (no reflection: Native AOT).</summary>
    internal static readonly JsonTypeInfo<JsonRpcError> JsonRpcErrorJson = (JsonTypeInfo<JsonRpcError>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcError));

    /// <summary>The path as the client sent it, without the query (/mcp is served as the SDK's root): for log lines.</summary>
    public static string RequestedPath(HttpContext context) =>
        context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw ? raw.Split('?')[0] : context.Request.Path.ToString();
}
