using System.Globalization;
using System.Text.RegularExpressions;

namespace McpMemory.Core.Search.Time;

/// <summary>What a time phrase anchors to, which decides how it is applied (see <see cref="TimeExpressionOptions"/>).</summary>
public enum TimeWindowKind
{
    /// <summary>A calendar date, month or year named in the query: "on 2026-11-01", "in March", "May 8, 2023".</summary>
    Absolute,
    /// <summary>A period counted from now: "yesterday", "last week", "two weeks ago", "in the last 10 days", "last Tuesday", "this sprint".</summary>
    Relative,
    /// <summary>"recently", "lately", "recent": no boundary is stated, so it only favours the last <see cref="TimeExpressionOptions.RecentDays"/> days.</summary>
    Recency,
}

/// <summary>
/// The window a query's time phrase stands for: created_at ≥ <see cref="Since"/> and &lt; <see cref="Until"/> (either
/// may be open). <see cref="Hard"/>: a filter (memories outside are not returned); otherwise a bounded boost for the
/// memories inside. <see cref="Phrase"/> is the text removed from the query.
/// </summary>
public sealed record TimeWindow(DateTimeOffset? Since, DateTimeOffset? Until, string Phrase, TimeWindowKind Kind, bool Hard);

/// <summary>A query with its time phrase taken out, and the window that phrase stood for (null: none understood).</summary>
public sealed record TimeParse(string RemainingQuery, TimeWindow? Window);

/// <summary>How time phrases are read.</summary>
public sealed record TimeExpressionOptions
{
    /// <summary>Days, weeks, months and years begin at midnight in this zone (default UTC; $MCP_MEMORY_TIMEZONE).</summary>
    public TimeZoneInfo TimeZone { get; init; } = TimeZoneInfo.Utc;

    /// <summary>Weeks begin on this day (ISO: Monday).</summary>
    public DayOfWeek FirstDayOfWeek { get; init; } = DayOfWeek.Monday;

    /// <summary>"this sprint" / "last sprint" are understood only when both are set: the first day of any sprint, and the length.</summary>
    public DateOnly? SprintStart { get; init; }
    public int? SprintDays { get; init; }

    /// <summary>"recently" favours memories from this many days before now.</summary>
    public int RecentDays { get; init; } = 30;

    /// <summary>
    /// Whether a named calendar date or month is a filter (true) or a boost. Memories about a day are often written
    /// days later (LoCoMo: "Who did Maria have dinner with on May 3, 2023?" is answered by a turn of a later session),
    /// so a filter would hide them; the LoCoMo eval decides (README § Time in queries).
    /// </summary>
    public bool HardAbsolute { get; init; } = true;

    /// <summary>
    /// Whether a period counted from now ("last week") is a filter (true) or a boost (the default). People count such
    /// periods loosely and from when they last spoke, not from the question (LoCoMo: the evidence for "last week" lies
    /// outside the window in 9 of 10 questions), so a filter would hide the answer; as a boost no category loses
    /// (README § Retrieval quality).
    /// </summary>
    public bool HardRelative { get; init; }

    public static TimeExpressionOptions Default { get; } = new();
}

/// <summary>
/// Finds one English time phrase in a search query and turns it into a window relative to <c>now</c>. Conservative on
/// purpose: a wrong filter hides the right memory, so a phrase counts only in a form that cannot be something else —
/// a named date, month or year needs a preposition ("in March", "on May 8", "since 2025"), a weekday needs
/// "last" ("deploys on Monday" is a habit, not a date), and "March of the penguins", "port 2026", "may I ask", "a second opinion", version numbers
/// and clock times give no window. Pure: no clock, no I/O.
/// </summary>
public static partial class TimeExpressions
{
    public static TimeParse Parse(string query, DateTimeOffset now, TimeExpressionOptions? options = null)
    {
        var opts = options ?? TimeExpressionOptions.Default;
        var local = TimeZoneInfo.ConvertTime(now, opts.TimeZone);
        var context = new Context(local, opts);
        // No match timeout: every quantifier is bounded or separates disjoint classes (\w / \s), queries are at most
        // 4 KiB, and a timeout would fire on the first call of a cold process (JIT), not on hostile input
        // (TimeExpressionTests.Hostile_queries_parse_quickly).
        foreach (var match in Candidates().Matches(query).Cast<Match>())
        {
            if (!match.Success || Interpret(match, query, context) is not { } window) continue;
            var remaining = Remove(query, match.Index, match.Length);
            return new TimeParse(remaining, window with { Phrase = match.Value.Trim() });
        }
        return new TimeParse(query, null);
    }

    private sealed record Context(DateTimeOffset Now, TimeExpressionOptions Options)
    {
        public DateOnly Today => DateOnly.FromDateTime(Now.DateTime);
        /// <summary>Midnight at the start of <paramref name="day"/> in the configured zone.</summary>
        public DateTimeOffset At(DateOnly day)
        {
            var midnight = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
            // A midnight skipped by a DST change is moved forward an hour, the usual convention.
            if (Options.TimeZone.IsInvalidTime(midnight)) midnight = midnight.AddHours(1);
            return new DateTimeOffset(midnight, Options.TimeZone.GetUtcOffset(midnight)).ToUniversalTime();
        }
    }

    /// <summary>A calendar span [Start, End) in days, and whether it was named (absolute) or counted from now.</summary>
    private readonly record struct Span(DateOnly Start, DateOnly End, bool Absolute);

    // ---- the grammar -------------------------------------------------------------------------------------------

    private const string MonthFull = "january|february|march|april|may|june|july|august|september|october|november|december";
    private const string MonthAny = MonthFull + "|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec";
    private const string Ordinal = @"(?:st|nd|rd|th)?";
    private const string Number = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a|an|\\d{1,3}";
    private const string Weekday = "monday|tuesday|wednesday|thursday|friday|saturday|sunday";

    // A named date, month or year. Only ever matched after a preposition (see Candidates).
    private const string Absolute =
        @"(?<iso>\d{4}-\d{1,2}-\d{1,2})(?![\d.:T-])" +
        $@"|(?<dd>\d{{1,2}}){Ordinal}\s+(?:of\s+)?(?<dm>{MonthAny})\.?(?:,?\s+(?<dy>\d{{4}}))?(?![\w.:-])" +
        $@"|(?<md>{MonthAny})\.?\s+(?<mdd>\d{{1,2}}){Ordinal}(?:,?\s+(?<mdy>\d{{4}}))?(?![\w.:-])" +
        $@"|(?<my>{MonthAny})\.?,?\s+(?:of\s+)?(?<myy>\d{{4}})(?![\w.:-])" +
        $@"|(?<m>{MonthFull})(?!\s+of\b)(?![\w.:-])" +
        @"|(?<y>(?:19[7-9]\d|20\d\d))(?![\w.:-])";

    // A period counted from now; needs no preposition.
    private const string Relative =
        @"(?<today>today|tonight|this\s+morning|this\s+afternoon|earlier\s+today)(?:['’]s)?(?!\w)" +
        @"|(?<dbyest>the\s+day\s+before\s+yesterday)" +
        @"|(?<yest>yesterday|last\s+night)(?:['’]s)?(?!\w)" +
        @"|(?<cal>this|last|previous|current)\s+(?<calunit>week|weekend|month|year|sprint)(?:['’]s)?(?!\w)" +
        $@"|(?<agon>{Number})\s+(?<agou>day|week|month|year)s?\s+ago" +
        @"|(?<roll>(?:(?:in|during|over|within)\s+)?(?:the\s+)?(?:last|past))" +
        $@"\s+(?:(?<rolln>{Number})\s+)?(?<rollu>hour|day|week|month|year)s?(?!\w)" +
        $@"|(?<wdrel>last|past)\s+(?<wd>{Weekday})(?:['’]s)?(?!\w)";

    private const string Recent = @"(?<recent>recently|lately|recent|most\s+recent)";

    private const string Anchor = $@"(?:(?:on|in|during)\s+)?(?:{Relative})|(?:(?:on|in|during|of)\s+)?(?:{Absolute})";

    // In order of preference at the same position: ranges, then "since/after/before/until X", then
    // "since/before/after <what> <when>", then a bare window, then "recently".
    [GeneratedRegex(
        $@"\b(?:(?<range>between|from)\s+(?<a>{Anchor})\s+(?:and|to|until|till|through)\s+(?<b>{Anchor})" +
        $@"|(?<op>since|after|before|until|till)\s+(?<x>{Anchor})" +
        $@"|(?<opn>since|after|before)\s+(?:the|our|my|a|an|that)\s+(?<what>[\w-]+(?:\s+[\w-]+){{0,2}}?)\s+(?<xn>(?:on|in|during|of)\s+(?:{Absolute})|(?:{Relative}))" +
        $@"|(?<on>(?:on|in|during)\s+)(?<z>{Absolute})" +
        $@"|(?<r>{Relative})" +
        $@"|{Recent})\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture)]
    private static partial Regex Candidates();

    [GeneratedRegex($@"^(?:(?<iso>\d{{4}}-\d{{1,2}}-\d{{1,2}})|(?<dd>\d{{1,2}}){Ordinal}\s+(?:of\s+)?(?<dm>{MonthAny})\.?(?:,?\s+(?<dy>\d{{4}}))?|(?<md>{MonthAny})\.?\s+(?<mdd>\d{{1,2}}){Ordinal}(?:,?\s+(?<mdy>\d{{4}}))?|(?<my>{MonthAny})\.?,?\s+(?:of\s+)?(?<myy>\d{{4}})|(?<m>{MonthFull})|(?<y>\d{{4}}))$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture)]
    private static partial Regex AbsoluteOnly();

    [GeneratedRegex($"^(?:{Relative})$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture)]
    private static partial Regex RelativeOnly();

    // ---- interpretation ----------------------------------------------------------------------------------------

    private static TimeWindow? Interpret(Match m, string query, Context c)
    {
        var followedByTime = PlausibleEnd(m, query);
        if (m.Groups["range"].Success)
        {
            if (!followedByTime) return null;
            if (Resolve(m.Groups["a"].Value, c) is not { } a || Resolve(m.Groups["b"].Value, c) is not { } b || b.End <= a.Start) return null;
            return Window(c, a.Start, b.End, a.Absolute && b.Absolute);
        }
        if (m.Groups["op"].Success)
        {
            if (!followedByTime) return null;
            if (Resolve(m.Groups["x"].Value, c) is not { } x) return null;
            return m.Groups["op"].Value.ToLowerInvariant() switch
            {
                "since" => Window(c, x.Start, null, x.Absolute),
                "after" => Window(c, x.End, null, x.Absolute),
                "before" => Window(c, null, x.Start, x.Absolute),
                _ => Window(c, null, x.End, x.Absolute), // until, till: the named period included
            };
        }
        if (m.Groups["opn"].Success)
        {
            // "since the release on 2026-11-01", "before the migration last month": the event lies somewhere in the
            // period, so the window takes the whole period's side that cannot exclude it.
            if (Resolve(m.Groups["xn"].Value, c) is not { } x) return null;
            return m.Groups["opn"].Value.ToLowerInvariant() switch
            {
                "before" => Window(c, null, x.End, x.Absolute),
                _ => Window(c, x.Start, null, x.Absolute),
            };
        }
        if (m.Groups["z"].Success)
        {
            if (!followedByTime || Resolve(m.Groups["z"].Value, c) is not { } z) return null;
            return Window(c, z.Start, z.End, absolute: true);
        }
        if (m.Groups["r"].Success)
            return ResolveRelativeWindow(m.Groups["r"].Value, c);
        if (m.Groups["recent"].Success)
            return new TimeWindow(c.At(c.Today.AddDays(-c.Options.RecentDays)), null, "", TimeWindowKind.Recency, Hard: false);
        return null;
    }

    private static TimeWindow Window(Context c, DateOnly? since, DateOnly? until, bool absolute) =>
        new(since is { } s ? c.At(s) : null, until is { } u ? c.At(u) : null, "",
            absolute ? TimeWindowKind.Absolute : TimeWindowKind.Relative,
            absolute ? c.Options.HardAbsolute : c.Options.HardRelative);

    /// <summary>
    /// A phrase ending in a bare month or year ("in March", "before 2026") is a time only where a time can end:
    /// "in 2048 bytes" is not. Lower-case "may" alone (the verb) is never a month.
    /// </summary>
    private static bool PlausibleEnd(Match m, string query)
    {
        var last = LastWord().Match(m.Value).Value;
        if (!BareMonthOrYear().IsMatch(last)) return true;
        if (last == "may") return false;
        var next = FollowingWord().Match(query, m.Index + m.Length);
        return !next.Success || AllowedAfterBareTime.Contains(next.Groups[1].Value.ToLowerInvariant());
    }

    [GeneratedRegex(@"\S+$")]
    private static partial Regex LastWord();

    [GeneratedRegex($@"^(?:{MonthFull}|19[7-9]\d|20\d\d)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex BareMonthOrYear();

    [GeneratedRegex(@"\G\s*([A-Za-z]+)")]
    private static partial Regex FollowingWord();

    /// <summary>Words that may follow a bare month or year: function words, not a unit or a noun ("2048 bytes").</summary>
    private static readonly HashSet<string> AllowedAfterBareTime = new(StringComparer.Ordinal)
    {
        "and", "or", "but", "for", "about", "with", "on", "at", "to", "the", "we", "i", "you", "he", "she", "they", "it",
        "did", "do", "does", "was", "were", "is", "are", "when", "what", "which", "that", "who", "where", "how", "why",
        "this", "last", "so", "then", "again", "already", "also",
    };

    /// <summary>The span a time reference (absolute or relative) covers, or null if it is not one.</summary>
    private static Span? Resolve(string text, Context c)
    {
        var trimmed = LeadingPreposition().Replace(text.Trim(), "");
        var rel = RelativeOnly().Match(trimmed);
        if (rel.Success)
            return ResolveRelativeWindow(trimmed, c) is { } w && w.Since is { } s
                ? new Span(DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(s, c.Options.TimeZone).DateTime),
                    w.Until is { } u ? DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(u, c.Options.TimeZone).DateTime) : c.Today.AddDays(1), false)
                : null;
        var abs = AbsoluteOnly().Match(trimmed);
        if (!abs.Success) return null;
        var g = abs.Groups;
        if (g["iso"].Success)
        {
            var parts = g["iso"].Value.Split('-');
            return Day(int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture));
        }
        if (g["dd"].Success) return DayOf(g["dm"].Value, g["dd"].Value, g["dy"]);
        if (g["md"].Success) return DayOf(g["md"].Value, g["mdd"].Value, g["mdy"]);
        if (g["my"].Success) return Month(int.Parse(g["myy"].Value, CultureInfo.InvariantCulture), MonthNumber(g["my"].Value));
        if (g["m"].Success)
        {
            // The latest such month that has begun: "in March" asked in February means last March.
            var month = MonthNumber(g["m"].Value);
            var year = month <= c.Today.Month ? c.Today.Year : c.Today.Year - 1;
            return Month(year, month);
        }
        if (g["y"].Success)
        {
            var year = int.Parse(g["y"].Value, CultureInfo.InvariantCulture);
            return year is >= 1970 and <= 2100 ? new Span(new DateOnly(year, 1, 1), new DateOnly(year + 1, 1, 1), true) : null;
        }
        return null;

        Span? DayOf(string monthName, string dayText, Group yearGroup)
        {
            var month = MonthNumber(monthName);
            var day = int.Parse(dayText, CultureInfo.InvariantCulture);
            if (yearGroup.Success) return Day(int.Parse(yearGroup.Value, CultureInfo.InvariantCulture), month, day);
            // No year: the latest such day that is not in the future.
            var year = c.Today.Year;
            if (month > c.Today.Month || (month == c.Today.Month && day > c.Today.Day)) year--;
            return Day(year, month, day);
        }
    }

    private static Span? Day(int year, int month, int day)
    {
        if (year is < 1970 or > 2100 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)) return null;
        var date = new DateOnly(year, month, day);
        return new Span(date, date.AddDays(1), true);
    }

    private static Span? Month(int year, int month) =>
        year is < 1970 or > 2100 ? null : new Span(new DateOnly(year, month, 1), new DateOnly(year, month, 1).AddMonths(1), true);

    private static int MonthNumber(string name) => name.ToLowerInvariant()[..3] switch
    {
        "jan" => 1, "feb" => 2, "mar" => 3, "apr" => 4, "may" => 5, "jun" => 6,
        "jul" => 7, "aug" => 8, "sep" => 9, "oct" => 10, "nov" => 11, _ => 12,
    };

    [GeneratedRegex(@"^(?:on|in|during|of)\s+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LeadingPreposition();

    private static TimeWindow? ResolveRelativeWindow(string text, Context c)
    {
        var m = RelativeOnly().Match(text);
        if (!m.Success) return null;
        var g = m.Groups;
        var today = c.Today;
        if (g["today"].Success) return Days(today, today.AddDays(1));
        if (g["dbyest"].Success) return Days(today.AddDays(-2), today.AddDays(-1));
        if (g["yest"].Success) return Days(today.AddDays(-1), today);
        if (g["cal"].Success)
        {
            var previous = g["cal"].Value.ToLowerInvariant() is "last" or "previous";
            switch (g["calunit"].Value.ToLowerInvariant())
            {
                case "week":
                {
                    var start = WeekStart(today, c).AddDays(previous ? -7 : 0);
                    return Days(start, start.AddDays(7));
                }
                case "weekend":
                {
                    // The latest Saturday-Sunday that has begun (this weekend) or that has ended (last weekend).
                    var saturday = today.AddDays(-(((int)today.DayOfWeek - (int)DayOfWeek.Saturday + 7) % 7));
                    if (previous && saturday.AddDays(2) > today) saturday = saturday.AddDays(-7);
                    return Days(saturday, saturday.AddDays(2));
                }
                case "month":
                {
                    var start = new DateOnly(today.Year, today.Month, 1).AddMonths(previous ? -1 : 0);
                    return Days(start, start.AddMonths(1));
                }
                case "year":
                {
                    var start = new DateOnly(today.Year - (previous ? 1 : 0), 1, 1);
                    return Days(start, start.AddYears(1));
                }
                default: // sprint
                {
                    if (c.Options.SprintStart is not { } first || c.Options.SprintDays is not { } length || length <= 0) return null;
                    var index = (int)Math.Floor((today.DayNumber - first.DayNumber) / (double)length) - (previous ? 1 : 0);
                    var start = first.AddDays(index * length);
                    return Days(start, start.AddDays(length));
                }
            }
        }
        if (g["agon"].Success)
        {
            // "3 days ago" is that day; "two weeks ago" the week (month, year) holding the day that many back.
            var n = NumberValue(g["agon"].Value);
            switch (g["agou"].Value.ToLowerInvariant())
            {
                case "day": return Days(today.AddDays(-n), today.AddDays(-n + 1));
                case "week": { var start = WeekStart(today.AddDays(-7 * n), c); return Days(start, start.AddDays(7)); }
                case "month": { var d = today.AddMonths(-n); var start = new DateOnly(d.Year, d.Month, 1); return Days(start, start.AddMonths(1)); }
                default: { var start = new DateOnly(today.Year - n, 1, 1); return Days(start, start.AddYears(1)); }
            }
        }
        if (g["roll"].Success)
        {
            // "in the last 10 days", "the past week", "past month": a rolling period up to now.
            var n = g["rolln"].Success ? NumberValue(g["rolln"].Value) : 1;
            var since = g["rollu"].Value.ToLowerInvariant() switch
            {
                "hour" => c.Now.AddHours(-n),
                "day" => c.Now.AddDays(-n),
                "week" => c.Now.AddDays(-7 * n),
                "month" => c.Now.AddMonths(-n),
                _ => c.Now.AddYears(-n),
            };
            return new TimeWindow(since.ToUniversalTime(), null, "", TimeWindowKind.Relative, c.Options.HardRelative);
        }
        if (g["wd"].Success)
        {
            var day = Enum.Parse<DayOfWeek>(g["wd"].Value, ignoreCase: true);
            var back = ((int)today.DayOfWeek - (int)day + 7) % 7;
            // "last Tuesday" is the latest Tuesday before today. "on Monday" is left alone: "deploys on Monday" is a habit.
            if (back == 0) back = 7;
            var date = today.AddDays(-back);
            return Days(date, date.AddDays(1));
        }
        return null;

        TimeWindow Days(DateOnly start, DateOnly end) => Window(c, start, end, absolute: false);
    }

    private static DateOnly WeekStart(DateOnly day, Context c) =>
        day.AddDays(-(((int)day.DayOfWeek - (int)c.Options.FirstDayOfWeek + 7) % 7));

    private static int NumberValue(string text) => text.ToLowerInvariant() switch
    {
        "a" or "an" or "one" => 1, "two" => 2, "three" => 3, "four" => 4, "five" => 5, "six" => 6, "seven" => 7,
        "eight" => 8, "nine" => 9, "ten" => 10, "eleven" => 11, "twelve" => 12,
        var digits => int.Parse(digits, CultureInfo.InvariantCulture),
    };

    /// <summary>The query without the phrase: spaces closed up, a comma or a preposition ("notes from yesterday") left dangling dropped.</summary>
    private static string Remove(string query, int index, int length)
    {
        var before = DanglingPreposition().Replace(query[..index].TrimEnd(), "");
        var after = query[(index + length)..].TrimStart();
        var joined = (before + " " + after).Trim();
        joined = SpacesBeforePunctuation().Replace(joined, "$1");
        return joined.Trim(' ', ',', ';');
    }

    [GeneratedRegex(@"(?:^|\s+)(?:from|on|in|during|at|of)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DanglingPreposition();

    [GeneratedRegex(@"\s+([?!.,;:])")]
    private static partial Regex SpacesBeforePunctuation();
}
