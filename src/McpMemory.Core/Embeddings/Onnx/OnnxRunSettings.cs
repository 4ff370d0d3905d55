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

    internal SessionOptions CreateSessionOptions()
    {
        if (IntraOpThreads < 1) throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), $"IntraOpThreads: must be at least 1 (got {IntraOpThreads})");
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = IntraOpThreads,
            InterOpNumThreads = 1,
        };
        string spinning = AllowSpinning ? "1" : "0";
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", spinning);
        options.AddSessionConfigEntry("session.inter_op.allow_spinning", spinning);
        return options;
    }
}
