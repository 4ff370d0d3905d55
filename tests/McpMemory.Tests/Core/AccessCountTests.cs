using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Core;

public class AccessCountTests
{
    [Theory, BothBackends]
    public async Task Access_counts_are_written_while_the_encoder_has_not_loaded(Backend backend)
    {
        using var db = new TestDatabase(backend);
        var path = db.Db;
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
            count = service.Get(caller, id).AccessCount; // read from the row in the database
        }
        count.Should().Be(1, "the background loop flushes access counts without waiting for the encoder");
        encoder.Started.Should().BeFalse();
    }
}
