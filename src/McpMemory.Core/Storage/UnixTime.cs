namespace McpMemory.Core.Storage;

/// <summary>Times are stored as UTC unix milliseconds (compact, and compared as integers).</summary>
internal static class UnixTime
{
    public static long ToMs(DateTimeOffset time) => time.ToUnixTimeMilliseconds();
    public static long? ToMs(DateTimeOffset? time) => time?.ToUnixTimeMilliseconds();
    public static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
