using Microsoft.ML.Tokenizers;

namespace McpMemory.Core.Briefing;

/// <summary>
/// Counts tokens as the agents' models see them, with OpenAI's cl100k_base (Microsoft.ML.Tokenizers; the vocabulary
/// is embedded in Microsoft.ML.Tokenizers.Data.Cl100kBase, so it works offline). Other model families tokenize a little
/// differently, but within a few percent on English and code: a budget of 1,500 stays about 1,500 for any of them.
/// Loaded once per process (about 0.2 s), on first use; thread-safe.
/// </summary>
public static class TokenCounter
{
    public const string Encoding = "cl100k_base";

    private static readonly Lazy<Tokenizer> Tokenizer = new(() => TiktokenTokenizer.CreateForEncoding(Encoding));

    /// <summary>Loads the vocabulary now (a server warms it before the first briefing; benchmarks time it apart).</summary>
    public static void Load() => _ = Tokenizer.Value;

    public static int Count(string text) => text.Length == 0 ? 0 : Tokenizer.Value.CountTokens(text);
}
