using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace McpMemory.Core.Knowledge;

/// <summary>
/// One self-contained piece of a document: its text starts with the file and the heading path ("README.md › Install ›
/// From source"), so it reads on its own in a search result. <see cref="Key"/> names it across runs (file, heading path,
/// which section of that name, which part) and <see cref="Hash"/> says whether its text changed.
/// </summary>
public sealed record DocumentChunk(string Source, string Heading, int Part, string Key, string Text)
{
    public string Hash { get; } = MarkdownChunker.HashOf(Text);
}

/// <summary>
/// Splits markdown by heading: each section (the lines under a heading down to the next heading of any level) becomes
/// one chunk, long ones split at paragraph boundaries so each fits an encoder's window. Headings inside code fences are
/// code, not headings. Sections with no text of their own (a heading right above its first sub-heading) give no chunk:
/// their heading lives on in every sub-section's heading path.
/// </summary>
public static partial class MarkdownChunker
{
    /// <summary>Most characters of body text per chunk: ~400 tokens of English, inside the 512 of arctic-embed-xs.</summary>
    public const int MaxChunkChars = 1500;

    public const string PathSeparator = " › ";

    [GeneratedRegex(@"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")]
    private static partial Regex AtxHeading();

    [GeneratedRegex(@"^ {0,3}(`{3,}|~{3,})")]
    private static partial Regex Fence();

    public static IReadOnlyList<DocumentChunk> Chunk(string source, string markdown)
    {
        var chunks = new List<DocumentChunk>();
        var headings = new List<(int Level, string Title)>();
        var body = new List<string>();
        var seenPaths = new Dictionary<string, int>(StringComparer.Ordinal);
        var seenTexts = new HashSet<string>(StringComparer.Ordinal);
        string? fence = null;

        void Flush()
        {
            var heading = string.Join(PathSeparator, headings.Select(h => h.Title));
            var text = string.Join('\n', body).Trim('\n', '\r', ' ', '\t');
            body.Clear();
            if (text.Length == 0) return;
            // A second section of the same path in one file (two "## Example" under one parent) gets its own key.
            var occurrence = seenPaths[heading] = seenPaths.GetValueOrDefault(heading) + 1;
            var title = heading.Length == 0 ? source : source + PathSeparator + heading;
            var parts = Split(text);
            for (var p = 0; p < parts.Count; p++)
            {
                var label = parts.Count == 1 ? title : $"{title} (part {p + 1})";
                var chunkText = label + "\n\n" + parts[p];
                if (!seenTexts.Add(chunkText)) continue; // the very same text twice in one file is one memory
                var key = $"doc:{source}#{heading}" + (occurrence > 1 ? $"#{occurrence}" : "") + (p > 0 ? $"#part{p + 1}" : "");
                chunks.Add(new DocumentChunk(source, heading, p + 1, key, chunkText));
            }
        }

        foreach (var raw in markdown.ReplaceLineEndings("\n").Split('\n'))
        {
            var line = raw.TrimEnd();
            var fenceMatch = Fence().Match(line);
            if (fence is not null)
            {
                if (fenceMatch.Success && fenceMatch.Groups[1].Value[0] == fence[0] && fenceMatch.Groups[1].Value.Length >= fence.Length
                    && line.Trim().Trim(fence[0]).Length == 0) fence = null;
                body.Add(line);
                continue;
            }
            if (fenceMatch.Success) { fence = fenceMatch.Groups[1].Value; body.Add(line); continue; }
            var heading = AtxHeading().Match(line);
            if (!heading.Success) { body.Add(line); continue; }
            Flush();
            var level = heading.Groups[1].Value.Length;
            headings.RemoveAll(h => h.Level >= level);
            var headingTitle = heading.Groups[2].Value.Trim();
            if (headingTitle.Length > 0) headings.Add((level, headingTitle));
        }
        Flush();
        return chunks;
    }

    /// <summary>Splits text at blank lines (then at line ends, then anywhere) into parts of at most <see cref="MaxChunkChars"/>.</summary>
    private static List<string> Split(string text)
    {
        if (text.Length <= MaxChunkChars) return [text];
        var parts = new List<string>();
        var current = new StringBuilder();
        void Emit() { if (current.Length > 0) parts.Add(current.ToString().Trim('\n')); current.Clear(); }
        foreach (var paragraph in Pieces(text))
        {
            if (current.Length > 0 && current.Length + paragraph.Length + 2 > MaxChunkChars) Emit();
            if (current.Length > 0) current.Append("\n\n");
            current.Append(paragraph);
        }
        Emit();
        return parts.Where(p => p.Length > 0).ToList();
    }

    private static IEnumerable<string> Pieces(string text)
    {
        foreach (var paragraph in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            if (paragraph.Length <= MaxChunkChars) { yield return paragraph; continue; }
            var lines = new StringBuilder();
            foreach (var line in paragraph.Split('\n'))
            {
                if (lines.Length > 0 && lines.Length + line.Length + 1 > MaxChunkChars) { yield return lines.ToString(); lines.Clear(); }
                for (var at = 0; at < line.Length; at += MaxChunkChars)
                {
                    var piece = line.Substring(at, Math.Min(MaxChunkChars, line.Length - at));
                    if (piece.Length == MaxChunkChars) { if (lines.Length > 0) { yield return lines.ToString(); lines.Clear(); } yield return piece; continue; }
                    if (lines.Length > 0) lines.Append('\n');
                    lines.Append(piece);
                }
            }
            if (lines.Length > 0) yield return lines.ToString();
        }
    }

    /// <summary>The content hash kept in a chunk's metadata: 16 hex digits of SHA-256 over the UTF-8 text.</summary>
    public static string HashOf(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
}
