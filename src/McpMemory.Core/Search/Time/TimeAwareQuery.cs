using McpMemory.Core.Indexes;
using McpMemory.Core.Storage;

namespace McpMemory.Core.Search.Time;

/// <summary>
/// What a search understood of the time in its query, as shown to the caller: the phrase taken out of the keyword
/// query, the window it stands for, and how it was applied — "filter" (only memories inside), "boost" (memories
/// inside rank higher) or "overridden" (explicit since/until were given and win).
/// </summary>
public sealed record QueryTimeWindow(string Phrase, string Kind, DateTimeOffset? Since, DateTimeOffset? Until, string Applied, string Query)
{
    public const string Filter = "filter";
    public const string Boost = "boost";
    public const string Overridden = "overridden";
}

/// <summary>The reference time of one search (recency counts from it) and the window a soft time phrase favours.</summary>
internal sealed record SearchTime(long Now, long? BoostSince = null, long? BoostUntil = null)
{
    public bool Boosts => BoostSince is not null || BoostUntil is not null;

    public bool InBoostWindow(long createdAt) =>
        Boosts && (BoostSince is not { } s || createdAt >= s) && (BoostUntil is not { } u || createdAt < u);
}

/// <summary>How a request's time phrase changes the search: the query to match, the filter window, the boost.</summary>
internal sealed record TimeAwarePlan(string Query, IndexFilter Filter, SearchTime Time, QueryTimeWindow? Understood)
{
    /// <summary>
    /// Reads the time phrase of <paramref name="query"/> (unless the request turned it off), relative to the request's
    /// <c>Now</c> or the clock. A hard window narrows the filter, a soft one becomes a boost; explicit since/until win
    /// over both. A query that was only a time phrase ("yesterday") keeps its words, so something still matches.
    /// </summary>
    public static TimeAwarePlan For(SearchRequest request, string query, IndexFilter filter, DateTimeOffset now, TimeExpressionOptions options)
    {
        var time = new SearchTime(UnixTime.ToMs(now));
        if (!request.TimeAware || TimeExpressions.Parse(query, now, options) is not { Window: { } window } parse)
            return new TimeAwarePlan(query, filter, time, null);
        var remaining = string.IsNullOrWhiteSpace(parse.RemainingQuery) ? query : parse.RemainingQuery;
        var explicitWindow = request.Since is not null || request.Until is not null;
        var applied = explicitWindow ? QueryTimeWindow.Overridden : window.Hard ? QueryTimeWindow.Filter : QueryTimeWindow.Boost;
        var understood = new QueryTimeWindow(window.Phrase, window.Kind.ToString().ToLowerInvariant(), window.Since, window.Until, applied, remaining);
        return applied switch
        {
            QueryTimeWindow.Filter => new(remaining, filter with { Since = UnixTime.ToMs(window.Since), Until = UnixTime.ToMs(window.Until) }, time, understood),
            QueryTimeWindow.Boost => new(remaining, filter, time with { BoostSince = UnixTime.ToMs(window.Since), BoostUntil = UnixTime.ToMs(window.Until) }, understood),
            _ => new(remaining, filter, time, understood),
        };
    }
}
