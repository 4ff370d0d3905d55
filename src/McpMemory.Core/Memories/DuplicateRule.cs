using System.Text;
using McpMemory.Core.Embeddings.Unicode;

namespace McpMemory.Core.Memories;

/// <summary>Why a new text is (or is not) the same memory as an old one.</summary>
public enum DuplicateVerdict
{
    /// <summary>Says something the old text does not: store a new memory.</summary>
    Distinct,
    /// <summary>Identical after normalisation (case, whitespace, punctuation at word edges, Unicode NFKC).</summary>
    Identical,
    /// <summary>The old text, normalised, is a run of words of the new one, and no negation was added.</summary>
    Contained,
    /// <summary>
    /// The strict test: cosine at or above the encoder's floor, the same content words in the same order (stemmed;
    /// only function words and inflection differ), and the same numbers, identifiers, paths, URLs, versions, names and
    /// negations.
    /// </summary>
    Restated,
}

/// <summary>
/// The one rule that decides whether a store updates an existing memory (status "updated") instead of adding one.
/// It must never fold two different facts together ("namespace is billing-prod" / "billing-staging", "port 8080" /
/// "9090"), so it merges only when the new text is the same memory; anything else is stored and reported as similar.
/// Measured by <c>tests/McpMemory.Tests/Core/duplicate-pairs.json</c>; recalibrate <see cref="CosineFloor"/> when the
/// encoder changes.
/// </summary>
public static class DuplicateRule
{
    /// <summary>
    /// The strict test's cosine floor per encoder (by model id prefix), calibrated on the pairs file. An encoder not
    /// listed gets none: only identical or contained texts merge.
    /// </summary>
    private static readonly (string ModelPrefix, double Merge, double Similar)[] Calibrated =
    [
        ("use-lite-en", 0.75, 0.75),
        ("snowflake-arctic-embed-xs", 0.95, 0.85),
    ];

    /// <summary>Similar memories are reported from this cosine up for an encoder without a calibration.</summary>
    public const double DefaultSimilarFloor = 0.75;

    /// <summary>The strict test's cosine floor for this encoder, or null when it has not been calibrated.</summary>
    public static double? CosineFloor(string? modelId) =>
        modelId is null ? null : Calibrated.Where(c => modelId.StartsWith(c.ModelPrefix, StringComparison.Ordinal)).Select(c => (double?)c.Merge).FirstOrDefault();

    /// <summary>The cosine from which other memories are returned as <c>similar</c> for this encoder.</summary>
    public static double SimilarFloor(string? modelId) =>
        modelId is null ? DefaultSimilarFloor : Calibrated.Where(c => modelId.StartsWith(c.ModelPrefix, StringComparison.Ordinal)).Select(c => c.Similar).DefaultIfEmpty(DefaultSimilarFloor).First();

    /// <summary>
    /// Is <paramref name="newText"/> the same memory as <paramref name="oldText"/>? <paramref name="cosine"/> is their
    /// vectors' cosine; <paramref name="cosineFloor"/> null turns the strict test off (identical or contained only).
    /// </summary>
    public static DuplicateVerdict Judge(string oldText, string newText, double cosine, double? cosineFloor) =>
        Judge(oldText, Words(newText), cosine, cosineFloor);

    /// <summary>
    /// <see cref="Judge(string, string, double, double?)"/> with the new text already split by <see cref="Words"/>: a
    /// store judges up to 16 candidates against one new text, which was split again for each of them.
    /// </summary>
    internal static DuplicateVerdict Judge(string oldText, List<Word> incoming, double cosine, double? cosineFloor)
    {
        var old = Words(oldText);
        if (old.Count == 0 || incoming.Count == 0) return DuplicateVerdict.Distinct;
        if (old.SequenceEqual(incoming, WordComparer)) return DuplicateVerdict.Identical;
        if (Negations(old) != Negations(incoming)) return DuplicateVerdict.Distinct;
        if (old.Count >= MinContainedWords && Contains(incoming, old)) return DuplicateVerdict.Contained;
        if (cosineFloor is not { } floor || cosine < floor) return DuplicateVerdict.Distinct;
        // Same content words in the same order: only function words and endings differ. Distinctive tokens (numbers,
        // identifiers, names) are compared exactly, never stemmed, so "Roger"/"Rogers" or "v1"/"v2" stay apart.
        return ContentKeys(old).SequenceEqual(ContentKeys(incoming)) ? DuplicateVerdict.Restated : DuplicateVerdict.Distinct;
    }

    /// <summary>
    /// Containment needs an old text of a few words: a one-word "Thanks!" must not absorb a later turn that
    /// begins with it.
    /// </summary>
    public const int MinContainedWords = 3;

    /// <summary>
    /// What rules (1) and (3) compare: the content words in order, function words and endings set aside. Two texts this rule
    /// can call identical or restated always share it, so consolidation compares only texts that do (or that contain one another).
    /// </summary>
    public static string Signature(string text) => string.Join(' ', ContentKeys(Words(text)));

    /// <summary>The normalised form: NFKC, lower case, words split on white space, punctuation trimmed from word edges.</summary>
    public static string Normalize(string text) => string.Join(' ', Words(text).Select(w => w.Text));

    /// <summary>A word of the normalised text; <see cref="Distinctive"/> when it is a number, identifier or name.</summary>
    internal readonly record struct Word(string Text, bool Distinctive);

    private static readonly IEqualityComparer<Word> WordComparer = EqualityComparer<Word>.Create((a, b) => a.Text == b.Text, w => w.Text.GetHashCode());

    internal static List<Word> Words(string text)
    {
        var normal = NfkcNormalizer.Instance.Normalize(text).Replace('\u2019', '\'').Replace('\u2018', '\'');
        var words = new List<Word>();
        var first = true;
        foreach (var raw in normal.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            var trimmed = TrimEdges(raw);
            if (trimmed.Length == 0) continue;
            var sentenceStart = first;
            first = raw.EndsWith('.') || raw.EndsWith('!') || raw.EndsWith('?') || raw.EndsWith(':');
            var lower = trimmed.ToLowerInvariant();
            // A capital inside a sentence marks a name (Alice, Postgres, SIGTERM); numbers and internal punctuation
            // mark identifiers, versions, paths and URLs (8080, v1.2.3, billing-prod, src/app.ts).
            var distinctive = HasDigitOrMark(lower) || (!sentenceStart && HasUpper(trimmed, 0)) || HasUpper(trimmed, 1);
            // "isn't" → "is" "not", so that the contraction and the spelled-out form agree.
            if (lower.EndsWith("n't", StringComparison.Ordinal) && lower.Length > 3)
            {
                var stem = lower switch { "can't" => "can", "won't" => "will", "shan't" => "shall", _ => lower[..^3] };
                words.Add(new Word(stem, false));
                words.Add(new Word("not", false));
                continue;
            }
            words.Add(new Word(lower, distinctive));
        }
        return words;
    }

    /// <summary>A digit, or a character that is neither a letter nor an apostrophe (loops: this runs for every word of every text judged).</summary>
    private static bool HasDigitOrMark(string word)
    {
        foreach (var c in word)
            if (char.IsDigit(c) || (!char.IsLetter(c) && c != '\'')) return true;
        return false;
    }

    private static bool HasUpper(string word, int from)
    {
        for (var i = from; i < word.Length; i++)
            if (char.IsUpper(word[i])) return true;
        return false;
    }

    private static string TrimEdges(string word)
    {
        int start = 0, end = word.Length;
        while (start < end && !char.IsLetterOrDigit(word[start])) start++;
        while (end > start && !char.IsLetterOrDigit(word[end - 1])) end--;
        return word[start..end];
    }

    private static readonly HashSet<string> NegationWords = new(StringComparer.Ordinal)
    {
        "not", "no", "never", "none", "nothing", "nobody", "nowhere", "neither", "nor", "cannot",
    };

    private static int Negations(List<Word> words) => words.Count(w => NegationWords.Contains(w.Text));

    /// <summary>
    /// Words whose presence does not change what a sentence claims. Deliberately short: anything carrying polarity,
    /// direction, quantity, time or modality (before, after, from, only, all, must, should, will, …) is not here.
    /// </summary>
    private static readonly HashSet<string> FunctionWords = new(StringComparer.Ordinal)
    {
        "a", "an", "the", "is", "are", "was", "were", "be", "been", "being", "am", "it", "its", "this", "that", "these",
        "those", "of", "for", "to", "in", "on", "at", "by", "with", "as", "and", "also", "so", "we", "our", "us", "i",
        "my", "me", "you", "your", "they", "them", "their", "there", "here", "has", "have", "had", "do", "does", "did",
        "just", "currently", "which", "who", "please", "note", "fyi",
    };

    private static List<string> ContentKeys(List<Word> words) => words
        .Where(w => w.Distinctive || !FunctionWords.Contains(w.Text))
        .Select(w => w.Distinctive ? w.Text : Ending(w.Text))
        .ToList();

    /// <summary>
    /// The word without its inflection (-s, -es, -ies, -ed, -ing, a final -e, a doubled final consonant): a light,
    /// predictable cut (Porter stems "exceeds" and "exceeded" apart; this keeps derivations such as stateless /
    /// stateful apart).
    /// </summary>
    internal static string Ending(string word)
    {
        var w = word;
        if (w.Length > 4 && w.EndsWith("ies", StringComparison.Ordinal)) w = w[..^3] + "y";
        else if (w.Length >= 5 && w.EndsWith("ing", StringComparison.Ordinal)) w = Undouble(w[..^3]);
        else if (w.Length > 4 && w.EndsWith("ed", StringComparison.Ordinal)) w = Undouble(w[..^2]);
        else if (w.Length > 3 && w.EndsWith('s') && !w.EndsWith("ss", StringComparison.Ordinal)) w = w[..^1];
        if (w.Length > 2 && w.EndsWith('e')) w = w[..^1];
        return w;
    }

    private static string Undouble(string w) =>
        w.Length > 3 && w[^1] == w[^2] && !"aeioulsz".Contains(w[^1]) ? w[..^1] : w;

    private static bool Contains(List<Word> text, List<Word> part)
    {
        for (var start = 0; start + part.Count <= text.Count; start++)
        {
            var all = true;
            for (var i = 0; i < part.Count && all; i++) all = text[start + i].Text == part[i].Text;
            if (all) return true;
        }
        return false;
    }
}
