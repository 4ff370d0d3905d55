namespace McpMemory.Core.Embeddings;

/// <summary>
/// Turns text into a fixed-length, L2-normalised vector: <see cref="Embed"/> for what is stored, <see cref="EmbedQuery"/>
/// for what is searched. Implementations are thread-safe.
/// The <see cref="ModelId"/> is stored with every vector so that a change of encoder is
/// detected and vectors are rebuilt, never mixed.
/// </summary>
public interface IEmbedder
{
    /// <summary>Stable identifier of the model and its weights, e.g. "use-lite-en@0.2.0".</summary>
    string ModelId { get; }

    /// <summary>Length of every vector this embedder returns.</summary>
    int Dimension { get; }

    /// <summary>Embeds one text into a new unit-length vector of <see cref="Dimension"/> floats.</summary>
    float[] Embed(string text);

    /// <summary>
    /// Embeds a search query. Asymmetric models put an instruction before queries (arctic-embed: "Represent this
    /// sentence for searching relevant passages: "), so a query and a stored text of the same words get different
    /// vectors; a symmetric encoder embeds both alike (this default).
    /// </summary>
    float[] EmbedQuery(string text) => Embed(text);

    /// <summary>Embeds many texts; element i is the vector of texts[i] (same values as <see cref="Embed"/>).</summary>
    float[][] EmbedBatch(IReadOnlyList<string> texts);

    /// <summary>
    /// Embeds many texts on the calling thread only, each as <see cref="Embed"/> would: the background worker's way, so
    /// that it takes one core and leaves the others to requests. The default, <see cref="EmbedBatch"/>, suits an encoder
    /// whose work is done elsewhere (an embeddings endpoint: one request for the batch).
    /// </summary>
    float[][] EmbedOnThisThread(IReadOnlyList<string> texts) => EmbedBatch(texts);
}
