using System.Globalization;
using System.Text.Json;

namespace McpMemory.Eval;

/// <summary>One LoCoMo conversation: its turns (with session dates) and its questions with evidence turn ids.</summary>
public sealed record LoCoMoConversation(string Name, IReadOnlyList<LoCoMoTurn> Turns, IReadOnlyList<LoCoMoQuestion> Questions)
{
    /// <summary>Reads every conversation file (*.json) in <paramref name="directory"/>, in name order.</summary>
    public static IReadOnlyList<LoCoMoConversation> LoadDirectory(string directory)
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"no such folder: {directory}");
        var files = Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new InvalidDataException($"{directory} holds no LoCoMo conversation (*.json)");
        return files.Select(Load).ToList();
    }

    public static LoCoMoConversation Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var turns = new List<LoCoMoTurn>();
        foreach (var property in root.EnumerateObject())
        {
            // Only keys session_<digits> whose value is a list hold turns.
            if (!property.Name.StartsWith("session_", StringComparison.Ordinal) || property.Value.ValueKind != JsonValueKind.Array) continue;
            if (!property.Name.AsSpan("session_".Length).ToString().All(char.IsAsciiDigit)) continue;
            var date = root.TryGetProperty(property.Name + "_date_time", out var d) ? ParseDate(d.GetString()) : null;
            foreach (var turn in property.Value.EnumerateArray())
            {
                var text = $"{turn.GetProperty("speaker").GetString()}: {turn.GetProperty("text").GetString()}";
                if (turn.TryGetProperty("blip_caption", out var caption) && caption.GetString() is { Length: > 0 } c)
                    text += $" [image: {c}]";
                turns.Add(new LoCoMoTurn(turn.GetProperty("dia_id").GetString()!, text, date));
            }
        }
        var questions = root.GetProperty("qa").EnumerateArray().Select(qa => new LoCoMoQuestion(
            qa.GetProperty("question").GetString()!,
            qa.GetProperty("category").GetInt32(),
            qa.TryGetProperty("evidence", out var e) ? e.EnumerateArray().Select(x => x.GetString()!).ToList() : [])).ToList();
        return new LoCoMoConversation(Path.GetFileNameWithoutExtension(path), turns, questions);
    }

    /// <summary>"1:56 pm on 8 May, 2023" → UTC.</summary>
    public static DateTimeOffset? ParseDate(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        string[] formats = ["h:mm tt 'on' d MMMM, yyyy", "h:mm tt 'on' d MMM, yyyy", "h:mm tt 'on' d MMMM yyyy"];
        return DateTimeOffset.TryParseExact(text.Trim(), formats, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date) ? date : null;
    }
}

public sealed record LoCoMoTurn(string DiaId, string Content, DateTimeOffset? Date);

public sealed record LoCoMoQuestion(string Question, int Category, IReadOnlyList<string> Evidence);
