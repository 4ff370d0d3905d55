using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Mcp;

/// <summary>MemoryReport: with MCP_MEMORY_MEMORY_REPORT set, SIGUSR1 makes the running server write its managed heap's figures, and it keeps serving.</summary>
public sealed class MemoryReportTests
{
    [Fact]
    public async Task sigusr1_writes_the_gc_figures_and_the_server_keeps_answering()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempDirectory();
        string report = dir.File("gc.json");
        var env = new Dictionary<string, string> { ["MCP_MEMORY_MEMORY_REPORT"] = report, ["MCP_MEMORY_ENCODER"] = "off" };
        await using var server = await RawMcpServer.StartAsync(dir.File("m.db"), "project:report", env);
        (await server.CallToolAsync("store_memory", new JsonObject { ["content"] = "the report needs a heap with something in it" }))
            .Should().ContainKey("result");

        using (var kill = Process.Start("kill", ["-USR1", server.ProcessId.ToString()])) await kill.WaitForExitAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!File.Exists(report) && DateTime.UtcNow < deadline) await Task.Delay(50);
        File.Exists(report).Should().BeTrue("the server writes the report when it gets SIGUSR1");

        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(report));
        var root = json.RootElement;
        root.GetProperty("total_memory").GetInt64().Should().BePositive();
        // committed, heap_size and the generations are as of the last GC (all 0 if none has run yet: gc_index 0).
        if (root.GetProperty("gc_index").GetInt64() > 0) root.GetProperty("committed").GetInt64().Should().BePositive();
        root.GetProperty("total_allocated").GetInt64().Should().BeGreaterThan(root.GetProperty("total_memory").GetInt64() / 2);
        root.GetProperty("generations").GetArrayLength().Should().Be(5, "gen0, gen1, gen2, LOH, POH");

        server.HasExited.Should().BeFalse("SIGUSR1 is handled, not the default action (terminate)");
        (await server.CallToolAsync("search_memory", new JsonObject { ["query"] = "report heap" })).Should().ContainKey("result");
    }
}
