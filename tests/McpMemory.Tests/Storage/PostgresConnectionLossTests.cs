using System.Diagnostics;
using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Core.Storage;
using McpMemory.Tests.Support;
using Npgsql;
using Xunit;
using static McpMemory.Tests.Reliability.ReliabilityChecks;

namespace McpMemory.Tests.Storage;

/// <summary>
/// The PostgreSQL server going away under a running service (pg_terminate_backend on the test server, as a restart or
/// a failover would): a write whose connection is cut before it wrote anything runs again on a new one, a server that
/// stays unusable is one line naming the database with its password masked (not a driver stack), and the service works
/// again once the database is back.
/// </summary>
public class PostgresConnectionLossTests
{
    private static readonly Caller Caller = new("project:test", "agent-1");
    private const string Password = "s3cret-pw"; // the test server trusts every local login: any password is accepted

    [Fact]
    public async Task A_cut_connection_is_retried_while_the_server_is_up_and_is_one_line_with_the_password_masked_when_it_is_not()
    {
        using var db = new TestDatabase(Backend.Postgres);
        var name = new NpgsqlConnectionStringBuilder(db.Db).Database!;
        var target = new NpgsqlConnectionStringBuilder(db.Db) { Password = Password }.ConnectionString;
        using var service = MemoryService.Open(target, limits: null);
        var before = service.Store(Caller, new NewMemory { Content = "stored before the server went away" }).MemoryId;

        // 1. Cut while waiting for the write lock: nothing of the write was sent, so it runs again on a new connection.
        Guid retried;
        using (var holder = HoldWriteLock(db.Db))
        {
            var store = Task.Run(() => service.Store(Caller, new NewMemory { Content = "its connection to the server was cut while it waited" }).MemoryId);
            var first = await WaitingWriter(name);
            PostgresServer.Shared.Execute($"SELECT pg_terminate_backend({first})");
            var second = await WaitingWriter(name, except: first);
            second.Should().NotBe(first, "the write waits again, on a new connection");
            holder.Close();
            retried = await store.WaitAsync(TimeSpan.FromSeconds(30));
        }

        // 2. Cut while the database refuses new connections: reads and writes fail in one line, and nothing is written.
        MemoryFileException refusedWrite;
        using (var holder = HoldWriteLock(db.Db))
        {
            var store = Task.Run(() => service.Store(Caller, new NewMemory { Content = "never acknowledged" }));
            var waiting = await WaitingWriter(name);
            PostgresServer.Shared.Execute($"ALTER DATABASE {name} ALLOW_CONNECTIONS false");
            try
            {
                PostgresServer.Shared.Execute($"SELECT pg_terminate_backend({waiting})");
                refusedWrite = (await FluentActions.Awaiting(() => store.WaitAsync(TimeSpan.FromSeconds(30)))
                    .Should().ThrowAsync<MemoryFileException>()).Which;
                // Every other connection of the service (its pooled readers) is cut too; the holder stays.
                PostgresServer.Shared.Execute($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> {holder.ProcessID}");
                var refusedRead = service.Invoking(s => s.Search(Caller, new SearchRequest { Query = "server" }, trackAccess: false))
                    .Should().Throw<MemoryFileException>().Which;
                foreach (var error in new[] { refusedWrite, refusedRead })
                {
                    error.Message.Should().NotContain("\n").And.NotContain(Password).And.Contain("Password=***").And.Contain("not currently accepting connections");
                    error.Message.Should().StartWith("database ");
                }
            }
            finally { PostgresServer.Shared.Execute($"ALTER DATABASE {name} ALLOW_CONNECTIONS true"); }
        }

        // 3. The database is back: the same service writes and reads again.
        var after = service.Store(Caller, new NewMemory { Content = "stored after the server came back" }).MemoryId;
        service.Search(Caller, new SearchRequest { Query = "stored server", TopK = 10 }, trackAccess: false).Results.Select(r => r.Memory.Id)
            .Should().BeEquivalentTo([before, retried, after]);
        Memories(db.Db).Values.Should().BeEquivalentTo(
            ["stored before the server went away", "its connection to the server was cut while it waited", "stored after the server came back"],
            "the retried write is stored once, the refused one not at all");
    }

    [Fact]
    public void A_write_and_a_read_after_the_server_dropped_every_idle_connection_succeed_the_first_time()
    {
        using var db = new TestDatabase(Backend.Postgres);
        var name = new NpgsqlConnectionStringBuilder(db.Db).Database!;
        using var service = MemoryService.Open(db.Db, limits: null);
        service.Store(Caller, new NewMemory { Content = "stored before the restart" });
        service.Search(Caller, new SearchRequest { Query = "restart" }, trackAccess: false);

        // As a server restart or a failover would: every connection of the service is gone while it sits idle.
        var pids = $"SELECT pid FROM pg_stat_activity WHERE datname = '{name}'";
        var old = (string)Scalar($"SELECT coalesce(string_agg(pid::text, ','), '0') FROM ({pids}) p")!;
        PostgresServer.Shared.Execute($"SELECT pg_terminate_backend(pid) FROM ({pids}) p");
        WaitUntil(() => Count($"SELECT count(*) FROM pg_stat_activity WHERE pid IN ({old})") == 0);

        service.Store(Caller, new NewMemory { Content = "stored after the restart" });
        service.Search(Caller, new SearchRequest { Query = "restart", TopK = 10 }, trackAccess: false).Results.Should().HaveCount(2);
    }

    private static NpgsqlConnection HoldWriteLock(string db)
    {
        var holder = new NpgsqlConnection(Unpooled(db));
        holder.Open();
        using var command = new NpgsqlCommand($"SELECT pg_advisory_lock({PostgresEngine.WriteLockKey})", holder);
        command.ExecuteNonQuery();
        return holder;
    }

    /// <summary>The backend pid of the service's write that waits for the advisory write lock (at most 30 s).</summary>
    private static async Task<int> WaitingWriter(string database, int except = 0)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            var pid = Count($"SELECT coalesce(max(pid), 0) FROM pg_stat_activity WHERE datname = '{database}' AND wait_event = 'advisory' AND pid <> {except}");
            if (pid != 0) return (int)pid;
            await Task.Delay(20);
        }
        throw new TimeoutException("no write waited for the write lock within 30 s");
    }

    private static void WaitUntil(Func<bool> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("the condition did not hold within 30 s");
            Thread.Sleep(20);
        }
    }

    private static long Count(string sql) => Convert.ToInt64(Scalar(sql));

    private static object? Scalar(string sql)
    {
        using var connection = new NpgsqlConnection(PostgresServer.Shared.AdminConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return command.ExecuteScalar();
    }
}
