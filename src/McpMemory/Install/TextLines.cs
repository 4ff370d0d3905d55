namespace McpMemory.Install;

internal static class TextLines
{
    /// <summary>
    /// After a block was cut out at <paramref name="index"/>: drop the blank line that separated
    /// it from its neighbours, unless that blank still separates two other paragraphs.
    /// Install adds one blank line before a block it appends; this takes it away again.
    /// </summary>
    public static void DropSeparatorAt(List<string> lines, int index)
    {
        var blankBefore = index > 0 && string.IsNullOrWhiteSpace(lines[index - 1]);
        var blankAfter = index < lines.Count && string.IsNullOrWhiteSpace(lines[index]);
        var atEnd = index >= lines.Count;
        if (blankBefore && (blankAfter || atEnd)) lines.RemoveAt(index - 1);
        else if (index == 0 && blankAfter) lines.RemoveAt(0);
    }
}
