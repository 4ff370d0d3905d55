using McpMemory.Core;
using McpMemory.Core.Memories;

namespace McpMemory.Tests.Support;

/// <summary>A real MemoryService on a real SQLite file in a temp folder.</summary>
public sealed class TestStore : IDisposable
{
    private readonly TempDirectory _dir = new();

    public ManualClock Clock { get; } = new(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
    public string DatabasePath => _dir.File("memory.db");
    public MemoryService Service { get; }
    public Caller Caller { get; } = new("project:test", "agent-1");

    public TestStore(MemoryLimits? limits = null) => Service = MemoryService.Open(DatabasePath, limits, Clock);

    public Guid Store(string content, string? type = null, string[]? tags = null, double? importance = null,
        string? ns = null, string? session = null, DateTimeOffset? createdAt = null, DateTimeOffset? expiresAt = null, string? metadata = null) =>
        Service.Store(Caller, new NewMemory
        {
            Content = content, MemoryType = type, Tags = tags, Importance = importance, Namespace = ns, SessionId = session,
            CreatedAt = createdAt, ExpiresAt = expiresAt, MetadataJson = metadata,
        }).MemoryId;

    public void Dispose()
    {
        Service.Dispose();
        _dir.Dispose();
    }
}
