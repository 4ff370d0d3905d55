using System.Runtime.InteropServices;
using System.Text.Json;

namespace McpMemory.Core.Embeddings;

/// <summary>Weights of one transformer layer, packed for <see cref="PackedMatrix"/>.</summary>
internal sealed class TransformerLayerWeights
{
    public required float[] AttentionNormScale { get; init; }
    public required float[] AttentionNormBias { get; init; }
    public required PackedMatrix QueryKeyValue { get; init; }
    public required PackedMatrix AttentionOutput { get; init; }
    public required float QueryScale { get; init; }
    public required float[] FfnNormScale { get; init; }
    public required float[] FfnNormBias { get; init; }
    public required PackedMatrix FfnIn { get; init; }
    public required PackedMatrix FfnOut { get; init; }
    public required int HeadSize { get; init; }
}

/// <summary>
/// Reads the USE-lite TF.js weights (model.json manifest + group1-shard*) and packs them for the forward pass.
/// Tensor names and shapes are checked against the manifest; see the reference's ARCHITECTURE.md §6.
/// </summary>
internal sealed class UseLiteWeights
{
    public const int EmbeddingSize = 256;
    public const int ModelSize = 512;
    public const int FfnSize = 1536;
    public const int Heads = 4;
    public const int TimingChannels = EmbeddingSize / 2;

    private const string Stack = "module_apply_default/Encoder_en/KonaTransformer/Encode/TransformerStack/";
    private const string Encode = "module_apply_default/Encoder_en/KonaTransformer/Encode/";
    private const string Variables = "module/Encoder_en/KonaTransformer/Encode/";

    /// <summary>Token embeddings [vocab, 256], row-major.</summary>
    public required float[] Embeddings { get; init; }
    public required int VocabularyRows { get; init; }
    /// <summary>Inverse timescales of the sinusoidal timing signal [128].</summary>
    public required float[] InverseTimescales { get; init; }
    /// <summary>Layer 0's projection of its un-normalised input from 256 to 512 (the residual path).</summary>
    public required PackedMatrix ResidualProjection { get; init; }
    public required TransformerLayerWeights Layer0 { get; init; }
    public required TransformerLayerWeights Layer1 { get; init; }
    /// <summary>The 512→512 tanh layer applied to the pooled vector.</summary>
    public required PackedMatrix TanhLayer { get; init; }
    /// <summary>Bias of the tanh layer; an empty text embeds to l2norm(tanh(bias)).</summary>
    public required float[] TanhBias { get; init; }

    public static UseLiteWeights Load(string directory)
    {
        // The raw shards live in native memory only while packing, so the 28 MB never stays in the managed heap.
        using var file = WeightFile.Open(directory);

        ReadOnlySpan<float> Get(string name, params int[] shape) => file.Get(name, shape);

        TransformerLayerWeights Layer(int index, int inputSize, int headSize)
        {
            string layer = $"Layer_{index}/TransformerLayer/";
            return new TransformerLayerWeights
            {
                AttentionNormScale = Get($"{Encode}{layer}layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", inputSize).ToArray(),
                AttentionNormBias = Get($"{Encode}{layer}layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", inputSize).ToArray(),
                QueryKeyValue = new PackedMatrix(
                    Get($"{Variables}{layer}MultiheadAttention/qkv_transform_single/kernel/part_0", 1, 1, inputSize, 3 * Heads * headSize),
                    inputSize, 3 * Heads * headSize,
                    Get($"{Encode}{layer}MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat", 3 * Heads * headSize)),
                AttentionOutput = new PackedMatrix(
                    Get($"{Variables}{layer}MultiheadAttention/output_transform_single/kernel/part_0", 1, 1, Heads * headSize, ModelSize),
                    Heads * headSize, ModelSize,
                    Get($"{Encode}{layer}MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat", ModelSize)),
                QueryScale = Get($"{Stack}{layer}MultiheadAttention/mul/y")[0],
                FfnNormScale = Get($"{Encode}{layer}FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", ModelSize).ToArray(),
                FfnNormBias = Get($"{Encode}{layer}FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", ModelSize).ToArray(),
                FfnIn = new PackedMatrix(
                    Get($"{Stack}{layer}FFN/conv1/Tensordot/Reshape_1", ModelSize, FfnSize), ModelSize, FfnSize,
                    Get($"{Encode}{layer}FFN/conv1/bias/ConcatPartitions/concat", FfnSize)),
                FfnOut = new PackedMatrix(
                    Get($"{Stack}{layer}FFN/conv2/Tensordot/Reshape_1", FfnSize, ModelSize), FfnSize, ModelSize,
                    Get($"{Encode}{layer}FFN/conv2/bias/ConcatPartitions/concat", ModelSize)),
                HeadSize = headSize,
            };
        }

        const string embeddingName = "module/Embeddings_en";
        int vocabularyRows = file.ShapeOf(embeddingName) is [int rows, EmbeddingSize] ? rows
            : throw new InvalidDataException($"{UseLiteModelFiles.ManifestFile}: '{embeddingName}' is not a [*, {EmbeddingSize}] matrix.");
        float[] tanhBias = Get("module/Encoder_en/hidden_layers/tanh_layer_0/bias", ModelSize).ToArray();
        return new UseLiteWeights
        {
            Embeddings = Get(embeddingName, vocabularyRows, EmbeddingSize).ToArray(),
            VocabularyRows = vocabularyRows,
            InverseTimescales = Get($"{Stack}Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", 1, TimingChannels).ToArray(),
            ResidualProjection = new PackedMatrix(
                Get($"{Encode}Layer_0/TransformerLayer/dense/kernel/ConcatPartitions/concat", EmbeddingSize, ModelSize),
                EmbeddingSize, ModelSize,
                Get($"{Encode}Layer_0/TransformerLayer/dense/bias/ConcatPartitions/concat", ModelSize)),
            Layer0 = Layer(0, EmbeddingSize, 64),
            Layer1 = Layer(1, ModelSize, 128),
            TanhLayer = new PackedMatrix(Get("module/Encoder_en/hidden_layers/tanh_layer_0/weights", ModelSize, ModelSize),
                ModelSize, ModelSize, tanhBias),
            TanhBias = tanhBias,
        };
    }

    /// <summary>
    /// The concatenated weight shards in native memory, indexed by the manifest. The manifest lists the shards of
    /// one group and its tensors back to back in that order, little-endian, without padding; a tensor may straddle
    /// two shards.
    /// </summary>
    private sealed unsafe class WeightFile : IDisposable
    {
        private readonly byte* _data;
        private readonly long _length;
        private readonly Dictionary<string, (int[] Shape, long Offset, string Dtype)> _entries;

        private WeightFile(byte* data, long length, Dictionary<string, (int[] Shape, long Offset, string Dtype)> entries)
        {
            _data = data;
            _length = length;
            _entries = entries;
        }

        public static WeightFile Open(string directory)
        {
            UseLiteModelFiles.EnsurePresent(directory);
            using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, UseLiteModelFiles.ManifestFile)));
            var groups = manifest.RootElement.GetProperty("weightsManifest");
            if (groups.GetArrayLength() != 1)
                throw new InvalidDataException($"{UseLiteModelFiles.ManifestFile}: expected one weights group, found {groups.GetArrayLength()}.");
            var group = groups[0];

            var shardPaths = group.GetProperty("paths").EnumerateArray().Select(p => Path.Combine(directory, p.GetString()!)).ToList();
            long totalBytes = 0;
            foreach (string shard in shardPaths)
            {
                if (!File.Exists(shard))
                    throw new FileNotFoundException($"The sentence encoder weight shard '{shard}' is missing (model directory '{directory}').", shard);
                totalBytes += new FileInfo(shard).Length;
            }
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("The weight loader assumes a little-endian CPU.");

            var entries = new Dictionary<string, (int[], long, string)>(StringComparer.Ordinal);
            long offset = 0;
            foreach (var entry in group.GetProperty("weights").EnumerateArray())
            {
                string name = entry.GetProperty("name").GetString()!;
                int[] shape = entry.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
                string dtype = entry.GetProperty("dtype").GetString()!;
                if (entry.TryGetProperty("quantization", out _))
                    throw new InvalidDataException($"{UseLiteModelFiles.ManifestFile}: quantized weight '{name}' is not supported.");
                if (dtype is not ("float32" or "int32")) // the only dtypes in this model, both 4 bytes
                    throw new InvalidDataException($"{UseLiteModelFiles.ManifestFile}: weight '{name}' has unsupported dtype {dtype}.");
                entries[name] = (shape, offset, dtype);
                offset += shape.Aggregate(4L, (a, b) => a * b);
            }
            if (offset != totalBytes)
                throw new InvalidDataException($"{UseLiteModelFiles.ManifestFile}: the manifest describes {offset} bytes but the shards hold {totalBytes}.");

            byte* data = (byte*)NativeMemory.Alloc((nuint)totalBytes);
            try
            {
                long filled = 0;
                foreach (string shard in shardPaths)
                {
                    using var stream = new FileStream(shard, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
                    int read;
                    while ((read = stream.Read(new Span<byte>(data + filled, (int)Math.Min(int.MaxValue, totalBytes - filled)))) > 0)
                        filled += read;
                }
                if (filled != totalBytes) throw new InvalidDataException("Weight shards changed while being read.");
                return new WeightFile(data, totalBytes, entries);
            }
            catch
            {
                NativeMemory.Free(data);
                throw;
            }
        }

        public int[]? ShapeOf(string name) => _entries.TryGetValue(name, out var e) ? e.Shape : null;

        public ReadOnlySpan<float> Get(string name, int[] shape)
        {
            if (!_entries.TryGetValue(name, out var entry))
                throw new InvalidDataException($"{UseLiteModelFiles.ManifestFile}: weight '{name}' is missing.");
            if (entry.Dtype != "float32" || !entry.Shape.SequenceEqual(shape))
                throw new InvalidDataException($"{UseLiteModelFiles.ManifestFile}: weight '{name}' is {entry.Dtype} [{string.Join(",", entry.Shape)}], expected float32 [{string.Join(",", shape)}].");
            long count = shape.Aggregate(1L, (a, b) => a * b);
            if (entry.Offset + count * 4 > _length) throw new InvalidDataException($"Weight '{name}' lies beyond the end of the shards.");
            return new ReadOnlySpan<float>(_data + entry.Offset, checked((int)count));
        }

        public void Dispose() => NativeMemory.Free(_data);
    }
}
