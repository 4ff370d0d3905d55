using McpMemory.Core;
using McpMemory.Core.Memories;

namespace McpMemory.Tests.Support;

/// <summary>A real MemoryService on a real SQLite file in a temp folder, or on a fresh database of a real PostgreSQL server.</summary>
public sealed class TestStore : IDisposable
{
    private readonly TestDatabase _db;

    public ManualClock Clock { get; } = new(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
    /// <summary>The SQLite file's path, or the PostgreSQL connection string.</summary>
    public string DatabasePath => _db.Db;
    public Backend Backend => _db.Backend;
    public MemoryService Service { get; }
    public Caller Caller { get; } = new("project:test", "agent-1");

    public TestStore(MemoryLimits? limits = null) : this(Backend.Sqlite, limits) { }

    public TestStore(Backend backend, MemoryLimits? limits = null)
    {
        _db = new TestDatabase(backend);
        Service = MemoryService.Open(DatabasePath, limits, Clock);
    }

    /// <summary>A second service on the same database (another server instance, as far as the engine can tell).</summary>
    public MemoryService OpenAnother() => MemoryService.Open(DatabasePath, null, Clock);

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
        _db.Dispose();
    }
}
