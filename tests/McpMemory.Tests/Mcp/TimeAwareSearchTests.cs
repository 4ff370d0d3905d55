using System.Text.Json;
using FluentAssertions;
using McpMemory.Tests.Support;
using ModelContextProtocol.Client;
using Xunit;

namespace McpMemory.Tests.Mcp;

/// <summary>Time phrases in queries, through the real server (stdio, the SDK's client) and the real CLI.</summary>
public class TimeAwareSearchTests
{
    // Thursday 2026-06-18: last week is Mon 2026-06-08 .. Sun 2026-06-14.
    private const string Now = "2026-06-18T12:00:00Z";

    private static readonly (string Content, string CreatedAt)[] Memories =
    [
        ("Decision: drop the cache layer in front of the search endpoint; it hid stale results", "2026-02-11T10:00:00Z"),
        ("Decision: use an in-process LRU cache for the feature-flag config", "2026-04-22T15:00:00Z"),
        ("Decision: cache session lookups in Redis with a five minute TTL", "2026-06-10T09:30:00Z"),
        ("Decision: move the nightly jobs to GitHub Actions", "2026-06-11T14:00:00Z"),
        ("Decision: the cache key includes the tenant id from now on", "2026-06-16T11:00:00Z"),
        ("Decided to warm the cache on deploy instead of lazily", "2025-12-01T08:00:00Z"),
    ];

    [Theory, BothBackends]
    public async Task Last_week_puts_last_weeks_decision_first_and_explains_the_window(Backend backend)
    {
        using var database = new TestDatabase(backend);
        await using var client = await StdioMcpClient.StartAsync(database.Db, "project:cache");
        var ids = new Dictionary<string, string>();
        foreach (var (content, created) in Memories)
        {
            var stored = await Call(client, "store_memory", new() { ["content"] = content, ["memory_type"] = "decision", ["created_at"] = created });
            ids[created] = stored.GetProperty("memory_id").GetString()!;
        }

        var answer = await Call(client, "search_memory", new()
        {
            ["query"] = "cache decisions last week", ["now"] = Now, ["explain"] = true, ["top_k"] = 10,
        });
        var results = answer.GetProperty("results").EnumerateArray().ToList();
        results.Should().NotBeEmpty();
        results[0].GetProperty("memory_id").GetString().Should().Be(ids["2026-06-10T09:30:00Z"], $"results: {answer}");
        // A boost, not a filter: older cache decisions still come back, after it, and only last week's are boosted.
        results.Select(r => r.GetProperty("content").GetString()).Should().Contain(c => c!.Contains("stale results"), "a boost hides nothing");
        foreach (var result in results)
        {
            var created = DateTimeOffset.Parse(result.GetProperty("created_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            var inside = created >= new DateTimeOffset(2026, 6, 8, 0, 0, 0, TimeSpan.Zero) && created < new DateTimeOffset(2026, 6, 15, 0, 0, 0, TimeSpan.Zero);
            result.GetProperty("explain").GetProperty("time").GetDouble().Should().BeApproximately(inside ? 1.3 : 1, 1e-9, $"created {created:O}");
        }
        var time = answer.GetProperty("time");
        time.GetProperty("phrase").GetString().Should().Be("last week");
        time.GetProperty("kind").GetString().Should().Be("relative");
        time.GetProperty("since").GetString().Should().Be("2026-06-08T00:00:00.000Z");
        time.GetProperty("until").GetString().Should().Be("2026-06-15T00:00:00.000Z");
        time.GetProperty("applied").GetString().Should().Be("boost");
        time.GetProperty("query").GetString().Should().Be("cache decisions");

        // Turned off, the same words find the cache decisions of every month, and nothing is said about time.
        var all = await Call(client, "search_memory", new()
        {
            ["query"] = "what did we decide about the cache last week", ["now"] = Now, ["time_aware"] = false, ["top_k"] = 10,
        });
        all.GetProperty("time").ValueKind.Should().Be(JsonValueKind.Null);
        all.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("memory_id").GetString())
            .Should().Contain([ids["2026-02-11T10:00:00Z"], ids["2026-06-16T11:00:00Z"]]);

        // Explicit since/until win over the phrase; the phrase is still taken out of the words searched.
        var overridden = await Call(client, "search_memory", new()
        {
            ["query"] = "cache decisions last week", ["now"] = Now, ["since"] = "2026-06-15T00:00:00Z",
        });
        overridden.GetProperty("time").GetProperty("applied").GetString().Should().Be("overridden");
        overridden.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("memory_id").GetString())
            .Should().Equal(ids["2026-06-16T11:00:00Z"]);
    }

    [Theory, BothBackends]
    public async Task Recently_boosts_the_last_30_days_without_hiding_older_memories(Backend backend)
    {
        using var database = new TestDatabase(backend);
        await using var client = await StdioMcpClient.StartAsync(database.Db, "project:cache");
        foreach (var (content, created) in Memories)
            await Call(client, "store_memory", new() { ["content"] = content, ["memory_type"] = "decision", ["created_at"] = created });

        var answer = await Call(client, "search_memory", new() { ["query"] = "cache decisions recently", ["now"] = Now, ["top_k"] = 10, ["explain"] = true });
        answer.GetProperty("time").GetProperty("applied").GetString().Should().Be("boost");
        var results = answer.GetProperty("results").EnumerateArray().ToList();
        results.Select(r => r.GetProperty("content").GetString()).Should().Contain(c => c!.Contains("stale results"), "a boost hides nothing");
        foreach (var result in results)
        {
            var created = DateTimeOffset.Parse(result.GetProperty("created_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            result.GetProperty("explain").GetProperty("time").GetDouble().Should().BeApproximately(created >= new DateTimeOffset(2026, 5, 19, 0, 0, 0, TimeSpan.Zero) ? 1.3 : 1, 1e-9);
        }
    }

    [Theory, BothBackends]
    public async Task Cli_search_reads_the_phrase_against_now_and_no_time_turns_it_off(Backend backend)
    {
        using var database = new TestDatabase(backend);
        var db = new[] { "--db", database.Db };
        (await ToolProcess.RunAsync(["store", "the flaky login test was fixed by waiting for the redirect", .. db])).ExitCode.Should().Be(0);
        var now = DateTimeOffset.UtcNow;

        var recent = await ToolProcess.RunAsync(["search", "flaky login test in the last 2 hours", "--now", now.AddMinutes(1).ToString("O"), "--json", .. db]);
        recent.ExitCode.Should().Be(0, recent.Stderr);
        var json = JsonDocument.Parse(recent.Stdout).RootElement;
        json.GetProperty("results").GetArrayLength().Should().Be(1);
        json.GetProperty("time").GetProperty("phrase").GetString().Should().Be("in the last 2 hours");

        // Asked three days later, the window moves with --now (the memory is outside it, still found: a period from
        // now boosts); --no-time reads no phrase.
        var later = await ToolProcess.RunAsync(["search", "flaky login test in the last 2 hours", "--now", now.AddDays(3).ToString("O"), "--json", .. db]);
        var laterJson = JsonDocument.Parse(later.Stdout).RootElement;
        laterJson.GetProperty("results").GetArrayLength().Should().Be(1);
        DateTimeOffset.Parse(laterJson.GetProperty("time").GetProperty("since").GetString()!, System.Globalization.CultureInfo.InvariantCulture)
            .Should().BeCloseTo(now.AddDays(3).AddHours(-2), TimeSpan.FromSeconds(1));
        var off = await ToolProcess.RunAsync(["search", "flaky login test in the last 2 hours", "--now", now.AddDays(3).ToString("O"), "--no-time", "--json", .. db]);
        var offJson = JsonDocument.Parse(off.Stdout).RootElement;
        offJson.GetProperty("results").GetArrayLength().Should().Be(1);
        offJson.GetProperty("time").ValueKind.Should().Be(JsonValueKind.Null);

        var human = await ToolProcess.RunAsync(["search", "flaky login test in the last 2 hours", "--now", now.AddMinutes(1).ToString("O"), .. db]);
        human.Stdout.Should().Contain("time: \"in the last 2 hours\"").And.Contain("(relative, boost)");

        var bad = await ToolProcess.RunAsync(["search", "flaky", "--now", "next tuesday", .. db]);
        bad.ExitCode.Should().Be(1);
        bad.Stderr.Should().Contain("--now");
    }

    private static Task<JsonElement> Call(McpClient client, string tool, Dictionary<string, object?> args) =>
        StdioMcpClient.CallAsync(client, tool, args);
}
