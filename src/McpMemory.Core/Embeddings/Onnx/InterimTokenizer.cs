using Microsoft.ML.Tokenizers;

namespace McpMemory.Core.Embeddings.Onnx;

/// <summary>
/// TEMPORARY — delete at the merge with the exact BERT tokenizer (McpMemory.Core.Embeddings.Bert.BertTokenizer), together
/// with the Microsoft.ML.Tokenizers package reference. Microsoft.ML.Tokenizers' BertTokenizer is close to Hugging Face's
/// but not exact (backticks dropped, '=' and '_' not split, tabs and newlines kept), so the golden tests feed reference
/// ids straight to the model and do not go through this class. Selected in one place: <see cref="OnnxEncoder.Load"/>.
/// </summary>
internal sealed class InterimTokenizer : ITextTokenizer
{
    private readonly BertTokenizer _tokenizer;
    private readonly long _separator;

    private InterimTokenizer(BertTokenizer tokenizer)
    {
        _tokenizer = tokenizer;
        _separator = tokenizer.SeparatorTokenId;
    }

    public static InterimTokenizer Load(string vocabTxtPath) =>
        new(BertTokenizer.Create(vocabTxtPath, new BertOptions { LowerCaseBeforeTokenization = true, RemoveNonSpacingMarks = true }));

    public long[] Encode(string text, int maxTokens)
    {
        var ids = _tokenizer.EncodeToIds(text, addSpecialTokens: true, considerPreTokenization: true, considerNormalization: true);
        int length = Math.Min(ids.Count, maxTokens);
        var result = new long[length];
        for (int i = 0; i < length; i++) result[i] = ids[i];
        result[length - 1] = _separator; // cut texts still end with [SEP], as Hugging Face truncation does
        return result;
    }
}
