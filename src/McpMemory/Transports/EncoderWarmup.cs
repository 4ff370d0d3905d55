using McpMemory.Core.Briefing;
using McpMemory.Core.Embeddings;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpMemory.Transports;

/// <summary>
/// Decides when a server starts loading the encoder and the briefing's tokenizer (cl100k_base, ~0.2 s of CPU): after it
/// has answered its first tool call, or once it has been idle (no request in flight) for <see cref="IdleDelay"/>,
/// whichever comes first, and at the latest <see cref="Deadline"/> after start. Loading the model takes ~100 ms of CPU;
/// on a 2-core machine, done at startup, it competed with the host for the cores and delayed the first answer. Both
/// loads run at the lowest OS priority, so requests that arrive meanwhile keep the cores. Until the encoder is ready,
/// search answers from keywords (mode "fts") and stores are embedded later by the engine's background queue; a briefing
/// asked for before the tokenizer is ready waits for it (it would otherwise load it on its own).
/// </summary>
internal sealed class EncoderWarmup(EmbedderProvider? encoder) : IHostedService, IDisposable
{
    public static readonly TimeSpan IdleDelay = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private Timer? _idle;
    private Timer? _deadline;
    private int _inFlight;
    private bool _toolAnswered;
    private int _started;

    private bool Started => Volatile.Read(ref _started) != 0;

    /// <summary>Registers the warm-up and the message filters that watch requests go in and answers go out.</summary>
    public static void Add(IServiceCollection services, IMcpServerBuilder server, EmbedderProvider? encoder)
    {
        var warmup = new EncoderWarmup(encoder);
        services.AddSingleton(warmup);
        services.AddHostedService(_ => warmup);
        server.WithMessageFilters(filters => filters.AddIncomingFilter(warmup.Incoming).AddOutgoingFilter(warmup.Outgoing))
              .WithRequestFilters(filters => filters.AddCallToolFilter(warmup.CallTool));
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (Started) return Task.CompletedTask;
            _idle = new Timer(_ => StartLoading());
            _deadline = new Timer(_ => StartLoading(), null, Deadline, Timeout.InfiniteTimeSpan);
            if (_inFlight == 0) _idle.Change(IdleDelay, Timeout.InfiniteTimeSpan);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private McpMessageHandler Incoming(McpMessageHandler next) => (context, cancellationToken) =>
    {
        if (context.JsonRpcMessage is JsonRpcRequest && !Started)
            lock (_lock)
            {
                _inFlight++;
                _idle?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        return next(context, cancellationToken);
    };

    private McpMessageHandler Outgoing(McpMessageHandler next) => async (context, cancellationToken) =>
    {
        await next(context, cancellationToken);
        if (context.JsonRpcMessage is not (JsonRpcResponse or JsonRpcError) || Started) return;
        bool startNow;
        lock (_lock)
        {
            _inFlight = Math.Max(0, _inFlight - 1);
            startNow = _toolAnswered;
            if (!startNow && _inFlight == 0) _idle?.Change(IdleDelay, Timeout.InfiniteTimeSpan);
        }
        if (startNow) StartLoading();
    };

    private McpRequestHandler<CallToolRequestParams, CallToolResult> CallTool(McpRequestHandler<CallToolRequestParams, CallToolResult> next) =>
        async (context, cancellationToken) =>
        {
            try { return await next(context, cancellationToken); }
            finally
            {
                // Its answer is written next (the outgoing filter then starts the load).
                if (!Started) lock (_lock) _toolAnswered = true;
            }
        };

    private void StartLoading()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0) return;
        encoder?.Start(lowPriority: true);
        new Thread(() =>
        {
            BackgroundPriority.LowerCurrentThread();
            TokenCounter.Load();
        })
        { IsBackground = true, Name = "tokenizer load" }.Start();
        Dispose();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _idle?.Dispose();
            _deadline?.Dispose();
        }
    }
}
