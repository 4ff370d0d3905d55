using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using McpMemory.Core;
using McpMemory.Core.Portability;
using McpMemory.Core.Storage;
using McpMemory.Core.Search;

namespace McpMemory.Contracts;

/// <summary>How results are written as JSON, by the MCP tools and by the command line's --json alike.</summary>
public static class ResultJson
{
    /// <summary>Snake_case on the wire, as agents and the MCP ecosystem expect.</summary>
    public static readonly JsonSerializerOptions Options = Create();

    /// <summary>
    /// <typeparamref name="T"/>'s metadata under <see cref="Options"/>: from <see cref="ResultJsonContext"/>, so no reflection
    /// (the Native AOT build has none; an unlisted type throws there instead of serializing).
    /// </summary>
    public static JsonTypeInfo<T> TypeInfo<T>() => (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(ModelContextProtocol.McpJsonUtilities.DefaultOptions)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            // Memories are code and prose: keep quotes, '<' and non-ASCII readable (this JSON never lands in HTML).
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            // The output schemas list every property as required (null allowed where the type is nullable), and clients
            // such as the TypeScript SDK validate structured content against them: write nulls instead of omitting them.
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        };
        // Source-generated metadata first: the tools' parameters and results need no reflection (nor the JIT work
        // that reflection-built serializers cost at every start); the SDK's own resolvers follow for its types.
        options.TypeInfoResolverChain.Insert(0, ResultJsonContext.Default);
        return options;
    }
}

/// <summary>The tools' parameter and result types (and the command line's --json output), source-generated.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(StoreMemoryResult))]
[JsonSerializable(typeof(SearchMemoryResult))]
[JsonSerializable(typeof(MemoryHistoryResult))]
[JsonSerializable(typeof(MemoryResult))]
[JsonSerializable(typeof(AgentStateResult))]
[JsonSerializable(typeof(DeleteMemoryResult))]
[JsonSerializable(typeof(FeedbackResult))]
[JsonSerializable(typeof(UnarchiveMemoryResult))]
[JsonSerializable(typeof(ConsolidateResult))]
[JsonSerializable(typeof(BriefingResult))]
[JsonSerializable(typeof(ScoreExplanation))]
[JsonSerializable(typeof(SeedResult))]
[JsonSerializable(typeof(FindSkillsResult))]
[JsonSerializable(typeof(ConsolidateResult))]
// The command line's --json output.
[JsonSerializable(typeof(VerifyReport))]
[JsonSerializable(typeof(DatabaseBackup.RestoreResult))]
[JsonSerializable(typeof(ImportResult))]
[JsonSerializable(typeof(McpMemory.Cli.MigrateResult))]
[JsonSerializable(typeof(StoreStats))]
[JsonSerializable(typeof(List<SkillResult>))]
[JsonSerializable(typeof(EmbedOutput))]
[JsonSerializable(typeof(Dictionary<string, object>))]
[JsonSerializable(typeof(Dictionary<string, int>))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(double))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(int?))]
[JsonSerializable(typeof(long?))]
[JsonSerializable(typeof(double?))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(bool?))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(JsonElement?))]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(JsonObject))]
internal sealed partial class ResultJsonContext : JsonSerializerContext;

/// <summary>`mcp-memory embed --json`: the encoder and the vectors of the texts, in order.</summary>
public sealed record EmbedOutput(string Model, int Dimension, float[][] Vectors);
