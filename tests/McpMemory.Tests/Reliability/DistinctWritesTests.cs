using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using FluentAssertions;
using McpMemory.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static McpMemory.Tests.Reliability.ReliabilityChecks;

namespace McpMemory.Tests.Reliability;

/// <summary>
/// Issue 13: four stdio servers with default settings store distinct random-word texts into one database
/// (a SQLite file, or one PostgreSQL database). The old merge
/// rule (cosine ≥ 0.92) folded 224 of 800 acknowledged texts into other processes' memories; every acknowledged
/// text must now be a row of its own.
/// </summary>
public class DistinctWritesTests(ITestOutputHelper output)
{
    private const int Servers = 4;
    private const int TextsPerServer = 200;

    [Theory, BothBackends]
    public async Task Four_servers_storing_distinct_texts_keep_every_acknowledged_text(Backend backend)
    {
        using var database = new TestDatabase(backend);
        var db = database.Db;
        var clock = Stopwatch.StartNew();
        var servers = new List<RawMcpServer>();
        try
        {
            for (var i = 0; i < Servers; i++) servers.Add(await RawMcpServer.StartAsync(db, "project:distinct", RawMcpServer.InlineEmbedding));
            // The merge rule runs only once a server's encoder is ready: wait for it (in another namespace) first.
            await Task.WhenAll(servers.Select(WaitForEncoder)).WaitAsync(TimeSpan.FromMinutes(3));
            var acknowledged = new ConcurrentBag<(string Id, string Status, string Text, bool Embedded)>();
            var errors = new ConcurrentBag<string>();

            async Task Writer(RawMcpServer server, int seed)
            {
                var random = new Random(seed);
                for (var n = 0; n < TextsPerServer; n++)
                {
                    var text = RandomWords(random, 8);
                    var response = await server.CallToolAsync("store_memory", Args(("content", text)), TimeSpan.FromSeconds(60));
                    var result = response["result"];
                    if (response["error"] is not null || result?["isError"]?.GetValue<bool>() == true) { errors.Add(response.ToJsonString()); continue; }
                    var structured = result!["structuredContent"]!;
                    acknowledged.Add((structured["memory_id"]!.GetValue<string>(), structured["status"]!.GetValue<string>(), text,
                        structured["has_embedding"]!.GetValue<bool>()));
                }
            }

            await Task.WhenAll(servers.Select((s, i) => Task.Run(() => Writer(s, 1000 + i)))).WaitAsync(TimeSpan.FromMinutes(4));

            errors.Should().BeEmpty();
            acknowledged.Should().HaveCount(Servers * TextsPerServer);
            acknowledged.Where(a => a.Status != "stored").Should().BeEmpty("no text says the same as another");
            var rows = Memories(db);
            foreach (var (id, _, text, _) in acknowledged)
                rows.GetValueOrDefault(id).Should().Be(text, "an acknowledged text is never replaced by another");
            var measured = rows.Count(r => r.Value != WarmUp);
            measured.Should().Be(Servers * TextsPerServer);
            var embedded = acknowledged.Count(a => a.Embedded);
            embedded.Should().BeGreaterThan(acknowledged.Count * 9 / 10, "the stores must have met the encoder, or the merge rule was never asked");
            Consistent(db);

            var figures = $"distinct writes ({backend}): {Servers} stdio servers x {TextsPerServer} random-word texts, {acknowledged.Count} acknowledged " +
                          $"({embedded} embedded inline), {measured} rows, 0 replaced; {clock.Elapsed.TotalSeconds:0} s";
            output.WriteLine(figures);
            Figures.Record(figures);
        }
        finally
        {
            foreach (var server in servers) await server.DisposeAsync();
        }
    }

    private const string WarmUp = "warm-up: is the encoder ready";

    private static async Task WaitForEncoder(RawMcpServer server)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromMinutes(3))
        {
            var response = await server.CallToolAsync("store_memory", Args(("content", WarmUp), ("namespace", "project:warm-up")), TimeSpan.FromSeconds(60));
            var result = response["result"]!["structuredContent"]!;
            if (result["has_embedding"]!.GetValue<bool>()) return;
            await Task.Delay(200);
        }
        throw new TimeoutException("the encoder did not load within 3 minutes");
    }

    /// <summary>Words of 3-9 random letters: no two texts share their words.</summary>
    private static string RandomWords(Random random, int count)
    {
        var text = new StringBuilder();
        for (var w = 0; w < count; w++)
        {
            if (w > 0) text.Append(' ');
            var length = random.Next(3, 10);
            for (var c = 0; c < length; c++) text.Append((char)('a' + random.Next(26)));
        }
        return text.ToString();
    }
}
