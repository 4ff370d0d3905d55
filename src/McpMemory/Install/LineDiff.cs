namespace McpMemory.Install;

/// <summary>A small line diff for --dry-run: the changed lines with two lines of context.</summary>
public static class LineDiff
{
    private const int Context = 2;

    public static IEnumerable<string> Unified(string before, string after)
    {
        var a = SplitLines(before);
        var b = SplitLines(after);

        // Trim the common head and tail so the quadratic part only sees the edited region.
        var head = 0;
        while (head < a.Length && head < b.Length && a[head] == b[head]) head++;
        var tail = 0;
        while (tail < a.Length - head && tail < b.Length - head && a[^(tail + 1)] == b[^(tail + 1)]) tail++;

        var ops = new List<(char Op, string Line)>();
        ops.AddRange(a[..head].Select(l => (' ', l)));
        ops.AddRange(MiddleOps(a[head..(a.Length - tail)], b[head..(b.Length - tail)]));
        ops.AddRange(a[(a.Length - tail)..].Select(l => (' ', l)));

        var show = new bool[ops.Count];
        for (var i = 0; i < ops.Count; i++)
            if (ops[i].Op != ' ')
                for (var j = Math.Max(0, i - Context); j <= Math.Min(ops.Count - 1, i + Context); j++) show[j] = true;

        var skipped = false;
        for (var i = 0; i < ops.Count; i++)
        {
            if (!show[i]) { skipped = true; continue; }
            if (skipped) { yield return "..."; skipped = false; }
            yield return $"{ops[i].Op} {ops[i].Line}";
        }
        if (skipped) yield return "...";
    }

    private static string[] SplitLines(string text) =>
        text.Length == 0 ? [] : text.Replace("\r\n", "\n").TrimEnd('\n').Split('\n');

    /// <summary>Above this many line pairs the edit is shown as all-removed, all-added (a rewritten ~/.claude.json can be huge).</summary>
    private const long MaxComparisons = 4_000_000;

    private static IEnumerable<(char, string)> MiddleOps(string[] a, string[] b)
    {
        if ((long)a.Length * b.Length > MaxComparisons)
            return a.Select(l => ('-', l)).Concat(b.Select(l => ('+', l)));
        return LongestCommonSubsequenceOps(a, b);
    }

    private static IEnumerable<(char, string)> LongestCommonSubsequenceOps(string[] a, string[] b)
    {
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
            for (var j = b.Length - 1; j >= 0; j--)
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y]) { yield return (' ', a[x]); x++; y++; }
            // Removals before additions, as in a unified diff.
            else if (x < a.Length && (y == b.Length || lcs[x + 1, y] >= lcs[x, y + 1])) yield return ('-', a[x++]);
            else yield return ('+', b[y++]);
        }
    }
}
