using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace McpMemory.Core.Indexes.Vectors;

/// <summary>
/// Vector formats. On disk: little-endian float16 (half the bytes of float32; cosine error ~1e-4, far below
/// what changes a ranking). In memory: int8 codes with one scale per vector, scanned with integer dot products
/// (4× less memory traffic than float32), then the best candidates re-ranked exactly from the stored floats.
/// </summary>
public static class VectorCodec
{
    /// <summary>Bytes per dimension in a stored vector blob (float16).</summary>
    public const int BytesPerDimension = 2;

    public static byte[] ToBlob(ReadOnlySpan<float> vector)
    {
        var blob = new byte[vector.Length * BytesPerDimension];
        for (var i = 0; i < vector.Length; i++)
            BinaryPrimitives.WriteHalfLittleEndian(blob.AsSpan(i * 2), (Half)vector[i]);
        return blob;
    }

    public static float[] FromBlob(ReadOnlySpan<byte> blob)
    {
        var vector = new float[blob.Length / 2];
        for (var i = 0; i < vector.Length; i++)
            vector[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(blob[(i * 2)..]);
        return vector;
    }

    /// <summary>
    /// Symmetric int8 quantisation stored with a +128 offset (so codes are unsigned, as VNNI wants):
    /// v[i] ≈ (codes[i] − 128) · scale. Returns the scale.
    /// </summary>
    public static float Quantize(ReadOnlySpan<float> vector, Span<byte> codes)
    {
        var maxAbs = TensorPrimitives.MaxMagnitude(vector);
        if (maxAbs == 0) { codes.Fill(128); return 0; }
        var inverse = 127f / maxAbs;
        for (var i = 0; i < vector.Length; i++)
            codes[i] = (byte)(128 + (int)MathF.Round(vector[i] * inverse));
        return maxAbs / 127f;
    }

    /// <summary>The query side: signed codes q[i] ≈ v[i] / scale, plus Σq for the offset correction.</summary>
    public static float QuantizeQuery(ReadOnlySpan<float> vector, Span<sbyte> codes, out int codeSum)
    {
        var maxAbs = TensorPrimitives.MaxMagnitude(vector);
        codeSum = 0;
        if (maxAbs == 0) { codes.Clear(); return 0; }
        var inverse = 127f / maxAbs;
        for (var i = 0; i < vector.Length; i++)
        {
            codes[i] = (sbyte)(int)MathF.Round(vector[i] * inverse);
            codeSum += codes[i];
        }
        return maxAbs / 127f;
    }

    /// <summary>Σ (u[i] − 128)·q[i] for unsigned-offset codes u and signed query codes q (lengths a multiple of 32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int DotInt8(ReadOnlySpan<byte> u, ReadOnlySpan<sbyte> q, int queryCodeSum)
    {
        int raw;
        if (AvxVnni.IsSupported && u.Length % 32 == 0)
        {
            ref var ub = ref MemoryMarshal.GetReference(u);
            ref var qb = ref MemoryMarshal.GetReference(q);
            var acc0 = Vector256<int>.Zero;
            var acc1 = Vector256<int>.Zero;
            var i = 0;
            for (; i + 64 <= u.Length; i += 64)
            {
                acc0 = AvxVnni.MultiplyWideningAndAdd(acc0, Vector256.LoadUnsafe(ref ub, (nuint)i), Vector256.LoadUnsafe(ref qb, (nuint)i));
                acc1 = AvxVnni.MultiplyWideningAndAdd(acc1, Vector256.LoadUnsafe(ref ub, (nuint)(i + 32)), Vector256.LoadUnsafe(ref qb, (nuint)(i + 32)));
            }
            for (; i < u.Length; i += 32)
                acc0 = AvxVnni.MultiplyWideningAndAdd(acc0, Vector256.LoadUnsafe(ref ub, (nuint)i), Vector256.LoadUnsafe(ref qb, (nuint)i));
            raw = Vector256.Sum(acc0 + acc1);
        }
        else
        {
            raw = 0;
            for (var i = 0; i < u.Length; i++) raw += u[i] * q[i];
        }
        return raw - 128 * queryCodeSum;
    }
}
