using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using McpMemory.Core;
using McpMemory.Core.Memories;
using McpMemory.Core.Storage;
using McpMemory.Tests.Support;
using McpMemory.Tools;
using ModelContextProtocol;
using Xunit;
using Xunit.Abstractions;

namespace McpMemory.Tests.Reliability;

/// <summary>
/// Property tests: every tool and engine entry point, called with random and adversarial arguments, either answers
/// or fails with a clear error naming the field; nothing else escapes, and the database stays consistent.
/// In process (fast, most of the cases); the real server and CLI processes get their own, smaller runs.
/// </summary>
public class HostileInputTests(ITestOutputHelper output)
{
    public const int InProcessCases = 10_000;

    /// <summary>One call: which entry point, and its arguments (unused ones are ignored).</summary>
    public sealed record Call(
        string Tool, string? A, string? B, string? C, string? D, string? E, string[]? List, string[]? List2,
        double? Number, int? Integer, long? Long, JsonElement? Json)
    {
        public override string ToString() =>
            $"{Tool}(a: {Hostile.Show(A)}, b: {Hostile.Show(B)}, c: {Hostile.Show(C)}, d: {Hostile.Show(D)}, e: {Hostile.Show(E)}, " +
            $"list: {Hostile.Show(List)}, list2: {Hostile.Show(List2)}, number: {Hostile.Show(Number)}, integer: {Hostile.Show(Integer)}, " +
            $"long: {Hostile.Show(Long)}, json: {Hostile.Show(Json)})";
    }

    private static readonly string[] Tools =
        ["store_memory", "search_memory", "delete_memory", "get_agent_state", "set_agent_state", "get", "store_many", "import_line", "verify_path"];

    private static readonly Gen<Call> AllHostile =
        from tool in Gen.Elements(Tools)
        from a in Hostile.Text
        from b in Hostile.Text
        from c in Hostile.Text
        from d in Hostile.Text
        from e in Hostile.Text
        from list in Hostile.TextList
        from list2 in Hostile.TextList
        from number in Hostile.Number
        from integer in Hostile.Integer
        from @long in Hostile.Long
        from json in Hostile.Json
        select new Call(tool, a, b, c, d, e, list, list2, number, integer, @long, json);

    /// <summary>Arguments a well-behaved agent sends (the tool decides which of them mean what).</summary>
    private static readonly Gen<Call> Benign =
        from tool in Gen.Elements(Tools)
        from a in Gen.Elements("deploy uses the nginx reverse proxy", "the cache warms at 6am", "current_task", "why does the build fail?")
        from b in Gen.Elements<string?>(null, "fact", "decision", "fix")
        from c in Gen.Elements<string?>(null, "shared", "project:hostile", "agent:bot")
        from d in Gen.Elements<string?>(null, "session-1")
        from e in Gen.Elements<string?>(null, "2026-01-01T00:00:00Z")
        from list in Gen.Elements<string[]?>(null, ["deploy"], ["nginx", "ops"])
        from number in Gen.Elements<double?>(null, 0, 0.5, 1)
        from integer in Gen.Elements<int?>(null, 0, 1, 5, 10)
        from @long in Gen.Elements<long?>(null, 0, 1)
        from json in Gen.Elements<JsonElement?>(null, JsonDocument.Parse("""{"file":"src/app.ts"}""").RootElement.Clone())
        select new Call(tool, a, b, c, d, e, list, null, number, integer, @long, json);

    /// <summary>A well-formed call with exactly one adversarial argument: reaches past the first check to the next.</summary>
    private static readonly Gen<Call> OneHostile =
        from benign in Benign
        from hostile in AllHostile
        from field in Gen.Choose(0, 10)
        select field switch
        {
            0 => benign with { A = hostile.A },
            1 => benign with { B = hostile.B },
            2 => benign with { C = hostile.C },
            3 => benign with { D = hostile.D },
            4 => benign with { E = hostile.E },
            5 => benign with { List = hostile.List },
            6 => benign with { List2 = hostile.List2 },
            7 => benign with { Number = hostile.Number },
            8 => benign with { Integer = hostile.Integer },
            9 => benign with { Long = hostile.Long },
            _ => benign with { Json = hostile.Json },
        };

    internal static readonly Gen<Call> Calls = Gen.Frequency((2, AllHostile), (3, OneHostile), (1, Benign));

    [Fact]
    public void Every_tool_and_entry_point_answers_or_names_the_bad_field_over_10000_random_and_adversarial_calls()
    {
        // tmpfs when there is one: this test is about input handling, and 10,000 fsyncs would only make it slow.
        var root = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var dir = Directory.CreateDirectory(Path.Combine(root, "mcp-memory-hostile-" + Guid.NewGuid().ToString("N"))).FullName;
        try
        {
            var db = Path.Combine(dir, "hostile.db");
            using var service = MemoryService.Open(db);
            var caller = new Caller("project:hostile", "agent-1");
            var memoryTools = new MemoryTools(service, caller);
            var stateTools = new StateTools(service, caller);
            var known = new List<string>();
            int answered = 0, refused = 0;

            bool Holds(Call call)
            {
                try
                {
                    var result = Invoke(call, service, caller, memoryTools, stateTools, dir, known);
                    answered++;
                    return result is not null;
                }
                catch (McpException e) when (Hostile.IsClear(e.Message)) { refused++; return true; }
                catch (MemoryException e) when (Hostile.IsClear(e.Message) || IsClearFileError(e.Message)) { refused++; return true; }
            }

            // Anything else thrown (or an unclear message, which fails the 'when' above) fails the property with the case.
            Check.One(Config.QuickThrowOnFailure.WithMaxTest(InProcessCases).WithQuietOnSuccess(true),
                Prop.ForAll(Calls.ToArbitrary(), (Func<Call, bool>)Holds));

            ReliabilityChecks.Consistent(db);
            RoundTripsThroughExport(service, dir);
            var figures = $"hostile input, in process: {answered + refused} cases over {Tools.Length} entry points, {answered} answered, " +
                          $"{refused} refused with a clear error, 0 crashes; database verified clean";
            output.WriteLine(figures);
            Figures.Record(figures);
            (answered + refused).Should().BeGreaterThanOrEqualTo(InProcessCases);
            answered.Should().BeGreaterThan(InProcessCases / 20, "the generators must also produce valid calls, or the test proves little");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// The scanner that recovers the id of a stdio line too big to keep agrees with a full JSON parser, whatever
    /// surrounds the id: members in any order, strings full of quotes, backslashes and braces, decoy ids deeper down or
    /// as values, whitespace, and any split of the line into chunks.
    /// </summary>
    [Fact]
    public void The_oversized_line_id_scanner_finds_the_top_level_id_a_json_parser_finds()
    {
        var ids = Gen.Elements("1", "-7", "9223372036854775807", "1.5", "1e400", "\"abc\"", "\"a\\\"}{,b\"", "\"\\u0041\\\\\"", "null", "{\"id\":1}", "[1,[2]]", "\"\"");
        var members = Gen.Elements(
            "\"jsonrpc\":\"2.0\"", "\"method\":\"tools/call\"",
            "\"params\":{\"name\":\"store_memory\",\"arguments\":{\"id\":\"decoy\",\"content\":\"x\\\"}{,\\\\\"}}",
            "\"idx\":5", "\"i\":\"id\"", "\"\\\"id\":3", "\"nested\":[{\"id\":2},\"id\",{\"a\":[\"}\"]}]", "\"x\" : \"  id  \"", "\"\":{}");
        var cases =
            from others in Gen.ArrayOf(members)
            from id in ids
            from position in Gen.Choose(0, 100)
            from chunk in Gen.Choose(1, 64)
            from space in Gen.Elements("", " ", "\r\n\t ")
            select (Others: others, Id: id, Position: position, Chunk: chunk, Space: space);
        var checkedCases = 0;

        bool Agrees((string[] Others, string Id, int Position, int Chunk, string Space) c)
        {
            var list = c.Others.ToList();
            list.Insert(c.Position % (list.Count + 1), $"\"id\"{c.Space}:{c.Space}{c.Id}");
            var json = "{" + c.Space + string.Join("," + c.Space, list) + c.Space + "}";
            var expected = JsonDocument.Parse(json).RootElement.GetProperty("id").GetRawText();
            var scanner = new McpMemory.Transports.TopLevelIdScanner();
            var bytes = System.Text.Encoding.UTF8.GetBytes(json);
            for (var i = 0; i < bytes.Length; i += c.Chunk) scanner.Feed(bytes.AsSpan(i, Math.Min(c.Chunk, bytes.Length - i)));
            checkedCases++;
            var found = scanner.IdToken is { } token ? System.Text.Encoding.UTF8.GetString(token.Span).Trim() : null;
            if (found != expected) throw new Exception($"in {json}: found {found ?? "nothing"}, expected {expected}");
            return true;
        }

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(2_000).WithQuietOnSuccess(true), Prop.ForAll(cases.ToArbitrary(), Agrees));
        checkedCases.Should().BeGreaterThanOrEqualTo(2_000);
    }

    /// <summary>
    /// Whatever the hostile calls managed to store (odd Unicode, control characters, deep metadata, odd state values)
    /// survives export → import → export byte for byte, and renders as Markdown inside its folder.
    /// </summary>
    private static void RoundTripsThroughExport(MemoryService service, string dir)
    {
        var file = Path.Combine(dir, "hostile.jsonl");
        using (var writer = new StreamWriter(file, false, Hostile.Utf8)) service.ExportJsonl(writer);
        using var copy = MemoryService.Open(Path.Combine(dir, "copy.db"));
        copy.ImportJsonl(file);
        var again = new StringWriter();
        copy.ExportJsonl(again);

        static IEnumerable<string> Data(IEnumerable<string> lines) =>
            lines.Where(l => l.StartsWith("{\"kind\":\"memory\"") || l.StartsWith("{\"kind\":\"state\""));
        var original = Data(File.ReadAllLines(file, Hostile.Utf8)).ToList();
        original.Should().NotBeEmpty();
        Data(again.ToString().Split('\n')).Should().Equal(original);

        var names = service.ExportMarkdown().Select(m => m.FileName).ToList();
        names.Should().OnlyHaveUniqueItems().And.OnlyContain(n => n == Path.GetFileName(n) && !n.StartsWith('.'));
    }

    /// <summary>File errors start with the option or a line number and stay one short line.</summary>
    private static bool IsClearFileError(string message) =>
        message.Length <= 1000 && !message.Contains('\n') && !message.Contains("Exception") && !message.Contains("   at ");

    private static object? Invoke(Call c, MemoryService service, Caller caller, MemoryTools memories, StateTools state, string dir, List<string> known)
    {
        var someId = known.Count > 0 && c.Integer is > 0 ? known[c.Integer.Value % known.Count] : c.A;
        switch (c.Tool)
        {
            case "store_memory":
                var stored = memories.StoreMemory(c.A!, c.B, c.Json, c.List, c.Number, c.C, c.D, c.E, c.Integer is 5 ? DateTimeOffset.UtcNow.AddDays(1).ToString("O") : c.B);
                known.Add(stored.MemoryId);
                return stored;
            case "search_memory":
                return memories.SearchMemory(c.A!, c.Integer, c.B, c.List, c.Number, c.List2, c.C, c.D, c.E);
            case "delete_memory":
                return memories.DeleteMemory(someId!);
            case "get_agent_state":
                return state.GetAgentState(c.A!);
            case "set_agent_state":
                return state.SetAgentState(c.A!, c.Json ?? default, c.Long);
            case "get":
                return service.Get(caller, MemoryValidator.MemoryId(someId));
            case "store_many":
                return service.StoreMany(caller, [
                    new NewMemory { Content = "a valid one" },
                    new NewMemory { Content = c.A!, MemoryType = c.B, Tags = c.List, Importance = c.Number, Namespace = c.C, MetadataJson = c.Json?.GetRawText() },
                ]);
            case "import_line":
                var file = Path.Combine(dir, "line.jsonl");
                File.WriteAllText(file, ImportLine(c) + "\n", Hostile.Utf8);
                return service.ImportJsonl(file);
            case "verify_path":
                // Read-only, so the path may point anywhere (traversal included): it must answer or refuse clearly.
                return DatabaseVerifier.Verify(c.A!);
            default:
                throw new InvalidOperationException(c.Tool);
        }
    }

    /// <summary>A JSONL record with hostile values: a memory, a state or a feedback record, or raw hostile text.</summary>
    private static string ImportLine(Call c)
    {
        JsonNode? Value(string? s) => s is null ? null : JsonValue.Create(s);
        return (c.Integer ?? 0) switch
        {
            0 or 1 => new JsonObject
            {
                ["kind"] = "memory", ["id"] = c.Integer == 0 ? Guid.NewGuid().ToString("D") : Value(c.A), ["namespace"] = Value(c.B ?? "shared"),
                ["memory_type"] = Value(c.C), ["content"] = Value(c.D ?? c.A), ["tags"] = c.List is null ? null : new JsonArray(c.List.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
                ["importance"] = c.Number is { } n && double.IsFinite(n) ? n : null, ["metadata"] = c.Json is { } j ? JsonNode.Parse(j.GetRawText()) : null,
                ["created_at"] = Value(c.E ?? "2026-01-01T00:00:00Z"), ["updated_at"] = "2026-06-01T00:00:00Z", ["access_count"] = c.Long,
            }.ToJsonString(),
            5 => new JsonObject
            {
                ["kind"] = "state", ["namespace"] = Value(c.B), ["agent_id"] = Value(c.C), ["key"] = Value(c.A),
                ["value"] = c.Json is { } v ? JsonNode.Parse(v.GetRawText()) : null, ["version"] = c.Long, ["updated_at"] = Value(c.E),
            }.ToJsonString(),
            100 => new JsonObject
            {
                ["kind"] = "feedback", ["memory_id"] = Value(c.A), ["namespace"] = Value(c.B), ["signal"] = Value(c.C), ["note"] = Value(c.D), ["created_at"] = Value(c.E),
            }.ToJsonString(),
            _ => c.A ?? "",
        };
    }
}
