using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;

namespace McpMemory.Tests.Reliability;

/// <summary>FsCheck generators of adversarial input: what a confused or malicious client might send.</summary>
internal static class Hostile
{
    public static readonly string[] Interesting =
    [
        "", " ", "\t\n\r", "\0", "a\0b", "\u0001\u001b[31mred", "\u007f", "\u2028\u2029", "\ufeffbom", "\uffff", "\ud800", "\udc00", "x\ud800y",
        "\udbff\udfff", "🎉", "e\u0301", "\u202eevil", "ﷺ", "ß", "İstanbul", "'; DROP TABLE memories; --", "\" OR 1=1 --", "%_\\",
        "NEAR(a b)", "content:foo", "tags:x OR content:y", "a* OR b*", "\"unterminated", "^start", "(((", ")", "AND OR NOT", "*", "\"\"",
        "memories_fts MATCH 'x'", "../../etc/passwd", "..\\..\\windows\\system32", "/dev/null", "C:\\con", "~/.ssh/id_rsa", "file:///etc/shadow",
        "{\"a\":", "[[[[[[", "{0}", "%s%n%x", "${HOME}", "$(rm -rf /)", "`id`", "<script>alert(1)</script>", "null", "NaN", "-Infinity",
        "shared", "project:x", "project:../../up", "project:", "agent:bot", "agent:" + new string('a', 101), "project:a/b", "PROJECT:x",
        "fact", "decision", "Fact ", "musing", "2026-11-22T14:30:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-13-45",
        "1e10", "tomorrow", "00000000-0000-0000-0000-000000000000", "not-a-uuid", "42",
    ];

    /// <summary>Any UTF-16 code unit: controls, lone surrogates, private use, all of it.</summary>
    private static readonly Gen<string> RandomUnits =
        Gen.ArrayOf(Gen.Choose(0, 0xFFFF).Select(c => (char)c)).Select(chars => new string(chars));

    private static readonly Gen<string> RandomWords =
        Gen.ArrayOf(Gen.Elements("deploy", "nginx", "the", "cache", "OR", "AND", "NEAR", "\"", "*", "-", ":", "(", ")", "é", "数据库", " "))
            .Select(words => string.Join(' ', words));

    private static readonly Gen<string> Huge =
        Gen.Elements(4 * 1024 + 1, 16 * 1024 + 1, 64 * 1024, 64 * 1024 + 1, 300_000)
            .SelectMany(n => Gen.Elements('x', 'é', ' ', '\0').Select(c => new string(c, n)));

    public static readonly Gen<string?> Text = Gen.Frequency(
        (6, Gen.Elements(Interesting).Select(s => (string?)s)),
        (3, RandomUnits.Select(s => (string?)s)),
        (3, RandomWords.Select(s => (string?)s)),
        (2, Gen.Elements(Interesting).Two().Select(p => (string?)(p.Item1 + p.Item2))),
        (1, Huge.Select(s => (string?)s)),
        (1, Gen.Constant<string?>(null)));

    public static readonly Gen<string[]?> TextList = Gen.Frequency(
        (3, Gen.ArrayOf(Text.Select(s => s ?? "")).Select(a => (string[]?)a)),
        (1, Gen.Choose(30, 40).Select(n => (string[]?)Enumerable.Range(0, n).Select(i => "tag" + i).ToArray())),
        (1, Gen.Constant<string[]?>(null)));

    public static readonly Gen<double?> Number = Gen.Frequency(
        (4, Gen.Elements<double?>(double.NaN, double.PositiveInfinity, double.NegativeInfinity, -0.0, 0, 1, 0.5, -1, 1.0000001, double.Epsilon,
            double.MaxValue, double.MinValue, 1e308, -1e-308, null)),
        (2, Gen.Choose(-1000, 2000).Select(n => (double?)(n / 1000.0))));

    public static readonly Gen<int?> Integer = Gen.Elements<int?>(int.MinValue, -1, 0, 1, 5, 100, 101, 1000, int.MaxValue, null);

    public static readonly Gen<long?> Long = Gen.Elements<long?>(long.MinValue, -1, 0, 1, 2, 3, 1000, long.MaxValue, null);

    /// <summary>JSON values: every kind, deep nesting (past the metadata depth limit), big objects, hostile keys.</summary>
    public static readonly Gen<JsonElement?> Json = Gen.Frequency(
        (3, Gen.Elements("{}", "[]", "null", "true", "0", "-1e400", "\"text\"", """{"file":"src/app.ts","n":42}""", """{"":1,"\u0000":2}""",
            """{"a":{"b":{"c":[1,2,{"d":null}]}}}""", """{"dup":1,"dup":2}""").Select(Parse)),
        (2, Gen.Elements(5, 15, 16, 17, 40, 63).Select(depth => Parse(new string('[', depth) + new string(']', depth)))),
        (2, Gen.Elements(5, 15, 16, 17, 40, 63).Select(depth =>
            Parse(string.Concat(Enumerable.Repeat("{\"k\":", depth)) + "1" + new string('}', depth)))),
        (1, Gen.Elements(100, 20_000, 300_000).Select(n => Parse(JsonSerializer.Serialize(new { big = new string('x', n) })))),
        (2, Text.Select(t => Parse(JsonSerializer.Serialize(new Dictionary<string, string?> { [t ?? "k"] = t })))),
        (1, Gen.Constant<JsonElement?>(null)));

    private static JsonElement? Parse(string json) =>
        JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 }).RootElement.Clone();

    /// <summary>Shows a case without flooding the test output with a 300 KB string.</summary>
    public static string Show(object? value) => value switch
    {
        null => "null",
        string s => s.Length <= 60 ? JsonSerializer.Serialize(s) : $"<{s.Length} chars starting {JsonSerializer.Serialize(s[..20])}>",
        string[] a => "[" + string.Join(", ", a.Take(5).Select(Show)) + (a.Length > 5 ? $", … {a.Length} items" : "") + "]",
        JsonElement e => Show(e.GetRawText()),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "?",
    };

    /// <summary>
    /// A clear error names what was wrong first ("content: must not be empty", "[2].tags: …", "line 3: importance: …"),
    /// in one short line, with no stack trace or exception type in it.
    /// </summary>
    public static bool IsClear(string message) =>
        System.Text.RegularExpressions.Regex.IsMatch(message, @"^(line \d+: )?(\[\d+\]\.)?[a-z_]+(\.[a-z_]+)?: \S") &&
        message.Length <= 1000 && !message.Contains("   at ") && !message.Contains("Exception") && !message.Contains('\n');

    public static readonly Encoding Utf8 = new UTF8Encoding(false);
}
