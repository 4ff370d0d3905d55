using System.Text.Json;
using FluentAssertions;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Indexes.Keywords;
using McpMemory.Core.Storage;
using McpMemory.Tests.Embeddings;
using Microsoft.Data.Sqlite;
using Xunit;

namespace McpMemory.Tests.Search;

/// <summary>
/// The in-memory keyword index must see the same terms as the FTS5 table, so our tokenizer and stemmer are
/// checked against FTS5 itself (its fts5vocab view) on hostile texts and on every word of the encoder's vocabulary.
/// </summary>
public class KeywordTokenizerTests
{
    /// <summary>
    /// Characters of the golden texts that Unicode assigned after SQLite's tables were made (emoji skin tones in
    /// 8.0, ₿ in 10.0, Cherokee lower case in 8.0, U+1CCD6 in 16.0): FTS5 still reads them as unassigned.
    /// </summary>
    internal static readonly HashSet<int> AssignedAfterSqliteTables = [0x1F3FD, 0x20BF, 0x13B9, 0x1CCD6];

    [Fact]
    public void Terms_match_fts5_on_every_golden_text_and_vocabulary_word()
    {
        var texts = GoldenData.All.Select(c => c.Text).ToList();
        using (var vocab = JsonDocument.Parse(File.ReadAllText(Path.Combine(UseLiteModelFiles.DefaultDirectory, UseLiteModelFiles.VocabularyFile))))
            texts.AddRange(vocab.RootElement.EnumerateArray().Select(piece => piece[0].GetString()!.Replace('\u2581', ' ')));
        texts.AddRange([
            "Café déjà vu: ÉLAN naïve façade — Ærø, Øresund, straße, İstanbul, ǖ, e\u0301tude, x\u0301\u0301y",
            "running runs ran runner hopping hoped hoping agreed feed sses ies caresses ponies ties caress cats",
            "relational conditional rational valenci hesitanci digitizer conformabli radicalli differentli vileli analogousli",
            "vietnamization predication operator feudalism decisiveness hopefulness callousness formaliti sensitiviti sensibiliti",
            "triplicate formative formalize electriciti electrical hopeful goodness revival allowance inference airliner",
            "gyroscopic adjustable defensible irritant replacement adjustment dependent adoption homologou communism activate",
            "angulariti homologous effective bowdlerize probate rate cease controll roll generalizations oscillators",
            "東京都 ΑΘΗΝΑ Ελληνικά हिन्दी 😀 emoji_under_score snake_case kebab-case CamelCase v1.2.3 0x1F ½ ² Ⅻ \uE000x",
            "fly flies flying dying yes eye sky syzygy tryst aed bled ed ing sing",
        ]);

        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = $"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{Schema.FtsTokenizer}'); CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance');";
            create.ExecuteNonQuery();
        }
        using (var tx = connection.BeginTransaction())
        {
            var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO t(rowid, x) VALUES (@id, @x)";
            var id = insert.Parameters.Add("@id", SqliteType.Integer);
            var x = insert.Parameters.Add("@x", SqliteType.Text);
            for (var i = 0; i < texts.Count; i++)
            {
                id.Value = i;
                x.Value = texts[i];
                insert.ExecuteNonQuery();
            }
            tx.Commit();
        }
        var fts5 = texts.Select(_ => new List<string>()).ToList();
        using (var read = connection.CreateCommand())
        {
            read.CommandText = "SELECT doc, term FROM v ORDER BY doc, offset";
            using var reader = read.ExecuteReader();
            while (reader.Read()) fts5[(int)reader.GetInt64(0)].Add(reader.GetString(1));
        }

        var mismatches = texts.Select((text, i) => (text, ours: string.Join(' ', Unicode61.Words(text).Select(PorterStemmer.Stem)), theirs: string.Join(' ', fts5[i])))
            .Where(c => c.ours != c.theirs && !c.text.EnumerateRunes().Any(r => AssignedAfterSqliteTables.Contains(r.Value))).Select(c => $"{c.text}\n  ours: {c.ours}\n  fts5: {c.theirs}").ToList();
        texts.Count.Should().BeGreaterThan(5_000);
        mismatches.Should().BeEmpty($"{mismatches.Count} of {texts.Count} texts tokenize differently:\n{string.Join('\n', mismatches.Take(30))}");
    }
}
