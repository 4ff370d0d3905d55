namespace McpMemory.Core.Embeddings;

/// <summary>
/// Turns text into a transformer model's input ids: for a BERT-family model, [CLS] word pieces [SEP], truncated so the
/// whole sequence holds at most <c>maxTokens</c> ids. Implementations are thread-safe.
/// </summary>
public interface ITextTokenizer
{
    /// <summary>The ids of <paramref name="text"/>, special tokens included, at most <paramref name="maxTokens"/> long.</summary>
    long[] Encode(string text, int maxTokens);
}
