using static McpMemory.Core.Embeddings.Onnx.Int8WeightQuantizer;

namespace McpMemory.Core.Embeddings.Onnx;

/// <summary>
/// For a CLS-pooled encoder: makes the model compute its output for the first token ([CLS]) only, where it can. The
/// last layer's work after attention — the attention's output product, the residual additions, the layer norms and
/// the feed-forward products — treats each token's row on its own, and only the [CLS] row is pooled; so those nodes
/// get the first row of their inputs (a <c>Slice</c>) and the output becomes [batch, 1, hidden]. Attention itself and
/// the earlier layers still see every token (the [CLS] row attends to all of them).
/// </summary>
/// <remarks>
/// <para>How the nodes are found, from the output backwards: a node joins when its op works row by row (elementwise
/// arithmetic, <c>Erf</c>, layer norms, <c>ReduceMean</c> over the last axis, products by a constant weight) and
/// everything that reads its outputs has joined; what the joined nodes read from elsewhere (other than constants) is
/// sliced. The output must be declared [batch, tokens, hidden], and each sliced tensor must be a hidden state: the output
/// of a <c>Reshape</c> (attention's merged heads) or a tensor that a product outside reads too (the residual stream). Any
/// other shape of graph is left as it is.</para>
/// <para>Exactness: fp32 rows come out as before. With int8 weights a product quantizes its activations with one scale
/// for all rows it is given, so the [CLS] row's last products get a scale from that row alone: the vector moves a
/// little (docs/encoder.md, "int8 weights").</para>
/// </remarks>
public static class ClsRowPruner
{
    private const int ModelGraph = 7;
    private const int GraphNode = 1, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5;
    private const int AttributeName = 1, AttributeInt = 3, AttributeInts = 8, AttributeTensor = 5;
    private const int ValueInfoName = 1, ValueInfoType = 2, TypeTensor = 1, TensorTypeShape = 2, ShapeDim = 1, DimValue = 1;
    private const int TensorDims = 1, TensorDataType = 2, TensorName = 8, TensorRawData = 9, Int64 = 7;

    /// <summary>Names of the constant inputs of the inserted Slice nodes.</summary>
    private const string Starts = "mcp_memory.cls_row.starts", Ends = "mcp_memory.cls_row.ends", Axes = "mcp_memory.cls_row.axes";

    private static readonly HashSet<string> Elementwise = new(StringComparer.Ordinal)
        { "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Erf", "Tanh", "Relu", "Sigmoid", "Gelu", "FastGelu", "BiasGelu", "Identity", "Cast" };

    /// <summary>
    /// The model with its hidden-state output (<c>last_hidden_state</c>, else the first output: the one <see cref="OnnxEncoder"/>
    /// pools) cut to the first token's row, and how many nodes now see only that row; (model, 0) when the graph does not
    /// have the shape this handles (the model comes back unchanged).
    /// </summary>
    public static (byte[] Model, int Nodes) Prune(byte[] model)
    {
        var modelFields = Proto.Read(model, 0, model.Length);
        var graphField = modelFields.FirstOrDefault(f => f.Number == ModelGraph && f.IsBytes);
        if (graphField.End == 0 || Int8WeightQuantizer.DefaultOpset(model, modelFields) < 10) return (model, 0); // Slice takes its bounds as inputs from opset 10
        var graphFields = Proto.Read(model, graphField.ValueStart, graphField.End);
        var nodes = graphFields.Where(f => f.Number == GraphNode).Select(f => GraphNodeInfo.Parse(model, f)).ToList();

        var constants = new HashSet<string>(StringComparer.Ordinal);
        foreach (var field in graphFields.Where(f => f.Number == GraphInitializer))
            if (Tensor.Parse(model, field) is { } tensor) constants.Add(tensor.Name);
        foreach (var node in nodes.Where(n => n.OpType == "Constant")) constants.UnionWith(node.Outputs);
        var graphOutputs = graphFields.Where(f => f.Number == GraphOutput).Select(f => ValueInfoNameOf(model, f)).ToList();
        if (graphOutputs.Count == 0) return (model, 0);
        string output = graphOutputs.Contains("last_hidden_state") ? "last_hidden_state" : graphOutputs[0];
        // Only a declared [batch, tokens, hidden] output: the row-by-row nodes keep their input's rank, so every tensor
        // they read is [batch, tokens, hidden] too and the slices cut axis 1, the tokens.
        if (DeclaredRank(model, graphFields.First(f => f.Number == GraphOutput && ValueInfoNameOf(model, f) == output)) != 3) return (model, 0);

        var readers = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < nodes.Count; i++)
            foreach (var input in nodes[i].Inputs) (readers.TryGetValue(input, out var list) ? list : readers[input] = []).Add(i);

        // From the output backwards (ONNX nodes are in topological order): a row-by-row node whose every reader has joined.
        var joined = new HashSet<int>();
        for (int i = nodes.Count - 1; i >= 0; i--)
        {
            var node = nodes[i];
            if (node.OpType == "Constant" || !WorksRowByRow(node, constants)) continue;
            bool feedsRegion = false, readElsewhere = false;
            foreach (var produced in node.Outputs)
            {
                if (produced == output) { feedsRegion = true; continue; }
                if (graphOutputs.Contains(produced)) readElsewhere = true;
                foreach (int reader in readers.GetValueOrDefault(produced) ?? [])
                    if (joined.Contains(reader)) feedsRegion = true;
                    else readElsewhere = true;
            }
            if (feedsRegion && !readElsewhere) joined.Add(i);
        }
        if (!joined.Any(i => IsProduct(nodes[i]))) return (model, 0);

        // What the joined nodes read from outside: each must be a hidden state ([batch, tokens, hidden]) to be sliced.
        var producedInside = joined.SelectMany(i => nodes[i].Outputs).ToHashSet(StringComparer.Ordinal);
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < nodes.Count; i++)
            foreach (var produced in nodes[i].Outputs) producer[produced] = i;
        var sliced = new List<string>();
        foreach (int i in joined.Order())
            foreach (var input in nodes[i].Inputs)
            {
                if (input.Length == 0 || constants.Contains(input) || producedInside.Contains(input) || sliced.Contains(input)) continue;
                bool mergedHeads = producer.TryGetValue(input, out int p) && nodes[p].OpType is "Reshape" or "MultiHeadAttention" or "Attention";
                bool residual = (readers.GetValueOrDefault(input) ?? []).Any(r => !joined.Contains(r) && IsProduct(nodes[r]) && nodes[r].Inputs[0] == input);
                if (!mergedHeads && !residual) return (model, 0);
                sliced.Add(input);
            }

        // Each Slice goes just before the first joined node that reads it; the joined nodes read the slices instead.
        var sliceBefore = sliced.ToDictionary(s => s, s => joined.Where(i => nodes[i].Inputs.Contains(s)).Min());
        var renamed = sliced.ToDictionary(s => s, s => s + "/cls_row", StringComparer.Ordinal);
        var graphOut = new Proto.Writer();
        int nodeIndex = 0;
        foreach (var field in graphFields)
        {
            if (field.Number == GraphNode)
            {
                int i = nodeIndex++;
                foreach (var tensor in sliced.Where(s => sliceBefore[s] == i))
                    graphOut.Bytes(GraphNode, SliceNode(tensor, renamed[tensor]));
                if (joined.Contains(i)) graphOut.Bytes(GraphNode, WithInputs(model, field, renamed));
                else graphOut.Raw(model, field);
            }
            else if (field.Number == GraphOutput && ValueInfoNameOf(model, field) == output) graphOut.Bytes(GraphOutput, WithOneRow(model, field));
            else graphOut.Raw(model, field);
        }
        graphOut.Bytes(GraphInitializer, Int64Tensor(Starts, 0));
        graphOut.Bytes(GraphInitializer, Int64Tensor(Ends, 1));
        graphOut.Bytes(GraphInitializer, Int64Tensor(Axes, 1));

        var modelOut = new Proto.Writer();
        foreach (var field in modelFields)
            if (field.Number == ModelGraph && field.IsBytes) modelOut.Message(ModelGraph, graphOut);
            else modelOut.Raw(model, field);
        return (modelOut.ToArray(), joined.Count);
    }

    /// <summary>Whether the node computes each token's row from that row alone (constants broadcast).</summary>
    private static bool WorksRowByRow(GraphNodeInfo node, HashSet<string> constants) => node.OpType switch
    {
        _ when IsProduct(node) => node.Inputs.Skip(1).All(i => i.Length == 0 || constants.Contains(i)),
        "LayerNormalization" or "SkipLayerNormalization" or "SimplifiedLayerNormalization" => node.LastAxisOnly,
        "ReduceMean" => node.LastAxisOnly,
        _ => node.Domain is "" or "com.microsoft" && Elementwise.Contains(node.OpType),
    };

    /// <summary>A product by a constant weight: the activations' rows are independent.</summary>
    private static bool IsProduct(GraphNodeInfo node) =>
        node.OpType is "MatMul" or "DynamicQuantizeMatMul" or "MatMulInteger" or "MatMulIntegerToFloat" or "Gemm" && node.Inputs.Count >= 2;

    private static byte[] SliceNode(string input, string output)
    {
        var node = new Proto.Writer();
        foreach (var name in new[] { input, Starts, Ends, Axes }) node.String(NodeInput, name);
        node.String(NodeOutput, output);
        node.String(NodeName, output);
        node.String(NodeOpType, "Slice");
        return node.ToArray();
    }

    private static byte[] Int64Tensor(string name, long value)
    {
        var tensor = new Proto.Writer();
        tensor.Varint(TensorDims, 1);
        tensor.Varint(TensorDataType, Int64);
        tensor.String(TensorName, name);
        tensor.Bytes(TensorRawData, BitConverter.GetBytes(value));
        return tensor.ToArray();
    }

    /// <summary>The node with its inputs renamed (every other field copied byte for byte).</summary>
    private static byte[] WithInputs(byte[] model, Proto.Field node, Dictionary<string, string> renamed)
    {
        var writer = new Proto.Writer();
        foreach (var field in Proto.Read(model, node.ValueStart, node.End))
            if (field.Number == NodeInput && renamed.TryGetValue(Proto.String(model, field), out var name)) writer.String(NodeInput, name);
            else writer.Raw(model, field);
        return writer.ToArray();
    }

    /// <summary>The output's ValueInfo with its second dimension (tokens) fixed at 1, so the encoder can see the model gives one row.</summary>
    private static byte[] WithOneRow(byte[] model, Proto.Field valueInfo)
    {
        var info = new Proto.Writer();
        foreach (var field in Proto.Read(model, valueInfo.ValueStart, valueInfo.End))
        {
            if (field.Number != ValueInfoType) { info.Raw(model, field); continue; }
            var type = new Proto.Writer();
            foreach (var t in Proto.Read(model, field.ValueStart, field.End))
            {
                if (t.Number != TypeTensor) { type.Raw(model, t); continue; }
                var tensorType = new Proto.Writer();
                foreach (var tt in Proto.Read(model, t.ValueStart, t.End))
                {
                    if (tt.Number != TensorTypeShape) { tensorType.Raw(model, tt); continue; }
                    var shape = new Proto.Writer();
                    int dim = 0;
                    foreach (var d in Proto.Read(model, tt.ValueStart, tt.End))
                    {
                        if (d.Number == ShapeDim && dim++ == 1)
                        {
                            var one = new Proto.Writer();
                            one.Varint(DimValue, 1);
                            shape.Message(ShapeDim, one);
                        }
                        else shape.Raw(model, d);
                    }
                    tensorType.Message(TensorTypeShape, shape);
                }
                type.Message(TypeTensor, tensorType);
            }
            info.Message(ValueInfoType, type);
        }
        return info.ToArray();
    }

    /// <summary>How many dimensions a ValueInfo declares (-1 when it declares no shape).</summary>
    private static int DeclaredRank(byte[] model, Proto.Field valueInfo)
    {
        foreach (var type in Proto.Read(model, valueInfo.ValueStart, valueInfo.End).Where(f => f.Number == ValueInfoType))
            foreach (var tensor in Proto.Read(model, type.ValueStart, type.End).Where(f => f.Number == TypeTensor))
                foreach (var shape in Proto.Read(model, tensor.ValueStart, tensor.End).Where(f => f.Number == TensorTypeShape))
                    return Proto.Read(model, shape.ValueStart, shape.End).Count(f => f.Number == ShapeDim);
        return -1;
    }

    private static string ValueInfoNameOf(byte[] model, Proto.Field field) =>
        Proto.Read(model, field.ValueStart, field.End).Where(f => f.Number == ValueInfoName).Select(f => Proto.String(model, f)).FirstOrDefault() ?? "";

    /// <summary>What the pruner needs of a node: its op, inputs, outputs, and whether its axis attributes are just the last axis.</summary>
    private sealed record GraphNodeInfo(string OpType, string Domain, List<string> Inputs, List<string> Outputs, bool LastAxisOnly)
    {
        public static GraphNodeInfo Parse(byte[] model, Proto.Field field)
        {
            var node = Node.Parse(model, field);
            bool lastAxisOnly = true, hasAxes = false;
            foreach (var f in Proto.Read(model, field.ValueStart, field.End).Where(f => f.Number == NodeAttribute))
            {
                var attribute = Proto.Read(model, f.ValueStart, f.End);
                string name = attribute.Where(a => a.Number == AttributeName).Select(a => Proto.String(model, a)).FirstOrDefault() ?? "";
                if (name is not ("axis" or "axes")) continue;
                hasAxes = true;
                var values = new List<long>();
                foreach (var a in attribute)
                    if (a.Number == AttributeInt || (a.Number == AttributeInts && !a.IsBytes)) values.Add((long)a.Varint);
                    else if (a.Number == AttributeInts) for (int p = a.ValueStart; p < a.End;) values.Add((long)Proto.ReadVarint(model, ref p));
                    else if (a.Number == AttributeTensor) lastAxisOnly = false;
                if (values is not [-1]) lastAxisOnly = false;
            }
            // ReduceMean with axes as an input (opset 18) or no axes at all (every axis) is not row by row.
            if (node.OpType == "ReduceMean" && (!hasAxes || node.Inputs.Count > 1)) lastAxisOnly = false;
            // LayerNormalization's axis defaults to -1.
            return new GraphNodeInfo(node.OpType, node.Domain, node.Inputs, node.Outputs, lastAxisOnly);
        }
    }
}
