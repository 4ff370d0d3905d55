using System.Globalization;
using McpMemory.Core.Memories;

namespace McpMemory.Contracts;

/// <summary>Times in and out: UTC ISO-8601 with milliseconds in results; any ISO-8601 time accepted as input.</summary>
public static class IsoTime
{
    public static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

    /// <summary>Parses an optional ISO-8601 time; the error names the field and the expected form.</summary>
    public static DateTimeOffset? Parse(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            return time;
        throw new MemoryValidationException(field, $"\"{Namespaces.Truncate(value, 60)}\" is not an ISO-8601 time (e.g. 2026-11-22T14:30:00Z)");
    }
}
