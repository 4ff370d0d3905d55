using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Tests.Support;
using Xunit;
using static McpMemory.Tests.Reliability.ReliabilityChecks;

namespace McpMemory.Tests.Reliability;

/// <summary>
/// Restore works whatever state the live file is in (that is what backups are for), keeps every damaged file, and is
/// refused only while a process really holds the database open, which is checked in a way that works on a damaged file.
/// </summary>
public class RestoreDamagedTests
{
    private static async Task<string> ExportAsync(string db)
    {
        var export = await ToolProcess.RunAsync(["export", "--db", db]);
        export.ExitCode.Should().Be(0, export.Stderr);
        return export.Stdout;
    }

    /// <summary>A live database written by a server, its backup (and that backup's export), and more writes after it.</summary>
    private static async Task<string> LiveAndBackupAsync(string db, string backup, bool crashLeavingWal)
    {
        var server = await RawMcpServer.StartAsync(db, "project:restore", env: RawMcpServer.NoMerging);
        try
        {
            for (var i = 0; i < 20; i++)
                ToolResult(await server.CallToolAsync("store_memory", Args(("content", $"kept by the backup {i}"))));
            var backed = await ToolProcess.RunAsync(["backup", "--db", db, "--to", backup]);
            backed.ExitCode.Should().Be(0, backed.Stderr);
            for (var i = 0; i < 5; i++)
                ToolResult(await server.CallToolAsync("store_memory", Args(("content", $"written after the backup {i}"))));
            if (crashLeavingWal) server.Kill(); // no shutdown code: the -wal and -shm stay beside the file
        }
        finally { await server.DisposeAsync(); }
        return await ExportAsync(backup);
    }

    [Fact]
    public async Task A_truncated_database_is_restored_and_kept_aside_with_its_wal_and_shm()
    {
        using var dir = new TempDirectory();
        var db = dir.File("live.db");
        var backup = dir.File("b1.db");
        var atBackup = await LiveAndBackupAsync(db, backup, crashLeavingWal: true);
        File.Exists(db + "-wal").Should().BeTrue("the killed server left its WAL");
        File.Exists(db + "-shm").Should().BeTrue();
        var walBytes = File.ReadAllBytes(db + "-wal");
        using (var file = new FileStream(db, FileMode.Open)) file.SetLength(20000); // truncate -s 20000 live.db

        var restored = await ToolProcess.RunAsync(["restore", backup, "--db", db, "--yes"]);

        restored.ExitCode.Should().Be(0, restored.Stderr);
        File.Exists(db + "-wal").Should().BeFalse("the old WAL must never sit beside the restored file");
        File.Exists(db + "-shm").Should().BeFalse();
        (await ExportAsync(db)).Should().Be(atBackup);
        Consistent(db);
        var kept = Directory.GetFiles(dir.Path, "live.db.before-restore-*").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        kept.Should().HaveCount(3);
        var main = Path.Combine(dir.Path, kept[0]!);
        kept.Should().Equal(Path.GetFileName(main), Path.GetFileName(main) + "-shm", Path.GetFileName(main) + "-wal");
        new FileInfo(main).Length.Should().Be(20000, "the damaged file is kept as it was");
        File.ReadAllBytes(main + "-wal").Should().Equal(walBytes, "its WAL is kept beside it, under the matching name");
        restored.Stdout.Should().Contain(main).And.Contain(main + "-wal").And.Contain(main + "-shm");
        Directory.GetFiles(dir.Path, ".live.db.*").Should().BeEmpty("no temporary file is left");
    }

    [Fact]
    public async Task A_truncated_database_whose_data_is_all_in_the_main_file_is_restored()
    {
        using var dir = new TempDirectory();
        var db = dir.File("live.db");
        var backup = dir.File("b1.db");
        using (var service = McpMemory.Core.MemoryService.Open(db))
            for (var i = 0; i < 60; i++)
                service.Store(new McpMemory.Core.Memories.Caller("shared", "t"), new McpMemory.Core.Memories.NewMemory { Content = $"memory {i} " + new string('x', 300) });
        File.Exists(db + "-wal").Should().BeFalse("closed cleanly: everything is in the main file");
        (await ToolProcess.RunAsync(["backup", "--db", db, "--to", backup])).ExitCode.Should().Be(0);
        var atBackup = await ExportAsync(backup);
        new FileInfo(db).Length.Should().BeGreaterThan(20000);
        using (var file = new FileStream(db, FileMode.Open)) file.SetLength(20000); // truncate -s 20000 live.db
        var damaged = File.ReadAllBytes(db);

        var restored = await ToolProcess.RunAsync(["restore", backup, "--db", db, "--yes"]);

        restored.ExitCode.Should().Be(0, restored.Stderr);
        (await ExportAsync(db)).Should().Be(atBackup);
        var kept = Directory.GetFiles(dir.Path, "live.db.before-restore-*").Should().ContainSingle().Subject;
        File.ReadAllBytes(kept).Should().Equal(damaged, "the damaged file is kept as it was");
    }

    [Fact]
    public async Task A_file_with_a_random_header_is_restored()
    {
        using var dir = new TempDirectory();
        var db = dir.File("live.db");
        var backup = dir.File("b1.db");
        var atBackup = await LiveAndBackupAsync(db, backup, crashLeavingWal: false);
        var noise = new byte[8192];
        new Random(13).NextBytes(noise);
        File.WriteAllBytes(db, noise);

        var restored = await ToolProcess.RunAsync(["restore", backup, "--db", db, "--yes"]);

        restored.ExitCode.Should().Be(0, restored.Stderr);
        (await ExportAsync(db)).Should().Be(atBackup);
        var kept = Directory.GetFiles(dir.Path, "live.db.before-restore-*").Should().ContainSingle().Subject;
        File.ReadAllBytes(kept).Should().Equal(noise);
        restored.Stdout.Should().Contain(kept);
    }

    [Fact]
    public async Task A_damaged_database_a_server_holds_open_is_not_replaced_and_the_holder_is_named()
    {
        using var dir = new TempDirectory();
        var db = dir.File("live.db");
        var backup = dir.File("b1.db");
        await LiveAndBackupAsync(db, backup, crashLeavingWal: false);

        await using var server = await RawMcpServer.StartAsync(db, "project:restore");
        ToolResult(await server.CallToolAsync("store_memory", Args(("content", "the server has the file open"))));
        using (var file = new FileStream(db, FileMode.Open)) file.SetLength(20000); // damaged under the running server
        var before = File.ReadAllBytes(db);

        var refused = await ToolProcess.RunAsync(["restore", backup, "--db", db, "--yes"]);

        refused.ExitCode.Should().Be(1);
        refused.Stderr.Should().Contain("is open in another process").And.Contain($"process {server.ProcessId}").And.Contain("Nothing was changed");
        refused.Stderr.Trim().Split('\n').Should().ContainSingle("one line on stderr");
        File.ReadAllBytes(db).Should().Equal(before);
        File.Exists(db + "-wal").Should().BeTrue("the server's WAL is left where it is");
        Directory.GetFiles(dir.Path, "*before-restore*").Should().BeEmpty();
        Directory.GetFiles(dir.Path, ".live.db.*").Should().BeEmpty();
    }
}
