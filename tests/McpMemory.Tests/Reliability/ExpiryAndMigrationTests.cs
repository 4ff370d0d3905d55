using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Search;
using McpMemory.Core.Storage;
using McpMemory.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit;
using static McpMemory.Tests.Reliability.ReliabilityChecks;

namespace McpMemory.Tests.Reliability;

public class ExpiryAndMigrationTests
{
    private static long Count(string db, string sql)
    {
        long count = 0;
        Query(db, sql, row => count = Convert.ToInt64(row.GetValue(0)));
        return count;
    }

    [Theory, BothBackends]
    public void Expired_memories_are_never_returned_and_the_purge_deletes_them_with_an_event(Backend backend)
    {
        using var t = new TestStore(backend);
        var soon = t.Store("the staging password rotates tonight", expiresAt: t.Clock.Now.AddHours(1));
        var kept = t.Store("the staging password is in the vault");
        SearchIds().Should().BeEquivalentTo([soon, kept]);

        t.Clock.Advance(TimeSpan.FromHours(1)); // expires_at is exclusive: at that instant it is gone
        SearchIds().Should().Equal(kept);
        t.Service.Invoking(s => s.Get(t.Caller, soon)).Should().Throw<McpMemory.Core.Memories.MemoryNotFoundException>();
        t.Service.Stats().Memories.Should().Be(1);
        var export = new StringWriter();
        t.Service.ExportJsonl(export);
        export.ToString().Split('\n').Where(l => l.StartsWith("{\"kind\":\"memory\"")).Should()
            .ContainSingle().Which.Should().Contain(kept.ToString("D"), "an export leaves expired memories out (their store event stays)");
        Count(t.DatabasePath, "SELECT count(*) FROM memories").Should().Be(2, "reads hide it; only the sweep deletes it");

        t.Service.PurgeExpired().Should().Be(1);
        t.Service.PurgeExpired().Should().Be(0);
        Count(t.DatabasePath, "SELECT count(*) FROM memories").Should().Be(1);
        Count(t.DatabasePath, $"SELECT count(*) FROM events WHERE kind = 'expire' AND memory_id = '{soon:D}' AND detail LIKE '%rotates tonight%'").Should().Be(1);
        Consistent(t.DatabasePath);

        List<Guid> SearchIds() =>
            t.Service.Search(t.Caller, new SearchRequest { Query = "staging password" }).Results.Select(r => r.Memory.Id).ToList();
    }

    [Theory, BothBackends]
    public void The_purge_works_in_batches_until_nothing_expired_is_left(Backend backend)
    {
        using var t = new TestStore(backend);
        for (var i = 0; i < 23; i++) t.Store($"temporary note {i}", expiresAt: t.Clock.Now.AddMinutes(1 + i % 3));
        t.Store("permanent note");
        t.Clock.Advance(TimeSpan.FromMinutes(10));
        t.Service.PurgeExpired(batchSize: 5).Should().Be(23);
        Count(t.DatabasePath, "SELECT count(*) FROM memories").Should().Be(1);
        Consistent(t.DatabasePath);
    }

    [Theory, BothBackends]
    public async Task The_server_sweeps_expired_memories_in_the_background(Backend backend)
    {
        using var database = new TestDatabase(backend);
        var db = database.Db;
        await using var server = await RawMcpServer.StartAsync(db, "project:sweep",
            new Dictionary<string, string> { [McpMemory.Settings.ExpirySweepVariable] = "1" });
        var expires = DateTimeOffset.UtcNow.AddSeconds(2).ToString("O");
        ToolResult(await server.CallToolAsync("store_memory", Args(("content", "short lived"), ("expires_at", expires))));
        ToolResult(await server.CallToolAsync("store_memory", Args(("content", "long lived"))));
        Count(db, "SELECT count(*) FROM memories").Should().Be(2);

        var until = DateTime.UtcNow.AddSeconds(20);
        while (Count(db, "SELECT count(*) FROM memories") > 1 && DateTime.UtcNow < until) await Task.Delay(200);
        Count(db, "SELECT count(*) FROM memories").Should().Be(1, "the sweep runs every second here and deletes the expired memory");
        Count(db, "SELECT count(*) FROM events WHERE kind = 'expire'").Should().Be(1);
    }

    [Fact]
    public async Task A_bad_sweep_interval_stops_the_server_at_start_with_one_clear_line()
    {
        using var dir = new TempDirectory();
        var result = await ToolProcess.RunAsync(["serve", "--db", dir.File("m.db")], stdin: "",
            env: new Dictionary<string, string> { [McpMemory.Settings.ExpirySweepVariable] = "soon" });
        result.ExitCode.Should().Be(1);
        result.Stdout.Should().BeEmpty();
        result.Stderr.Trim().Should().Be("error: MCP_MEMORY_EXPIRY_SWEEP_SECONDS: \"soon\" is not a number of seconds between 0 (off) and 86400");
    }

    [Fact]
    public void A_version_3_file_gains_the_archive_flag_its_memories_stay_live_and_consolidation_can_archive_them()
    {
        using var dir = new TempDirectory();
        var path = dir.File("v3.db");
        var old = DateTimeOffset.UtcNow.AddDays(-400).ToUnixTimeMilliseconds();
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var session = new DbSession(connection);
            Migrator.Migrate(session, path, Schema.Migrations.Take(3).ToList()).Should().Be(3);
            using var insert = connection.CreateCommand();
            insert.CommandText = $"""
                INSERT INTO memories (id, namespace, memory_type, content, importance, created_at, updated_at)
                VALUES ('0b7f3c1e-5d2a-4e8f-9c61-2a4b6d8e0f13', 'shared', 'fact', 'written before archiving existed', 0.1, {old}, {old}),
                       ('1c8a4d2f-6e3b-4f90-8d72-3b5c7e9f1a24', 'shared', 'fact', 'the release checklist, also from before archiving existed', 0.9, {old}, {old});
                INSERT INTO events (at, kind, namespace, memory_id) VALUES ({old}, 'store', 'shared', '0b7f3c1e-5d2a-4e8f-9c61-2a4b6d8e0f13');
                INSERT INTO events (at, kind, namespace, memory_id) VALUES ({old}, 'store', 'shared', '1c8a4d2f-6e3b-4f90-8d72-3b5c7e9f1a24');
                """;
            insert.ExecuteNonQuery();
        }

        var stale = Guid.Parse("0b7f3c1e-5d2a-4e8f-9c61-2a4b6d8e0f13");
        var caller = new McpMemory.Core.Memories.Caller("shared", "a");
        using (var service = MemoryService.Open(path))
        {
            service.Stats().SchemaVersion.Should().Be(Schema.CurrentVersion);
            service.Get(caller, stale).ArchivedAt.Should().BeNull("a migrated memory is live");
            // (Not counted as an access: a memory a search returned is in use, and never archived.)
            service.Search(caller, new SearchRequest { Query = "before archiving existed", Mode = "fts", Namespaces = ["shared"] }, trackAccess: false).Results.Should().HaveCount(2);
            var report = new McpMemory.Core.Knowledge.Consolidator(service).Run(caller, new McpMemory.Core.Knowledge.ConsolidateRequest { Namespace = "shared" });
            report.Archived.Select(a => a.MemoryId).Should().Equal(stale);
            service.Search(caller, new SearchRequest { Query = "before archiving existed", Mode = "fts", Namespaces = ["shared"] }).Results
                .Select(h => h.Memory.Id).Should().Equal(Guid.Parse("1c8a4d2f-6e3b-4f90-8d72-3b5c7e9f1a24"));
        }
        Count(path, "SELECT count(*) FROM pragma_table_info('memories') WHERE name = 'archived_at'").Should().Be(1);
        Count(path, "SELECT count(*) FROM sqlite_master WHERE name = 'ix_memories_archived'").Should().Be(1);
        Count(path, "SELECT count(*) FROM events WHERE kind = 'archive'").Should().Be(1);
        Directory.GetFiles(dir.Path, "v3.db.v3-*.bak").Should().ContainSingle("the version 3 file is backed up before the migration");
        Consistent(path);
    }

    [Fact]
    public void A_version_1_file_gains_the_superseded_link_and_its_memories_stay_searchable()
    {
        using var dir = new TempDirectory();
        var path = dir.File("v1.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var session = new DbSession(connection);
            Migrator.Migrate(session, path, Schema.Migrations.Take(1).ToList()).Should().Be(1);
            using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO memories (id, namespace, memory_type, content, importance, created_at, updated_at)
                VALUES ('6f1c0a52-3e0b-4c1e-9a57-1f0d2b6e8c11', 'shared', 'fact', 'written before supersedes existed', 0.5, 1, 1);
                INSERT INTO events (at, kind, namespace, memory_id) VALUES (1, 'store', 'shared', '6f1c0a52-3e0b-4c1e-9a57-1f0d2b6e8c11');
                """;
            insert.ExecuteNonQuery();
        }

        using (var service = MemoryService.Open(path))
        {
            service.Stats().SchemaVersion.Should().Be(Schema.CurrentVersion);
            var caller = new McpMemory.Core.Memories.Caller("shared", "a");
            var found = service.Search(caller, new SearchRequest { Query = "supersedes existed", Mode = "fts", Namespaces = ["shared"] });
            found.Results.Should().ContainSingle().Which.Memory.SupersededBy.Should().BeNull();
            service.History(caller, Guid.Parse("6f1c0a52-3e0b-4c1e-9a57-1f0d2b6e8c11")).Select(v => v.Kind).Should().Equal("stored");
        }
        Count(path, "SELECT count(*) FROM pragma_table_info('memories') WHERE name = 'superseded_by'").Should().Be(1);
        Count(path, "SELECT count(*) FROM sqlite_master WHERE name IN ('ix_memories_superseded_by', 'ix_events_memory')").Should().Be(2);
        Directory.GetFiles(dir.Path, "v1.db.v1-*.bak").Should().ContainSingle("the version 1 file is backed up before the migration");
        Consistent(path);
    }

    [Fact]
    public void An_older_schema_is_backed_up_then_migrated_forward_on_open()
    {
        using var dir = new TempDirectory();
        var path = dir.File("old.db");
        using (var old = MemoryService.Open(path))
            old.Store(new McpMemory.Core.Memories.Caller("shared", "a"), new McpMemory.Core.Memories.NewMemory { Content = "written by version 1" });

        // A next schema version, applied the way a future release would: on open, after a backup.
        IReadOnlyList<string> next = [.. Schema.Migrations, "ALTER TABLE memories ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;"];
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var session = new DbSession(connection);
            Migrator.Migrate(session, path, next).Should().Be(Schema.CurrentVersion + 1);
        }

        var backup = Directory.GetFiles(dir.Path, $"old.db.v{Schema.CurrentVersion}-*.bak").Should().ContainSingle().Subject;
        Count(backup, "PRAGMA user_version").Should().Be(Schema.CurrentVersion);
        Count(backup, "SELECT count(*) FROM memories WHERE content = 'written by version 1'").Should().Be(1);
        Count(path, "PRAGMA user_version").Should().Be(Schema.CurrentVersion + 1);
        Count(path, "SELECT count(*) FROM memories WHERE content = 'written by version 1' AND pinned = 0").Should().Be(1);
    }

    [Fact]
    public async Task A_newer_schema_is_refused_with_a_clear_message_and_left_untouched()
    {
        using var dir = new TempDirectory();
        var path = dir.File("future.db");
        using (MemoryService.Open(path)) { }
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA user_version = {Schema.CurrentVersion + 3}";
            command.ExecuteNonQuery();
        }
        var before = File.ReadAllBytes(path);

        var result = await ToolProcess.RunAsync(["stats", "--db", path]);
        result.ExitCode.Should().Be(1);
        result.Stderr.Trim().Should().Be($"error: {path} has schema version {Schema.CurrentVersion + 3}, but this mcp-memory knows only up to version " +
                                         $"{Schema.CurrentVersion}. Upgrade mcp-memory (dotnet tool update -g McpMemory); the file was not changed.");
        File.ReadAllBytes(path).Should().Equal(before);
        Directory.GetFiles(dir.Path).Should().Equal(path);

        var serve = await ToolProcess.RunAsync(["serve", "--db", path], stdin: "");
        serve.ExitCode.Should().Be(1);
        serve.Stdout.Should().BeEmpty("stdout belongs to the protocol");
        serve.Stderr.Should().Contain($"has schema version {Schema.CurrentVersion + 3}").And.Contain("the file was not changed");
        File.ReadAllBytes(path).Should().Equal(before);
    }
}
