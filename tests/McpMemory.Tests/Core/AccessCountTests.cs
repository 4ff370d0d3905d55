using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit;

namespace McpMemory.Tests.Core;

public class AccessCountTests
{
    [Fact]
    public async Task Access_counts_are_written_while_the_encoder_has_not_loaded()
    {
        using var dir = new TempDirectory();
        var path = dir.File("m.db");
        // An encoder nobody starts: the server's situation before its first answer.
        var encoder = EmbedderProvider.Deferred(() => throw new InvalidOperationException("never started"));
        using var service = MemoryService.Open(path, MemoryOptions.Default with { AccessFlushInterval = TimeSpan.FromMilliseconds(100) }, encoder);
        var caller = new Caller("project:test", "agent-1");
        var id = service.Store(caller, new NewMemory { Content = "the release checklist lives in docs/release.md" }).MemoryId;
        service.Search(caller, new SearchRequest { Query = "release checklist" }).Results.Should().ContainSingle();

        var deadline = DateTime.UtcNow.AddSeconds(20);
        long count = 0;
        while (count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT access_count FROM memories WHERE id = @id";
            command.Parameters.AddWithValue("@id", id.ToString("D"));
            count = Convert.ToInt64(command.ExecuteScalar());
        }
        count.Should().Be(1, "the background loop flushes access counts without waiting for the encoder");
        encoder.Started.Should().BeFalse();
    }
}
