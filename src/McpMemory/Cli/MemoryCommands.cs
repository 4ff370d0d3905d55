using System.CommandLine;
using System.Text.Json;
using McpMemory.Core;
using McpMemory.Core.Knowledge;
using McpMemory.Core.Memories;
using McpMemory.Contracts;

namespace McpMemory.Cli;

/// <summary>store, search, get, delete, state, stats: the engine from the command line (same database as the server).</summary>
internal static class MemoryCommands
{
    public static IEnumerable<Command> Create() => [Store(), Search(), Get(), History(), Delete(), Unarchive(), State(), Stats()];

    private static Command Store()
    {
        var text = new Argument<string>("text") { Description = "The memory to store (max 64 KiB)" };
        var type = new Option<string?>("--type", "-t") { Description = $"Memory type: {MemoryTypes.Describe()} (default: {MemoryTypes.Default})" };
        var tags = new Option<string[]>("--tags") { Description = "Tags, comma-separated or repeated (e.g. --tags nginx,deploy)", AllowMultipleArgumentsPerToken = true };
        var importance = new Option<double?>("--importance", "-i") { Description = "Importance 0..1 (default 0.5)" };
        var metadata = new Option<string?>("--metadata") { Description = "Metadata as a JSON object, e.g. '{\"file\":\"app.ts\"}'" };
        var expires = new Option<string?>("--expires-at") { Description = "Forget after this ISO-8601 time" };
        var supersedes = new Option<string[]>("--supersedes") { Description = "Ids of older memories this one replaces (comma-separated or repeated)", AllowMultipleArgumentsPerToken = true };
        var trigger = new Option<string?>("--trigger") { Description = "Skills (--type skill): when it applies" };
        var steps = new Option<string[]>("--steps") { Description = "Skills: what to do, one step per --steps (repeat it)" };
        var hint = new Option<string?>("--success-hint") { Description = "Skills: how to know it worked" };
        var command = new Command("store", "Store a memory") { text, type, tags, importance, metadata, expires, supersedes, trigger, steps, hint };
        command.SetAction(parse => CliRunner.WithService(parse, (service, settings) =>
        {
            var result = service.Store(settings.ToCaller(), new SkillFields(parse.GetValue(trigger), parse.GetValue(steps), parse.GetValue(hint)).ApplyTo(new NewMemory
            {
                Content = parse.GetValue(text)!,
                MemoryType = parse.GetValue(type),
                Tags = SplitList(parse.GetValue(tags)),
                Importance = parse.GetValue(importance),
                MetadataJson = parse.GetValue(metadata),
                ExpiresAt = IsoTime.Parse(parse.GetValue(expires), "expires_at"),
                Source = "cli",
                Supersedes = SplitList(parse.GetValue(supersedes))?.Select((id, i) => MemoryValidator.MemoryId(id, $"supersedes[{i}]")).ToList(),
            }));
            var output = StoreMemoryResult.From(result);
            if (parse.GetValue(CliOptions.Json)) { Output.Json(output, ResultJsonContext.Default.StoreMemoryResult); return; }
            Console.Out.WriteLine($"{output.Status} {output.MemoryId} in {output.Namespace}");
            foreach (var similar in output.Similar) Console.Out.WriteLine($"  similar {similar.MemoryId} ({similar.Similarity:0.000}): {similar.Content}");
        }, vectors: true, creates: true));
        return command;
    }

    private static Command Search()
    {
        var query = new Argument<string>("query") { Description = "What to look for: a question or exact words" };
        var topK = new Option<int?>("--top-k", "-k") { Description = "How many results, 1..100 (default 10)" };
        var type = new Option<string?>("--type", "-t") { Description = "Only this memory type" };
        var tags = new Option<string[]>("--tags") { Description = "Only memories with all these tags (comma-separated or repeated)", AllowMultipleArgumentsPerToken = true };
        var namespaces = new Option<string[]>("--namespaces") { Description = "Search these namespaces instead of the default + shared", AllowMultipleArgumentsPerToken = true };
        var mode = new Option<string?>("--mode") { Description = "auto (hybrid when the encoder is ready), hybrid, fts or vector" };
        var explain = new Option<bool>("--explain") { Description = "Show every factor of each result's score" };
        var superseded = new Option<bool>("--include-superseded") { Description = "Also show memories that a newer one superseded" };
        var archived = new Option<bool>("--include-archived") { Description = "Also show memories that consolidation archived as stale" };
        var now = new Option<string?>("--now") { Description = "Read time phrases (\"last week\") and count recency from this ISO-8601 time instead of the clock" };
        var noTime = new Option<bool>("--no-time") { Description = "Do not read time phrases in the query: search every word, over all times" };
        var command = new Command("search", "Search memories by meaning and keywords, best first") { query, topK, type, tags, namespaces, mode, explain, superseded, archived, now, noTime };
        command.SetAction(parse => CliRunner.WithService(parse, (service, settings) =>
        {
            var caller = settings.ToCaller();
            var spaces = SplitList(parse.GetValue(namespaces));
            var response = new SkillBook(service).Search(caller, new Core.Search.SearchRequest
            {
                Query = parse.GetValue(query)!,
                TopK = parse.GetValue(topK),
                MemoryType = parse.GetValue(type),
                Tags = SplitList(parse.GetValue(tags)),
                Namespaces = spaces,
                Mode = parse.GetValue(mode),
                Explain = parse.GetValue(explain),
                IncludeSuperseded = parse.GetValue(superseded),
                IncludeArchived = parse.GetValue(archived),
                Now = IsoTime.Parse(parse.GetValue(now), "--now"),
                TimeAware = !parse.GetValue(noTime),
            });
            var output = SearchMemoryResult.From(response);
            if (parse.GetValue(CliOptions.Json)) { Output.Json(output, ResultJsonContext.Default.SearchMemoryResult); return; }
            Console.Out.WriteLine($"{output.Results.Count} result(s) in {string.Join(", ", output.Namespaces)} ({output.Mode}{(output.FallbackReason is { } why ? ": " + why : "")})");
            if (output.Time is { } time)
                Console.Out.WriteLine($"time: \"{time.Phrase}\" → {time.Since ?? "…"} .. {time.Until ?? "…"} ({time.Kind}, {time.Applied}); searched for \"{time.Query}\"");
            for (var i = 0; i < output.Results.Count; i++) Output.Memory(output.Results[i], i + 1);
        }, vectors: true));
        return command;
    }

    private static Command Get()
    {
        var id = new Argument<string>("id") { Description = "The memory id (UUID)" };
        var command = new Command("get", "Show one memory") { id };
        command.SetAction(parse => CliRunner.WithService(parse, (service, settings) =>
        {
            var memory = service.Get(settings.ToCaller(), MemoryValidator.MemoryId(parse.GetValue(id), "id"));
            var output = MemoryResult.From(memory, 0);
            if (parse.GetValue(CliOptions.Json)) Output.Json(output, ResultJsonContext.Default.MemoryResult);
            else Output.Memory(output);
        }));
        return command;
    }

    private static Command History()
    {
        var id = new Argument<string>("id") { Description = "The memory id (UUID); deleted memories too" };
        var command = new Command("history", "Every version of a memory, oldest first (stored, merged, superseded, deleted), from the event log") { id };
        command.SetAction(parse => CliRunner.WithService(parse, (service, settings) =>
        {
            var memoryId = MemoryValidator.MemoryId(parse.GetValue(id), "id");
            var output = MemoryHistoryResult.From(memoryId, service.History(settings.ToCaller(), memoryId));
            if (parse.GetValue(CliOptions.Json)) { Output.Json(output, ResultJsonContext.Default.MemoryHistoryResult); return; }
            foreach (var v in output.Versions)
                Console.Out.WriteLine($"{v.At} {v.Kind,-10} {v.MemoryId}{(v.SupersededBy is null ? "" : $" → {v.SupersededBy}")}{(v.SummarizedBy is null ? "" : $" in summary {v.SummarizedBy}")}: {v.Content}");
        }));
        return command;
    }

    private static Command Unarchive()
    {
        var id = new Argument<string>("id") { Description = "The memory id (UUID) of an archived memory" };
        var command = new Command("unarchive", "Bring back a memory that consolidation archived as stale (search --include-archived lists them)") { id };
        command.SetAction(parse => CliRunner.WithService(parse, (service, settings) =>
        {
            var output = UnarchiveMemoryResult.From(service.Unarchive(settings.ToCaller(), MemoryValidator.MemoryId(parse.GetValue(id), "id")));
            if (parse.GetValue(CliOptions.Json)) Output.Json(output, ResultJsonContext.Default.UnarchiveMemoryResult);
            else Console.Out.WriteLine(output.Unarchived
                ? $"unarchived {output.MemoryId} in {output.Namespace} (archived {output.ArchivedAt}): back in search"
                : $"{output.MemoryId} in {output.Namespace} is not archived: nothing changed");
        }));
        return command;
    }

    private static Command Delete()
    {
        var id = new Argument<string>("id") { Description = "The memory id (UUID)" };
        var command = new Command("delete", "Delete one memory (its text stays in the event log)") { id };
        command.SetAction(parse => CliRunner.WithService(parse, (service, settings) =>
        {
            var deleted = service.Delete(settings.ToCaller(), MemoryValidator.MemoryId(parse.GetValue(id), "id"));
            var output = new DeleteMemoryResult(deleted.Id.ToString("D"), true, deleted.Namespace);
            if (parse.GetValue(CliOptions.Json)) Output.Json(output, ResultJsonContext.Default.DeleteMemoryResult);
            else Console.Out.WriteLine($"deleted {output.MemoryId} from {output.Namespace}");
        }));
        return command;
    }

    private static Command State()
    {
        var key = new Argument<string>("key") { Description = "The state key" };
        var get = new Command("get", "Show a state value and its version") { key };
        get.SetAction(parse => CliRunner.WithService(parse, (service, settings) =>
            PrintState(parse, AgentStateResult.From(service.GetState(settings.ToCaller(), parse.GetValue(key)!)))));

        var setKey = new Argument<string>("key") { Description = "The state key" };
        var value = new Argument<string>("json") { Description = "The value: any JSON (quote strings: '\"text\"')" };
        var expected = new Option<long?>("--expected-version") { Description = "Write only if the stored version is this (0 = key must not exist)" };
        var set = new Command("set", "Set a state value (any JSON)") { setKey, value, expected };
        set.SetAction(parse => CliRunner.WithService(parse, (service, settings) =>
        {
            JsonElement json;
            try { json = JsonDocument.Parse(parse.GetValue(value)!).RootElement.Clone(); }
            catch (JsonException e) { throw new MemoryValidationException("json", $"is not valid JSON ({e.Message}); quote strings, e.g. '\"text\"'"); }
            PrintState(parse, AgentStateResult.From(service.SetState(settings.ToCaller(), parse.GetValue(setKey)!, json, parse.GetValue(expected))));
        }, creates: true));
        return new Command("state", "Read and write agent state (versioned JSON values)") { get, set };
    }

    private static void PrintState(ParseResult parse, AgentStateResult state)
    {
        if (parse.GetValue(CliOptions.Json)) { Output.Json(state, ResultJsonContext.Default.AgentStateResult); return; }
        Console.Out.WriteLine($"{state.Key} = {state.Value?.ToJsonString() ?? "null"}");
        Console.Out.WriteLine($"  version {state.Version}, updated {state.UpdatedAt}, {state.Namespace}");
    }

    private static Command Stats()
    {
        var command = new Command("stats", "Show what the database holds");
        command.SetAction(parse => CliRunner.WithService(parse, (service, _) =>
        {
            var stats = service.Stats();
            var skills = new SkillBook(service);
            var failing = skills.Failing();
            if (parse.GetValue(CliOptions.Json))
            {
                // The store's figures, plus the skills and those that keep failing.
                var json = System.Text.Json.JsonSerializer.SerializeToNode(stats, ResultJson.TypeInfo<Core.Storage.StoreStats>())!.AsObject();
                json["skills"] = skills.Count();
                json["failing_skills"] = System.Text.Json.JsonSerializer.SerializeToNode(failing.Select(s => SkillResult.From(s)).ToList(), ResultJson.TypeInfo<List<SkillResult>>());
                Output.Json(json, ResultJsonContext.Default.JsonObject);
                return;
            }
            Console.Out.WriteLine($"database   {stats.Path} (schema v{stats.SchemaVersion}, {stats.FileBytes / 1024.0:0.#} KiB)");
            Console.Out.WriteLine($"memories   {stats.Memories} ({stats.WithEmbedding} with embedding)");
            Console.Out.WriteLine($"state keys {stats.StateKeys}; events {stats.Events}");
            foreach (var (ns, count) in stats.ByNamespace.OrderBy(p => p.Key)) Console.Out.WriteLine($"  {ns,-40} {count}");
            if (stats.ByType.Count > 0)
                Console.Out.WriteLine("  by type: " + string.Join(", ", stats.ByType.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}")));
            Console.Out.WriteLine($"skills     {skills.Count()} ({failing.Count} failing)");
            foreach (var s in failing)
                Console.Out.WriteLine($"  failing {s.Memory.Id} ({s.Successes} succeeded, {s.Failures} failed) in {s.Memory.Namespace}: {s.Trigger}");
        }));
        return command;
    }

    /// <summary>Accepts both "--tags a,b" and "--tags a --tags b".</summary>
    internal static IReadOnlyList<string>? SplitList(string[]? values)
    {
        if (values is null || values.Length == 0) return null;
        return values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
    }
}
