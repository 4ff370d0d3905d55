using static McpMemory.Core.Embeddings.Onnx.Int8WeightQuantizer;

namespace McpMemory.Core.Embeddings.Onnx;

/// <summary>
/// Takes a BERT model's word-embedding table out of the ONNX graph: the <c>Gather</c> of the table by <c>input_ids</c>
/// becomes an <c>Identity</c> of a new graph input, <see cref="InputName"/> (float [batch, tokens, hidden]), and the
/// table's rows go to a file of their own that <see cref="OnnxEncoder"/> reads row by row with <c>pread</c>.
/// </summary>
/// <remarks>
/// Why: arctic-embed-xs's table is 30,522 × 384 fp32, 44.7 MiB, and ONNX Runtime keeps it in anonymous memory although a
/// text reads only its own tokens' rows (a few KiB); the whole table was a fifth of the server's RSS. Read from the
/// file, the rows live in the page cache, which is not the process's memory (memory-mapping the table instead still
/// counted ~40 MiB: the kernel maps 64 KiB around every faulted row). The rows are the same fp32 values the Gather
/// returned, so the vectors are the same bit for bit. Every other field of the model is copied byte for byte.
/// </remarks>
public static class WordEmbeddingSplitter
{
    /// <summary>The graph input that replaces the table's Gather: the rows of the text's token ids, [batch, tokens, hidden].</summary>
    public const string InputName = "mcp_memory.word_embeddings";

    /// <summary>Only a table at least this large is worth a file of its own (position and token-type tables stay).</summary>
    private const long MinimumTableBytes = 1 << 20;

    private const int ModelGraph = 7;
    private const int GraphNode = 1, GraphInitializer = 5, GraphInput = 11;
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4;
    private const int ValueInfoName = 1, ValueInfoType = 2, TypeTensor = 1, TensorTypeElemType = 1, TensorTypeShape = 2;
    private const int ShapeDim = 1, DimValue = 1, DimParam = 2;
    private const int Float = 1;

    /// <summary>The model without its word-embedding table, and the table's rows (little-endian fp32, row after row); null when the model has no such table.</summary>
    public static (byte[] Model, byte[] Table, int Rows, int Hidden)? Split(byte[] model)
    {
        var modelFields = Proto.Read(model, 0, model.Length);
        var graph = modelFields.FirstOrDefault(f => f.Number == ModelGraph && f.IsBytes);
        if (graph.End == 0) return null;
        var graphFields = Proto.Read(model, graph.ValueStart, graph.End);
        var inputs = graphFields.Where(f => f.Number == GraphInput).Select(f => ValueInfoNameOf(model, f)).ToHashSet(StringComparer.Ordinal);
        if (inputs.Contains(InputName)) return null;

        var tables = new Dictionary<string, (int Start, long[] Dims, int RawStart, int RawLength)>(StringComparer.Ordinal);
        foreach (var field in graphFields.Where(f => f.Number == GraphInitializer))
            if (Tensor.Parse(model, field) is { IsFloatMatrix: true } table && table.RawLength >= MinimumTableBytes) tables[table.Name] = (field.Start, table.Dims, table.RawStart, table.RawLength);
        var readers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var field in graphFields.Where(f => f.Number == GraphNode))
            foreach (var input in NodeStrings(model, field, NodeInput)) readers[input] = readers.GetValueOrDefault(input) + 1;

        // The Gather of a large fp32 [rows, hidden] table (axis 0, the default) by a graph input, the table's only reader.
        foreach (var field in graphFields.Where(f => f.Number == GraphNode))
        {
            if (NodeString(model, field, NodeOpType) != "Gather" || Proto.Read(model, field.ValueStart, field.End).Any(f => f.Number == 5)) continue;
            var nodeInputs = NodeStrings(model, field, NodeInput);
            var outputs = NodeStrings(model, field, NodeOutput);
            if (nodeInputs.Count != 2 || outputs.Count != 1 || !tables.TryGetValue(nodeInputs[0], out var table)
                || !inputs.Contains(nodeInputs[1]) || readers[nodeInputs[0]] != 1)
                continue;
            int hidden = (int)table.Dims[1];
            var graphOut = new Proto.Writer();
            foreach (var f in graphFields)
            {
                if (f.Start == field.Start)
                {
                    var identity = new Proto.Writer();
                    identity.String(NodeInput, InputName);
                    identity.String(NodeOutput, outputs[0]);
                    identity.String(NodeName, (NodeString(model, field, NodeName) ?? "word_embeddings") + "/input");
                    identity.String(NodeOpType, "Identity");
                    graphOut.Bytes(GraphNode, identity.ToArray());
                }
                else if (f.Start == table.Start) continue;
                else if (f.Number == GraphInput && ValueInfoNameOf(model, f) == nodeInputs[0]) continue; // old IR: initializers listed as inputs
                else graphOut.Raw(model, f);
            }
            graphOut.Bytes(GraphInput, EmbeddingsInput(hidden));
            var modelOut = new Proto.Writer();
            foreach (var f in modelFields)
                if (f.Number == ModelGraph && f.IsBytes) modelOut.Message(ModelGraph, graphOut);
                else modelOut.Raw(model, f);
            return (modelOut.ToArray(), model.AsSpan(table.RawStart, table.RawLength).ToArray(), (int)table.Dims[0], hidden);
        }
        return null;
    }

    /// <summary>ValueInfo of the new input: float [batch, tokens, hidden].</summary>
    private static byte[] EmbeddingsInput(int hidden)
    {
        var shape = new Proto.Writer();
        foreach (var dim in new object[] { "batch", "tokens", hidden })
        {
            var d = new Proto.Writer();
            if (dim is string name) d.String(DimParam, name);
            else d.Varint(DimValue, (ulong)(int)dim);
            shape.Message(ShapeDim, d);
        }
        var tensorType = new Proto.Writer();
        tensorType.Varint(TensorTypeElemType, Float);
        tensorType.Message(TensorTypeShape, shape);
        var type = new Proto.Writer();
        type.Message(TypeTensor, tensorType);
        var info = new Proto.Writer();
        info.String(ValueInfoName, InputName);
        info.Message(ValueInfoType, type);
        return info.ToArray();
    }

    private static string ValueInfoNameOf(byte[] model, Proto.Field field) =>
        Proto.Read(model, field.ValueStart, field.End).Where(f => f.Number == ValueInfoName).Select(f => Proto.String(model, f)).FirstOrDefault() ?? "";

    private static List<string> NodeStrings(byte[] model, Proto.Field node, int number) =>
        Proto.Read(model, node.ValueStart, node.End).Where(f => f.Number == number).Select(f => Proto.String(model, f)).ToList();

    private static string? NodeString(byte[] model, Proto.Field node, int number) => NodeStrings(model, node, number).FirstOrDefault();
}
