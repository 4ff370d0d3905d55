using McpMemory.Core.Indexes.Keywords;

namespace McpMemory.Core.Indexes.Keywords;

/// <summary>
/// Turns any user text into a safe FTS5 MATCH expression. The text is split into words exactly as the
/// unicode61 tokenizer splits it, each word is quoted, stop words are dropped, and the
/// rest are OR-ed so that a natural-language question finds what shares its words, ranked by BM25.
/// No character of the user's text is ever read as FTS5 syntax (quotes, NEAR, *, ^, column filters, parentheses).
/// </summary>
public static class FtsQuery
{
    public const int MaxTerms = 64;

    /// <summary>The MATCH expression, or null when the text holds no searchable word.</summary>
    public static string? Build(string text)
    {
        var terms = Terms(text);
        // Only letters and digits remain, so wrapping in double quotes makes each a plain string token.
        return terms.Count == 0 ? null : string.Join(" OR ", terms.Select(t => "\"" + t + "\""));
    }

    /// <summary>
    /// The words of a query as FTS5 splits and folds them (<see cref="Unicode61"/>), stop words dropped unless
    /// nothing else is left, each once, at most <see cref="MaxTerms"/>. Not yet stemmed: FTS5 stems them itself.
    /// </summary>
    public static List<string> Terms(string text)
    {
        var words = Unicode61.Words(text);
        var content = words.Where(w => !StopWords.Contains(w)).ToList();
        return [.. (content.Count > 0 ? content : words).Distinct().Take(MaxTerms)];
    }

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "about", "above", "after", "again", "all", "am", "an", "and", "any", "are", "as", "at", "be",
        "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did",
        "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have",
        "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in",
        "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not",
        "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over",
        "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them",
        "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under",
        "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom",
        "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves", "s", "t", "d", "ll",
        "m", "re", "ve", "don", "didn", "doesn", "isn", "wasn", "weren", "won",
    };
}
