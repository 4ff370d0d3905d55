using System.Globalization;
using System.Text;

namespace McpMemory.Core.Indexes.Keywords;

/// <summary>
/// Splits text into words exactly as SQLite's FTS5 <c>unicode61 remove_diacritics 2</c> tokenizer does, so the
/// in-memory keyword index and the FTS5 table agree on every token (tested against FTS5 itself): ASCII letters and
/// digits, and non-ASCII letters, numbers and private-use characters, form words; a few combining diacritics
/// continue a word; everything else separates. Words are lower-cased and Latin letters lose their diacritics.
/// </summary>
public static class Unicode61
{
    /// <summary>The folded words of <paramref name="text"/>, in order.</summary>
    public static List<string> Words(string text)
    {
        var words = new List<string>();
        Words(text, words);
        return words;
    }

    /// <summary>Appends the folded words of <paramref name="text"/> to <paramref name="words"/>.</summary>
    public static void Words(string text, List<string> words)
    {
        var word = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            var value = rune.Value;
            if (value < 0x80)
            {
                if (value is >= 'a' and <= 'z' or >= '0' and <= '9') word.Append((char)value);
                else if (value is >= 'A' and <= 'Z') word.Append((char)(value + 32));
                else Flush();
            }
            else if (IsTokenChar(rune) || (word.Length > 0 && IsDiacritic(value)))
            {
                if (Fold(rune) is { } folded) word.Append(folded);
            }
            else Flush();
        }
        Flush();

        void Flush()
        {
            if (word.Length == 0) return;
            words.Add(word.ToString());
            word.Clear();
        }
    }

    /// <summary>
    /// FTS5's default token characters outside ASCII: categories L*, N* and Co, and code points its tables do not
    /// know (unassigned). SQLite's tables predate Unicode 8, so characters assigned since then (emoji modifiers, ₿,
    /// new scripts) are words to FTS5 and separators here; no English text meets them.
    /// </summary>
    private static bool IsTokenChar(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.OtherNotAssigned => true,
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
            or UnicodeCategory.PrivateUse => true,
        _ => false,
    };

    /// <summary>The combining marks FTS5 treats as diacritics (part of a word, removed by folding): U+0300..U+0331, by mask.</summary>
    private static bool IsDiacritic(int c) =>
        c is >= 0x300 and <= 0x331 && (c < 0x320 ? (0x08029FDFu >> (c - 0x300) & 1) != 0 : (0x000361F8u >> (c - 0x320) & 1) != 0);

    /// <summary>Lower case, then the ASCII base letter of a Latin letter with diacritics; null for a lone diacritic.</summary>
    private static string? Fold(Rune rune)
    {
        if (IsDiacritic(rune.Value)) return null;
        if (CaseFoldings.TryGetValue(rune.Value, out var special)) return special;
        var lower = Rune.ToLowerInvariant(rune);
        if (lower.Value is >= 0xC0 and < 0x2000 && LatinBase(lower.Value) is { } ascii) return ascii.ToString();
        return lower.ToString();
    }

    /// <summary>Where Unicode case folding (what FTS5 applies) differs from lower-casing.</summary>
    private static readonly Dictionary<int, string> CaseFoldings = new()
    {
        [0x00B5] = "\u03BC", [0x017F] = "s", [0x0345] = "\u03B9", [0x03C2] = "\u03C3", [0x03D0] = "\u03B2", [0x03D1] = "\u03B8",
        [0x03D5] = "\u03C6", [0x03D6] = "\u03C0", [0x03F0] = "\u03BA", [0x03F1] = "\u03C1", [0x03F5] = "\u03B5", [0x1FBE] = "\u03B9",
    };

    /// <summary>The ASCII letter a precomposed Latin letter decomposes to (base + diacritics), if any.</summary>
    private static char? LatinBase(int c)
    {
        var table = LatinBases.Value;
        return table.TryGetValue(c, out var b) ? b : null;
    }

    private static readonly Lazy<Dictionary<int, char>> LatinBases = new(BuildLatinBases);

    /// <summary>
    /// From the canonical decompositions in the NFKC table: a code point whose decomposition is an ASCII letter
    /// followed only by combining marks (U+0300..U+036F).
    /// </summary>
    private static Dictionary<int, char> BuildLatinBases()
    {
        var bases = new Dictionary<int, char>();
        var nfkc = Embeddings.Unicode.NfkcNormalizer.Instance;
        for (var c = 0xC0; c < 0x2000; c++)
        {
            if (nfkc.Decomposition(c) is not { Length: > 1 } parts) continue;
            if (parts[0] is not (>= 'a' and <= 'z' or >= 'A' and <= 'Z')) continue;
            if (parts.Skip(1).All(p => p is >= 0x300 and <= 0x36F)) bases[c] = char.ToLowerInvariant((char)parts[0]);
        }
        return bases;
    }
}
