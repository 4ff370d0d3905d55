using System.CommandLine;

namespace McpMemory.Cli;

/// <summary>Options every command takes (declared once on the root, inherited by all subcommands).</summary>
internal static class CliOptions
{
    public static readonly Option<string?> Db = new("--db")
    {
        Description = $"Database file (default: ${Settings.DbVariable}, else {Settings.DefaultDatabasePath()})",
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
        Description = $"Sentence encoder: {Encoders.Arctic} (default; int8 weights), {Encoders.ArcticFp32} (the same model's fp32 weights: exact, slower), {Encoders.UseLite}, or a folder with model.onnx, vocab.txt and mcp-memory-model.json (default: ${Encoders.ModelVariable})",
        Recursive = true,
    };

    public static readonly Option<string?> EmbeddingsUrl = new("--embeddings-url")
    {
        Description = $"Embed with an OpenAI-compatible endpoint instead of the built-in encoder, e.g. http://localhost:11434/v1 (Ollama) " +
                      $"(default: ${EmbeddingEndpoint.UrlVariable}); a key, if needed, only from ${EmbeddingEndpoint.KeyVariable}",
        Recursive = true,
    };

    public static readonly Option<string?> EmbeddingsModel = new("--embeddings-model")
    {
        Description = $"The endpoint's embedding model, e.g. nomic-embed-text (default: ${EmbeddingEndpoint.ModelVariable})",
        Recursive = true,
    };

    public static Settings ResolveSettings(ParseResult parse) =>
        McpMemory.Settings.Resolve(parse.GetValue(Db), parse.GetValue(Namespace), parse.GetValue(AgentId), parse.GetValue(Model))
            with { Embeddings = EmbeddingEndpoint.Resolve(parse.GetValue(EmbeddingsUrl), parse.GetValue(EmbeddingsModel)) };
}
