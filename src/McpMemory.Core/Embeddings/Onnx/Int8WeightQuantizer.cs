using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace McpMemory.Core.Embeddings.Onnx;

/// <summary>
/// Rewrites an ONNX model so that every <c>MatMul</c> by a constant fp32 weight [K, N] runs as ONNX Runtime's
/// <c>com.microsoft.DynamicQuantizeMatMul</c>: the weight stored as int8 with one scale per column, the activations
/// quantized to uint8 per call. What ONNX Runtime's Python quantizer (quantize_dynamic, per-channel, reduce_range) does,
/// here at load time so the package ships the one fp32 file. See docs/encoder.md, "int8 weights".
/// Two more rewrites cut the nodes a run goes through (ONNX Runtime fuses neither on this model): the bias Add after a
/// product goes into the product's bias input, and products of one input (attention's query, key and value) become one
/// product over their weights side by side, split afterwards.
/// </summary>
/// <remarks>
/// <para>Weights use 7 bits (−63…63): on x86 without VNNI ONNX Runtime multiplies uint8 × int8 with <c>vpmaddubsw</c>,
/// whose int16 pair sums saturate at 8-bit weights (255 × 127 × 2 > 32767); 7 bits never do, on every CPU.</para>
/// <para>The model is read as protobuf field by field and every field this class does not change is copied byte for
/// byte, so a model it cannot handle (no constant MatMul weights) comes back equivalent to the original.</para>
/// </remarks>
public static class Int8WeightQuantizer
{
    /// <summary>Bumped whenever the output changes, so cached quantized models are made again (3: CLS-pooled models get <see cref="ClsRowPruner"/>'s cut).</summary>
    public const int Version = 3;

    /// <summary>The largest quantized weight (7 bits, see remarks).</summary>
    public const int MaxLevel = 63;

    private const string ContribDomain = "com.microsoft";

    // ONNX protobuf field numbers (onnx.proto3).
    private const int ModelGraph = 7, ModelOpsetImport = 8;
    private const int GraphNode = 1, GraphInitializer = 5, GraphOutput = 12;
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5, NodeDomain = 7;
    private const int AttributeName = 1, AttributeInt = 3, AttributeInts = 8, AttributeType = 20, AttributeTypeInt = 2, AttributeTypeInts = 7;
    private const int TensorDims = 1, TensorDataType = 2, TensorName = 8, TensorRawData = 9;
    private const int OpsetDomain = 1, OpsetVersion = 2;
    private const int ValueInfoName = 1;
    private const int Float = 1, Int8 = 3, Int64 = 7;

    /// <summary>The rewritten model and how many weight matrices were quantized (0: the model came back as it was).</summary>
    public static (byte[] Model, int Quantized) Quantize(byte[] model)
    {
        var modelFields = Proto.Read(model, 0, model.Length);
        var graph = modelFields.FirstOrDefault(f => f.Number == ModelGraph && f.IsBytes);
        if (graph.End == 0) return (model, 0);
        var graphFields = Proto.Read(model, graph.ValueStart, graph.End);

        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var field in graphFields.Where(f => f.Number == GraphInitializer))
            if (Tensor.Parse(model, field) is { } tensor) weights[tensor.Name] = tensor;
        var nodes = graphFields.Where(f => f.Number == GraphNode).ToDictionary(f => f.Start, f => Node.Parse(model, f));
        // A weight read by more than one node, or returned as an output, keeps its fp32 form.
        var uses = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in nodes.Values)
            foreach (var input in node.Inputs) uses[input] = uses.GetValueOrDefault(input) + 1;
        foreach (var field in graphFields.Where(f => f.Number == GraphOutput))
            foreach (var name in Proto.Read(model, field.ValueStart, field.End).Where(f => f.Number == ValueInfoName))
                uses[Proto.String(model, name)] = 2;

        // Which MatMuls get int8 weights, which bias Add each absorbs, and which share their input (decided before writing,
        // so the model is assembled in one pass).
        var groups = PlanRewrites(nodes, weights, uses);
        if (groups.Count == 0) return (model, 0);
        // Split takes its sizes as an attribute up to opset 12 and as an input from 13 on.
        bool splitSizesAsInput = DefaultOpset(model, modelFields) >= 13;
        var emitAt = groups.ToDictionary(g => g.Min(r => r.Start));
        var dropped = groups.SelectMany(g => g.SelectMany(r => r.BiasAdd is null ? [r.Start] : new[] { r.Start, r.AddStart })).ToHashSet();
        var droppedInitializers = groups.SelectMany(g => g.Select(r => r.Weight.Name)).ToHashSet(StringComparer.Ordinal);
        // A merged group's biases are written concatenated; each original goes unless something else reads it.
        foreach (var group in groups.Where(g => g.Count > 1))
            foreach (var rewrite in group)
                if (rewrite.Bias is { } bias && uses.GetValueOrDefault(bias.Name) == 1) droppedInitializers.Add(bias.Name);

        var graphOut = new Proto.Writer();
        foreach (var field in graphFields)
        {
            if (emitAt.TryGetValue(field.Start, out var group))
                foreach (var node in QuantizedNodes(group, splitSizesAsInput)) graphOut.Bytes(GraphNode, node);
            else if (dropped.Contains(field.Start)) continue;
            else if (field.Number != GraphInitializer || Tensor.Parse(model, field) is not { } tensor || !droppedInitializers.Contains(tensor.Name))
                graphOut.Raw(model, field);
        }
        foreach (var group in groups) WriteQuantizedWeight(graphOut, model, group, splitSizesAsInput);

        var modelOut = new Proto.Writer();
        bool hasContrib = false;
        foreach (var field in modelFields)
        {
            if (field.Number == ModelGraph && field.IsBytes) { modelOut.Message(ModelGraph, graphOut); continue; }
            if (field.Number == ModelOpsetImport && Proto.Read(model, field.ValueStart, field.End)
                    .Any(f => f.Number == OpsetDomain && Proto.String(model, f) == ContribDomain))
                hasContrib = true;
            modelOut.Raw(model, field);
        }
        if (!hasContrib)
        {
            var opset = new Proto.Writer();
            opset.String(OpsetDomain, ContribDomain);
            opset.Varint(OpsetVersion, 1);
            modelOut.Message(ModelOpsetImport, opset);
        }
        return (modelOut.ToArray(), groups.Sum(g => g.Count));
    }

    /// <summary>How many nodes of each operator type the model's graph has (tests and benchmarks look at the rewrite with it).</summary>
    internal static Dictionary<string, int> OperatorCounts(byte[] model)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var graph = Proto.Read(model, 0, model.Length).First(f => f.Number == ModelGraph && f.IsBytes);
        foreach (var field in Proto.Read(model, graph.ValueStart, graph.End).Where(f => f.Number == GraphNode))
        {
            string op = Node.Parse(model, field).OpType;
            counts[op] = counts.GetValueOrDefault(op) + 1;
        }
        return counts;
    }

    /// <summary>Per column j: scale = max |w[·, j]| / <see cref="MaxLevel"/>, q = round(w / scale); zero point 0.</summary>
    internal static (sbyte[] Levels, float[] Scales) QuantizeColumns(ReadOnlySpan<float> weight, int rows, int columns)
    {
        var scales = new float[columns];
        for (int i = 0; i < rows; i++)
        {
            var row = weight.Slice(i * columns, columns);
            for (int j = 0; j < columns; j++) scales[j] = Math.Max(scales[j], Math.Abs(row[j]));
        }
        for (int j = 0; j < columns; j++) scales[j] = scales[j] > 0 ? scales[j] / MaxLevel : 1f;
        var levels = new sbyte[rows * columns];
        for (int i = 0; i < rows; i++)
        {
            var row = weight.Slice(i * columns, columns);
            var target = levels.AsSpan(i * columns, columns);
            for (int j = 0; j < columns; j++) target[j] = (sbyte)Math.Clamp(MathF.Round(row[j] / scales[j]), -MaxLevel, MaxLevel);
        }
        return (levels, scales);
    }

    /// <summary>One MatMul to rewrite: its weight and, if it can absorb it, the Add of a constant bias that follows it.</summary>
    private sealed record Rewrite(int Start, Node MatMul, Tensor Weight, int AddStart, Node? BiasAdd, Tensor? Bias)
    {
        /// <summary>The value the rewritten node produces: the Add's output when the bias is folded in.</summary>
        public string Output => BiasAdd?.Outputs[0] ?? MatMul.Outputs[0];

        public int Columns => (int)Weight.Dims[1];
    }

    /// <summary>
    /// The MatMuls by a constant fp32 matrix read by nothing else, each with the constant bias Add it can absorb (the
    /// MatMul's only reader, adding a [N] fp32 initializer: DynamicQuantizeMatMul takes a bias, one node less to run),
    /// grouped by their activation input: MatMuls of one input (attention's query, key and value) become one
    /// DynamicQuantizeMatMul over the weights side by side, so the activations are quantized once and one wider product
    /// runs instead of three narrow ones; a Split gives back each output.
    /// </summary>
    private static List<List<Rewrite>> PlanRewrites(Dictionary<int, Node> nodes, Dictionary<string, Tensor> weights, Dictionary<string, int> uses)
    {
        var readers = new Dictionary<string, List<(int Start, Node Node)>>(StringComparer.Ordinal);
        foreach (var (start, node) in nodes)
            foreach (var input in node.Inputs)
                (readers.TryGetValue(input, out var list) ? list : readers[input] = []).Add((start, node));
        var rewrites = new List<Rewrite>();
        foreach (var (start, node) in nodes.OrderBy(n => n.Key))
        {
            if (node is not { OpType: "MatMul", Domain: "", Inputs.Count: 2, Outputs.Count: 1 } || !weights.TryGetValue(node.Inputs[1], out var weight)
                || !weight.IsFloatMatrix || uses.GetValueOrDefault(weight.Name) != 1)
                continue;
            string output = node.Outputs[0];
            if (uses.GetValueOrDefault(output) == 1 && readers.TryGetValue(output, out var next) && next.Count == 1
                && next[0].Node is { OpType: "Add", Domain: "", Inputs.Count: 2, Outputs.Count: 1 } add
                && weights.TryGetValue(add.Inputs[0] == output ? add.Inputs[1] : add.Inputs[0], out var bias)
                && bias.IsFloatVector(weight.Dims[1]))
                rewrites.Add(new Rewrite(start, node, weight, next[0].Start, add, bias));
            else rewrites.Add(new Rewrite(start, node, weight, 0, null, null));
        }
        return rewrites.GroupBy(r => (r.MatMul.Inputs[0], r.Weight.Dims[0], r.BiasAdd is not null)).Select(g => g.ToList()).ToList();
    }

    /// <summary>The nodes that replace a group: one DynamicQuantizeMatMul, and a Split when it stands for several MatMuls.</summary>
    private static IEnumerable<byte[]> QuantizedNodes(List<Rewrite> group, bool splitSizesAsInput)
    {
        var first = group[0];
        string weight = WeightName(group), product = group.Count == 1 ? first.Output : weight + "/product";
        var inputs = new List<string> { first.MatMul.Inputs[0], weight + "_int8", weight + "_scale", weight + "_zero" };
        if (first.Bias is not null) inputs.Add(group.Count == 1 ? first.Bias.Name : weight + "_bias");
        yield return NodeBytes(first.MatMul.Name + "/int8", "DynamicQuantizeMatMul", ContribDomain, inputs, [product]);
        if (group.Count == 1) yield break;
        yield return NodeBytes(first.MatMul.Name + "/split", "Split", "", splitSizesAsInput ? [product, weight + "_split"] : [product],
            group.Select(r => r.Output).ToList(),
            attributes =>
            {
                attributes.Bytes(NodeAttribute, IntAttribute("axis", -1));
                if (!splitSizesAsInput) attributes.Bytes(NodeAttribute, IntsAttribute("split", group.Select(r => (long)r.Columns)));
            });
    }

    /// <summary>The quantized weights of a group (its matrices side by side), their scales and zero points, and a merged group's biases.</summary>
    private static void WriteQuantizedWeight(Proto.Writer initializers, byte[] model, List<Rewrite> group, bool splitSizesAsInput)
    {
        int rows = (int)group[0].Weight.Dims[0], columns = group.Sum(r => r.Columns);
        var values = new float[rows * columns];
        for (int offset = 0, g = 0; g < group.Count; offset += group[g].Columns, g++)
        {
            var part = FloatValues(model, group[g].Weight);
            int width = group[g].Columns;
            for (int i = 0; i < rows; i++) part.AsSpan(i * width, width).CopyTo(values.AsSpan(i * columns + offset));
        }
        var (levels, scales) = QuantizeColumns(values, rows, columns);

        string weight = WeightName(group);
        initializers.Bytes(GraphInitializer, TensorBytes(weight + "_int8", [rows, columns], Int8, MemoryMarshal.AsBytes(levels.AsSpan()).ToArray()));
        initializers.Bytes(GraphInitializer, TensorBytes(weight + "_scale", [columns], Float, FloatBytes(scales)));
        initializers.Bytes(GraphInitializer, TensorBytes(weight + "_zero", [columns], Int8, new byte[columns]));
        if (group.Count > 1 && group[0].Bias is not null)
            initializers.Bytes(GraphInitializer, TensorBytes(weight + "_bias", [columns], Float, FloatBytes(group.SelectMany(r => FloatValues(model, r.Bias!)).ToArray())));
        if (group.Count > 1 && splitSizesAsInput)
            initializers.Bytes(GraphInitializer, TensorBytes(weight + "_split", [group.Count], Int64,
                group.SelectMany(r => BitConverter.GetBytes((long)r.Columns)).ToArray()));
    }

    /// <summary>The model's version of the default operator set (ai.onnx).</summary>
    internal static long DefaultOpset(byte[] model, List<Proto.Field> modelFields)
    {
        foreach (var field in modelFields.Where(f => f.Number == ModelOpsetImport && f.IsBytes))
        {
            var opset = Proto.Read(model, field.ValueStart, field.End);
            string domain = opset.Where(f => f.Number == OpsetDomain).Select(f => Proto.String(model, f)).FirstOrDefault() ?? "";
            if (domain is "" or "ai.onnx") return (long)opset.FirstOrDefault(f => f.Number == OpsetVersion).Varint;
        }
        return 0;
    }

    private static string WeightName(List<Rewrite> group) => group.Count == 1 ? group[0].Weight.Name : group[0].Weight.Name + "+" + (group.Count - 1);

    private static float[] FloatValues(byte[] model, Tensor tensor)
    {
        // Copy out of the protobuf bytes: raw_data has no alignment guarantee.
        var values = new float[tensor.RawLength / 4];
        var raw = model.AsSpan(tensor.RawStart, tensor.RawLength);
        if (BitConverter.IsLittleEndian) MemoryMarshal.Cast<byte, float>(raw).CopyTo(values);
        else for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(i * 4)..]);
        return values;
    }

    private static byte[] FloatBytes(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int j = 0; j < values.Length; j++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(j * 4), values[j]);
        return bytes;
    }

    private static byte[] TensorBytes(string name, long[] dims, int dataType, byte[] raw)
    {
        var tensor = new Proto.Writer();
        foreach (long dim in dims) tensor.Varint(TensorDims, (ulong)dim);
        tensor.Varint(TensorDataType, (ulong)dataType);
        tensor.String(TensorName, name);
        tensor.Bytes(TensorRawData, raw);
        return tensor.ToArray();
    }

    private static byte[] IntAttribute(string name, long value)
    {
        var attribute = new Proto.Writer();
        attribute.String(AttributeName, name);
        attribute.Varint(AttributeInt, (ulong)value);
        attribute.Varint(AttributeType, AttributeTypeInt);
        return attribute.ToArray();
    }

    private static byte[] IntsAttribute(string name, IEnumerable<long> values)
    {
        var attribute = new Proto.Writer();
        attribute.String(AttributeName, name);
        foreach (long value in values) attribute.Varint(AttributeInts, (ulong)value);
        attribute.Varint(AttributeType, AttributeTypeInts);
        return attribute.ToArray();
    }

    private static byte[] NodeBytes(string name, string opType, string domain, List<string> inputs, List<string> outputs, Action<Proto.Writer>? attributes = null)
    {
        var node = new Proto.Writer();
        foreach (var input in inputs) node.String(NodeInput, input);
        foreach (var output in outputs) node.String(NodeOutput, output);
        node.String(NodeName, name);
        node.String(NodeOpType, opType);
        attributes?.Invoke(node);
        if (domain.Length > 0) node.String(NodeDomain, domain);
        return node.ToArray();
    }

    internal sealed record Node(string OpType, string Domain, string Name, List<string> Inputs, List<string> Outputs)
    {
        public static Node Parse(byte[] model, Proto.Field field)
        {
            string op = "", domain = "", name = "";
            List<string> inputs = [], outputs = [];
            foreach (var f in Proto.Read(model, field.ValueStart, field.End))
                switch (f.Number)
                {
                    case NodeInput: inputs.Add(Proto.String(model, f)); break;
                    case NodeOutput: outputs.Add(Proto.String(model, f)); break;
                    case NodeName: name = Proto.String(model, f); break;
                    case NodeOpType: op = Proto.String(model, f); break;
                    case NodeDomain: domain = Proto.String(model, f); break;
                }
            return new Node(op, domain is "ai.onnx" ? "" : domain, name, inputs, outputs);
        }
    }

    /// <summary>An initializer's name, shape, element type and where its raw bytes lie in the model (the splitter reads tables with it too).</summary>
    internal sealed record Tensor(string Name, long[] Dims, int DataType, int RawStart, int RawLength)
    {
        public bool IsFloatMatrix => DataType == Float && Dims.Length == 2 && RawLength == Dims[0] * Dims[1] * 4 && RawLength > 0;

        public bool IsFloatVector(long length) => DataType == Float && Dims.Length == 1 && Dims[0] == length && RawLength == length * 4;

        public static Tensor? Parse(byte[] model, Proto.Field field)
        {
            string? name = null;
            var dims = new List<long>();
            int dataType = 0, rawStart = 0, rawLength = -1;
            foreach (var f in Proto.Read(model, field.ValueStart, field.End))
                switch (f.Number)
                {
                    case TensorName: name = Proto.String(model, f); break;
                    case TensorDataType: dataType = (int)f.Varint; break;
                    case TensorRawData: rawStart = f.ValueStart; rawLength = f.End - f.ValueStart; break;
                    case TensorDims when f.IsBytes: // packed
                        for (int p = f.ValueStart; p < f.End;) dims.Add((long)Proto.ReadVarint(model, ref p));
                        break;
                    case TensorDims: dims.Add((long)f.Varint); break;
                }
            return name is null ? null : new Tensor(name, [.. dims], dataType, rawStart, rawLength);
        }
    }

    /// <summary>Just enough protobuf to walk and rebuild an ONNX model: fields are located, never decoded beyond need.</summary>
    internal static class Proto
    {
        /// <summary>One field: its key starts at <paramref name="Start"/>; a length-delimited value spans ValueStart..End.</summary>
        internal readonly record struct Field(int Number, int WireType, int Start, int ValueStart, int End, ulong Varint)
        {
            public bool IsBytes => WireType == 2;
        }

        public static List<Field> Read(byte[] data, int start, int end)
        {
            var fields = new List<Field>();
            for (int p = start; p < end;)
            {
                int keyStart = p;
                ulong key = ReadVarint(data, ref p);
                int number = (int)(key >> 3), wire = (int)(key & 7);
                switch (wire)
                {
                    case 0:
                        int valueStart = p;
                        ulong value = ReadVarint(data, ref p);
                        fields.Add(new Field(number, wire, keyStart, valueStart, p, value));
                        break;
                    case 1: fields.Add(new Field(number, wire, keyStart, p, p + 8, 0)); p += 8; break;
                    case 2:
                        ulong length = ReadVarint(data, ref p);
                        if (length > (ulong)(end - p)) throw new InvalidDataException($"ONNX model: field {number} runs past its message (offset {keyStart})");
                        fields.Add(new Field(number, wire, keyStart, p, p + (int)length, 0));
                        p += (int)length;
                        break;
                    case 5: fields.Add(new Field(number, wire, keyStart, p, p + 4, 0)); p += 4; break;
                    default: throw new InvalidDataException($"ONNX model: unsupported protobuf wire type {wire} at offset {keyStart}");
                }
                if (p > end) throw new InvalidDataException($"ONNX model: truncated field {number} at offset {keyStart}");
            }
            return fields;
        }

        public static ulong ReadVarint(byte[] data, ref int p)
        {
            ulong result = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (p >= data.Length) throw new InvalidDataException("ONNX model: truncated varint");
                byte b = data[p++];
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return result;
            }
            throw new InvalidDataException("ONNX model: varint longer than 10 bytes");
        }

        public static string String(byte[] data, Field field) => Encoding.UTF8.GetString(data, field.ValueStart, field.End - field.ValueStart);

        /// <summary>A message built from pieces (slices of the source model, new small fields), copied once by <see cref="ToArray"/>.</summary>
        internal sealed class Writer
        {
            private readonly List<ReadOnlyMemory<byte>> _parts = [];
            private readonly MemoryStream _pending = new();

            public long Length { get; private set; }

            public void Raw(byte[] source, Field field) => Add(source.AsMemory(field.Start, field.End - field.Start));

            public void Varint(int number, ulong value)
            {
                Key(number, 0);
                WriteVarint(value);
            }

            public void Bytes(int number, byte[] value)
            {
                Key(number, 2);
                WriteVarint((ulong)value.Length);
                Add(value);
            }

            public void Message(int number, Writer message)
            {
                Key(number, 2);
                WriteVarint((ulong)message.Length);
                message.Flush();
                foreach (var part in message._parts) Add(part);
            }

            public void String(int number, string value) => Bytes(number, Encoding.UTF8.GetBytes(value));

            public byte[] ToArray()
            {
                Flush();
                var result = GC.AllocateUninitializedArray<byte>(checked((int)Length));
                int offset = 0;
                foreach (var part in _parts)
                {
                    part.Span.CopyTo(result.AsSpan(offset));
                    offset += part.Length;
                }
                return result;
            }

            private void Key(int number, int wireType) => WriteVarint(((ulong)number << 3) | (uint)wireType);

            private void Add(ReadOnlyMemory<byte> part)
            {
                Flush();
                _parts.Add(part);
                Length += part.Length;
            }

            private void Flush()
            {
                if (_pending.Length == 0) return;
                _parts.Add(_pending.ToArray());
                _pending.SetLength(0);
            }

            private void WriteVarint(ulong value)
            {
                while (value >= 0x80)
                {
                    _pending.WriteByte((byte)(value | 0x80));
                    value >>= 7;
                    Length++;
                }
                _pending.WriteByte((byte)value);
                Length++;
            }
        }
    }
}
