namespace McpMemory.Install;

/// <summary>
/// Puts the behavioural snippet into a shared instruction file (CLAUDE.md, AGENTS.md, ...)
/// between markers, replaces it in place on re-install and takes exactly that block out on
/// uninstall. Text outside the markers is never touched.
/// </summary>
public static class InstructionBlock
{
    public const string BeginMarker = "<!-- mcp-memory:begin -->";
    public const string EndMarker = "<!-- mcp-memory:end -->";

    /// <summary>The file's text with the block present and up to date.</summary>
    public static string Insert(string path, string? text, string body)
    {
        var newLine = TextFile.NewLineOf(text);
        var lines = SplitLines(text);
        var block = BlockLines(body);
        if (FindBlock(path, lines) is var (begin, end))
        {
            lines.RemoveRange(begin, end - begin + 1);
            lines.InsertRange(begin, block);
        }
        else
        {
            // Always one blank line, even after a blank one: uninstall takes exactly one away again.
            if (lines.Count > 0) lines.Add("");
            lines.AddRange(block);
        }
        return Join(lines, newLine, EndsWithNewLine(text));
    }

    /// <summary>The file's text without the block; null when nothing but whitespace would be left.</summary>
    public static string? Remove(string path, string? text)
    {
        var lines = SplitLines(text);
        if (FindBlock(path, lines) is not var (begin, end)) return text;
        lines.RemoveRange(begin, end - begin + 1);
        TextLines.DropSeparatorAt(lines, begin);
        return lines.All(string.IsNullOrWhiteSpace) ? null : Join(lines, TextFile.NewLineOf(text), EndsWithNewLine(text));
    }

    public static bool Contains(string path, string? text) => FindBlock(path, SplitLines(text)) is not null;

    private static List<string> BlockLines(string body) =>
        [BeginMarker, .. SplitLines(body.Trim('\r', '\n')), EndMarker];

    /// <summary>The (begin, end) line indexes of our block; refuses half or doubled blocks rather than guess.</summary>
    private static (int Begin, int End)? FindBlock(string path, List<string> lines)
    {
        var begins = lines.Select((l, i) => (l, i)).Where(x => x.l.Trim() == BeginMarker).Select(x => x.i).ToList();
        var ends = lines.Select((l, i) => (l, i)).Where(x => x.l.Trim() == EndMarker).Select(x => x.i).ToList();
        if (begins.Count == 0 && ends.Count == 0) return null;
        if (begins.Count == 1 && ends.Count == 1 && begins[0] < ends[0]) return (begins[0], ends[0]);
        var line = (begins.Count > 0 ? begins[0] : ends[0]) + 1;
        throw new InstallException(
            $"{path}:{line}: the mcp-memory block is damaged ({begins.Count} begin and {ends.Count} end markers); " +
            $"keep one {BeginMarker} ... {EndMarker} pair or remove both. Nothing was changed.");
    }

    private static List<string> SplitLines(string? text)
    {
        if (string.IsNullOrEmpty(text)) return [];
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }

    /// <summary>A file without a final newline stays without one; a new file gets one.</summary>
    private static bool EndsWithNewLine(string? text) => string.IsNullOrEmpty(text) || text.EndsWith('\n');

    private static string Join(List<string> lines, string newLine, bool finalNewLine) =>
        string.Join(newLine, lines) + (finalNewLine ? newLine : "");
}
