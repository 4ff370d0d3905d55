using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Memories;
using McpMemory.Core.Storage;
using McpMemory.Tests.Support;
using Npgsql;
using Xunit;

namespace McpMemory.Tests.Storage;

/// <summary>How --db selects PostgreSQL, what file-only commands say about it, and the one-line errors when a server cannot be used.</summary>
public class PostgresTargetTests
{
    [Theory]
    [InlineData("postgres://app:s3cret@db.example:5433/memory", true)]
    [InlineData("postgresql://app@localhost/memory", true)]
    [InlineData("Host=localhost;Database=memory;Username=app", true)]
    [InlineData("  server=localhost;database=memory", true)]
    [InlineData("memory.db", false)]
    [InlineData("/var/lib/memory/host=1.db", false)]
    [InlineData("./postgres/memory.db", false)]
    public void Db_selects_postgres_only_for_a_url_or_a_connection_string(string db, bool postgres)
    {
        DatabaseTarget.IsPostgres(db).Should().Be(postgres);
        var settings = Settings.Resolve(new SettingsArgs { Db = db }, _ => null);
        settings.IsPostgres.Should().Be(postgres);
        if (postgres) settings.DatabasePath.Should().Be(db.Trim(), "a URL is kept as given, not made a path");
        else settings.DatabasePath.Should().Be(Path.GetFullPath(db));
        Settings.Resolve(new SettingsArgs(), name => name == Settings.DbVariable ? db : null).IsPostgres.Should().Be(postgres, "MCP_MEMORY_DB the same");
    }

    [Fact]
    public void A_url_becomes_a_connection_string_and_its_password_is_masked()
    {
        var builder = DatabaseTarget.ConnectionString("postgres://app%40corp:p%3Ass@db.example:5433/mem%20ory?sslmode=require");
        (builder.Host, builder.Port, builder.Database, builder.Username, builder.Password, builder.SslMode)
            .Should().Be(("db.example", 5433, "mem ory", "app@corp", "p:ss", SslMode.Require));
        DatabaseTarget.Masked("postgres://app:s3cret@db.example/memory").Should().Be("postgres://app:***@db.example/memory");
        DatabaseTarget.Masked("Host=x;Password=s3cret;Database=m").Should().Be("Host=x;Password=***;Database=m");
    }

    [Theory]
    [InlineData("postgres://app:s3cret@127.0.0.1:1/memory", "cannot reach the PostgreSQL server at 127.0.0.1:1")]
    [InlineData("postgres://app:s3cret@/memory", "not a usable PostgreSQL URL")]
    [InlineData("postgres://app:s3cret@127.0.0.1:5432/memory?frobnicate=1", "unknown URL parameter \"frobnicate\"")]
    public void A_server_that_cannot_be_used_is_one_line_naming_db_with_the_password_masked(string db, string expected)
    {
        var error = FluentActions.Invoking(() => MemoryService.Open(db)).Should().Throw<MemoryFileException>().Which;
        error.Message.Should().Contain(expected).And.NotContain("s3cret").And.NotContain("\n");
        error.Message.Should().Contain("app:***@");
    }

    [Fact]
    public void A_missing_database_and_a_refused_login_say_what_to_do()
    {
        var server = PostgresServer.Shared;
        var missing = new NpgsqlConnectionStringBuilder(server.AdminConnectionString) { Database = "no_such_db_" + Guid.NewGuid().ToString("N")[..8] }.ConnectionString;
        FluentActions.Invoking(() => MemoryService.Open(missing)).Should().Throw<MemoryFileException>()
            .WithMessage("*database does not exist*create it first*");

        var role = "nologin_" + Guid.NewGuid().ToString("N")[..8];
        server.Execute($"CREATE ROLE {role} NOLOGIN");
        var refused = new NpgsqlConnectionStringBuilder(server.AdminConnectionString) { Username = role }.ConnectionString;
        FluentActions.Invoking(() => MemoryService.Open(refused)).Should().Throw<MemoryFileException>()
            .WithMessage("*refused the login*check the user and password*");
    }

    [Fact]
    public void File_only_commands_refuse_postgres_and_name_pg_dump()
    {
        const string db = "postgres://app:s3cret@db.example/memory";
        foreach (var refuse in new Action[]
                 {
                     () => DatabaseBackup.Backup(db, Path.GetTempPath()),
                     () => DatabaseBackup.Restore("/tmp/backup.db", db),
                     () => DatabaseVerifier.Verify(db),
                     () => DatabaseHolders.Find(db),
                 })
            refuse.Should().Throw<MemoryFileException>().WithMessage("*PostgreSQL*pg_dump*").Which.Message.Should().NotContain("s3cret");
    }
}
