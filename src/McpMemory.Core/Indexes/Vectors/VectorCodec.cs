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

    /// <summary>
    /// Σ (u[i] − 128)·q[i] for unsigned-offset codes u and signed query codes q in [−127, 127] (Σq is passed in:
    /// <paramref name="queryCodeSum"/>). Every path gives the same integer as <see cref="DotScalar"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int DotInt8(ReadOnlySpan<byte> u, ReadOnlySpan<sbyte> q, int queryCodeSum)
    {
        if (u.Length % 32 == 0)
        {
            if (AvxVnni.IsSupported) return DotAvxVnni(u, q, queryCodeSum);
            if (Avx2.IsSupported) return DotAvx2(u, q);
        }
        return DotScalar(u, q, queryCodeSum);
    }

    internal static int DotScalar(ReadOnlySpan<byte> u, ReadOnlySpan<sbyte> q, int queryCodeSum)
    {
        var raw = 0;
        for (var i = 0; i < u.Length; i++) raw += u[i] * q[i];
        return raw - 128 * queryCodeSum;
    }

    /// <summary>VEX VNNI: u·q in one instruction per 32 bytes (no int16 saturation), then the offset taken off.</summary>
    internal static int DotAvxVnni(ReadOnlySpan<byte> u, ReadOnlySpan<sbyte> q, int queryCodeSum)
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
        return Vector256.Sum(acc0 + acc1) - 128 * queryCodeSum;
    }

    /// <summary>
    /// AVX2 (the AOT build's baseline): <c>vpmaddubsw</c> saturates its int16 pair sums, and 255·127·2 would, so each
    /// code is first made signed (c = u − 128, an xor) and its sign moved onto the query's byte: |c|·(±q) pairs stay
    /// within 2·128·127 = 32,512. Exact, and the offset is already gone.
    /// </summary>
    internal static int DotAvx2(ReadOnlySpan<byte> u, ReadOnlySpan<sbyte> q)
    {
        ref var ub = ref MemoryMarshal.GetReference(u);
        ref var qb = ref MemoryMarshal.GetReference(q);
        var offset = Vector256.Create((byte)0x80);
        var ones = Vector256.Create((short)1);
        var acc0 = Vector256<int>.Zero;
        var acc1 = Vector256<int>.Zero;
        var i = 0;
        for (; i + 64 <= u.Length; i += 64)
        {
            acc0 += Step(Vector256.LoadUnsafe(ref ub, (nuint)i), Vector256.LoadUnsafe(ref qb, (nuint)i));
            acc1 += Step(Vector256.LoadUnsafe(ref ub, (nuint)(i + 32)), Vector256.LoadUnsafe(ref qb, (nuint)(i + 32)));
        }
        for (; i < u.Length; i += 32)
            acc0 += Step(Vector256.LoadUnsafe(ref ub, (nuint)i), Vector256.LoadUnsafe(ref qb, (nuint)i));
        return Vector256.Sum(acc0 + acc1);

        Vector256<int> Step(Vector256<byte> codes, Vector256<sbyte> query)
        {
            var c = (codes ^ offset).AsSByte();
            return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(c), Avx2.Sign(query, c)), ones);
        }
    }
}
