using System.Collections.Concurrent;
using System.Text.Json;
using FluentAssertions;
using McpMemory.Core;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Core.Storage;
using McpMemory.Tests.Support;
using Xunit;

namespace McpMemory.Tests.Storage;

/// <summary>
/// Two services on one database, as two server instances share a PostgreSQL database (or processes share a SQLite file):
/// each sees the other's writes through the event log, compare-and-set holds between them, concurrent writers lose
/// nothing and the log commits in order, and the event log stays append-only.
/// </summary>
public class SharedDatabaseTests
{
    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    [Theory, BothBackends]
    public void A_second_service_sees_a_memory_stored_through_the_first_and_the_reverse(Backend backend)
    {
        using var t = new TestStore(backend);
        using var other = t.OpenAnother();
        other.WaitForKeywordIndex(TimeSpan.FromMinutes(1)).Should().BeTrue();
        var id = t.Store("The staging cluster runs on Hetzner in Falkenstein");

        other.Search(t.Caller, new SearchRequest { Query = "where does staging run?" }).Results.Select(r => r.Memory.Id).Should().Equal(id);
        var back = other.Store(t.Caller, new NewMemory { Content = "Grafana dashboards live in the ops repository" }).MemoryId;
        t.Service.Search(t.Caller, new SearchRequest { Query = "grafana dashboards" }).Results.Select(r => r.Memory.Id).Should().Equal(back);
        other.Delete(t.Caller, id);
        t.Service.Search(t.Caller, new SearchRequest { Query = "staging cluster Hetzner" }).Results.Should().BeEmpty("the delete reached this service's index too");
    }

    [Theory, BothBackends]
    public void A_compare_and_set_conflict_between_two_services_is_detected(Backend backend)
    {
        using var t = new TestStore(backend);
        using var other = t.OpenAnother();
        t.Service.SetState(t.Caller, "lease", Json("\"a\""), expectedVersion: 0).Version.Should().Be(1);

        other.Invoking(s => s.SetState(t.Caller, "lease", Json("\"b\""), expectedVersion: 0))
            .Should().Throw<MemoryConflictException>().Which.CurrentVersion.Should().Be(1);
        other.SetState(t.Caller, "lease", Json("\"b\""), expectedVersion: 1).Version.Should().Be(2);
        t.Service.Invoking(s => s.SetState(t.Caller, "lease", Json("\"c\""), expectedVersion: 1))
            .Should().Throw<MemoryConflictException>().Which.CurrentVersion.Should().Be(2);
        t.Service.GetState(t.Caller, "lease").Value!.GetValue<string>().Should().Be("b");
    }

    [Theory, BothBackends]
    public async Task Concurrent_writers_on_two_services_lose_nothing_and_the_event_log_commits_in_order(Backend backend)
    {
        const int threadsPerService = 4, storesPerThread = 20;
        using var t = new TestStore(backend);
        using var other = t.OpenAnother();
        var services = new[] { t.Service, other };
        var stored = new ConcurrentBag<(Guid Id, string Word)>();
        var increments = 0;

        // Every thread stores memories and adds 1 to a shared counter by read + compare-and-set, retrying on conflict.
        var workers = Enumerable.Range(0, services.Length * threadsPerService).Select(w => Task.Run(() =>
        {
            var service = services[w % services.Length];
            for (var n = 0; n < storesPerThread; n++)
            {
                var word = $"marker{w}x{n}";
                stored.Add((service.Store(t.Caller, new NewMemory { Content = $"note {word} from worker {w}" }).MemoryId, word));
                for (var attempt = 0; attempt < 200; attempt++)
                {
                    var current = attempt == 0 && n == 0 && w == 0 ? 0 : TryGet(service);
                    try
                    {
                        service.SetState(t.Caller, "counter", Json((current + 1).ToString()), expectedVersion: current);
                        Interlocked.Increment(ref increments);
                        break;
                    }
                    catch (MemoryConflictException) { }
                }
            }
        })).ToArray();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(3));

        long TryGet(MemoryService service)
        {
            try { return service.GetState(t.Caller, "counter").Version; }
            catch (MemoryNotFoundException) { return 0; }
        }

        var total = services.Length * threadsPerService * storesPerThread;
        stored.Select(s => s.Id).Distinct().Should().HaveCount(total);
        increments.Should().Be(total);
        t.Service.GetState(t.Caller, "counter").Version.Should().Be(total, "no compare-and-set was lost or applied twice");
        t.Service.Stats().Memories.Should().Be(total);

        // The log as a reader sees it: seqs strictly increasing, one store event per memory, nothing skipped by a follower.
        var seqs = t.Service.Database.Read(session =>
        {
            var list = new List<long>();
            using var reader = session.Command("SELECT seq FROM events WHERE kind = 'store' ORDER BY seq").ExecuteReader();
            while (reader.Read()) list.Add(reader.GetInt64(0));
            return list;
        });
        seqs.Should().HaveCount(total).And.BeInAscendingOrder();
        foreach (var (id, word) in stored.Take(30))
            foreach (var service in services)
                service.Search(t.Caller, new SearchRequest { Query = word }).Results.Select(r => r.Memory.Id).Should().Contain(id, $"{word} is in every service's index");
    }

    [Theory, BothBackends]
    public void The_event_log_refuses_updates_and_deletes(Backend backend)
    {
        using var t = new TestStore(backend);
        t.Store("something to log");
        foreach (var sql in new[] { "UPDATE events SET kind = 'forged'", "DELETE FROM events" })
            t.Service.Invoking(s => s.Database.Write((session, tx) => session.Execute(sql, tx)))
                .Should().Throw<Exception>().Where(e => e.Message.Contains("append-only"), sql);
        t.Service.Stats().Events.Should().Be(1);
    }

    [Fact]
    public async Task A_commit_on_postgres_wakes_the_other_service_which_catches_up_without_a_search()
    {
        using var t = new TestStore(Backend.Postgres);
        using var other = t.OpenAnother();
        other.WaitForKeywordIndex(TimeSpan.FromMinutes(1)).Should().BeTrue();
        var before = other.Indexes.Keywords.Cursor.Last;
        t.Store("a fact the other instance should hear about");
        var last = t.Service.Stats().Events;

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (other.Indexes.Keywords.Cursor.Last < last && DateTime.UtcNow < deadline) await Task.Delay(20);
        other.Indexes.Keywords.Cursor.Last.Should().BeGreaterThan(before).And.Be(last, "LISTEN/NOTIFY woke it and it read the log");
    }

    [Fact]
    public void Both_schemas_have_the_same_versions() =>
        PostgresSchema.CurrentVersion.Should().Be(Schema.CurrentVersion, "version N means the same tables and columns in both");
}

public class PortabilityOnBothBackendsTests
{
    [Theory, BothBackends]
    public void Export_import_export_is_exact_on_each_backend_and_across_them(Backend backend)
    {
        using var t = new TestStore(backend);
        var first = t.Store("The deploy key rotates every Friday", tags: ["ops"], importance: 0.8);
        t.Store("Use pnpm, not npm, in this repository", type: "preference");
        t.Service.SetState(t.Caller, "phase", System.Text.Json.JsonDocument.Parse("{\"step\":3}").RootElement, expectedVersion: 0);
        t.Service.Feedback(t.Caller, first, "useful", "saved an hour");
        // More rows than one export page on PostgreSQL (500), so paging is exercised too.
        t.Service.StoreMany(t.Caller, Enumerable.Range(0, 520).Select(i => new NewMemory { Content = $"bulk note number {i} about cache shard {i % 7}" }).ToList());
        using var dir = new TempDirectory();
        var exported = dir.File("export.jsonl");
        using (var file = new StreamWriter(exported)) t.Service.ExportJsonl(file);

        foreach (var target in new[] { Backend.Sqlite, Backend.Postgres })
        {
            using var copy = new TestDatabase(target);
            using var service = MemoryService.Open(copy.Db, null, t.Clock);
            service.ImportJsonl(exported);
            var again = new StringWriter();
            service.ExportJsonl(again);
            again.ToString().Should().Be(File.ReadAllText(exported), $"{backend} → {target}");
        }
    }
}
