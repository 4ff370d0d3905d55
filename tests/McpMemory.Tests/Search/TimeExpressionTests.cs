using FluentAssertions;
using McpMemory.Core.Search.Time;
using Xunit;

namespace McpMemory.Tests.Search;

/// <summary>
/// Time phrases in queries → windows, for a fixed now: Thursday 2026-12-03 10:00 UTC. Weeks start on Monday
/// (this week: Mon 2026-11-30 .. Sun 2026-12-06). Windows are [since, until) in UTC; null is open.
/// </summary>
public class TimeExpressionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, string?, string?, string, string> Windows => new()
    {
        // query, since, until, remaining query, kind
        { "what did we decide yesterday", "2026-12-02", "2026-12-03", "what did we decide", "Relative" },
        { "notes from today", "2026-12-03", "2026-12-04", "notes", "Relative" },
        { "yesterday's outage", "2026-12-02", "2026-12-03", "outage", "Relative" },
        { "the day before yesterday deploy", "2026-12-01", "2026-12-02", "deploy", "Relative" },
        { "what did we decide about the cache last week", "2026-11-23", "2026-11-30", "what did we decide about the cache", "Relative" },
        { "bugs this week", "2026-11-30", "2026-12-07", "bugs", "Relative" },
        { "last month's incidents", "2026-11-01", "2026-12-01", "incidents", "Relative" },
        { "releases this month", "2026-12-01", "2027-01-01", "releases", "Relative" },
        { "goals this year", "2026-01-01", "2027-01-01", "goals", "Relative" },
        { "what we shipped last year", "2025-01-01", "2026-01-01", "what we shipped", "Relative" },
        { "the bug two weeks ago", "2026-11-16", "2026-11-23", "the bug", "Relative" },
        { "what failed 3 days ago", "2026-11-30", "2026-12-01", "what failed", "Relative" },
        { "a month ago we switched logging", "2026-11-01", "2026-12-01", "we switched logging", "Relative" },
        { "a year ago", "2025-01-01", "2026-01-01", "", "Relative" },
        { "errors in the last 10 days", "2026-11-23T10:00", null, "errors", "Relative" },
        { "decisions over the past month", "2026-11-03T10:00", null, "decisions", "Relative" },
        { "past week changes", "2026-11-26T10:00", null, "changes", "Relative" },
        { "alerts in the last 24 hours", "2026-12-02T10:00", null, "alerts", "Relative" },
        { "the last 2 years of outages", "2024-12-03T10:00", null, "of outages", "Relative" },
        { "what did we pair on last Tuesday", "2026-12-01", "2026-12-02", "what did we pair", "Relative" },
        { "last Thursday's review", "2026-11-26", "2026-11-27", "review", "Relative" },
        { "what did we do past Monday", "2026-11-30", "2026-12-01", "what did we do", "Relative" },
        { "hackathon last weekend", "2026-11-28", "2026-11-30", "hackathon", "Relative" },
        { "what broke on 2026-11-01", "2026-11-01", "2026-11-02", "what broke", "Absolute" },
        { "what broke since the release on 2026-11-01", "2026-11-01", null, "what broke", "Absolute" },
        { "slow queries before the migration last month", null, "2026-12-01", "slow queries", "Relative" },
        { "what did we plan in March", "2026-03-01", "2026-04-01", "what did we plan", "Absolute" },
        { "hiring in March 2025", "2025-03-01", "2025-04-01", "hiring", "Absolute" },
        { "budget in March of 2025", "2025-03-01", "2025-04-01", "budget", "Absolute" },
        { "in Sept 2025 we moved", "2025-09-01", "2025-10-01", "we moved", "Absolute" },
        { "what happened in December", "2026-12-01", "2027-01-01", "what happened", "Absolute" },
        { "the outage in May", "2026-05-01", "2026-06-01", "the outage", "Absolute" },
        { "which vendors did we drop in 2025?", "2025-01-01", "2026-01-01", "which vendors did we drop?", "Absolute" },
        { "Who did Maria have dinner with on 8 May 2023?", "2023-05-08", "2023-05-09", "Who did Maria have dinner with?", "Absolute" },
        { "What movie did Joanna watch on 1 May, 2022?", "2022-05-01", "2022-05-02", "What movie did Joanna watch?", "Absolute" },
        { "Who did Maria have dinner with on May 3, 2023?", "2023-05-03", "2023-05-04", "Who did Maria have dinner with?", "Absolute" },
        { "call on May 8", "2026-05-08", "2026-05-09", "call", "Absolute" },
        { "party on 4 December", "2025-12-04", "2025-12-05", "party", "Absolute" },
        { "deploy on Dec 1", "2026-12-01", "2026-12-02", "deploy", "Absolute" },
        { "meeting on 8th of May", "2026-05-08", "2026-05-09", "meeting", "Absolute" },
        { "What did Joanna accomplish in January 2022?", "2022-01-01", "2022-02-01", "What did Joanna accomplish?", "Absolute" },
        { "flaky tests since March", "2026-03-01", null, "flaky tests", "Absolute" },
        { "flaky tests after March", "2026-04-01", null, "flaky tests", "Absolute" },
        { "config before 2026-11-01", null, "2026-11-01", "config", "Absolute" },
        { "config until yesterday", null, "2026-12-03", "config", "Relative" },
        { "changes between 2026-10-01 and 2026-10-31", "2026-10-01", "2026-11-01", "changes", "Absolute" },
        { "plans from March to May 2026", "2026-03-01", "2026-06-01", "plans", "Absolute" },
        { "regressions since last week", "2026-11-23", null, "regressions", "Relative" },
        { "what went wrong since 2024", "2024-01-01", null, "what went wrong", "Absolute" },
    };

    [Theory]
    [MemberData(nameof(Windows))]
    public void Understands_the_phrase_and_removes_it(string query, string? since, string? until, string remaining, string kind)
    {
        var parse = TimeExpressions.Parse(query, Now);
        parse.Window.Should().NotBeNull($"\"{query}\" names a time");
        var window = parse.Window!;
        window.Since.Should().Be(since is null ? null : At(since), $"since of \"{query}\"");
        window.Until.Should().Be(until is null ? null : At(until), $"until of \"{query}\"");
        window.Kind.ToString().Should().Be(kind);
        window.Hard.Should().Be(kind != "Relative", "a named date filters, a period counted from now boosts");
        parse.RemainingQuery.Should().Be(remaining);
        query.Should().Contain(window.Phrase);
    }

    public static TheoryData<string> NotTime => new()
    {
        "March of the penguins",
        "watch March of the penguins again",
        "in March of the penguins",
        "open port 2026 on the firewall",
        "may I ask about the cache",
        "it may be flaky in may",
        "get a second opinion on the schema",
        "upgrade to version 2.1.3",
        "bump to 2026.1 in the lockfile",
        "12:30",
        "meeting at 12:30 about logs",
        "buffer sizes in 2048 bytes",
        "timeout in 1999ms",
        "deploy next week",
        "release in 2 weeks",
        "last commit on main",
        "the last 3 commits",
        "since version 2.0",
        "before the deploy",
        "we deploy on Mondays",
        "project b deploys on monday",
        "review on Thursday",
        "Ruby Tuesday",
        "error 2026-13-45",
        "what happened on 2026-02-30",
        "a few days ago",
        "march the migration forward",
        "august gatherings",
        "this sprint",
        "sprint planning notes",
        "on 2026-11-01T10:00:00Z",
        "the weekend job",
    };

    [Theory]
    [MemberData(nameof(NotTime))]
    public void Gives_no_window_where_no_time_is_meant(string query)
    {
        var parse = TimeExpressions.Parse(query, Now);
        parse.Window.Should().BeNull($"\"{query}\" names no time (found \"{parse.Window?.Phrase}\")");
        parse.RemainingQuery.Should().Be(query);
    }

    [Theory]
    [InlineData("what changed recently", "what changed")]
    [InlineData("recent changes to auth", "changes to auth")]
    [InlineData("what have we been fixing lately", "what have we been fixing")]
    [InlineData("the most recent decision on caching", "the decision on caching")]
    public void Recently_is_a_soft_boost_over_the_last_30_days(string query, string remaining)
    {
        var parse = TimeExpressions.Parse(query, Now);
        parse.Window.Should().NotBeNull();
        parse.Window!.Kind.Should().Be(TimeWindowKind.Recency);
        parse.Window.Hard.Should().BeFalse("no boundary was said, so nothing is hidden");
        parse.Window.Since.Should().Be(At("2026-11-03"));
        parse.Window.Until.Should().BeNull();
        parse.RemainingQuery.Should().Be(remaining);
    }

    [Theory]
    [InlineData("what did we ship this sprint", "2026-11-30", "2026-12-14", "what did we ship")]
    [InlineData("current sprint bugs", "2026-11-30", "2026-12-14", "bugs")]
    [InlineData("retro notes from last sprint", "2026-11-16", "2026-11-30", "retro notes")]
    public void Sprints_are_understood_when_configured(string query, string since, string until, string remaining)
    {
        var options = new TimeExpressionOptions { SprintStart = new DateOnly(2026, 11, 2), SprintDays = 14 };
        var parse = TimeExpressions.Parse(query, Now, options);
        parse.Window!.Since.Should().Be(At(since));
        parse.Window.Until.Should().Be(At(until));
        parse.RemainingQuery.Should().Be(remaining);
        TimeExpressions.Parse(query, Now).Window.Should().BeNull("without a configured sprint \"sprint\" is just a word");
    }

    [Fact]
    public void Days_begin_at_midnight_in_the_configured_zone()
    {
        // 2026-12-03 10:00 UTC is 05:00 in New York (UTC-5): yesterday there is Dec 2, 05:00 UTC .. Dec 3, 05:00 UTC.
        var zone = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        var parse = TimeExpressions.Parse("yesterday", Now, new TimeExpressionOptions { TimeZone = zone });
        parse.Window!.Since.Should().Be(new DateTimeOffset(2026, 12, 2, 5, 0, 0, TimeSpan.Zero));
        parse.Window.Until.Should().Be(new DateTimeOffset(2026, 12, 3, 5, 0, 0, TimeSpan.Zero));
        // 01:00 UTC on Dec 3 is still Dec 2 in New York: "today" is Dec 2 there.
        var early = TimeExpressions.Parse("today", new DateTimeOffset(2026, 12, 3, 1, 0, 0, TimeSpan.Zero), new TimeExpressionOptions { TimeZone = zone });
        early.Window!.Since.Should().Be(new DateTimeOffset(2026, 12, 2, 5, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public void Named_dates_become_a_boost_and_periods_from_now_a_filter_when_configured_so()
    {
        var soft = new TimeExpressionOptions { HardAbsolute = false };
        TimeExpressions.Parse("what broke on 2026-11-01", Now, soft).Window!.Hard.Should().BeFalse();
        TimeExpressions.Parse("what broke last week", Now, soft).Window!.Hard.Should().BeFalse();
        var hard = new TimeExpressionOptions { HardRelative = true };
        TimeExpressions.Parse("what broke last week", Now, hard).Window!.Hard.Should().BeTrue();
        TimeExpressions.Parse("what broke on 2026-11-01", Now, hard).Window!.Hard.Should().BeTrue();
    }

    [Theory]
    [InlineData("since the a ")]
    [InlineData("between March and ")]
    [InlineData("in the last 9 ")]
    [InlineData("before the x y z 12 May ")]
    [InlineData("on 1 ")]
    public void Hostile_queries_parse_quickly(string unit)
    {
        // 4 KiB, the longest query accepted, built to make a backtracking regex try every split.
        var query = string.Concat(Enumerable.Repeat(unit, 4096 / unit.Length + 1))[..4096];
        TimeExpressions.Parse("warm up on 2026-11-01", Now);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        TimeExpressions.Parse(query, Now);
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromMilliseconds(500), "parsing is linear-ish in the query");
    }

    private static DateTimeOffset At(string utc) =>
        DateTimeOffset.Parse(utc.Length == 10 ? utc + "T00:00:00Z" : utc + ":00Z", System.Globalization.CultureInfo.InvariantCulture);
}
