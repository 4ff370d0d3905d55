using System.Text;

namespace McpMemory.Core.Memories;

/// <summary>
/// Every memory and state key lives in a namespace: "shared", "project:&lt;name&gt;" or "agent:&lt;id&gt;".
/// Search covers the caller's default namespace plus "shared" unless told otherwise.
/// </summary>
public static class Namespaces
{
    public const string Shared = "shared";
    public const int MaxNameLength = 100;
    private static readonly string[] Prefixes = ["project:", "agent:"];

    public static string Project(string name) => "project:" + Sanitize(name);
    public static string Agent(string id) => "agent:" + Sanitize(id);

    /// <summary>Checks a namespace and returns it; the error names <paramref name="field"/> and the accepted forms.</summary>
    public static string Validate(string? value, string field = "namespace")
    {
        if (string.IsNullOrEmpty(value))
            throw new MemoryValidationException(field, "must not be empty; use \"shared\", \"project:<name>\" or \"agent:<id>\"");
        if (value == Shared) return value;
        foreach (var prefix in Prefixes)
        {
            if (!value.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var name = value.AsSpan(prefix.Length);
            if (name.Length is 0 or > MaxNameLength)
                throw new MemoryValidationException(field, $"the name after \"{prefix}\" must be 1 to {MaxNameLength} characters (got {name.Length})");
            foreach (var c in name)
                if (!IsNameChar(c))
                    throw new MemoryValidationException(field, $"\"{Truncate(value)}\" contains '{Printable(c)}'; names may use letters, digits and . _ - @ + /");
            return value;
        }
        throw new MemoryValidationException(field, $"\"{Truncate(value)}\" is not a namespace; use \"shared\", \"project:<name>\" or \"agent:<id>\"");
    }

    /// <summary>Turns any folder or agent name into a valid namespace name (invalid characters become '-').</summary>
    public static string Sanitize(string name)
    {
        var sb = new StringBuilder(Math.Min(name.Length, MaxNameLength));
        foreach (var c in name)
        {
            if (sb.Length == MaxNameLength) break;
            sb.Append(IsNameChar(c) ? c : '-');
        }
        return sb.Length == 0 ? "default" : sb.ToString();
    }

    private static bool IsNameChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@' or '+' or '/' || (c > 127 && char.IsLetterOrDigit(c));

    public static string Printable(char c) => char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c.ToString();
    /// <summary>
    /// A user's value as quoted in an error: at most <paramref name="max"/> characters, with control characters and
    /// lone surrogates escaped, so the message stays one readable line whatever the input held.
    /// </summary>
    public static string Truncate(string s, int max = 80)
    {
        var shown = new StringBuilder(Math.Min(s.Length, max) + 8);
        for (var i = 0; i < s.Length && i < max; i++)
        {
            if (char.IsSurrogatePair(s, i) && i + 1 < max) { shown.Append(s, i, 2); i++; }
            else shown.Append(Printable(s[i]));
        }
        return s.Length <= max ? shown.ToString() : shown + "…";
    }
}
