using System.Globalization;
using System.Text;

namespace McpMemory.Dashboard;

/// <summary>
/// Building HTML by hand, safely: every piece of text (memory content above all, which is untrusted) goes through
/// <see cref="E"/>, which encodes the five characters that could end a text node or a quoted attribute. Nothing from a
/// memory is ever written unencoded, turned into a link, or rendered as markdown.
/// </summary>
public static class Html
{
    /// <summary>Encoded for a text node or a double- or single-quoted attribute value.</summary>
    public static string E(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        if (text.AsSpan().IndexOfAny("&<>\"'") < 0) return text;
        var sb = new StringBuilder(text.Length + 16);
        foreach (var c in text)
            sb.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => c.ToString(),
            });
        return sb.ToString();
    }

    /// <summary>A query-string value (then encoded again by <see cref="E"/> where it lands in an attribute).</summary>
    public static string Q(string? value) => Uri.EscapeDataString(value ?? "");

    public static string Num(double value, string format = "0.###") => value.ToString(format, CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset? time) =>
        time is { } t ? $"<time datetime=\"{t.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}\">{t.UtcDateTime:yyyy-MM-dd HH:mm} UTC</time>" : "";

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1 << 30 => Num(bytes / (double)(1 << 30), "0.0") + " GiB",
        >= 1 << 20 => Num(bytes / (double)(1 << 20), "0.0") + " MiB",
        >= 1 << 10 => Num(bytes / 1024.0, "0.0") + " KiB",
        _ => bytes + " B",
    };

    /// <summary>The hidden CSRF field every changing form carries.</summary>
    public static string Csrf(DashboardSession session) => $"<input type=\"hidden\" name=\"{DashboardSessions.CsrfField}\" value=\"{E(session.CsrfToken)}\">";
}
