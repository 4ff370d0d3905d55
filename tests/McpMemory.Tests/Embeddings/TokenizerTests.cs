using System.Text.Json;
using FluentAssertions;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Embeddings.Unicode;
using Xunit;

namespace McpMemory.Tests.Embeddings;

public sealed class TokenizerTests
{
    private static readonly Lazy<SentencePieceTokenizer> Tokenizer = new(() =>
        SentencePieceTokenizer.FromVocabularyFile(Path.Combine(UseLiteModelFiles.DefaultDirectory, "vocab.json")));

    [Fact]
    public void Token_ids_equal_the_reference_for_every_golden_text()
    {
        GoldenData.All.Should().HaveCountGreaterThanOrEqualTo(200);
        var mismatches = GoldenData.All
            .Select(c => (c.Text, Expected: c.Ids, Actual: Tokenizer.Value.Encode(c.Text)))
            .Where(r => !r.Actual.SequenceEqual(r.Expected))
            .Select(r => $"{JsonSerializer.Serialize(r.Text)}: expected [{string.Join(",", r.Expected)}] got [{string.Join(",", r.Actual)}]")
            .ToList();
        mismatches.Should().BeEmpty();
    }

    [Theory]
    [InlineData("hello world", new[] { 2002, 102, 311 })]
    [InlineData("Hello world", new[] { 341, 4125, 311 })]
    [InlineData(" ", new[] { 30, 30 })]
    [InlineData("10:30 and 11:00", new[] { 320, 4177, 12, 778, 5920 })]
    [InlineData("tab\there", new[] { 5520, 0, 586, 53 })]
    [InlineData("我喜欢学习", new[] { 30, 0 })]
    [InlineData(":) ok", new[] { 30, 57, 52, 2303 })]
    public void Documented_reference_examples(string text, int[] expected) =>
        Tokenizer.Value.Encode(text).Should().Equal(expected);

    [Fact]
    public void Empty_text_has_no_tokens() => Tokenizer.Value.Encode("").Should().BeEmpty();

    [Fact]
    public void Nfkc_matches_the_reference_icu_on_random_strings()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(GoldenData.PathOf("nfkc-golden.json")));
        var failures = new List<string>();
        foreach (var pair in doc.RootElement.EnumerateArray())
        {
            string input = pair[0].GetString()!, expected = pair[1].GetString()!;
            string actual = NfkcNormalizer.Instance.Normalize(input);
            if (actual != expected) failures.Add($"{Hex(input)}: expected {Hex(expected)} got {Hex(actual)}");
        }
        doc.RootElement.GetArrayLength().Should().BeGreaterThan(1000);
        failures.Should().BeEmpty();
    }

    [Theory]
    [InlineData("\uFB01le", "file")]
    [InlineData("\uFF46\uFF55\uFF4C\uFF4C", "full")]
    [InlineData("e\u0301", "\u00E9")]
    [InlineData("a\u00A0b", "a b")]
    [InlineData("\u1100\u1161\u11A8", "\uAC01")]
    [InlineData("\U0001CCD6", "A")] // added in Unicode 16: needs the table, not an older system ICU
    public void Nfkc_known_cases(string input, string expected) =>
        NfkcNormalizer.Instance.Normalize(input).Should().Be(expected);

    private static string Hex(string s) => string.Join(" ", s.EnumerateRunes().Select(r => r.Value.ToString("X4")));
}
