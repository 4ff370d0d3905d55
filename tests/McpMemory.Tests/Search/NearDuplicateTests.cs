using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Embeddings;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Search;

/// <summary>
/// Near-duplicate merging with the real encoder: the existing memory is updated (newer text, merged tags, higher
/// importance, the old text in the event log), and both in-memory indexes search the new text at once.
/// </summary>
[Collection(EncoderCollection.Name)]
public class NearDuplicateTests(EncoderFixture fixture)
{
    private const string First = "The deploy script pushes the site to Cloudflare Pages every night";
    private const string Second = "The deploy script pushes the site to Cloudflare Pages every night at 2am";

    [Fact]
    public void A_near_duplicate_updates_the_memory_and_search_finds_it_by_the_new_text()
    {
        System.Numerics.Tensors.TensorPrimitives.Dot(fixture.Encoder.Embed(First), fixture.Encoder.Embed(Second))
            .Should().BeGreaterThan(0.92f, "the pair must be a near-duplicate at the default threshold");
        using var dir = new TempDirectory();
        using var service = MemoryService.Open(dir.File("m.db"), MemoryOptions.Default with { EmbeddingInterval = TimeSpan.Zero },
            EmbedderProvider.Ready(fixture.Encoder));
        service.WaitForVectors(TimeSpan.FromMinutes(1)).Should().BeTrue();
        service.WaitForKeywordIndex(TimeSpan.FromMinutes(1)).Should().BeTrue();
        var caller = new Caller("project:test", "agent-1");

        var first = service.Store(caller, new NewMemory { Content = First, Tags = ["deploy"], Importance = 0.4 });
        var other = service.Store(caller, new NewMemory { Content = "Unit tests run with xunit and FluentAssertions" });
        var second = service.Store(caller, new NewMemory { Content = Second, Tags = ["cron"], Importance = 0.9 });

        second.Status.Should().Be(StoreResult.Updated);
        second.MemoryId.Should().Be(first.MemoryId);
        other.MemoryId.Should().NotBe(first.MemoryId);
        var merged = service.Get(caller, first.MemoryId);
        merged.Content.Should().Be(Second);
        merged.Tags.Should().BeEquivalentTo(["deploy", "cron"]);
        merged.Importance.Should().Be(0.9);
        service.Stats().Memories.Should().Be(2);
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={dir.File("m.db")};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT detail FROM events WHERE kind = 'update'";
            command.ExecuteScalar().Should().BeOfType<string>().Which.Should().Contain(First, "the old text is kept in the event log");
        }

        foreach (var mode in new[] { "fts", "hybrid" })
        {
            var found = service.Search(caller, new SearchRequest { Query = "2am cron", Mode = mode });
            found.Mode.Should().Be(mode);
            found.Results.Should().NotBeEmpty().And.Subject.First().Memory.Id.Should().Be(first.MemoryId, $"mode {mode}");
        }
    }
}
