using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using McpMemory.Contracts;

namespace McpMemory.Cli;

/// <summary>Prints results: JSON (snake_case, same shapes as the MCP tools) with --json, readable text otherwise.</summary>
internal static class Output
{
    private static readonly JsonSerializerOptions Indented = new(ResultJson.Options) { WriteIndented = true };

    /// <summary>
    /// Prints a value as indented JSON. <paramref name="registered"/> (a <see cref="ResultJsonContext"/> type info) proves at
    /// compile time that the type has source-generated metadata, which the Native AOT build needs (it has no reflection);
    /// the indented options resolve the same metadata.
    /// </summary>
    public static void Json<T>(T value, JsonTypeInfo<T> registered) =>
        Console.Out.WriteLine(JsonSerializer.Serialize(value, (JsonTypeInfo<T>)Indented.GetTypeInfo(registered.Type)));

    public static void Memory(MemoryResult m, int? rank = null)
    {
        var prefix = rank is null ? "" : $"{rank,2}. ";
        var tags = m.Tags.Count == 0 ? "" : "  [" + string.Join(", ", m.Tags) + "]";
        Console.Out.WriteLine($"{prefix}{m.MemoryId}  {m.MemoryType}  importance {m.Importance:0.##}  {m.CreatedAt[..10]}  {m.Namespace}{tags}");
        var indent = new string(' ', prefix.Length + 2);
        foreach (var line in m.Content.Split('\n').Take(rank is null ? int.MaxValue : 4))
            Console.Out.WriteLine(indent + Clip(line.TrimEnd('\r'), rank is null ? int.MaxValue : 160));
        if (rank is null && m.Metadata is not null) Console.Out.WriteLine(indent + "metadata: " + m.Metadata.ToJsonString());
        if (m.ArchivedAt is not null) Console.Out.WriteLine(indent + $"archived {m.ArchivedAt} as stale (hidden from search; mcp-memory unarchive {m.MemoryId} brings it back)");
    }

    public static void Error(string message) => Console.Error.WriteLine("error: " + message);

    /// <summary>An unexpected exception as one line: its message (the innermost one of a wrapper), no stack trace.</summary>
    public static string OneLine(Exception e)
    {
        var inner = e is AggregateException or System.Reflection.TargetInvocationException or TypeInitializationException ? e.GetBaseException() : e;
        return inner is Microsoft.Data.Sqlite.SqliteException ? inner.Message : $"{inner.Message} ({inner.GetType().Name})";
    }

    /// <summary>A memory's text on one line, clipped: for lists.</summary>
    public static string OneLineText(string text) => Clip(string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)), 120);

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";
}
