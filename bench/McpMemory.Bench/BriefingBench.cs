using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpMemory.Core;
using McpMemory.Core.Briefing;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Memories;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpMemory.Bench;

/// <summary>
/// Issue 15's briefing figures: how long a briefing takes on a store of N memories (no task: the hook's and the resource's
/// case; with a task: keywords, and hybrid over a vector index), the cl100k load apart; and its size against the
/// reference server's read_graph on the same memories (@modelcontextprotocol/server-memory, pinned in
/// bench/reference-memory, driven for real over stdio when installed: `npm ci --prefix bench/reference-memory`).
///   dotnet run -c Release --project bench/McpMemory.Bench -- briefing [--size 10000] [--calls 300] [--example]
/// </summary>
internal static class BriefingBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var size = int.Parse(StorageBench.Option(args, "--size") ?? "10000");
        var calls = int.Parse(StorageBench.Option(args, "--calls") ?? "300");
        var caller = new Caller("project:bench", "bench");
        Console.WriteLine($"briefing bench — {size:N0} memories; {Environment.ProcessorCount} cores; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");

        var load = Stopwatch.StartNew();
        TokenCounter.Load();
        Console.WriteLine($"cl100k_base load (once per process, not in the figures below): {load.Elapsed.TotalMilliseconds:0} ms");

        var dir = Directory.CreateTempSubdirectory("mcp-memory-briefing-");
        try
        {
            var path = Path.Combine(dir.FullName, "briefing.db");
            var embedder = new ScaleBench.HashEmbedder();
            var options = MemoryOptions.Default with { MergeDuplicates = false, EmbeddingInterval = TimeSpan.Zero };
            var corpus = new CorpusGenerator(seed: 15);
            var memories = Fill(path, size, options, embedder, corpus, caller);

            using var service = MemoryService.Open(path, options, EmbedderProvider.Ready(embedder));
            service.WaitForKeywordIndex(TimeSpan.FromMinutes(5));
            service.WaitForVectors(TimeSpan.FromMinutes(5));
            var builder = new BriefingBuilder(service);
            var tasks = Enumerable.Range(0, 100).Select(_ => corpus.Query()).ToArray();

            var plain = builder.Build(caller, new BriefingRequest());
            Console.WriteLine($"  of which: counting the final markdown's {plain.Tokens} tokens once {Measure.Calls(calls, _ => TokenCounter.Count(plain.Markdown), warmup: 50)}");
            Console.WriteLine($"\nno task (the hook, memory://briefing)       {Measure.Calls(calls, _ => builder.Build(caller, new BriefingRequest()), warmup: 50)}");
            Console.WriteLine($"task, keywords only (encoder loading/off)   {Measure.Calls(calls, i => Keywords(service, caller, tasks[i % tasks.Length]), warmup: 50)}");
            Console.WriteLine($"task, hybrid (vector index of {size:N0})      {Measure.Calls(calls, i => builder.Build(caller, new BriefingRequest { Task = tasks[i % tasks.Length] }), warmup: 50)}");
            Console.WriteLine("  (hybrid here embeds the task with a hash stand-in; the real encoder adds its query embedding, `encoder` bench: 2.0–2.7 ms for arctic-embed-xs with int8 weights)");
            Console.WriteLine($"briefing: {plain.Tokens} tokens of a {plain.BudgetTokens} budget, {Encoding.UTF8.GetByteCount(plain.Markdown):N0} bytes, " +
                              $"{plain.Sections.Sum(s => s.Items.Count)} items; left out: {string.Join("; ", plain.Sections.Where(s => s.OmittedNote is not null).Select(s => s.OmittedNote))}");

            var graph = KnowledgeGraph(memories);
            var reference = await ReferenceReadGraphAsync(dir.FullName, graph);
            var text = reference ?? JsonSerializer.Serialize(new { entities = graph, relations = Array.Empty<object>() }, new JsonSerializerOptions { WriteIndented = true });
            var bytes = Encoding.UTF8.GetByteCount(text);
            Console.WriteLine($"\nread_graph on the same {size:N0} memories ({(reference is null ? "NOT the real server: bench/reference-memory is not installed; the same JSON it would print" : "the real @modelcontextprotocol/server-memory over stdio")}): " +
                              $"{bytes / 1048576.0:0.00} MiB, {TokenCounter.Count(text):N0} tokens (its text content; the structured copy it also sends doubles the wire size)");
            Console.WriteLine($"briefing / read_graph tokens: 1 / {TokenCounter.Count(text) / (double)plain.Tokens:N0}");
            if (args.Contains("--example"))
            {
                Console.WriteLine("\n--- briefing example ---");
                Console.Write(plain.Markdown);
            }
            return 0;
        }
        finally
        {
            try { dir.Delete(recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The task briefing as it is while the encoder loads: the same store without a vector index.</summary>
    private static MemoryService? _keywordsOnly;
    private static Briefing Keywords(MemoryService service, Caller caller, string task)
    {
        _keywordsOnly ??= Open(service.Database.Path);
        return new BriefingBuilder(_keywordsOnly).Build(caller, new BriefingRequest { Task = task });
    }

    private static MemoryService Open(string path)
    {
        var keywords = MemoryService.Open(path, MemoryOptions.Default with { EmbeddingInterval = TimeSpan.Zero });
        keywords.WaitForKeywordIndex(TimeSpan.FromMinutes(5));
        return keywords;
    }

    /// <summary>
    /// A store shaped like an agent's: fixes, decisions, preferences, skills from the corpus, a few corrections and facts,
    /// eight state keys. Returns (type, content) of every memory for the knowledge-graph copy.
    /// </summary>
    private static List<(Guid Id, string Type, string Content)> Fill(string path, int size, MemoryOptions options, IEmbedder embedder, CorpusGenerator corpus, Caller caller)
    {
        using var service = MemoryService.Open(path, options, EmbedderProvider.Ready(embedder));
        service.WaitForVectors(TimeSpan.FromMinutes(5));
        var all = new List<(Guid, string, string)>(size);
        var random = new Random(15);
        var start = DateTimeOffset.UtcNow.AddDays(-365);
        for (var done = 0; done < size;)
        {
            var batch = new List<NewMemory>();
            for (; batch.Count < 500 && done < size; done++)
            {
                var text = corpus.Next();
                var type = text.StartsWith("Decision:") ? "decision" : text.StartsWith("The user") ? "preference" : text.Contains("the cause was") ? "fix"
                    : text.StartsWith("To check") ? "skill" : "fact";
                if (random.Next(40) == 0) { type = "correction"; text = "Correction: " + text; }
                batch.Add(new NewMemory
                {
                    Content = text, MemoryType = type, Importance = Math.Round(random.NextDouble(), 2),
                    CreatedAt = start.AddMinutes(done * 525_600.0 / size), MetadataJson = type == "decision" ? "{\"reason\": \"see the linked ticket\"}" : null,
                });
            }
            var results = service.StoreMany(caller, batch);
            all.AddRange(results.Select((r, i) => (r.MemoryId, batch[i].MemoryType!, batch[i].Content)));
        }
        for (var i = 0; i < 8; i++)
            service.SetState(caller, $"task-{i}", JsonDocument.Parse($"{{\"step\": {i}, \"next\": \"finish part {i}\"}}").RootElement, null);
        return all;
    }

    /// <summary>One entity per memory, as an agent using the reference server would keep it: a name, a type, the text as an observation.</summary>
    private static List<JsonObject> KnowledgeGraph(List<(Guid Id, string Type, string Content)> memories) =>
        memories.Select(m => new JsonObject { ["name"] = m.Id.ToString("D"), ["entityType"] = m.Type, ["observations"] = new JsonArray(m.Content) }).ToList();

    /// <summary>read_graph's text from the real reference server on a memory file holding the graph; null when it is not installed.</summary>
    private static async Task<string?> ReferenceReadGraphAsync(string folder, List<JsonObject> entities)
    {
        if (ReferenceMemoryServer.Script() is not { } server) return null;

        var file = Path.Combine(folder, "graph.jsonl");
        await File.WriteAllLinesAsync(file, entities.Select(e =>
            new JsonObject { ["type"] = "entity", ["name"] = e["name"]!.DeepClone(), ["entityType"] = e["entityType"]!.DeepClone(), ["observations"] = e["observations"]!.DeepClone() }.ToJsonString()));
        await using var client = await McpClient.CreateAsync(ReferenceMemoryServer.Transport(server, file),
            cancellationToken: new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
        var result = await client.CallToolAsync("read_graph", new Dictionary<string, object?>());
        return result.Content.OfType<TextContentBlock>().Single().Text;
    }
}
