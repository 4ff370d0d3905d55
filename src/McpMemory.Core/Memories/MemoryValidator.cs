using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace McpMemory.Core.Memories;

/// <summary>
/// Checks every input against <see cref="MemoryLimits"/> before anything is written. Each error names the
/// field and the limit, so an agent can correct itself.
/// </summary>
public sealed class MemoryValidator(MemoryLimits limits)
{
    public const double DefaultImportance = 0.5;
    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    public MemoryLimits Limits { get; } = limits;

    public string Content(string? content, string field = "content")
    {
        if (content is null || content.Length == 0)
            throw new MemoryValidationException(field, "must not be empty");
        if (string.IsNullOrWhiteSpace(content))
            throw new MemoryValidationException(field, "must contain more than whitespace");
        if (content.Contains('\0'))
            throw new MemoryValidationException(field, "contains U+0000 (NUL); text may not hold NUL characters"); // SQLite's text functions and FTS stop at NUL
        var bytes = Utf8Length(content, field);
        if (bytes > Limits.MaxContentBytes)
            throw new MemoryValidationException(field, $"is {bytes} bytes; the limit is {Limits.MaxContentBytes} bytes (UTF-8)");
        return content;
    }

    public string MemoryType(string? type)
    {
        if (string.IsNullOrWhiteSpace(type)) return MemoryTypes.Default;
        var normalized = type.Trim().ToLowerInvariant();
        if (!MemoryTypes.All.ContainsKey(normalized))
            throw new MemoryValidationException("memory_type", $"\"{Namespaces.Truncate(type)}\" is not a memory type; use one of: {MemoryTypes.Describe()}");
        return normalized;
    }

    public IReadOnlyList<string> Tags(IReadOnlyList<string>? tags, string field = "tags")
    {
        if (tags is null || tags.Count == 0) return [];
        if (tags.Count > Limits.MaxTags)
            throw new MemoryValidationException(field, $"has {tags.Count} tags; the limit is {Limits.MaxTags}");
        var result = new List<string>(tags.Count);
        foreach (var raw in tags)
        {
            var tag = (raw ?? "").Trim().ToLowerInvariant();
            if (tag.Length == 0)
                throw new MemoryValidationException(field, "contains an empty tag");
            if (tag.Length > Limits.MaxTagLength)
                throw new MemoryValidationException(field, $"tag \"{Namespaces.Truncate(tag, 40)}\" is {tag.Length} characters; the limit is {Limits.MaxTagLength}");
            foreach (var c in tag)
                if (!IsTagChar(c))
                    throw new MemoryValidationException(field, $"tag \"{Namespaces.Truncate(tag, 40)}\" contains '{Namespaces.Printable(c)}'; tags may use letters, digits and . _ - : / + #");
            if (!result.Contains(tag)) result.Add(tag);
        }
        return result;
    }

    public double Importance(double? importance)
    {
        if (importance is null) return DefaultImportance;
        var value = importance.Value;
        if (double.IsNaN(value) || value < 0 || value > 1)
            throw new MemoryValidationException("importance", $"must be between 0 and 1 (got {value})");
        return value;
    }

    /// <summary>Parses metadata: a JSON object within the size and depth limits, or null.</summary>
    public JsonObject? Metadata(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return null;
        var bytes = Utf8Length(json, "metadata");
        if (bytes > Limits.MaxMetadataBytes)
            throw new MemoryValidationException("metadata", $"is {bytes} bytes of JSON; the limit is {Limits.MaxMetadataBytes} bytes");
        JsonNode? node;
        try
        {
            // Duplicate keys are refused: which value wins differs between readers, and an export could not be re-imported.
            node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = Limits.MaxMetadataDepth, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new MemoryValidationException("metadata", $"is not valid JSON (nesting limit {Limits.MaxMetadataDepth}, no duplicate keys): {FirstSentence(e.Message)}");
        }
        return node as JsonObject
            ?? throw new MemoryValidationException("metadata", "must be a JSON object, e.g. {\"file\": \"src/app.ts\"}");
    }

    public string? SessionId(string? sessionId) => OptionalId(sessionId, "session_id");
    public string? AgentId(string? agentId) => OptionalId(agentId, "agent_id");
    public string? Source(string? source) => OptionalId(source, "source");

    public int TopK(int? topK)
    {
        var k = topK ?? Limits.DefaultTopK;
        if (k < 1 || k > Limits.MaxTopK)
            throw new MemoryValidationException("top_k", $"must be between 1 and {Limits.MaxTopK} (got {k})");
        return k;
    }

    public string Query(string? query)
    {
        if (string.IsNullOrWhiteSpace(query))
            throw new MemoryValidationException("query", "must not be empty");
        var bytes = Utf8Length(query, "query");
        if (bytes > Limits.MaxQueryBytes)
            throw new MemoryValidationException("query", $"is {bytes} bytes; the limit is {Limits.MaxQueryBytes} bytes");
        return query;
    }

    public IReadOnlyList<string>? NamespaceList(IReadOnlyList<string>? namespaces)
    {
        if (namespaces is null || namespaces.Count == 0) return null;
        if (namespaces.Count > Limits.MaxNamespaces)
            throw new MemoryValidationException("namespaces", $"lists {namespaces.Count} namespaces; the limit is {Limits.MaxNamespaces}");
        return namespaces.Select(n => Namespaces.Validate(n, "namespaces")).Distinct(StringComparer.Ordinal).ToList();
    }

    public string StateKey(string? key)
    {
        if (string.IsNullOrEmpty(key))
            throw new MemoryValidationException("key", "must not be empty");
        if (key.Length > Limits.MaxStateKeyLength)
            throw new MemoryValidationException("key", $"is {key.Length} characters; the limit is {Limits.MaxStateKeyLength}");
        RefuseControlCharacters(key, "key");
        return key;
    }

    /// <summary>Any JSON value (object, array, string, number, bool, null), within the size limit, normalised.</summary>
    public string StateValue(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Undefined)
            throw new MemoryValidationException("value", "is required (any JSON value)");
        var json = value.GetRawText();
        var bytes = Utf8Length(json, "value");
        if (bytes > Limits.MaxStateValueBytes)
            throw new MemoryValidationException("value", $"is {bytes} bytes of JSON; the limit is {Limits.MaxStateValueBytes} bytes");
        try
        {
            using var strict = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new MemoryValidationException("value", $"is not valid JSON (no duplicate keys, nesting up to 256): {FirstSentence(e.Message)}");
        }
        return json;
    }

    public static Guid MemoryId(string? id, string field = "memory_id")
    {
        if (string.IsNullOrWhiteSpace(id))
            throw new MemoryValidationException(field, "must not be empty");
        if (!Guid.TryParseExact(id.Trim(), "D", out var guid))
            throw new MemoryValidationException(field, $"\"{Namespaces.Truncate(id, 60)}\" is not a UUID (expected the form 8-4-4-4-12 hex digits)");
        return guid;
    }

    private string? OptionalId(string? value, string field)
    {
        if (string.IsNullOrEmpty(value)) return null;
        if (value.Length > Limits.MaxIdLength)
            throw new MemoryValidationException(field, $"is {value.Length} characters; the limit is {Limits.MaxIdLength}");
        RefuseControlCharacters(value, field);
        return value;
    }

    /// <summary>
    /// Refuses control characters and unpaired surrogates in a name-like value (key, id); a valid surrogate pair
    /// (an emoji, a CJK extension character) is text like any other.
    /// </summary>
    public static void RefuseControlCharacters(string value, string field)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsSurrogatePair(value, i)) { i++; continue; }
            var c = value[i];
            if (char.IsControl(c) || char.IsSurrogate(c))
                throw new MemoryValidationException(field, $"contains '{Namespaces.Printable(c)}'; control characters and lone surrogates are not allowed");
        }
    }

    private static int Utf8Length(string text, string field)
    {
        try { return StrictUtf8.GetByteCount(text); }
        catch (EncoderFallbackException)
        {
            throw new MemoryValidationException(field, "contains an unpaired UTF-16 surrogate (not valid Unicode text)");
        }
    }

    /// <summary>System.Text.Json messages go on with a path and byte position that mean nothing to an agent.</summary>
    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }

    private static bool IsTagChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':' or '/' or '+' or '#' || (c > 127 && char.IsLetterOrDigit(c));
}
