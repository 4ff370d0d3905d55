using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpMemory.Transports;

/// <summary>
/// Params the SDK cannot bind (e.g. tools/call with "arguments": [1,2], or "params": 5) fail inside the SDK with a
/// JsonException, which it answers as -32603 "An error occurred.". This incoming-message filter, which every
/// transport's server runs, turns that into -32602 Invalid params naming the field, what it must be and what came.
/// </summary>
internal static partial class RequestParamsErrors
{
    public static McpMessageHandler Filter(McpMessageHandler next) =>
        async (context, cancellationToken) =>
        {
            try { await next(context, cancellationToken); }
            catch (JsonException e) when (context.JsonRpcMessage is JsonRpcRequest request)
            {
                throw new McpProtocolException(Describe(request.Params, e), McpErrorCode.InvalidParams);
            }
        };

    /// <summary>"Invalid params: arguments: must be an object (got [1,2])", from the binder's exception and the params sent.</summary>
    internal static string Describe(JsonNode? parameters, JsonException error)
    {
        var field = error.Path is null or "$" ? "params" : error.Path.StartsWith("$.", StringComparison.Ordinal) ? error.Path[2..] : error.Path[1..];
        if (MissingRequired().Match(error.Message) is { Success: true } missing)
            return $"Invalid params: {(field == "params" ? "" : field + ".")}{missing.Groups[1].Value}: is required";
        if (NotConvertible().Match(error.Message) is { Success: true } converted && Expected(converted.Groups[1].Value, error.Path) is { } expected)
            return $"Invalid params: {field}: must be {expected} (got {Show(At(parameters, error.Path))})";
        return $"Invalid params: {field}: {error.Message.Split(" Path:")[0]}";
    }

    /// <summary>
    /// What the value at <paramref name="path"/> must look like. The binder names the type it failed on, which for the
    /// SDK's parameter records is the record holding the field, not the field's own: then the field is looked up in it.
    /// Types and fields come from the SDK's source-generated JSON metadata, not reflection (the Native AOT build has none).
    /// </summary>
    private static string? Expected(string typeName, string? path)
    {
        if (typeName.EndsWith("[]", StringComparison.Ordinal)) return "an array";
        var generic = typeName.IndexOf('[');
        var name = generic < 0 ? typeName : typeName[..generic];
        if (!KnownTypes.Value.TryGetValue(name, out var type)) return null;
        if (type.Assembly == typeof(JsonRpcMessage).Assembly && !type.IsEnum && path is not null)
            type = FieldType(type, path) ?? type;
        return Describe(type);
    }

    /// <summary>The SDK's request parameter types, the starting points of <see cref="KnownTypes"/>.</summary>
    private static readonly Type[] RequestParamTypes =
    [
        typeof(InitializeRequestParams), typeof(PingRequestParams), typeof(CallToolRequestParams), typeof(ListToolsRequestParams),
        typeof(ListPromptsRequestParams), typeof(GetPromptRequestParams), typeof(ListResourcesRequestParams),
        typeof(ListResourceTemplatesRequestParams), typeof(ReadResourceRequestParams), typeof(SubscribeRequestParams),
        typeof(UnsubscribeRequestParams), typeof(CompleteRequestParams),
    ];

    /// <summary>Every type reachable from the request parameter types through their JSON metadata, by the names the binder uses.</summary>
    private static readonly Lazy<Dictionary<string, Type>> KnownTypes = new(() =>
    {
        var known = new Dictionary<string, Type>(StringComparer.Ordinal);
        var pending = new Stack<Type>(RequestParamTypes);
        while (pending.TryPop(out var type))
        {
            var key = type.IsGenericType ? type.GetGenericTypeDefinition().FullName : type.FullName;
            if (key is null || !known.TryAdd(key, type) || Metadata(type) is not { } info) continue;
            if (Nullable.GetUnderlyingType(type) is { } underlying) pending.Push(underlying);
            foreach (var property in info.Properties) pending.Push(property.PropertyType);
            if (info.ElementType is { } element) pending.Push(element);
            if (info.KeyType is { } keyType) pending.Push(keyType);
        }
        return known;
    });

    private static JsonTypeInfo? Metadata(Type type) =>
        McpJsonUtilities.DefaultOptions.TryGetTypeInfo(type, out var info) ? info : null;

    /// <summary>The declared type of the property at <paramref name="path"/> (JSON names) under <paramref name="type"/>, if it can be followed.</summary>
    private static Type? FieldType(Type type, string path)
    {
        Type? current = type;
        foreach (Match segment in PathSegment().Matches(path))
        {
            var info = Metadata(current);
            if (info is null) return null;
            if (segment.Groups["index"].Success) current = info.ElementType;
            else
            {
                var jsonName = segment.Groups["name"].Success ? segment.Groups["name"].Value : segment.Groups["quoted"].Value;
                current = info.Kind == JsonTypeInfoKind.Dictionary ? info.ElementType : info.Properties.FirstOrDefault(p => p.Name == jsonName)?.PropertyType;
            }
            if (current is null) return null;
        }
        return current;
    }

    private static string? Describe(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum) return "one of the values the protocol defines";
        if (type == typeof(string)) return "a string";
        if (type == typeof(bool)) return "true or false";
        if (type.IsPrimitive || type == typeof(decimal)) return "a number";
        if (type == typeof(JsonElement) || type == typeof(JsonNode)) return null; // any JSON value: not what failed
        if (type == typeof(JsonObject)) return "an object";
        if (type == typeof(JsonArray)) return "an array";
        return Metadata(type)?.Kind == JsonTypeInfoKind.Enumerable ? "an array" : "an object";
    }

    /// <summary>The node at a binder path such as $.arguments or $.items[2].name; null when the path does not lead anywhere.</summary>
    private static JsonNode? At(JsonNode? root, string? path)
    {
        if (path is null) return root;
        var node = root;
        foreach (Match segment in PathSegment().Matches(path))
        {
            node = segment.Groups["index"].Success
                ? node is JsonArray array && int.Parse(segment.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture) is var i && i < array.Count ? array[i] : null
                : node is JsonObject obj ? obj[segment.Groups["name"].Success ? segment.Groups["name"].Value : segment.Groups["quoted"].Value] : null;
            if (node is null) return null;
        }
        return node;
    }

    private static string Show(JsonNode? value)
    {
        var text = value?.ToJsonString() ?? "null";
        return text.Length <= 40 ? text : $"{value!.GetValueKind().ToString().ToLowerInvariant()} of {text.Length} characters";
    }

    [GeneratedRegex(@"missing required properties including: '([^']+)'")]
    private static partial Regex MissingRequired();

    [GeneratedRegex(@"could not be converted to (.+?)\. Path:")]
    private static partial Regex NotConvertible();

    [GeneratedRegex(@"\.(?<name>[^.\[]+)|\[(?<index>\d+)\]|\['(?<quoted>[^']*)'\]")]
    private static partial Regex PathSegment();
}
