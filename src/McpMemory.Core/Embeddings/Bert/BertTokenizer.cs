namespace McpMemory.Core.Embeddings.Bert;

/// <summary>
/// The uncased BERT WordPiece tokenizer (bert-base-uncased, snowflake-arctic-embed-xs, all-MiniLM-L6-v2), giving the
/// same ids as Hugging Face's <c>tokenizers</c> with BertNormalizer (clean text, CJK padding, strip accents,
/// lowercase), BertPreTokenizer, WordPiece (## continuations, at most 100 chars a word) and [CLS] … [SEP].
/// </summary>
/// <remarks>
/// One pass over the text: special tokens written literally ("[SEP]", "[MASK]", …, case-sensitive) are matched on the
/// raw text first, as Hugging Face's added vocabulary does; every other code point is normalised and classified by
/// <see cref="BertNormalization"/>, and each finished word goes through WordPiece straight away. Scanning stops once
/// the truncation budget is full, so a long text costs no more than its first <c>maxTokens</c> pieces.
/// WordPiece is our own loop (longest match first, by span lookups into the vocabulary) rather than
/// Microsoft.ML.Tokenizers: its BERT pre-tokenizer and normaliser differ from the reference (backticks dropped,
/// <c>=</c> and <c>_</c> not split, tabs and newlines not spaces), so only its WordPiece step could be reused, and
/// that step is a dozen lines here without a package or a string per word.
/// Thread-safe: the vocabulary is immutable and each thread has its own scratch buffers.
/// </remarks>
public sealed class BertTokenizer : ITextTokenizer
{
    /// <summary>A word longer than this many code points (after normalisation) becomes [UNK], as in the reference.</summary>
    public const int MaxCharsPerWord = 100;

    private const string ContinuationPrefix = "##";
    private static readonly string[] SpecialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    private readonly Dictionary<string, int> _wordStarts;
    private readonly Dictionary<string, int> _continuations; // keyed without the "##"
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _wordStartLookup;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _continuationLookup;
    private readonly int _maxWordStartChars;
    private readonly int _maxContinuationChars;
    private readonly (string Text, int Id)[] _specialTokens;
    private readonly BertNormalization _normalization = BertNormalization.Instance;
    private readonly int _wordBufferChars;

    [ThreadStatic] private static Workspace? t_workspace;

    /// <summary>Id of [CLS], which starts every sequence.</summary>
    public int ClsId { get; }

    /// <summary>Id of [SEP], which ends every sequence.</summary>
    public int SepId { get; }

    /// <summary>Id of [UNK], emitted for a word no sequence of pieces covers.</summary>
    public int UnknownId { get; }

    /// <summary>Number of lines in the vocabulary.</summary>
    public int VocabularySize { get; }

    private BertTokenizer(IEnumerable<string> vocabularyLines)
    {
        _wordStarts = new Dictionary<string, int>(32768, StringComparer.Ordinal);
        _continuations = new Dictionary<string, int>(8192, StringComparer.Ordinal);
        int id = 0;
        foreach (string line in vocabularyLines)
        {
            // Hugging Face trims trailing whitespace; a repeated token keeps its last id, as in its reader.
            string token = line.TrimEnd();
            if (token.Length > ContinuationPrefix.Length && token.StartsWith(ContinuationPrefix, StringComparison.Ordinal))
                _continuations[token[ContinuationPrefix.Length..]] = id;
            else
                _wordStarts[token] = id;
            id++;
        }
        VocabularySize = id;
        UnknownId = Required("[UNK]");
        ClsId = Required("[CLS]");
        SepId = Required("[SEP]");
        _specialTokens = SpecialTokens.Where(_wordStarts.ContainsKey).Select(t => (t, _wordStarts[t])).ToArray();
        _wordStartLookup = _wordStarts.GetAlternateLookup<ReadOnlySpan<char>>();
        _continuationLookup = _continuations.GetAlternateLookup<ReadOnlySpan<char>>();
        _maxWordStartChars = _wordStarts.Keys.Max(k => k.Length);
        _maxContinuationChars = _continuations.Count == 0 ? 0 : _continuations.Keys.Max(k => k.Length);
        // Chars are stored only up to MaxCharsPerWord + 1 code points; past that the word is [UNK] anyway.
        _wordBufferChars = (MaxCharsPerWord + 1) * Math.Max(2, _normalization.MaxOutputChars);
    }

    /// <summary>Loads a WordPiece <c>vocab.txt</c> (one token per line, the line number is the id).</summary>
    public static BertTokenizer Load(string vocabTxtPath) => new(File.ReadLines(vocabTxtPath));

    /// <summary>Reads a WordPiece <c>vocab.txt</c> from <paramref name="vocabTxt"/> (UTF-8, LF or CRLF).</summary>
    public static BertTokenizer FromStream(Stream vocabTxt)
    {
        using var reader = new StreamReader(vocabTxt, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        var lines = new List<string>(32768);
        while (reader.ReadLine() is { } line) lines.Add(line);
        return new BertTokenizer(lines);
    }

    /// <summary>Builds the tokenizer from the lines of a <c>vocab.txt</c>: token i is line i.</summary>
    public static BertTokenizer FromLines(IEnumerable<string> vocabularyLines) => new(vocabularyLines);

    private int Required(string token) => _wordStarts.TryGetValue(token, out int id)
        ? id
        : throw new InvalidDataException($"vocab.txt: the special token {token} is missing.");

    /// <inheritdoc />
    /// <remarks>Truncation keeps the first <c>maxTokens - 2</c> pieces, as Hugging Face's does.</remarks>
    public long[] Encode(string text, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (maxTokens < 2)
            throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, $"maxTokens: must be at least 2 for [CLS] and [SEP] (got {maxTokens})");

        var w = t_workspace ??= new Workspace();
        var state = new ScanState(w.Word(_wordBufferChars), w.Ids(IdCapacity(text, maxTokens)), maxTokens - 2);
        state.Ids[state.Count++] = ClsId;
        Scan(text, ref state);
        FlushWord(ref state);
        if (state.Count > maxTokens - 1) state.Count = maxTokens - 1;
        state.Ids[state.Count++] = SepId;
        return state.Ids.AsSpan(0, state.Count).ToArray();
    }

    // Room for [CLS], the budget, and the pieces of one word that may overshoot it; never more than the text can make.
    private int IdCapacity(string text, int maxTokens) =>
        (int)Math.Min(maxTokens, (long)text.Length * _normalization.MaxOutputChars + 2) + MaxCharsPerWord + 1;

    private void Scan(string text, ref ScanState state)
    {
        Span<char> hangul = stackalloc char[3];
        int i = 0;
        while (i < text.Length && !state.Full)
        {
            char c = text[i];
            if (c == '[' && TryMatchSpecialToken(text, i, out int specialId, out int specialLength))
            {
                FlushWord(ref state);
                state.AddPiece(specialId);
                i += specialLength;
                continue;
            }
            // ASCII fast path: letters and digits join the word (upper case lowered); everything else goes by the table.
            if ((uint)(c - 'a') <= 'z' - 'a' || (uint)(c - '0') <= 9) { state.AppendToWord(c); i++; continue; }
            if ((uint)(c - 'A') <= 'Z' - 'A') { state.AppendToWord((char)(c | 0x20)); i++; continue; }

            int codePoint = c;
            int width = 1;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                codePoint = char.ConvertToUtf32(c, text[i + 1]);
                width = 2;
            }
            ReadOnlySpan<char> original = text.AsSpan(i, width);
            i += width;

            switch (_normalization.KindOf(codePoint))
            {
                case BertCharKind.Keep:
                    state.AppendToWord(original);
                    break;
                case BertCharKind.Drop:
                    break;
                case BertCharKind.Space:
                    FlushWord(ref state);
                    break;
                case BertCharKind.Isolated:
                    FlushWord(ref state);
                    state.AppendToWord(original);
                    FlushWord(ref state);
                    break;
                case BertCharKind.Mapped:
                    state.AppendToWord(_normalization.MappingOf(codePoint));
                    break;
                case BertCharKind.MappedIsolated:
                    FlushWord(ref state);
                    state.AppendToWord(_normalization.MappingOf(codePoint));
                    FlushWord(ref state);
                    break;
                case BertCharKind.Hangul:
                    state.AppendToWord(hangul[..BertNormalization.DecomposeHangul(codePoint, hangul)]);
                    break;
            }
        }
    }

    private bool TryMatchSpecialToken(string text, int index, out int id, out int length)
    {
        ReadOnlySpan<char> rest = text.AsSpan(index);
        foreach (var (token, tokenId) in _specialTokens)
        {
            if (rest.StartsWith(token, StringComparison.Ordinal))
            {
                id = tokenId;
                length = token.Length;
                return true;
            }
        }
        id = length = 0;
        return false;
    }

    // WordPiece over the buffered word: longest vocabulary match first, then "##" continuations; if some position
    // has no match, the whole word is [UNK]. Pieces may run past the budget; Encode cuts them off.
    private void FlushWord(ref ScanState state)
    {
        if (state.WordLength == 0) return;
        ReadOnlySpan<char> word = state.Word.AsSpan(0, state.WordLength);
        bool tooLong = state.WordCodePoints > MaxCharsPerWord;
        state.WordLength = 0;
        state.WordCodePoints = 0;
        if (tooLong)
        {
            state.AddPiece(UnknownId);
            return;
        }

        int firstPiece = state.Count;
        int start = 0;
        while (start < word.Length)
        {
            bool continuation = start > 0;
            // No piece is longer than the longest vocabulary entry, so longer candidates need no lookup.
            int end = Math.Min(word.Length, start + (continuation ? _maxContinuationChars : _maxWordStartChars));
            if (end < word.Length && char.IsLowSurrogate(word[end])) end--;
            int pieceId = -1;
            while (end > start)
            {
                ReadOnlySpan<char> candidate = word[start..end];
                if ((continuation ? _continuationLookup : _wordStartLookup).TryGetValue(candidate, out pieceId)) break;
                pieceId = -1;
                end -= end - start >= 2 && char.IsLowSurrogate(word[end - 1]) && char.IsHighSurrogate(word[end - 2]) ? 2 : 1;
            }
            if (pieceId < 0)
            {
                state.Count = firstPiece;
                state.AddPiece(UnknownId);
                return;
            }
            state.Ids[state.Count++] = pieceId;
            start = end;
        }
    }

    private struct ScanState(char[] word, long[] ids, int budget)
    {
        public readonly char[] Word = word;
        public readonly long[] Ids = ids;
        public int WordLength;
        public int WordCodePoints;
        public int Count; // ids written, [CLS] included

        // Pieces (everything after [CLS]) that fit; once reached, the rest of the text cannot change the result.
        public readonly bool Full => Count - 1 >= budget;

        public void AddPiece(int id) => Ids[Count++] = id;

        public void AppendToWord(char c)
        {
            if (++WordCodePoints <= MaxCharsPerWord + 1) Word[WordLength++] = c;
        }

        public void AppendToWord(ReadOnlySpan<char> chars)
        {
            // chars is the normalised form of one input code point: count its code points.
            for (int i = 0; i < chars.Length; i++)
                if (!char.IsLowSurrogate(chars[i]) || i == 0 || !char.IsHighSurrogate(chars[i - 1])) WordCodePoints++;
            if (WordCodePoints > MaxCharsPerWord + 1) return;
            chars.CopyTo(Word.AsSpan(WordLength));
            WordLength += chars.Length;
        }
    }

    // Per-thread scratch: the word being built and the ids, reused across calls.
    private sealed class Workspace
    {
        private char[] _word = [];
        private long[] _ids = [];

        public char[] Word(int length) => _word.Length >= length ? _word : _word = new char[length];

        public long[] Ids(int length) => _ids.Length >= length ? _ids : _ids = new long[Math.Max(length, _ids.Length * 2)];
    }
}
