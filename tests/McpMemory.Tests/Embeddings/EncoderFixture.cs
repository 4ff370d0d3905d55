using McpMemory.Core.Embeddings;
using Xunit;

namespace McpMemory.Tests.Embeddings;

/// <summary>One encoder for all encoder tests (loading takes ~100 ms).</summary>
public sealed class EncoderFixture
{
    public UseLiteEncoder Encoder { get; } = UseLiteEncoder.LoadDefault();
}

[CollectionDefinition(Name)]
public sealed class EncoderCollection : ICollectionFixture<EncoderFixture>
{
    public const string Name = "encoder";
}
