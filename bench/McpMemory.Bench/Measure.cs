using System.Diagnostics;

namespace McpMemory.Bench;

/// <summary>Timing helpers shared by the suites: per-call latencies in microseconds, summarised by percentiles.</summary>
internal static class Measure
{
    public sealed record Latency(double P50, double P95, double Mean, int Count)
    {
        public override string ToString() => $"p50 {Fmt(P50)}  p95 {Fmt(P95)}  mean {Fmt(Mean)}  (n={Count})";
    }

    /// <summary>Runs <paramref name="call"/> <paramref name="count"/> times after a warm-up and returns its latency in µs.</summary>
    public static Latency Calls(int count, Action<int> call, int warmup = 200)
    {
        for (var i = 0; i < warmup; i++) call(i);
        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            call(i);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        return Summarise(samples);
    }

    public static Latency Summarise(double[] samples)
    {
        Array.Sort(samples);
        return new Latency(Percentile(samples, 0.50), Percentile(samples, 0.95), samples.Average(), samples.Length);
    }

    public static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(p * sorted.Length))];

    public static string Fmt(double micros) => micros >= 1000 ? $"{micros / 1000:0.00} ms" : $"{micros:0.0} µs";

    public static long RssBytes() { using var p = Process.GetCurrentProcess(); p.Refresh(); return p.WorkingSet64; }
}
