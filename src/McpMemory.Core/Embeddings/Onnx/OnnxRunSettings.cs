using Microsoft.ML.OnnxRuntime;

namespace McpMemory.Core.Embeddings.Onnx;

/// <summary>
/// How ONNX Runtime runs the encoder: the one place its session options are set (docs/encoder.md, "Running it").
/// </summary>
/// <param name="IntraOpThreads">Cores one call uses (the calling thread plus IntraOpThreads − 1 pool threads).</param>
/// <param name="AllowSpinning">Whether pool threads busy-wait for the next piece of work instead of sleeping.</param>
public sealed record OnnxRunSettings(int IntraOpThreads, bool AllowSpinning)
{
    /// <summary>
    /// One core per call, no spinning: on the shared 2-core machine (load average 10–27) two intra-op threads did not
    /// lower a single text's latency (29 tokens: p50 15.2–16.6 ms against 12.6–18.8) and did 10–25 % less batch work per
    /// CPU-second; spinning doubled both latencies (docs/encoder.md).
    /// </summary>
    public static OnnxRunSettings Default { get; } = new(1, false);

    /// <summary>
    /// ONNX Runtime's CPU arena: a pool of chunks that grows to the largest run seen and is never given back. Off, each
    /// run's intermediate tensors come from malloc and are freed after it.
    /// </summary>
    public bool CpuMemArena { get; init; } = true;

    /// <summary>ONNX Runtime's memory pattern: one block per input shape, planned on the first run of that shape and kept.</summary>
    public bool MemoryPattern { get; init; } = true;

    /// <summary>Whether kernels may keep a pre-packed copy of constant weights (session.disable_prepacking when false).</summary>
    public bool Prepacking { get; init; } = true;

    /// <summary>
    /// Whether constant weights are allocated outside the arena (session.use_device_allocator_for_initializers): the
    /// arena grows by powers of two, so a weight of 45 MiB can take a 64 MiB chunk.
    /// </summary>
    public bool InitializersOutsideArena { get; init; }

    internal SessionOptions CreateSessionOptions()
    {
        if (IntraOpThreads < 1) throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), $"IntraOpThreads: must be at least 1 (got {IntraOpThreads})");
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = IntraOpThreads,
            InterOpNumThreads = 1,
            EnableCpuMemArena = CpuMemArena,
            EnableMemoryPattern = MemoryPattern,
        };
        if (!Prepacking) options.AddSessionConfigEntry("session.disable_prepacking", "1");
        if (InitializersOutsideArena) options.AddSessionConfigEntry("session.use_device_allocator_for_initializers", "1");
        string spinning = AllowSpinning ? "1" : "0";
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", spinning);
        options.AddSessionConfigEntry("session.inter_op.allow_spinning", spinning);
        return options;
    }
}
