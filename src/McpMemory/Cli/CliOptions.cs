using System.CommandLine;
using McpMemory.Core.Search;
using McpMemory.Transports.Http;

namespace McpMemory.Cli;

/// <summary>
/// Every option that feeds <see cref="Settings"/>: those every command takes (declared once on the root, inherited by all
/// subcommands) and serve's HTTP options. <see cref="ResolveSettings"/> turns them, with the environment, into the settings.
/// </summary>
internal static class CliOptions
{
    public static readonly Option<string?> Db = new("--db")
    {
        Description = $"Database file, or PostgreSQL as postgres://user[:password]@host[:port]/db or Host=…;Database=… (default: ${Settings.DbVariable}, else {Settings.DefaultDatabasePath()})",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print machine-readable JSON on stdout instead of text",
        Recursive = true,
    };

    public static readonly Option<string?> Namespace = new("--namespace", "-n")
    {
        Description = $"Default namespace: shared, project:<name> or agent:<id> (default: ${Settings.NamespaceVariable}, else project:<git root or folder name>)",
        Recursive = true,
    };

    public static readonly Option<string?> AgentId = new("--agent-id")
    {
        Description = $"Agent id recorded with memories and state (default: ${Settings.AgentVariable}, else \"default\")",
        Recursive = true,
    };

    public static readonly Option<string?> Model = new("--model")
    {
        Description = $"Sentence encoder: {Encoders.Arctic} (default; int8 weights), {Encoders.ArcticFp32} (the same model's fp32 weights: exact, slower), {Encoders.UseLite}, or a folder with model.onnx, vocab.txt and mcp-memory-model.json (default: ${Settings.ModelVariable})",
        Recursive = true,
    };

    public static readonly Option<string?> EmbeddingsUrl = new("--embeddings-url")
    {
        Description = $"Embed with an OpenAI-compatible endpoint instead of the built-in encoder, e.g. http://localhost:11434/v1 (Ollama) " +
                      $"(default: ${Settings.EmbeddingsUrlVariable}); a key, if needed, only from ${Settings.EmbeddingsKeyVariable}",
        Recursive = true,
    };

    public static readonly Option<string?> EmbeddingsModel = new("--embeddings-model")
    {
        Description = $"The endpoint's embedding model, e.g. nomic-embed-text (default: ${Settings.EmbeddingsModelVariable})",
        Recursive = true,
    };

    public static readonly Option<string?> Ranking = new("--ranking")
    {
        Description = $"Ranking parameters as NAME=VALUE pairs over ${Settings.RankingVariable}, e.g. \"fts_weight=0.8 recency_weight=0.1\" " +
                      $"(the names and defaults: {RankingOptions.Default})",
        Recursive = true,
    };

    /// <summary>The root's options, in the order --help lists them.</summary>
    public static IEnumerable<Option> Global => [Db, Json, Namespace, AgentId, Model, EmbeddingsUrl, EmbeddingsModel, Ranking];

    public static readonly Option<string[]> Urls = new("--urls")
    {
        Description = $"Addresses to listen on, e.g. http://127.0.0.1:8080 (default {HttpSettings.DefaultUrl}; port 0 picks a free one). " +
                      "A non-loopback address needs an API key",
        AllowMultipleArgumentsPerToken = true,
    };

    public static readonly Option<string?> ApiKey = new("--api-key")
    {
        Description = $"One bearer key with full access (default: ${Settings.ApiKeyVariable}); at least {ApiKeyRing.MinKeyLength} characters",
    };

    public static readonly Option<string?> KeysFile = new("--keys-file")
    {
        Description = $"JSON file of bearer keys, each limited to namespaces (default: ${Settings.KeysFileVariable}):\n" +
                      "{\"keys\": [\n" +
                      "  {\"key\": \"<at least 16 characters>\", \"namespaces\": [\"project:web\", \"shared\"], \"access\": \"read-write\", \"default_namespace\": \"project:web\"},\n" +
                      "  {\"key\": \"<another>\", \"namespaces\": [\"shared\"], \"access\": \"read\"}\n" +
                      "]}\n" +
                      "access: \"read\" or \"read-write\" (default); default_namespace: where writes and searches go by default " +
                      "(default: the first); agent_id: optional. A key can never read, write or delete outside its namespaces",
    };

    public static readonly Option<string[]> AllowedOrigins = new("--allowed-origins")
    {
        Description = "Browser origins allowed besides loopback ones, e.g. https://app.example.com (others get 403)",
        AllowMultipleArgumentsPerToken = true,
    };

    /// <summary>serve's options that apply only with --http.</summary>
    public static IEnumerable<Option> HttpOnly => [Urls, ApiKey, KeysFile, AllowedOrigins];

    /// <summary>The settings from these options (those the parsed command does not have read as not given) and the environment.</summary>
    public static Settings ResolveSettings(ParseResult parse) => Settings.FromProcess(new SettingsArgs
    {
        Db = parse.GetValue(Db),
        Namespace = parse.GetValue(Namespace),
        AgentId = parse.GetValue(AgentId),
        Model = parse.GetValue(Model),
        EmbeddingsUrl = parse.GetValue(EmbeddingsUrl),
        EmbeddingsModel = parse.GetValue(EmbeddingsModel),
        Ranking = parse.GetValue(Ranking),
        Urls = parse.GetValue(Urls),
        ApiKey = parse.GetValue(ApiKey),
        KeysFile = parse.GetValue(KeysFile),
        AllowedOrigins = parse.GetValue(AllowedOrigins),
    });
}
