using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace McpMemory.Core.Embeddings.Onnx;

/// <summary>
/// A word-embedding table kept in a file (<see cref="WordEmbeddingSplitter"/>): little-endian fp32 rows, one per token id,
/// read with one positional read per token, so the table stays in the page cache instead of the process's memory.
/// </summary>
/// <remarks>A read is a syscall of ~1 µs; a text of 30 tokens takes 30 of them against a run of milliseconds.</remarks>
internal sealed class WordEmbeddingRows : IDisposable
{
    private readonly SafeFileHandle _file;

    /// <summary>How many token ids the table has rows for.</summary>
    public int Rows { get; }

    /// <summary>Floats per row: the model's hidden size.</summary>
    public int Hidden { get; }

    public string Path { get; }

    private WordEmbeddingRows(SafeFileHandle file, string path, int rows, int hidden)
    {
        _file = file;
        Path = path;
        Rows = rows;
        Hidden = hidden;
    }

    /// <summary>Opens the table at <paramref name="path"/> for rows of <paramref name="hidden"/> floats; a missing file or a size that is not whole rows throws, naming it.</summary>
    public static WordEmbeddingRows Open(string path, int hidden)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"The model's word-embedding table '{path}' is missing (the model reads its word embeddings from it: input {WordEmbeddingSplitter.InputName}).", path);
        var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        long length = RandomAccess.GetLength(file), rowBytes = hidden * sizeof(float);
        if (length == 0 || length % rowBytes != 0 || length / rowBytes > int.MaxValue)
        {
            file.Dispose();
            throw new InvalidDataException($"{path}: {length:N0} bytes is not a whole number of rows of {hidden} floats");
        }
        return new WordEmbeddingRows(file, path, (int)(length / rowBytes), hidden);
    }

    /// <summary>The rows of <paramref name="ids"/>, one after another, into <paramref name="destination"/> (ids.Length × <see cref="Hidden"/> floats).</summary>
    public void Read(ReadOnlySpan<long> ids, Span<float> destination)
    {
        int rowBytes = Hidden * sizeof(float);
        for (int i = 0; i < ids.Length; i++)
        {
            long id = ids[i];
            if ((ulong)id >= (ulong)Rows) throw new ArgumentOutOfRangeException(nameof(ids), $"token id {id} is outside the word-embedding table ({Rows} rows)");
            var row = MemoryMarshal.AsBytes(destination.Slice(i * Hidden, Hidden));
            if (RandomAccess.Read(_file, row, id * rowBytes) != rowBytes) throw new IOException($"{Path}: short read at row {id}");
            if (!BitConverter.IsLittleEndian)
            {
                var ints = MemoryMarshal.Cast<float, int>(destination.Slice(i * Hidden, Hidden));
                BinaryPrimitives.ReverseEndianness(ints, ints);
            }
        }
    }

    public void Dispose() => _file.Dispose();
}
