using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Eval;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Eval;

/// <summary>The LoCoMo eval asks as at each conversation's last session, and reads time phrases only when told to.</summary>
public class TimeAwareEvalTests
{
    [Fact]
    public void Last_month_is_read_against_the_last_session_and_finds_the_evidence_there()
    {
        using var dir = new TempDirectory();
        // Six sessions, a month apart, each with three gardening turns; the question's evidence is in April, the
        // month before the last session (May): only the window tells it from the others.
        var conversation = new JsonObject { ["speaker_a"] = "Anna", ["speaker_b"] = "Ben" };
        string[] months = ["December, 2022", "January, 2023", "February, 2023", "March, 2023", "April, 2023", "May, 2023"];
        string[] plants = ["tomatoes", "roses", "basil", "tulips", "peppers", "lilies", "carrots", "mint", "onions", "daisies", "beans", "ferns", "leeks", "irises", "kale", "sage", "peas", "dahlias"];
        for (var s = 0; s < months.Length; s++)
        {
            var turns = new JsonArray();
            for (var t = 0; t < 3; t++)
                turns.Add(new JsonObject { ["speaker"] = "Anna", ["dia_id"] = $"D{s + 1}:{t + 1}", ["text"] = $"I planted {plants[s * 3 + t]} in the garden this week." });
            conversation[$"session_{s + 1}"] = turns;
            conversation[$"session_{s + 1}_date_time"] = $"1:00 pm on 10 {months[s]}";
        }
        conversation["qa"] = new JsonArray(
            new JsonObject { ["question"] = "What did Anna plant in the garden last month?", ["answer"] = "peppers", ["evidence"] = new JsonArray("D5:2"), ["category"] = 2 });
        File.WriteAllText(dir.File("1.json"), conversation.ToJsonString());
        var conversations = LoCoMoConversation.LoadDirectory(dir.Path);

        // Periods counted from now boost by default; as a filter the window alone must leave April's turns.
        using var service = MemoryService.Open(dir.File("eval.db"), MemoryOptions.Default with
            {
                DuplicateThreshold = null, EmbeddingInterval = TimeSpan.Zero, Time = MemoryOptions.Default.Time with { HardRelative = true },
            },
            EmbedderProvider.Ready(UseLiteEncoder.LoadDefault()));
        service.WaitForVectors(TimeSpan.FromMinutes(1)).Should().BeTrue();
        var on = RetrievalEval.Run(service, conversations, timeAware: true);
        on.TimeWindows.Should().ContainKey("2/relative").WhoseValue.Should().Be((1, 1), "April holds the evidence");
        foreach (var (mode, report) in on.Modes)
            report.Overall.RecallAt5.Should().Be(1, $"{mode}: the window leaves April's three turns");

        using var again = MemoryService.Open(dir.File("eval2.db"), MemoryOptions.Default with { DuplicateThreshold = null, EmbeddingInterval = TimeSpan.Zero },
            EmbedderProvider.Ready(UseLiteEncoder.LoadDefault()));
        again.WaitForVectors(TimeSpan.FromMinutes(1)).Should().BeTrue();
        var off = RetrievalEval.Run(again, conversations, timeAware: false);
        off.TimeWindows.Should().BeEmpty();
        off.TimeAware.Should().BeFalse();
    }
}
