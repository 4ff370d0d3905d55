using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Core.Memories;
using McpMemory.Core.Storage;
using McpMemory.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit;
using static McpMemory.Tests.Reliability.ReliabilityChecks;

namespace McpMemory.Tests.Reliability;

/// <summary>Backups taken while a server runs, verified, and restored in a drill that compares exports.</summary>
public class BackupRestoreTests
{
    private static async Task<string> ExportAsync(string db)
    {
        var export = await ToolProcess.RunAsync(["export", "--db", db]);
        export.ExitCode.Should().Be(0, export.Stderr);
        return export.Stdout;
    }

    private static void Sql(string db, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={db};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [Fact]
    public async Task Restore_drill_backup_while_serving_then_more_writes_then_restore_gives_back_the_export_of_backup_time()
    {
        using var dir = new TempDirectory();
        var db = dir.File("live.db");
        var backup = dir.File("backup.db");
        string atBackupTime;
        await using (var server = await RawMcpServer.StartAsync(db, "project:drill", env: RawMcpServer.NoMerging))
        {
            for (var i = 0; i < 25; i++)
                ToolResult(await server.CallToolAsync("store_memory", Args(("content", $"before the backup {i}"), ("tags", new JsonArray("drill")))));
            ToolResult(await server.CallToolAsync("set_agent_state", Args(("key", "phase"), ("value", "backed up"))));

            // The server keeps running (and writing) while the backup is taken.
            var writing = Task.Run(async () =>
            {
                for (var i = 0; i < 10; i++) ToolResult(await server.CallToolAsync("search_memory", Args(("query", "backup"))));
            });
            var backed = await ToolProcess.RunAsync(["backup", "--db", db, "--to", backup]);
            backed.ExitCode.Should().Be(0, backed.Stderr);
            backed.Stdout.Should().Contain("25 memories").And.Contain("verified");
            await writing;
            // What the backup holds: the live file can change meanwhile (the server writes access counts in batches).
            atBackupTime = await ExportAsync(backup);
            atBackupTime.Should().Contain("before the backup 24");

            for (var i = 0; i < 10; i++)
                ToolResult(await server.CallToolAsync("store_memory", Args(("content", $"after the backup {i}"))));
            ToolResult(await server.CallToolAsync("set_agent_state", Args(("key", "phase"), ("value", "changed after"))));

            var refused = await ToolProcess.RunAsync(["restore", backup, "--db", db, "--yes"]);
            refused.ExitCode.Should().Be(1);
            refused.Stderr.Should().Contain("is open in another process").And.Contain("Nothing was changed");
        }
        (await ExportAsync(db)).Should().NotBe(atBackupTime);

        var verify = await ToolProcess.RunAsync(["verify", backup]);
        verify.ExitCode.Should().Be(0, verify.Stdout + verify.Stderr);
        verify.Stdout.Should().Contain($"schema v{Schema.CurrentVersion}").And.Contain("25 memories").And.EndWith("ok\n");

        var noConfirmation = await ToolProcess.RunAsync(["restore", backup, "--db", db], stdin: "y\n");
        noConfirmation.ExitCode.Should().Be(1);
        noConfirmation.Stderr.Should().Contain("pass --yes");

        var restored = await ToolProcess.RunAsync(["restore", backup, "--db", db, "--yes"]);
        restored.ExitCode.Should().Be(0, restored.Stderr);
        (await ExportAsync(db)).Should().Be(atBackupTime, "the restored database is the database at backup time");

        var kept = Directory.GetFiles(dir.Path, "live.db.before-restore-*").Should().ContainSingle().Subject;
        restored.Stdout.Should().Contain(kept);
        Memories(kept).Values.Should().Contain("after the backup 9", "the replaced database is kept, whole");
        Consistent(db);
    }

    [Fact]
    public void Verify_names_each_fault_and_restore_refuses_a_faulty_backup_leaving_the_database_untouched()
    {
        using var dir = new TempDirectory();
        var db = dir.File("m.db");
        using (var store = new TestStoreAt(db))
        {
            store.Add("first memory");
            store.Add("second memory");
        }
        DatabaseVerifier.Verify(db).Ok.Should().BeTrue();

        var damaged = dir.File("damaged.db");
        File.Copy(db, damaged);
        Sql(damaged, "INSERT INTO memory_vectors (seq, model, dimension, vector) VALUES (999, 'm', 2, x'0000000000000000')");
        Sql(damaged, "UPDATE memories SET has_embedding = 1 WHERE seq = 1");
        Sql(damaged, "DROP TRIGGER memories_fts_insert");
        Sql(damaged, "INSERT INTO memories (id, namespace, memory_type, content, importance, created_at, updated_at) " +
                     "VALUES ('00000000-0000-0000-0000-000000000001', 'shared', 'fact', 'not indexed', 0.5, 1, 1)");
        var report = DatabaseVerifier.Verify(damaged);
        report.Ok.Should().BeFalse();
        report.Faults.Should().Contain(f => f.StartsWith("vectors: 1 vector(s) belong to no memory"))
            .And.Contain(f => f.StartsWith("vectors: 1 memory(ies) marked has_embedding = 1 have no vector"))
            .And.Contain(f => f.StartsWith("fts: 2 documents indexed for 3 memories"));

        var garbage = dir.File("garbage.db");
        File.WriteAllBytes(garbage, Enumerable.Range(0, 8192).Select(i => (byte)(i * 31)).ToArray());
        DatabaseVerifier.Verify(garbage).Faults.Should().ContainSingle().Which.Should().StartWith("cannot be read as a SQLite database");

        var before = File.ReadAllBytes(db);
        foreach (var bad in new[] { damaged, garbage })
            FluentActions.Invoking(() => DatabaseBackup.Restore(bad, db)).Should().Throw<MemoryFileException>().WithMessage("*failed verification, so nothing was restored*");
        File.ReadAllBytes(db).Should().Equal(before);
        Directory.GetFiles(dir.Path, "*before-restore*").Should().BeEmpty();

        var fresh = DatabaseBackup.Restore(db, dir.File("fresh.db"));
        fresh.PreviousKeptAt.Should().BeNull("there was no database to keep");
        fresh.Restored.Counts["memories"].Should().Be(2);
    }

    [Fact]
    public async Task Cli_verify_exits_1_on_faults_and_backup_never_overwrites()
    {
        using var dir = new TempDirectory();
        var db = dir.File("m.db");
        using (var store = new TestStoreAt(db)) store.Add("a memory");
        var future = dir.File("future.db");
        File.Copy(db, future);
        Sql(future, $"PRAGMA user_version = {Schema.CurrentVersion + 1}");

        var verify = await ToolProcess.RunAsync(["verify", future]);
        verify.ExitCode.Should().Be(1);
        verify.Stdout.Should().Contain($"fault: schema: version {Schema.CurrentVersion + 1} is newer than this mcp-memory knows");
        verify.Stderr.Should().Contain("failed verification: 1 fault(s)");

        (await ToolProcess.RunAsync(["backup", "--db", db, "--to", dir.File("b.db")])).ExitCode.Should().Be(0);
        var again = await ToolProcess.RunAsync(["backup", "--db", db, "--to", dir.File("b.db")]);
        again.ExitCode.Should().Be(1);
        again.Stderr.Should().Contain("already exists; a backup never overwrites a file");
        var intoFolder = await ToolProcess.RunAsync(["backup", "--db", db, "--to", dir.Path]);
        intoFolder.ExitCode.Should().Be(0, intoFolder.Stderr);
        Directory.GetFiles(dir.Path, "m-*.db").Should().ContainSingle();
        var noFolder = await ToolProcess.RunAsync(["backup", "--db", db, "--to", dir.File("no/such/folder/b.db")]);
        noFolder.Stderr.Should().Contain("does not exist; create it first");
        Directory.GetFiles(dir.Path, ".*partial*").Should().BeEmpty("a failed or finished backup leaves no temporary file");
    }

    /// <summary>A MemoryService on a given path, for tests that then inspect or damage the file.</summary>
    private sealed class TestStoreAt(string path) : IDisposable
    {
        private readonly McpMemory.Core.MemoryService _service = McpMemory.Core.MemoryService.Open(path);
        public void Add(string content) => _service.Store(new Caller("shared", "t"), new NewMemory { Content = content });
        public void Dispose() => _service.Dispose();
    }
}
