using FluentAssertions;
using McpMemory.Core.Storage;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Storage;

/// <summary>
/// The write-behind worker's query for rows still waiting for a vector reads them through their own partial index
/// (it used to scan every memory after each burst of stores), an index added at open without a schema version.
/// </summary>
public class PendingIndexTests
{
    [Theory, BothBackends]
    public void Rows_waiting_for_a_vector_come_from_their_index_which_an_open_adds_back_when_missing(Backend backend)
    {
        using var t = new TestStore(backend);
        var ids = new[] { t.Store("the nightly backup runs at 02:00 UTC"), t.Store("staging deploys need a green main build") };
        var version = t.Service.Stats().SchemaVersion;

        using (var database = MemoryDatabase.Open(t.DatabasePath))
        {
            database.Read(session => IndexCount(session, backend)).Should().Be(1);
            VectorStore.Pending(database, 10).Select(p => Guid.Parse(p.Id)).Should().Equal(ids);
            if (backend == Backend.Sqlite)
                database.Read(session => Plan(session, "SELECT seq FROM memories m WHERE m.has_embedding = 0 ORDER BY m.seq LIMIT 10"))
                    .Should().Contain("ix_memories_pending", "the query the worker runs is answered from the index, not a scan");
            database.Write((session, tx) => session.Execute("DROP INDEX ix_memories_pending", tx));
            database.Read(session => IndexCount(session, backend)).Should().Be(0);
        }

        // A file written by a build without the index (same schema version) gets it back on the next open.
        using (var database = MemoryDatabase.Open(t.DatabasePath))
        {
            database.SchemaVersion.Should().Be(version, "an index that only speeds a query up needs no new version");
            database.Read(session => IndexCount(session, backend)).Should().Be(1);
            VectorStore.Pending(database, 10).Select(p => Guid.Parse(p.Id)).Should().Equal(ids);
        }
    }

    private static long IndexCount(DbSession session, Backend backend) => Convert.ToInt64(session.Command(backend == Backend.Sqlite
        ? "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'ix_memories_pending'"
        : "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'ix_memories_pending'").ExecuteScalar());

    private static string Plan(DbSession session, string sql)
    {
        using var reader = session.Command("EXPLAIN QUERY PLAN " + sql).ExecuteReader();
        var plan = new List<string>();
        while (reader.Read()) plan.Add(reader.GetString(3));
        return string.Join("\n", plan);
    }
}
