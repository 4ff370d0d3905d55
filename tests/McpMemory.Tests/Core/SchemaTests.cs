using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Storage;
using McpMemory.Tests.Support;
using Microsoft.Data.Sqlite;
using Xunit;

namespace McpMemory.Tests.Core;

public class SchemaTests
{
    [Fact]
    public void New_database_is_at_the_current_version_in_wal_mode_with_fts5_porter()
    {
        using var dir = new TempDirectory();
        using var service = MemoryService.Open(dir.File("m.db"));
        service.Stats().SchemaVersion.Should().Be(Schema.CurrentVersion);

        using var connection = new SqliteConnection($"Data Source={dir.File("m.db")};Pooling=False");
        connection.Open();
        Scalar(connection, "PRAGMA journal_mode").Should().Be("wal");
        Scalar(connection, "SELECT sql FROM sqlite_master WHERE name = 'memories_fts'").Should().Contain("porter unicode61");
    }

    [Fact]
    public void Newer_schema_is_refused_and_the_file_left_untouched()
    {
        using var dir = new TempDirectory();
        var path = dir.File("future.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"CREATE TABLE x(a); PRAGMA user_version = {Schema.CurrentVersion + 5};";
            command.ExecuteNonQuery();
        }
        var before = File.ReadAllBytes(path);

        FluentActions.Invoking(() => MemoryService.Open(path)).Should().Throw<SchemaTooNewException>()
            .WithMessage($"*schema version {Schema.CurrentVersion + 5}*knows only up to version {Schema.CurrentVersion}*not changed*");
        File.ReadAllBytes(path).Should().Equal(before);
    }

    [Fact]
    public void Events_are_append_only()
    {
        using var t = new TestStore();
        t.Store("something");
        using var connection = new SqliteConnection($"Data Source={t.DatabasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM events";
        command.Invoking(c => c.ExecuteNonQuery()).Should().Throw<SqliteException>().WithMessage("*append-only*");
    }

    private static string? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar()?.ToString();
    }
}
