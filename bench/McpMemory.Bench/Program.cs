// Hand-run benchmarks. Each suite prints its figures and ratios against a baseline measured in the same run.
//   dotnet run -c Release --project bench/McpMemory.Bench -- <suite> [options]
using McpMemory.Bench;

var suites = new Dictionary<string, Func<string[], Task<int>>>(StringComparer.OrdinalIgnoreCase)
{
    // Each suite lives in its own file and registers itself here.
    ["storage"] = StorageBench.Run,
    ["encoder"] = EncoderBench.RunAsync,
    ["scale"] = ScaleBench.Run,
    ["searchstages"] = SearchStagesBench.RunAsync,
    ["coldstart"] = ColdStartBench.RunAsync,
    ["load"] = LoadBench.RunAsync,
    ["briefing"] = BriefingBench.RunAsync,
    ["writes"] = WriteBench.RunAsync,
    ["consolidate"] = ConsolidateBench.RunAsync,
    ["compare"] = CompareBench.RunAsync,
    ["memory"] = MemoryBench.RunAsync,
    ["dashboard"] = DashboardBench.RunAsync,
};

if (args.Length == 0 || !suites.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: McpMemory.Bench <suite> [options]   suites: {string.Join(", ", suites.Keys.Order())}");
    return 2;
}
return await run(args[1..]);
