using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Core;
using McpMemory.Eval;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Eval;

/// <summary>`mcp-memory eval locomo` measures every mode over a settled store, whatever the server's write-behind default.</summary>
public class EvalCommandTests
{
    [Fact]
    public async Task The_cli_eval_embeds_every_turn_before_asking_so_vector_recall_is_measured()
    {
        using var dir = new TempDirectory();
        // The answer shares no keyword with the question: only the vector mode can find it.
        var turns = new JsonArray(
            new JsonObject { ["speaker"] = "Anna", ["dia_id"] = "D1:1", ["text"] = "My puppy chewed through the sofa cushions again." },
            new JsonObject { ["speaker"] = "Ben", ["dia_id"] = "D1:2", ["text"] = "The quarterly tax forms are due on Friday." },
            new JsonObject { ["speaker"] = "Anna", ["dia_id"] = "D1:3", ["text"] = "We repainted the kitchen a pale yellow." });
        var conversation = new JsonObject
        {
            ["speaker_a"] = "Anna", ["speaker_b"] = "Ben", ["session_1"] = turns, ["session_1_date_time"] = "1:00 pm on 10 May, 2023",
            ["qa"] = new JsonArray(new JsonObject { ["question"] = "Which dog damaged furniture?", ["answer"] = "the puppy", ["evidence"] = new JsonArray("D1:1"), ["category"] = 4 }),
        };
        Directory.CreateDirectory(dir.File("conversations"));
        File.WriteAllText(dir.File("conversations/1.json"), conversation.ToJsonString());

        var result = await ToolProcess.RunAsync(["eval", "locomo", dir.File("conversations"), "--json"],
            env: new Dictionary<string, string> { ["HOME"] = dir.Path }, timeout: TimeSpan.FromMinutes(3));

        result.ExitCode.Should().Be(0, result.Stderr);
        var report = JsonNode.Parse(result.Stdout)!;
        report["modes"]!["vector"]!["hit@10"]!.GetValue<double>().Should().Be(1, "the evidence turn has its vector before the question is asked");
    }

    [Fact]
    public void The_library_eval_refuses_a_write_behind_service()
    {
        using var dir = new TempDirectory();
        using var service = MemoryService.Open(dir.File("eval.db"), MemoryOptions.Default with { WriteBehind = true });
        var run = () => RetrievalEval.Run(service, []);
        run.Should().Throw<ArgumentException>().WithMessage("*inline embedding*");
    }
}
