using System.Text.Json;
using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Memories;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Knowledge;

/// <summary>
/// consolidate_memories' summaries of large clusters through MCP sampling: with the TypeScript SDK client declaring the
/// sampling capability and answering createMessage with a fixed text (tests/mcp-clients/sampling-summary.mjs), and with
/// the C# SDK client and the CLI, which offer no sampling: they are told so, and nothing is written.
/// </summary>
public class SamplingSummaryTests
{
    private static Dictionary<string, object?> Args(params (string Key, object? Value)[] pairs) => pairs.ToDictionary(p => p.Key, p => p.Value);

    [Fact]
    public async Task A_client_that_supports_sampling_gets_one_summary_per_large_cluster_linked_to_the_originals_which_stay()
    {
        using var dir = new TempDirectory();
        var db = dir.File("m.db");
        var run = await NodeClients.NodeAsync(["sampling-summary.mjs", "dotnet", ToolProcess.Dll, "--db", db, "--namespace", "project:s"],
            new Dictionary<string, string> { ["MCP_MEMORY_ENCODER"] = "off" }, timeout: TimeSpan.FromSeconds(90));
        run.ExitCode.Should().Be(0, run.Stderr);
        var report = JsonDocument.Parse(run.Stdout).RootElement;
        var members = report.GetProperty("members").EnumerateArray().Select(e => e.GetString()!).ToList();

        var dry = report.GetProperty("dry");
        (dry.GetProperty("supported").GetBoolean(), dry.GetProperty("requested").GetBoolean()).Should().Be((true, true));
        dry.GetProperty("summaries").EnumerateArray().Should().ContainSingle().Which.GetProperty("summary_id").ValueKind.Should().Be(JsonValueKind.Null);
        report.GetProperty("requests_after_dry").GetInt32().Should().Be(0, "a dry run asks the model nothing");

        var summary = report.GetProperty("run").GetProperty("summaries").EnumerateArray().Should().ContainSingle("the 2 \"misc\" memories are no cluster").Subject;
        summary.GetProperty("tag").GetString().Should().Be("deploy");
        summary.GetProperty("member_ids").EnumerateArray().Select(e => e.GetString()).Should().BeEquivalentTo(members);
        summary.GetProperty("model").GetString().Should().Be("test-model-1");
        var summaryId = summary.GetProperty("summary_id").GetString();
        var stored = report.GetProperty("summary");
        stored.GetProperty("content").GetString().Should().StartWith("Deploys: staging and production ship through the release pipeline");
        stored.GetProperty("memory_type").GetString().Should().Be("context");
        stored.GetProperty("tags").EnumerateArray().Select(e => e.GetString()).Should().Equal("deploy", "summary");
        stored.GetProperty("metadata").GetProperty("summary_of").EnumerateArray().Select(e => e.GetString()).Should().BeEquivalentTo(members);

        // The original is untouched, and its history names the summary.
        report.GetProperty("original").GetProperty("content").GetString().Should().Be("staging deploys from the release branch every weekday at noon");
        var versions = report.GetProperty("history").GetProperty("versions").EnumerateArray().ToList();
        versions.Select(v => v.GetProperty("kind").GetString()).Should().Equal("stored", "summarized");
        versions[1].GetProperty("summarized_by").GetString().Should().Be(summaryId);

        report.GetProperty("prompt").GetString().Should().Contain("6 related memories (tag \"deploy\"").And.Contain("- (fact, ").And.Contain("rollbacks redeploy the previous container image tag");
        report.GetProperty("again").GetProperty("summaries").GetArrayLength().Should().Be(0, "the cluster is summarised already");
        var notAsked = report.GetProperty("not_asked");
        (notAsked.GetProperty("supported").GetBoolean(), notAsked.GetProperty("requested").GetBoolean()).Should().Be((true, false));
        report.GetProperty("requests").GetInt32().Should().Be(1, "one cluster, one createMessage");
    }

    [Fact]
    public async Task A_client_without_sampling_and_the_CLI_are_told_so_and_nothing_is_written()
    {
        using var dir = new TempDirectory();
        var db = dir.File("m.db");
        using (var service = MemoryService.Open(db))
            for (var i = 0; i < 6; i++)
                service.Store(new Caller("project:s", "agent"), new NewMemory { Content = $"deploy fact number {i} about the release pipeline stage {i * 7}", Tags = ["deploy"] });
        var env = new Dictionary<string, string> { ["MCP_MEMORY_ENCODER"] = "off" };
        await using (var client = await StdioMcpClient.StartAsync(db, "project:s", env: env))
        {
            var result = await StdioMcpClient.CallAsync(client, "consolidate_memories", Args(("summarize", true)));
            var sampling = result.GetProperty("sampling");
            (sampling.GetProperty("supported").GetBoolean(), sampling.GetProperty("requested").GetBoolean()).Should().Be((false, true));
            sampling.GetProperty("summaries").GetArrayLength().Should().Be(0);
            sampling.GetProperty("note").GetString().Should().Contain("does not support MCP sampling");
        }
        var cli = await ToolProcess.RunAsync(["consolidate", "--json", "--db", db, "--namespace", "project:s"], env);
        cli.ExitCode.Should().Be(0, cli.Stderr);
        JsonDocument.Parse(cli.Stdout).RootElement.GetProperty("sampling").GetProperty("supported").GetBoolean().Should().BeFalse();
        using var after = MemoryService.Open(db);
        after.Stats().Memories.Should().Be(6, "no summary was written");
    }
}
