using System.Text;

namespace McpMemory.Core.Indexes.Keywords;

/// <summary>
/// The Porter stemmer as SQLite's FTS5 <c>porter</c> tokenizer applies it (tested against FTS5 itself): it works
/// on the UTF-8 bytes of a folded word of 3 to 64 bytes, treats every byte other than a, e, i, o, u (and y after a
/// consonant) as a consonant, and uses Porter's published departures (bli → ble, logi → log).
/// </summary>
public static class PorterStemmer
{
    private const int MaxBytes = 64;

    public static string Stem(string word)
    {
        var length = Encoding.UTF8.GetByteCount(word);
        if (length is < 3 or > MaxBytes) return word;
        Span<byte> buffer = stackalloc byte[MaxBytes + 2]; // step 1b may grow a word by one byte
        Encoding.UTF8.GetBytes(word, buffer);
        return Encoding.UTF8.GetString(buffer[..Stem(buffer, length)]);
    }

    private static int Stem(Span<byte> w, int n)
    {
        n = Step1A(w, n);
        if (Step1B(w, ref n) && !Step1BRestore(w, ref n))
        {
            var last = w[n - 1];
            if (n > 1 && !IsVowel(last, false) && last is not ((byte)'l' or (byte)'s' or (byte)'z') && last == w[n - 2]) n--;
            else if (MeasureIs1(w[..n]) && EndsCvc(w[..n])) w[n++] = (byte)'e';
        }
        if (w[n - 1] == 'y' && HasVowel(w[..(n - 1)])) w[n - 1] = (byte)'i';
        n = Replace(w, n, Step2);
        n = Replace(w, n, Step3);
        n = Replace(w, n, Step4);
        if (w[n - 1] == 'e' && (MeasureAbove1(w[..(n - 1)]) || (MeasureIs1(w[..(n - 1)]) && !EndsCvc(w[..(n - 1)])))) n--;
        if (n > 1 && w[n - 1] == 'l' && w[n - 2] == 'l' && MeasureAbove1(w[..(n - 1)])) n--;
        return n;
    }

    /// <summary>sses → ss, ies → i, other -es → -e, s → (not after s).</summary>
    private static int Step1A(Span<byte> w, int n)
    {
        if (w[n - 1] != 's') return n;
        if (w[n - 2] == 'e')
            return (n > 4 && w[n - 4] == 's' && w[n - 3] == 's') || (n > 3 && w[n - 3] == 'i') ? n - 2 : n - 1;
        return w[n - 2] != 's' ? n - 1 : n;
    }

    /// <summary>eed → ee (m &gt; 0); ed, ing → removed when the stem has a vowel (returns true: step 1b continues).</summary>
    private static bool Step1B(Span<byte> w, ref int n)
    {
        if (EndsWith(w, n, "eed"u8))
        {
            if (MeasureAbove0(w[..(n - 3)])) n -= 1;
            return false;
        }
        var removed = EndsWith(w, n, "ed"u8) ? 2 : EndsWith(w, n, "ing"u8) ? 3 : 0;
        if (removed == 0 || !HasVowel(w[..(n - removed)])) return false;
        n -= removed;
        return true;
    }

    /// <summary>at → ate, bl → ble, iz → ize after step 1b removed a suffix.</summary>
    private static bool Step1BRestore(Span<byte> w, ref int n)
    {
        if (EndsWith(w, n, "at"u8) || EndsWith(w, n, "bl"u8) || EndsWith(w, n, "iz"u8))
        {
            w[n++] = (byte)'e';
            return true;
        }
        return false;
    }

    private enum Condition { MeasureAbove0, MeasureAbove1, MeasureAbove1AfterSOrT }

    private sealed record Rule(byte[] Suffix, byte[] Replacement, Condition Condition);

    private static Rule R(string suffix, string replacement, Condition condition) =>
        new(Encoding.ASCII.GetBytes(suffix), Encoding.ASCII.GetBytes(replacement), condition);

    // Within each list the first suffix that matches decides, whether or not its condition holds.
    private static readonly Rule[] Step2 =
    [
        R("ational", "ate", Condition.MeasureAbove0), R("tional", "tion", Condition.MeasureAbove0),
        R("enci", "ence", Condition.MeasureAbove0), R("anci", "ance", Condition.MeasureAbove0),
        R("izer", "ize", Condition.MeasureAbove0), R("logi", "log", Condition.MeasureAbove0),
        R("bli", "ble", Condition.MeasureAbove0), R("alli", "al", Condition.MeasureAbove0),
        R("entli", "ent", Condition.MeasureAbove0), R("eli", "e", Condition.MeasureAbove0),
        R("ousli", "ous", Condition.MeasureAbove0), R("ization", "ize", Condition.MeasureAbove0),
        R("ation", "ate", Condition.MeasureAbove0), R("ator", "ate", Condition.MeasureAbove0),
        R("alism", "al", Condition.MeasureAbove0), R("iveness", "ive", Condition.MeasureAbove0),
        R("fulness", "ful", Condition.MeasureAbove0), R("ousness", "ous", Condition.MeasureAbove0),
        R("aliti", "al", Condition.MeasureAbove0), R("iviti", "ive", Condition.MeasureAbove0),
        R("biliti", "ble", Condition.MeasureAbove0),
    ];

    private static readonly Rule[] Step3 =
    [
        R("ical", "ic", Condition.MeasureAbove0), R("ness", "", Condition.MeasureAbove0),
        R("icate", "ic", Condition.MeasureAbove0), R("iciti", "ic", Condition.MeasureAbove0),
        R("ful", "", Condition.MeasureAbove0), R("ative", "", Condition.MeasureAbove0),
        R("alize", "al", Condition.MeasureAbove0),
    ];

    private static readonly Rule[] Step4 =
    [
        R("al", "", Condition.MeasureAbove1), R("ance", "", Condition.MeasureAbove1), R("ence", "", Condition.MeasureAbove1),
        R("er", "", Condition.MeasureAbove1), R("ic", "", Condition.MeasureAbove1), R("able", "", Condition.MeasureAbove1),
        R("ible", "", Condition.MeasureAbove1), R("ant", "", Condition.MeasureAbove1), R("ement", "", Condition.MeasureAbove1),
        R("ment", "", Condition.MeasureAbove1), R("ent", "", Condition.MeasureAbove1),
        R("ion", "", Condition.MeasureAbove1AfterSOrT), R("ou", "", Condition.MeasureAbove1),
        R("ism", "", Condition.MeasureAbove1), R("ate", "", Condition.MeasureAbove1), R("iti", "", Condition.MeasureAbove1),
        R("ous", "", Condition.MeasureAbove1), R("ive", "", Condition.MeasureAbove1), R("ize", "", Condition.MeasureAbove1),
    ];

    private static int Replace(Span<byte> w, int n, Rule[] rules)
    {
        foreach (var rule in rules)
        {
            if (!EndsWith(w, n, rule.Suffix)) continue;
            var stem = w[..(n - rule.Suffix.Length)];
            var holds = rule.Condition switch
            {
                Condition.MeasureAbove0 => MeasureAbove0(stem),
                Condition.MeasureAbove1 => MeasureAbove1(stem),
                _ => stem.Length > 0 && stem[^1] is (byte)'s' or (byte)'t' && MeasureAbove1(stem),
            };
            if (!holds) return n;
            rule.Replacement.CopyTo(w[stem.Length..]);
            return stem.Length + rule.Replacement.Length;
        }
        return n;
    }

    /// <summary>The suffix matches and is not the whole word.</summary>
    private static bool EndsWith(Span<byte> w, int n, ReadOnlySpan<byte> suffix) => n > suffix.Length && w[..n].EndsWith(suffix);

    private static bool IsVowel(byte c, bool yIsVowel) => c is (byte)'a' or (byte)'e' or (byte)'i' or (byte)'o' or (byte)'u' || (yIsVowel && c == 'y');

    /// <summary>Skips one vowel run then one consonant; returns the index after that consonant, or 0 when there is none.</summary>
    private static int SkipVowelsThenConsonant(ReadOnlySpan<byte> stem, bool previousIsConsonant)
    {
        var consonant = previousIsConsonant;
        var i = 0;
        for (; i < stem.Length; i++)
            if (!(consonant = !IsVowel(stem[i], consonant))) break;
        for (i++; i < stem.Length; i++)
            if (consonant = !IsVowel(stem[i], consonant)) return i + 1;
        return 0;
    }

    private static bool MeasureAbove0(ReadOnlySpan<byte> stem) => SkipVowelsThenConsonant(stem, false) != 0;

    private static bool MeasureAbove1(ReadOnlySpan<byte> stem)
    {
        var first = SkipVowelsThenConsonant(stem, false);
        return first != 0 && SkipVowelsThenConsonant(stem[first..], true) != 0;
    }

    private static bool MeasureIs1(ReadOnlySpan<byte> stem)
    {
        var first = SkipVowelsThenConsonant(stem, false);
        return first != 0 && SkipVowelsThenConsonant(stem[first..], true) == 0;
    }

    /// <summary>Porter's *o: the stem ends consonant-vowel-consonant, the last not w, x or y.</summary>
    private static bool EndsCvc(ReadOnlySpan<byte> stem)
    {
        if (stem[^1] is (byte)'w' or (byte)'x' or (byte)'y') return false;
        var mask = 0;
        var consonant = false;
        foreach (var c in stem)
        {
            consonant = !IsVowel(c, consonant);
            mask = (mask << 1) | (consonant ? 1 : 0);
        }
        return (mask & 7) == 5;
    }

    /// <summary>Porter's *v*: the stem holds a vowel (y counts after the first letter).</summary>
    private static bool HasVowel(ReadOnlySpan<byte> stem)
    {
        for (var i = 0; i < stem.Length; i++)
            if (IsVowel(stem[i], i > 0)) return true;
        return false;
    }
}
