using System.Globalization;
using System.Reflection;
using System.Text;

namespace McpMemory.Core.Embeddings.Bert;

/// <summary>What BERT's normaliser and pre-tokenizer do with one code point.</summary>
internal enum BertCharKind : byte
{
    /// <summary>Kept as it is, inside the current word.</summary>
    Keep = 0,
    /// <summary>Removed (controls, format characters, private use, U+FFFD, lone surrogates).</summary>
    Drop,
    /// <summary>Whitespace: ends the current word.</summary>
    Space,
    /// <summary>A word on its own: punctuation and CJK ideographs.</summary>
    Isolated,
    /// <summary>Replaced (lowercased, accents stripped) inside the current word.</summary>
    Mapped,
    /// <summary>Replaced, and a word on its own.</summary>
    MappedIsolated,
    /// <summary>A Hangul syllable: decomposed into its jamo inside the current word.</summary>
    Hangul,
}

/// <summary>
/// Hugging Face's BertNormalizer (clean text, CJK padding, NFD, drop non-spacing marks, lowercase) and the
/// character classes of its BertPreTokenizer, as a per-code-point table: <c>bert-normalization.txt</c>, generated
/// from the reference implementation itself by <c>make-bert-table.js</c> (see there why not from .NET or ICU).
/// Immutable after loading, thread-safe.
/// </summary>
internal sealed class BertNormalization
{
    private const string ResourceName = "McpMemory.Core.Embeddings.Bert.bert-normalization.txt";
    private const int HangulFirst = 0xAC00, HangulLast = 0xD7A3;

    private static readonly Lazy<BertNormalization> Shared = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The table built from the embedded resource; loaded once.</summary>
    public static BertNormalization Instance => Shared.Value;

    // The Basic Multilingual Plane by direct index (64 KB); the rest, which is mostly unlisted, by binary search.
    private readonly BertCharKind[] _bmp;
    private readonly int[] _supplementaryFirst;
    private readonly int[] _supplementaryLast;
    private readonly BertCharKind[] _supplementaryKind;
    private readonly Dictionary<int, string> _mappings;

    /// <summary>The most UTF-16 chars one code point turns into (sizes the word buffer).</summary>
    public int MaxOutputChars { get; }

    private BertNormalization(BertCharKind[] bmp, int[] supplementaryFirst, int[] supplementaryLast,
        BertCharKind[] supplementaryKind, Dictionary<int, string> mappings, int maxOutputChars)
    {
        _bmp = bmp;
        _supplementaryFirst = supplementaryFirst;
        _supplementaryLast = supplementaryLast;
        _supplementaryKind = supplementaryKind;
        _mappings = mappings;
        MaxOutputChars = maxOutputChars;
    }

    /// <summary>The kind of <paramref name="codePoint"/> (a scalar value, not a surrogate).</summary>
    public BertCharKind KindOf(int codePoint)
    {
        if (codePoint <= 0xFFFF) return _bmp[codePoint];
        int lo = 0, hi = _supplementaryFirst.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (codePoint < _supplementaryFirst[mid]) hi = mid - 1;
            else if (codePoint > _supplementaryLast[mid]) lo = mid + 1;
            else return _supplementaryKind[mid];
        }
        return BertCharKind.Keep;
    }

    /// <summary>The replacement of a <see cref="BertCharKind.Mapped"/> or <see cref="BertCharKind.MappedIsolated"/> code point.</summary>
    public string MappingOf(int codePoint) => _mappings[codePoint];

    /// <summary>Writes the jamo of Hangul syllable <paramref name="codePoint"/>; returns how many (2 or 3).</summary>
    public static int DecomposeHangul(int codePoint, Span<char> destination)
    {
        int s = codePoint - HangulFirst;
        destination[0] = (char)(0x1100 + s / 588);
        destination[1] = (char)(0x1161 + s % 588 / 28);
        int t = s % 28;
        if (t == 0) return 2;
        destination[2] = (char)(0x11A7 + t);
        return 3;
    }

    private static BertNormalization Load()
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource {ResourceName} is missing from McpMemory.Core.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var bmp = new BertCharKind[0x10000];
        var supplementary = new List<(int First, int Last, BertCharKind Kind)>();
        var mappings = new Dictionary<int, string>(4096);
        int maxOutputChars = 3; // a Hangul syllable's jamo
        void Set(int first, int last, BertCharKind kind)
        {
            for (int cp = first; cp <= Math.Min(last, 0xFFFF); cp++) bmp[cp] = kind;
            if (last > 0xFFFF) supplementary.Add((Math.Max(first, 0x10000), last, kind));
        }

        while (reader.ReadLine() is { } line)
        {
            if (line.Length < 2 || line[0] == '#') continue;
            string[] fields = line[2..].Split(' ');
            switch (line[0])
            {
                case 'D': Set(Hex(fields[0]), Hex(fields[1]), BertCharKind.Drop); break;
                case 'S': Set(Hex(fields[0]), Hex(fields[1]), BertCharKind.Space); break;
                case 'I': Set(Hex(fields[0]), Hex(fields[1]), BertCharKind.Isolated); break;
                case 'M':
                case 'N':
                    int cp = Hex(fields[0]);
                    var output = new StringBuilder();
                    for (int i = 1; i < fields.Length; i++) output.Append(char.ConvertFromUtf32(Hex(fields[i])));
                    mappings[cp] = output.ToString();
                    maxOutputChars = Math.Max(maxOutputChars, output.Length);
                    Set(cp, cp, line[0] == 'M' ? BertCharKind.Mapped : BertCharKind.MappedIsolated);
                    break;
                default:
                    throw new InvalidDataException($"bert-normalization.txt: unexpected line '{line}'.");
            }
        }
        for (int cp = HangulFirst; cp <= HangulLast; cp++) bmp[cp] = BertCharKind.Hangul;
        // Surrogate code units reach the table only when unpaired: drop them, as U+FFFD (what a UTF-8 encoder makes of them) is dropped.
        for (int cp = 0xD800; cp <= 0xDFFF; cp++) bmp[cp] = BertCharKind.Drop;

        supplementary.Sort((a, b) => a.First.CompareTo(b.First));
        return new BertNormalization(bmp, supplementary.Select(r => r.First).ToArray(),
            supplementary.Select(r => r.Last).ToArray(), supplementary.Select(r => r.Kind).ToArray(), mappings, maxOutputChars);
    }

    private static int Hex(string s) => int.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
