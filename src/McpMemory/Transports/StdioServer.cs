using McpMemory.Core;
using McpMemory.Core.Memories;
using McpMemory.Core.Storage;
using McpMemory.Contracts;
using McpMemory.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace McpMemory.Transports;

/// <summary>The MCP server over stdin/stdout. stdout carries only protocol messages; every log line goes to stderr.</summary>
public static class StdioServer
{
    public static async Task<int> RunAsync(Settings settings, CancellationToken cancellationToken)
    {
        // The empty builder skips configuration sources (appsettings files, environment, command line) nothing here
        // reads: tens of milliseconds off a cold start that agents pay on every launch.
        StartupTrace.Mark("serve");
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("McpMemory", LogLevel.Information);
        IHost? host = null;
        try
        {
            // Not WithStdioServerTransport: every stdin line passes JsonRpcLineGuard first, so malformed input gets a
            // JSON-RPC error instead of silence, and stdout carries only whole JSON-RPC messages.
            var stdout = new LineWriter(Console.OpenStandardOutput());
            AddMemoryServer(builder.Services, settings, openInBackground: true)
                .WithStreamServerTransport(JsonRpcLineGuard.Start(Console.OpenStandardInput(), stdout), stdout);
            host = builder.Build();
            StartupTrace.Mark("host built");
            // The server (the SDK reflects over the tools, prompts and resources and builds their schemas) is created
            // while the database opens on the other core.
            host.Services.GetRequiredService<McpServer>();
            StartupTrace.Mark("mcp server created");
            // Wait for the database before serving: a file this build must not touch is refused once, clearly, at start.
            host.Services.GetRequiredService<MemoryService>();
            StartupTrace.Mark("database open");
        }
        catch (Exception e) when (e is SchemaTooNewException or MemoryException)
        {
            host?.Dispose();
            Console.Error.WriteLine("error: " + e.Message);
            return 1;
        }
        using (host)
        {
            host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("McpMemory")
                .LogInformation("mcp-memory serving over stdio: database {Path}, namespace {Namespace}", settings.DatabaseDisplay, settings.DefaultNamespace);
            if (StartupTrace.Enabled) host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() => StartupTrace.Mark("host started"));
            await host.RunAsync(cancellationToken);
        }
        return 0;
    }

    /// <summary>The engine, the caller and the tools: shared by every transport.</summary>
    /// <param name="openInBackground">
    /// Open the database on a thread-pool thread, overlapping the host's construction (the caller resolves
    /// <see cref="MemoryService"/> before serving, which waits for it and throws what opening threw); otherwise it is
    /// opened now, and a bad path fails here.
    /// </param>
    public static IMcpServerBuilder AddMemoryServer(IServiceCollection services, Settings settings, bool openInBackground = false)
    {
        // The encoder starts loading only once the server has answered its first tool call or has been idle a moment
        // (EncoderWarmup), at low priority: it never delays initialize or the first answer, which meanwhile search by
        // keywords.
        var encoder = Encoders.Deferred(settings);
        var open = () => MemoryService.Open(settings.DatabasePath, settings.Engine, encoder);
        var opening = openInBackground ? Task.Run(open) : Task.FromResult(open());
        // Registered through a factory so that the host disposes it on shutdown (an instance given as such is not):
        // that stops its background work and checkpoints the WAL, so a clean exit leaves one self-contained file.
        services.AddSingleton(_ => opening.GetAwaiter().GetResult());
        services.AddSingleton(settings.ToCaller());
        services.AddSingleton(settings.ExpirySweep);
        services.AddHostedService<ExpirySweepService>();
        services.AddSingleton(settings.Consolidation);
        services.AddSingleton(settings.Archive);
        services.AddHostedService<ConsolidationScheduleService>();
        services.AddHostedService<Gen0Pacer>();
        var server = services
            .AddMcpServer(o =>
            {
                o.ServerInfo = new() { Name = "mcp-memory", Version = typeof(StdioServer).Assembly.GetName().Version?.ToString(3) ?? "0.0.0" };
                o.ServerInstructions = ServerInstructions;
            })
            .WithMessageFilters(filters => filters.AddIncomingFilter(RequestParamsErrors.Filter))
            .WithRequestFilters(filters =>
            {
                filters.AddCallToolFilter(ToolArgumentErrors.Filter);
                filters.AddGetPromptFilter(ToolArgumentErrors.EngineErrors);
                filters.AddReadResourceFilter(ToolArgumentErrors.EngineErrors);
            })
            .WithTools<MemoryTools>(ResultJson.Options)
            .WithTools<StateTools>(ResultJson.Options)
            .WithTools<BriefingTools>(ResultJson.Options)
            .WithTools<KnowledgeTools>(ResultJson.Options)
            .WithPrompts<BriefingPrompts>()
            .WithResources<MemoryResources>();
        EncoderWarmup.Add(services, server, encoder);
        if (StartupTrace.Enabled) server.WithMessageFilters(filters => filters.AddIncomingFilter(StartupTrace.Incoming).AddOutgoingFilter(StartupTrace.Outgoing));
        StartupTrace.Mark("services registered");
        return server;
    }

    private const string ServerInstructions =
        "Persistent memory across sessions. Call get_briefing first in a session. Call search_memory at the start of a task, before debugging and before a design " +
        "decision. Call store_memory for decisions (with the reason), fixes (with the cause), preferences, corrections and " +
        "commands that worked: one self-contained fact each. Delete what turned out wrong.";
}
