using System.Runtime.Intrinsics.X86;
using FluentAssertions;
using McpMemory.Core.Indexes.Vectors;
using Xunit;

namespace McpMemory.Tests.Search;

/// <summary>Every SIMD path of the int8 dot product this CPU has gives the scalar loop's exact integer.</summary>
public class VectorCodecTests
{
    public static TheoryData<int> Lengths => [32, 64, 384, 1024];

    [Theory, MemberData(nameof(Lengths))]
    public void Each_simd_path_equals_the_scalar_loop_on_random_and_extreme_codes(int length)
    {
        var random = new Random(length);
        var cases = new List<(byte[] U, sbyte[] Q)>
        {
            (Fill(length, _ => (byte)255), Fill(length, _ => (sbyte)127)),  // all +127 · +127
            (Fill(length, _ => (byte)1), Fill(length, _ => (sbyte)-127)),   // all −127 · −127
            (Fill(length, _ => (byte)255), Fill(length, _ => (sbyte)-127)), // +127 · −127
            (Fill(length, _ => (byte)1), Fill(length, _ => (sbyte)127)),    // −127 · +127
            (Fill(length, _ => (byte)128), Fill(length, _ => (sbyte)127)),  // all 0 codes
            (Fill(length, i => (byte)(i % 2 == 0 ? 255 : 1)), Fill(length, i => (sbyte)(i % 2 == 0 ? 127 : -127))),
            (Fill(length, _ => (byte)0), Fill(length, _ => (sbyte)-127)),   // 0 is outside what Quantize writes (−128): still exact
        };
        for (var i = 0; i < 200; i++)
            cases.Add((Fill(length, _ => (byte)random.Next(1, 256)), Fill(length, _ => (sbyte)random.Next(-127, 128))));

        var paths = new List<(string Name, Func<byte[], sbyte[], int, int> Dot)> { ("DotInt8", (u, q, s) => VectorCodec.DotInt8(u, q, s)) };
        if (Avx2.IsSupported) paths.Add(("avx2", (u, q, _) => VectorCodec.DotAvx2(u, q)));
        if (AvxVnni.IsSupported) paths.Add(("avx-vnni", (u, q, s) => VectorCodec.DotAvxVnni(u, q, s)));

        foreach (var (u, q) in cases)
        {
            var sum = q.Sum(c => (int)c);
            var expected = VectorCodec.DotScalar(u, q, sum);
            expected.Should().Be(u.Zip(q, (a, b) => (a - 128) * b).Sum());
            foreach (var (name, dot) in paths)
                dot(u, q, sum).Should().Be(expected, $"{name} at length {length}");
        }
    }

    private static T[] Fill<T>(int length, Func<int, T> value) => Enumerable.Range(0, length).Select(value).ToArray();
}
