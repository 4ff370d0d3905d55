using System.Buffers;
using System.Text.Json;
using McpMemory.Core.Embeddings.Unicode;

namespace McpMemory.Core.Embeddings;

/// <summary>
/// The Universal Sentence Encoder lite tokenizer: a port of <c>Tokenizer.encode</c> from
/// <c>@energetic-ai/embeddings</c> 0.2.0, quirks included, so that token ids are identical to the reference.
/// </summary>
/// <remarks>
/// Steps: NFKC; prefix U+2581 and replace every U+0020 by U+2581; Viterbi over the vocabulary maximising the
/// summed piece scores (scores are summed in double precision, as JavaScript does); backtrack; collapse runs of
/// unknowns (id 0). The quirks kept on purpose: a best score of exactly 0 counts as "unset" and is always
/// replaced, ties go to the later candidate, <c>null</c> scores count as 0, and a duplicated piece keeps its
/// last id. Thread-safe: all state is immutable after construction.
/// </remarks>
public sealed class SentencePieceTokenizer
{
    /// <summary>The word-boundary mark that replaces spaces.</summary>
    public const char WordMark = '\u2581';

    /// <summary>Id emitted for characters no piece covers; runs of them collapse into one.</summary>
    public const int UnknownId = 0;

    /// <summary>Ids 0..5 are reserved (unknown, &lt;s&gt;, &lt;/s&gt;, extra tokens) and never match text.</summary>
    public const int ReservedCount = 6;

    private const int NoPiece = -1;

    // Trie over code points. Node 0 is the root. Children are found through one hash map keyed by
    // (node, code point), which keeps the structure compact and lookups allocation-free.
    private readonly Dictionary<long, int> _children;
    private readonly int[] _nodePiece;
    private readonly double[] _pieceScore;
    private readonly int[] _pieceUtf16Length;

    /// <summary>Number of entries in the vocabulary, reserved ids included.</summary>
    public int VocabularySize => _pieceScore.Length;

    private SentencePieceTokenizer(Dictionary<long, int> children, int[] nodePiece, double[] pieceScore, int[] pieceUtf16Length)
    {
        _children = children;
        _nodePiece = nodePiece;
        _pieceScore = pieceScore;
        _pieceUtf16Length = pieceUtf16Length;
    }

    /// <summary>Loads the vocabulary from a <c>vocab.json</c> file: a JSON array of <c>[piece, score]</c>.</summary>
    public static SentencePieceTokenizer FromVocabularyFile(string path) => FromVocabularyJson(File.ReadAllBytes(path));

    /// <summary>Builds the tokenizer from the UTF-8 bytes of a <c>vocab.json</c> document.</summary>
    public static SentencePieceTokenizer FromVocabularyJson(ReadOnlySpan<byte> utf8Json)
    {
        var pieces = new List<string>(8192);
        var scores = new List<double>(8192);
        var reader = new Utf8JsonReader(utf8Json);
        Expect(ref reader, JsonTokenType.StartArray);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartArray) throw new InvalidDataException("vocab.json: expected [piece, score].");
            Expect(ref reader, JsonTokenType.String);
            pieces.Add(reader.GetString()!);
            reader.Read();
            // The reference adds a null score as 0 (JavaScript: null + x === x).
            scores.Add(reader.TokenType == JsonTokenType.Null ? 0.0 : reader.GetDouble());
            Expect(ref reader, JsonTokenType.EndArray);
        }
        if (pieces.Count <= ReservedCount) throw new InvalidDataException("vocab.json: too few entries.");

        var children = new Dictionary<long, int>(pieces.Count * 4);
        var nodePiece = new List<int> { NoPiece };
        for (int id = ReservedCount; id < pieces.Count; id++)
        {
            int node = 0;
            string piece = pieces[id];
            for (int i = 0; i < piece.Length; i++)
            {
                int cp = CodePointAt(piece, ref i);
                long key = ChildKey(node, cp);
                if (!children.TryGetValue(key, out int child))
                {
                    child = nodePiece.Count;
                    nodePiece.Add(NoPiece);
                    children.Add(key, child);
                }
                node = child;
            }
            // A piece listed twice keeps its last id, as in the reference trie.
            nodePiece[node] = id;
        }

        var utf16Length = new int[pieces.Count];
        for (int id = 0; id < pieces.Count; id++) utf16Length[id] = pieces[id].Length;
        return new SentencePieceTokenizer(children, nodePiece.ToArray(), scores.ToArray(), utf16Length);
    }

    /// <summary>Token ids of <paramref name="text"/>, uncapped. An empty text (after NFKC) gives no ids.</summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string normalized = NfkcNormalizer.Instance.Normalize(text);
        if (normalized.Length == 0) return [];

        // Code points of "▁" + normalized with spaces replaced by "▁".
        int[] symbols = ArrayPool<int>.Shared.Rent(normalized.Length + 1);
        double[] best = ArrayPool<double>.Shared.Rent(normalized.Length + 2);
        int[] words = ArrayPool<int>.Shared.Rent(normalized.Length + 2);
        try
        {
            int n = 0;
            symbols[n++] = WordMark;
            for (int i = 0; i < normalized.Length; i++)
            {
                int cp = CodePointAt(normalized, ref i);
                symbols[n++] = cp == ' ' ? WordMark : cp;
            }
            Array.Clear(best, 0, n + 1);
            Array.Clear(words, 0, n + 1);

            // Forward Viterbi. Processing starts in ascending order is equivalent to the reference's loop over
            // end positions with starts ascending: best[start] is final when start is reached.
            for (int start = 0; start < n; start++)
            {
                int node = 0;
                bool anyPiece = false;
                for (int end = start + 1; end <= n; end++)
                {
                    if (!_children.TryGetValue(ChildKey(node, symbols[end - 1]), out node)) break;
                    int id = _nodePiece[node];
                    if (id == NoPiece) continue;
                    anyPiece = true;
                    Relax(best, words, start, end, id, _pieceScore[id]);
                }
                if (!anyPiece) Relax(best, words, start, start + 1, UnknownId, 0.0);
            }

            // Backtrack by the UTF-16 length of each piece, as the reference does (no piece has astral characters,
            // so this equals the code-point length).
            var reversed = new List<int>(Math.Min(n, 256));
            for (int position = n; position > 0; position -= _pieceUtf16Length[words[position]])
                reversed.Add(words[position]);

            var ids = new List<int>(reversed.Count);
            bool previousUnknown = false;
            for (int i = 0; i < reversed.Count; i++)
            {
                int id = reversed[i];
                if (!(previousUnknown && id == UnknownId)) ids.Add(id);
                previousUnknown = id == UnknownId;
            }
            ids.Reverse();
            return ids.ToArray();
        }
        finally
        {
            ArrayPool<int>.Shared.Return(symbols);
            ArrayPool<double>.Shared.Return(best);
            ArrayPool<int>.Shared.Return(words);
        }
    }

    private static void Relax(double[] best, int[] words, int start, int end, int id, double score)
    {
        double total = score + best[start];
        // Quirk kept from the reference: 0 doubles as "unset", and ties go to the later candidate.
        if (best[end] == 0 || total >= best[end])
        {
            best[end] = total;
            words[end] = id;
        }
    }

    private static long ChildKey(int node, int codePoint) => ((long)node << 21) | (uint)codePoint;

    private static int CodePointAt(string s, ref int i)
    {
        char c = s[i];
        if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            return char.ConvertToUtf32(c, s[++i]);
        return c;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type)
    {
        if (!reader.Read() || reader.TokenType != type)
            throw new InvalidDataException($"vocab.json: expected {type} at byte {reader.TokenStartIndex}.");
    }
}
