using System.Text.Json;

namespace McpMemory.Tests.Embeddings;

/// <summary>One line of golden.jsonl: a text, the reference token ids and the reference vector.</summary>
public sealed record GoldenCase(string Text, int[] Ids, float[] Vector)
{
    public override string ToString() => Text.Length <= 40 ? Text : Text[..40] + "…";
}

/// <summary>Reads the committed golden files (see make-golden.sh); node is not needed at test time.</summary>
public static class GoldenData
{
    private static readonly Lazy<IReadOnlyList<GoldenCase>> Cases = new(LoadCases);

    public static IReadOnlyList<GoldenCase> All => Cases.Value;

    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "Embeddings", file);

    private static IReadOnlyList<GoldenCase> LoadCases()
    {
        var cases = new List<GoldenCase>();
        foreach (string line in File.ReadLines(PathOf("golden.jsonl")))
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            string text = root.GetProperty("text").GetString()!;
            int[] ids = root.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            byte[] raw = Convert.FromBase64String(root.GetProperty("vector").GetString()!);
            float[] vector = new float[raw.Length / sizeof(float)];
            Buffer.BlockCopy(raw, 0, vector, 0, raw.Length);
            cases.Add(new GoldenCase(text, ids, vector));
        }
        return cases;
    }
}
