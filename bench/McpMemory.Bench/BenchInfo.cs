namespace McpMemory.Bench;
internal static class BenchInfo { public const string Note = "Benchmarks are run by hand in Release; see README."; }
