using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace McpMemory.Install;

/// <summary>
/// A client's JSON config file, edited as a tree: our keys are set or removed, everything else
/// is carried over. Rendering keeps the file's layout: compact or indented (spaces or tabs, and
/// how many), its line endings and whether it ends with a newline, so a file in one consistent
/// style comes back byte for byte once our entry is gone. A file that does not parse is refused,
/// never overwritten.
/// </summary>
public sealed class JsonConfig
{
    private readonly string _path;
    private readonly string _newLine;
    private readonly int _indentSize;
    private readonly char _indentChar;
    private readonly bool _endsWithNewLine;
    private readonly bool _compact;

    public JsonObject Root { get; }

    /// <summary>True when the file had comments, which a rewrite drops (the backup keeps them).</summary>
    public bool HadComments { get; }

    /// <summary>
    /// False when rendering the file unchanged would not give back its exact text (mixed
    /// indentation, spaces after colons in a one-line file, ...): a rewrite then normalises it.
    /// </summary>
    public bool KeepsLayout { get; }

    /// <summary>How a rewrite lays the file out, for messages: "compact", "2-space", "tab".</summary>
    public string Layout => _compact ? "compact" : _indentChar == '\t' ? "tab" : $"{_indentSize}-space";

    private JsonConfig(string path, JsonObject root, bool hadComments, string? text)
    {
        _path = path;
        Root = root;
        HadComments = hadComments;
        _newLine = TextFile.NewLineOf(text);
        (_indentChar, _indentSize) = DetectIndent(text);
        _endsWithNewLine = string.IsNullOrWhiteSpace(text) || text.EndsWith('\n');
        // One line holding members: written compact (`{"a":1}`). An empty `{}` gets the indented default.
        _compact = root.Count > 0 && text is not null && !text.TrimEnd().Contains('\n');
        KeepsLayout = string.IsNullOrWhiteSpace(text) || Render() == text;
    }

    /// <param name="text">The file's content; null or blank starts an empty object.</param>
    /// <param name="allowComments">The client itself accepts // and /* */ comments (Gemini CLI).</param>
    public static JsonConfig Parse(string path, string? text, bool allowComments)
    {
        if (string.IsNullOrWhiteSpace(text)) return new JsonConfig(path, new JsonObject(), false, text);

        // Duplicate keys are refused too: which one a client honours is anyone's guess.
        var strict = new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Disallow, AllowDuplicateProperties = false };
        var lenient = strict with { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
        JsonNode? root;
        var hadComments = false;
        try
        {
            root = JsonNode.Parse(text, documentOptions: strict);
        }
        catch (JsonException strictError)
        {
            if (!allowComments) throw Malformed(path, strictError);
            try
            {
                root = JsonNode.Parse(text, documentOptions: lenient);
                hadComments = true;
            }
            catch (JsonException lenientError)
            {
                throw Malformed(path, lenientError);
            }
        }
        if (root is not JsonObject obj)
            throw new InstallException($"{path}: expected a JSON object at the top level; nothing was changed.");
        return new JsonConfig(path, obj, hadComments, text);
    }

    /// <summary>Sets our keys on Root[containerKey][name], keeping keys the user added to the entry.</summary>
    public bool SetEntry(string containerKey, string name, JsonObject desired)
    {
        var container = Member(containerKey, () => new JsonObject())!;
        if (container[name] is not JsonObject entry)
        {
            container[name] = desired.DeepClone();
            return true;
        }
        var changed = false;
        foreach (var (key, value) in desired)
        {
            if (JsonNode.DeepEquals(entry[key], value)) continue;
            entry[key] = value?.DeepClone();
            changed = true;
        }
        return changed;
    }

    /// <summary>Removes Root[containerKey][name]; drops the container when nothing else is left in it.</summary>
    public bool RemoveEntry(string containerKey, string name)
    {
        var container = Member<JsonObject>(containerKey, create: null);
        if (container is null || !container.Remove(name)) return false;
        if (container.Count == 0) Root.Remove(containerKey);
        return true;
    }

    /// <summary>Adds a string to the array Root[key] unless it is already there.</summary>
    public bool AddToList(string key, string value)
    {
        var list = Member(key, () => new JsonArray())!;
        if (list.Any(n => n is JsonValue v && v.TryGetValue<string>(out var s) && s == value)) return false;
        list.Add((JsonNode)value); // the node overload: Add<T> needs reflection (Native AOT)
        return true;
    }

    /// <summary>Removes a string from the array Root[key]; drops the array when it becomes empty.</summary>
    public bool RemoveFromList(string key, string value)
    {
        var list = Member<JsonArray>(key, create: null);
        var item = list?.FirstOrDefault(n => n is JsonValue v && v.TryGetValue<string>(out var s) && s == value);
        if (list is null || item is null) return false;
        list.Remove(item);
        if (list.Count == 0) Root.Remove(key);
        return true;
    }

    public bool IsEmpty => Root.Count == 0;

    public string Render()
    {
        var options = new JsonSerializerOptions
        {
            WriteIndented = !_compact,
            IndentCharacter = _indentChar,
            IndentSize = _indentSize,
            NewLine = _newLine,
            // Keep non-ASCII text, '+', '<' and friends as they were written by the clients.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        var json = Root.ToJsonString(options);
        return _endsWithNewLine ? json + _newLine : json;
    }

    /// <summary>Root[key] as a <typeparamref name="T"/> (a JSON object or array); when missing, made by <paramref name="create"/> (null: not made).</summary>
    private T? Member<T>(string key, Func<T>? create) where T : JsonNode
    {
        switch (Root[key])
        {
            case T node: return node;
            case null:
                if (create is null) return null;
                var created = create();
                Root[key] = created;
                return created;
            default:
                var kind = typeof(T) == typeof(JsonArray) ? "array" : "object";
                throw new InstallException($"{_path}: \"{key}\" is not a JSON {kind}; fix it by hand, nothing was changed.");
        }
    }

    private static InstallException Malformed(string path, JsonException error)
    {
        // JsonException positions are zero-based; editors count from one.
        var where = error.LineNumber is { } line ? $":{line + 1}:{(error.BytePositionInLine ?? 0) + 1}" : "";
        var reason = error.Message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0].TrimEnd('.', ' ');
        return new InstallException($"{path}{where}: not valid JSON ({reason}). Fix the file or move it away; nothing was changed.");
    }

    private static (char, int) DetectIndent(string? text)
    {
        if (text is null) return (' ', 2);
        foreach (var line in text.Split('\n'))
        {
            var body = line.TrimStart(' ', '\t');
            if (body.Length == 0 || body.Length == line.Length) continue;
            var indent = line[..(line.Length - body.Length)];
            return indent[0] == '\t' ? ('\t', 1) : (' ', Math.Clamp(indent.Length, 1, 8));
        }
        return (' ', 2);
    }
}
