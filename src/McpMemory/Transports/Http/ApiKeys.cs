using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using McpMemory.Core.Memories;

namespace McpMemory.Transports.Http;

/// <summary>Who an authenticated request is: the key it presented (by number, never by value) and what that key may touch.</summary>
public sealed record KeyIdentity(int KeyNumber, string Label, Caller Caller)
{
    /// <summary>The identity of every request when no key is configured (loopback only): the same caller as stdio.</summary>
    public static KeyIdentity Unrestricted(Settings settings) => new(0, "no key", settings.ToCaller());
}

/// <summary>Thrown when the API-key configuration is unusable; the message names the option or field and the rule.</summary>
public sealed class ApiKeyConfigurationException(string message) : Exception(message);

/// <summary>
/// The configured API keys. Only SHA-256 digests are kept; a presented key is hashed and compared with every digest in
/// constant time, so neither the match nor its position leaks through timing. Key values are never logged.
/// </summary>
public sealed class ApiKeyRing
{
    public const int MinKeyLength = 16;
    public const string ReadAccess = "read";
    public const string ReadWriteAccess = "read-write";

    private readonly (byte[] Digest, KeyIdentity Identity)[] _keys;

    private ApiKeyRing((byte[], KeyIdentity)[] keys) => _keys = keys;

    public int Count => _keys.Length;

    /// <summary>No keys: every request is the unrestricted settings caller (only allowed on loopback).</summary>
    public static ApiKeyRing Empty { get; } = new([]);

    /// <summary>The single --api-key (full access) plus every key of the keys file.</summary>
    public static ApiKeyRing Load(HttpSettings http, Settings settings)
    {
        var keys = new List<(byte[], KeyIdentity)>();
        if (http.ApiKey is { } single)
        {
            CheckLength(single, $"--api-key / ${HttpSettings.ApiKeyVariable}");
            keys.Add((Digest(single), new KeyIdentity(1, "api-key", settings.ToCaller())));
        }
        if (http.KeysFile is { } path)
            foreach (var (key, label, caller) in ReadKeysFile(path, settings))
                keys.Add((Digest(key), new KeyIdentity(keys.Count + 1, label, caller)));
        var duplicate = keys.GroupBy(k => Convert.ToHexString(k.Item1)).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ApiKeyConfigurationException($"the same key is configured twice ({string.Join(" and ", duplicate.Select(k => k.Item2.Label))}); each key must be unique");
        return new ApiKeyRing([.. keys]);
    }

    /// <summary>The identity of the presented key, or null when it matches none.</summary>
    public KeyIdentity? Authenticate(string presentedKey)
    {
        var digest = Digest(presentedKey);
        KeyIdentity? match = null;
        foreach (var (known, identity) in _keys)
            if (CryptographicOperations.FixedTimeEquals(known, digest)) match = identity;
        return match;
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private static void CheckLength(string key, string field)
    {
        if (key.Length < MinKeyLength)
            throw new ApiKeyConfigurationException($"{field}: a key must be at least {MinKeyLength} characters (got {key.Length})");
    }

    /// <summary>
    /// {"keys":[{"key":"…","namespaces":["project:web","shared"],"access":"read-write"|"read","default_namespace":"project:web","agent_id":"ci"}]}.
    /// default_namespace defaults to the first namespace; agent_id to the server's.
    /// </summary>
    private static IEnumerable<(string Key, string Label, Caller Caller)> ReadKeysFile(string path, Settings settings)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (IOException e) { throw new ApiKeyConfigurationException($"keys file {path}: cannot be read ({e.Message})"); }
        catch (UnauthorizedAccessException e) { throw new ApiKeyConfigurationException($"keys file {path}: cannot be read ({e.Message})"); }
        catch (JsonException e) { throw new ApiKeyConfigurationException($"keys file {path}: not valid JSON ({e.Message})"); }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
                throw new ApiKeyConfigurationException($"keys file {path}: expected {{\"keys\": [ ... ]}}");
            if (keys.GetArrayLength() == 0)
                throw new ApiKeyConfigurationException($"keys file {path}: \"keys\" is empty; list at least one key");
            var index = 0;
            var result = new List<(string, string, Caller)>();
            foreach (var entry in keys.EnumerateArray())
            {
                var field = $"keys file {path}: keys[{index++}]";
                result.Add(ReadEntry(entry, field, settings));
            }
            return result;
        }
    }

    private static (string, string, Caller) ReadEntry(JsonElement entry, string field, Settings settings)
    {
        if (entry.ValueKind != JsonValueKind.Object) throw new ApiKeyConfigurationException($"{field}: must be an object");
        var key = RequiredString(entry, "key", field);
        CheckLength(key, $"{field}.key");

        if (!entry.TryGetProperty("namespaces", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
            throw new ApiKeyConfigurationException($"{field}.namespaces: must be a non-empty array, e.g. [\"project:web\", \"shared\"]");
        var namespaces = new List<string>();
        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            var name = $"{field}.namespaces[{i++}]";
            if (item.ValueKind != JsonValueKind.String) throw new ApiKeyConfigurationException($"{name}: must be a string");
            namespaces.Add(ValidNamespace(item.GetString(), name));
        }

        var access = OptionalString(entry, "access", field) ?? ReadWriteAccess;
        if (access is not (ReadAccess or ReadWriteAccess))
            throw new ApiKeyConfigurationException($"{field}.access: must be \"{ReadAccess}\" or \"{ReadWriteAccess}\" (got \"{Namespaces.Truncate(access, 40)}\")");

        var defaultNamespace = OptionalString(entry, "default_namespace", field) is { } d ? ValidNamespace(d, $"{field}.default_namespace") : namespaces[0];
        if (!namespaces.Contains(defaultNamespace))
            throw new ApiKeyConfigurationException($"{field}.default_namespace: \"{defaultNamespace}\" is not one of the key's namespaces");
        var agentId = OptionalString(entry, "agent_id", field) ?? settings.AgentId;

        var set = namespaces.ToHashSet(StringComparer.Ordinal);
        IReadOnlySet<string> writable = access == ReadWriteAccess ? set : new HashSet<string>();
        return (key, $"{field[(field.LastIndexOf(' ') + 1)..]} ({access} {string.Join(",", namespaces)})", new Caller(defaultNamespace, agentId, set, writable));
    }

    private static string ValidNamespace(string? value, string field)
    {
        try { return Namespaces.Validate(value, field); }
        catch (MemoryValidationException e) { throw new ApiKeyConfigurationException(e.Message); }
    }

    private static string RequiredString(JsonElement entry, string property, string field) =>
        OptionalString(entry, property, field) ?? throw new ApiKeyConfigurationException($"{field}.{property}: required");

    private static string? OptionalString(JsonElement entry, string property, string field)
    {
        if (!entry.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
            throw new ApiKeyConfigurationException($"{field}.{property}: must be a non-empty string");
        return value.GetString()!;
    }
}
