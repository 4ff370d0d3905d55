using System.Diagnostics;
using System.Text.Json;

namespace McpMemory.Bench;

/// <summary>
/// Cold start over stdio, as an agent launching the server pays it: process start → initialize answered → first
/// tools/call (search_memory) answered, on a fresh database each run. The baseline is `mcp-memory --version` in the same
/// run: the floor of starting the .NET runtime and the tool at all.
///   dotnet run -c Release --project bench/McpMemory.Bench -- coldstart [--runs 15] [--dll path/to/mcp-memory.dll]
/// </summary>
internal static class ColdStartBench
{
    private const string Initialize =
        """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}""";
    private const string Initialized = """{"jsonrpc":"2.0","method":"notifications/initialized"}""";
    private const string FirstCall = """{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"search_memory","arguments":{"query":"deployment nginx"}}}""";

    public static async Task<int> RunAsync(string[] args)
    {
        var dll = ToolUnderTest.Dll(args);
        var runs = ToolUnderTest.IntOption(args, "--runs", 15);
        Console.WriteLine($"coldstart: {dll}, {runs} runs (1 warm-up run not counted), {Environment.ProcessorCount} cores");

        await OneRunAsync(dll);   // warm the OS file cache: every later run is cold for the process, not for the disk
        var floor = new List<double>();
        var initialize = new List<double>();
        var firstAnswer = new List<double>();
        var cpu = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            floor.Add(await VersionAsync(dll));
            var (init, answer, cpuMs) = await OneRunAsync(dll);
            initialize.Add(init);
            firstAnswer.Add(answer);
            cpu.Add(cpuMs);
        }

        Console.WriteLine($"load average {(File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a")}");
        Report("baseline: process start → `--version` exit", floor);
        Report("process start → initialize answered", initialize);
        Report("process start → first tools/call answered", firstAnswer);
        // CPU time (all threads) up to the first answer: the work itself, whatever else the machine is running.
        Report("server CPU time up to the first answer", cpu);
        var median = Median(firstAnswer);
        Console.WriteLine($"first tool answer / baseline (medians): {median / Median(floor):F1}x; target ≤ 300 ms: {(median <= 300 ? "met" : "NOT met")}");
        return 0;
    }

    private static async Task<double> VersionAsync(string dll)
    {
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(ToolUnderTest.Start(dll, ["--version"]))!;
        process.StandardInput.Close();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static async Task<(double Initialize, double FirstAnswer, double CpuMs)> OneRunAsync(string dll)
    {
        var dir = ToolUnderTest.TempFolder();
        try
        {
            var watch = Stopwatch.StartNew();
            using var process = Process.Start(ToolUnderTest.Start(dll, ["serve", "--db", Path.Combine(dir, "m.db"), "--namespace", "project:bench"]))!;
            process.ErrorDataReceived += (_, _) => { };
            process.BeginErrorReadLine();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.StandardInput.WriteLineAsync(Initialize);
            await process.StandardInput.FlushAsync();
            await ReadAnswerAsync(process, 1, timeout.Token);
            var initialize = watch.Elapsed.TotalMilliseconds;
            await process.StandardInput.WriteLineAsync(Initialized);
            await process.StandardInput.WriteLineAsync(FirstCall);
            await process.StandardInput.FlushAsync();
            await ReadAnswerAsync(process, 2, timeout.Token);
            var firstAnswer = watch.Elapsed.TotalMilliseconds;
            process.Refresh();
            var cpu = process.TotalProcessorTime.TotalMilliseconds;
            process.StandardInput.Close();
            await process.WaitForExitAsync(timeout.Token);
            return (initialize, firstAnswer, cpu);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static async Task ReadAnswerAsync(Process process, int id, CancellationToken cancellationToken)
    {
        while (await process.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
        {
            using var message = JsonDocument.Parse(line);
            if (!message.RootElement.TryGetProperty("id", out var got) || got.GetInt32() != id) continue;
            if (message.RootElement.TryGetProperty("error", out var error) ||
                (message.RootElement.GetProperty("result").TryGetProperty("isError", out var isError) && isError.GetBoolean()))
                throw new InvalidOperationException($"request {id} failed: {line}");
            return;
        }
        throw new InvalidOperationException($"the server closed stdout before answering request {id}");
    }

    private static double Median(List<double> values) => ToolUnderTest.Percentile(values.Order().ToList(), 50);

    private static void Report(string what, List<double> values)
    {
        var sorted = values.Order().ToList();
        Console.WriteLine($"{what,-46} median {ToolUnderTest.Percentile(sorted, 50),6:F0} ms   min {sorted[0],6:F0} ms   p90 {ToolUnderTest.Percentile(sorted, 90),6:F0} ms");
    }
}
