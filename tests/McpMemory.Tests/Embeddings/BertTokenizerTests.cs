using System.Text;
using System.Text.Json;
using FluentAssertions;
using McpMemory.Core.Embeddings.Bert;
using Xunit;

namespace McpMemory.Tests.Embeddings;

/// <summary>
/// BertTokenizer against Hugging Face's own tokenizer (npm tokenizers 0.23.2): the shared reference set
/// (../shared/tools/bert-reference: 202 texts, document and query mode) and our own coding-agent texts
/// and seeded random strings (bert-agent-*.json*, bert-random.jsonl, made by make-bert-agent-data.js), id for id.
/// </summary>
public sealed class BertTokenizerTests
{
    private const string QueryPrefix = "Represent this sentence for searching relevant passages: ";
    private const int MaxTokens = 512;

    private static readonly Lazy<string> RepoRoot = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "McpMemory.sln"))) return dir.FullName;
        throw new InvalidOperationException($"McpMemory.sln not found above {AppContext.BaseDirectory}");
    });

    private static readonly Lazy<BertTokenizer> Tokenizer = new(() => BertTokenizer.Load(VocabPath));

    private static string VocabPath => Path.Combine(RepoRoot.Value, "models", "arctic-embed-xs", "vocab.txt");

    // The shared folder sits beside the clone in CI (../shared) and higher up on a worktree; look in every ancestor.
    internal static string ReferenceDirectory()
    {
        var looked = new List<string>();
        for (var dir = new DirectoryInfo(RepoRoot.Value).Parent; dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "tools", "bert-reference");
            if (File.Exists(Path.Combine(candidate, "ids.jsonl"))) return candidate;
            looked.Add(candidate);
        }
        throw new InvalidOperationException(
            "The BERT reference data (shared/tools/bert-reference/texts.json and ids.jsonl) is missing; it belongs beside the clone. Looked in: "
            + string.Join(", ", looked));
    }

    private sealed record Expected(int Index, bool Query, long[] Ids, string[] Tokens);

    private static List<Expected> ReadIds(string path) => File.ReadLines(path)
        .Where(line => line.Length > 0)
        .Select(line =>
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            return new Expected(root.GetProperty("index").GetInt32(), root.GetProperty("query").GetBoolean(),
                root.GetProperty("ids").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
                root.GetProperty("tokens").EnumerateArray().Select(e => e.GetString()!).ToArray());
        })
        .ToList();

    internal static string[] ReadTexts(string path) => JsonSerializer.Deserialize<string[]>(File.ReadAllText(path))!;

    private static List<string> Mismatches(string[] texts, List<Expected> expected)
    {
        var mismatches = new List<string>();
        foreach (var e in expected)
        {
            string text = (e.Query ? QueryPrefix : "") + texts[e.Index];
            long[] actual = Tokenizer.Value.Encode(text, MaxTokens);
            if (actual.SequenceEqual(e.Ids)) continue;
            int at = 0;
            while (at < Math.Min(actual.Length, e.Ids.Length) && actual[at] == e.Ids[at]) at++;
            mismatches.Add($"text {e.Index} ({(e.Query ? "query" : "document")}) {JsonSerializer.Serialize(texts[e.Index][..Math.Min(60, texts[e.Index].Length)])}: "
                + $"first difference at {at}: expected {(at < e.Ids.Length ? $"{e.Ids[at]} '{e.Tokens[at]}'" : "end")}, "
                + $"got {(at < actual.Length ? actual[at].ToString() : "end")}");
        }
        return mismatches;
    }

    [Fact]
    public void Ids_equal_hugging_face_for_every_reference_text_in_both_modes()
    {
        string dir = ReferenceDirectory();
        string[] texts = ReadTexts(Path.Combine(dir, "texts.json"));
        var expected = ReadIds(Path.Combine(dir, "ids.jsonl"));
        texts.Should().HaveCountGreaterThanOrEqualTo(200);
        expected.Should().HaveCount(texts.Length * 2);
        expected.Should().Contain(e => e.Ids.Length == MaxTokens, "the reference holds texts that are truncated");
        Mismatches(texts, expected).Should().BeEmpty();
    }

    [Fact]
    public void Ids_equal_hugging_face_for_coding_agent_texts()
    {
        string[] texts = ReadTexts(GoldenData.PathOf("bert-agent-texts.json"));
        var expected = ReadIds(GoldenData.PathOf("bert-agent-ids.jsonl"));
        texts.Should().HaveCountGreaterThanOrEqualTo(20);
        expected.Should().HaveCount(texts.Length * 2);
        Mismatches(texts, expected).Should().BeEmpty();
    }

    [Fact]
    public void Ids_equal_hugging_face_for_random_strings_over_every_character_kind()
    {
        var failures = new List<string>();
        int count = 0;
        foreach (string line in File.ReadLines(GoldenData.PathOf("bert-random.jsonl")))
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            string text = doc.RootElement.GetProperty("text").GetString()!;
            long[] expected = doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            long[] actual = Tokenizer.Value.Encode(text, MaxTokens);
            count++;
            if (!actual.SequenceEqual(expected))
                failures.Add($"{JsonSerializer.Serialize(text)}: expected [{string.Join(",", expected)}] got [{string.Join(",", actual)}]");
        }
        count.Should().BeGreaterThanOrEqualTo(300);
        failures.Should().BeEmpty();
    }

    [Fact]
    public void Truncation_keeps_the_first_pieces_between_cls_and_sep()
    {
        var tokenizer = Tokenizer.Value;
        string text = string.Join(" ", Enumerable.Range(0, 400).Select(i => $"step {i}: run `make test` in src/module_{i}"));
        long[] full = tokenizer.Encode(text, 100_000);
        full.Length.Should().BeGreaterThan(2000);

        long[] capped = tokenizer.Encode(text, MaxTokens);
        capped.Should().HaveCount(MaxTokens);
        capped[..^1].Should().Equal(full[..(MaxTokens - 1)]);
        capped[^1].Should().Be(tokenizer.SepId);

        foreach (int max in new[] { 2, 3, 4, 17, 511 })
            tokenizer.Encode(text, max).Should().Equal([.. full[..(max - 1)], tokenizer.SepId], $"maxTokens {max}");
        tokenizer.Encode("short text", MaxTokens).Should().Equal(tokenizer.Encode("short text", 100_000));
    }

    [Fact]
    public void Max_tokens_below_two_is_refused_naming_the_argument()
    {
        var act = () => Tokenizer.Value.Encode("hello", 1);
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("maxTokens: must be at least 2*(got 1)*");
    }

    [Fact]
    public void Empty_and_whitespace_only_texts_are_cls_sep()
    {
        var tokenizer = Tokenizer.Value;
        long[] clsSep = [tokenizer.ClsId, tokenizer.SepId];
        tokenizer.Encode("", MaxTokens).Should().Equal(clsSep);
        tokenizer.Encode(" \t\r\n\u00A0\u3000\u0000\uFFFD", MaxTokens).Should().Equal(clsSep);
    }

    [Fact]
    public void Unpaired_surrogates_are_dropped_like_the_replacement_character()
    {
        // A UTF-8 encoder (the reference gets UTF-8) turns an unpaired surrogate into U+FFFD, which is dropped.
        var tokenizer = Tokenizer.Value;
        tokenizer.Encode("ab\uD800cd x\uDC00y", MaxTokens).Should().Equal(tokenizer.Encode("ab\uFFFDcd x\uFFFDy", MaxTokens))
            .And.Equal(tokenizer.Encode("abcd xy", MaxTokens));
    }

    [Fact]
    public void A_word_over_100_characters_after_normalisation_is_unknown()
    {
        var tokenizer = Tokenizer.Value;
        tokenizer.Encode(new string('a', 100), MaxTokens).Should().NotContain(tokenizer.UnknownId);
        tokenizer.Encode(new string('a', 101), MaxTokens).Should().Equal(tokenizer.ClsId, tokenizer.UnknownId, tokenizer.SepId);
        // Counted in code points: 100 supplementary characters are 200 UTF-16 chars but within the limit (and unknown
        // to the vocabulary either way); 50 Hangul syllables decompose into 100 jamo, 51 into 102.
        tokenizer.Encode(string.Concat(Enumerable.Repeat("가", 50)), MaxTokens).Length.Should().BeGreaterThan(3);
        tokenizer.Encode(string.Concat(Enumerable.Repeat("가", 51)), MaxTokens).Should().Equal(tokenizer.ClsId, tokenizer.UnknownId, tokenizer.SepId);
    }

    [Fact]
    public void Loading_from_a_stream_with_lf_line_ends_gives_the_same_ids()
    {
        string lf = File.ReadAllText(VocabPath).Replace("\r\n", "\n");
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(lf));
        var fromStream = BertTokenizer.FromStream(stream);
        fromStream.VocabularySize.Should().Be(30522);
        const string text = "Fixed the NullReferenceException in Migrator.Apply — café [SEP] 東京";
        fromStream.Encode(text, MaxTokens).Should().Equal(Tokenizer.Value.Encode(text, MaxTokens));
    }

    [Fact]
    public void A_vocabulary_without_a_required_special_token_is_refused()
    {
        var act = () => BertTokenizer.FromLines(["[PAD]", "[UNK]", "[CLS]", "hello"]);
        act.Should().Throw<InvalidDataException>().WithMessage("*[SEP]*");
    }

    [Fact]
    public void Concurrent_callers_get_the_same_ids_as_a_single_caller()
    {
        var tokenizer = Tokenizer.Value;
        string[] texts = ReadTexts(GoldenData.PathOf("bert-agent-texts.json"));
        long[][] expected = texts.Select(t => tokenizer.Encode(t, MaxTokens)).ToArray();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            int k = i % texts.Length;
            if (!tokenizer.Encode(texts[k], MaxTokens).SequenceEqual(expected[k])) failures.Add($"text {k}");
        });
        failures.Should().BeEmpty();
    }
}
