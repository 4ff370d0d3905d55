using System.Numerics.Tensors;
using FluentAssertions;
using McpMemory.Core.Indexes;
using McpMemory.Core.Indexes.Vectors;
using Xunit;

namespace McpMemory.Tests.Search;

/// <summary>The int8 index's scores stay close to the exact cosine, which the near-duplicate check relies on.</summary>
public class QuantizedVectorIndexTests
{
    private static float[] Unit(Random random, float[]? near = null, float noise = 0)
    {
        var v = new float[512];
        for (var i = 0; i < v.Length; i++)
        {
            // Box-Muller: Gaussian components give directions spread like an encoder's.
            var g = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
            v[i] = near is null ? g : near[i] + noise * g;
        }
        TensorPrimitives.Divide(v, TensorPrimitives.Norm(v), v);
        return v;
    }

    [Fact]
    public void Quantised_scores_are_within_a_hundredth_of_the_exact_cosine()
    {
        var random = new Random(42);
        var index = new QuantizedVectorIndex(512);
        var vectors = new List<float[]>();
        for (var i = 0; i < 2_000; i++)
        {
            // Half random, half near-duplicates of earlier vectors (cosines 0.9-1.0, where merging decides).
            var v = i % 2 == 0 || vectors.Count == 0 ? Unit(random) : Unit(random, vectors[random.Next(vectors.Count)], 0.01f + 0.02f * random.NextSingle());
            vectors.Add(v);
            index.Upsert(new IndexEntry(i, "shared", "fact", 0.5, 0, null, null, []), v);
        }
        var filter = new IndexFilter(["shared"], null, 0, null, null, 0, null, []);
        var worst = 0.0;
        for (var q = 0; q < 200; q++)
        {
            var query = q % 2 == 0 ? Unit(random) : Unit(random, vectors[random.Next(vectors.Count)], 0.01f);
            foreach (var hit in index.Search(query, 20, filter))
                worst = Math.Max(worst, Math.Abs(hit.Score - TensorPrimitives.Dot(query, vectors[(int)hit.Seq])));
        }
        worst.Should().BeLessThan(0.01);
    }
}
