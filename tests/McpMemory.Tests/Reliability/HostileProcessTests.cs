using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using McpMemory.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using static McpMemory.Tests.Reliability.ReliabilityChecks;

namespace McpMemory.Tests.Reliability;

/// <summary>
/// The same adversarial input through the real processes: tool calls with hostile values and wrong JSON types over
/// stdio, malformed JSON-RPC lines, and hostile CLI arguments. The server must answer every message with a JSON-RPC
/// response (never silence, never a stack trace on stdout) and keep serving; the CLI must exit with a clear error.
/// </summary>
public class HostileProcessTests(ITestOutputHelper output)
{
    private const int ServerCases = 600;
    private const int MalformedLines = 400;
    private const int CliCases = 39;

    private static readonly string[] ToolNames = ["store_memory", "search_memory", "delete_memory", "get_agent_state", "set_agent_state"];

    /// <summary>JSON text for any .NET string, lone surrogates included (escaped, as a hostile client could send them).</summary>
    private static string JsonString(string s)
    {
        var json = new StringBuilder("\"");
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (char.IsSurrogatePair(s, i)) { json.Append(c).Append(s[++i]); }
            else if (c is '"' or '\\') json.Append('\\').Append(c);
            else if (c < 0x20 || char.IsSurrogate(c)) json.Append("\\u").Append(((int)c).ToString("X4"));
            else json.Append(c);
        }
        return json.Append('"').ToString();
    }

    private static string Value(object? value) => value switch
    {
        null => "null",
        string s => JsonString(s),
        string[] a => "[" + string.Join(",", a.Select(JsonString)) + "]",
        double d when double.IsNaN(d) || double.IsInfinity(d) => JsonString(d.ToString(CultureInfo.InvariantCulture)), // JSON has no NaN: send it as text
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        int or long => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        JsonElement e => e.GetRawText(),
        _ => throw new ArgumentException(value.GetType().Name),
    };

    /// <summary>Wrong JSON types for an argument: what a confused client sends instead of a string, number or list.</summary>
    private static readonly string[] WrongTypes = ["5", "-1.5e300", "true", "{}", "[]", "[1,{\"a\":[]}]", "\"12\"", "{\"$ref\":\"#\"}", "\"NaN\""];

    private static string Arguments(HostileInputTests.Call c, int wrongTypeAt, string wrongType)
    {
        var args = c.Tool switch
        {
            "store_memory" => new (string, object?)[]
            {
                ("content", c.A), ("memory_type", c.B), ("metadata", c.Json), ("tags", c.List), ("importance", c.Number),
                ("namespace", c.C), ("session_id", c.D), ("created_at", c.E), ("expires_at", c.B),
            },
            "search_memory" => [("query", c.A), ("top_k", c.Integer), ("memory_type", c.B), ("tags", c.List), ("min_importance", c.Number),
                ("namespaces", c.List2), ("session_id", c.C), ("since", c.D), ("until", c.E)],
            "delete_memory" => [("memory_id", c.A)],
            "get_agent_state" => [("key", c.A)],
            _ => [("key", c.A), ("value", c.Json), ("expected_version", c.Long)],
        };
        var parts = args.Select((a, i) => JsonString(a.Item1) + ":" + (i == wrongTypeAt % (args.Length + 3) ? wrongType : Value(a.Item2)));
        return "{" + string.Join(",", parts) + "}";
    }

    private static readonly Gen<(HostileInputTests.Call Call, string Tool, int WrongAt, string Wrong)> ServerCalls =
        from call in HostileInputTests.Calls
        from tool in Gen.Elements(ToolNames)
        from wrongAt in Gen.Choose(0, 20)
        from wrong in Gen.Elements(WrongTypes)
        select (call with { Tool = tool }, tool, wrongAt, wrong);

    [Fact]
    public async Task The_stdio_server_answers_every_hostile_tool_call_and_keeps_serving()
    {
        using var dir = new TempDirectory();
        var db = dir.File("hostile-server.db");
        await using var server = await RawMcpServer.StartAsync(db, "project:hostile");
        int results = 0, toolErrors = 0, protocolErrors = 0;
        var errorCodes = new SortedDictionary<int, int>();

        bool Holds((HostileInputTests.Call Call, string Tool, int WrongAt, string Wrong) c)
        {
            var id = Guid.NewGuid().ToString("N");
            var line = $"{{\"jsonrpc\":\"2.0\",\"id\":\"{id}\",\"method\":\"tools/call\",\"params\":{{\"name\":\"{c.Tool}\",\"arguments\":{Arguments(c.Call, c.WrongAt, c.Wrong)}}}}}";
            var before = server.StdoutLines.Count;
            server.SendLineAsync(line).GetAwaiter().GetResult();
            var response = WaitFor(server, before, id);
            if (response["error"] is JsonObject error)
            {
                protocolErrors++;
                var code = error["code"]!.GetValue<int>();
                errorCodes[code] = errorCodes.GetValueOrDefault(code) + 1;
                // -32603 is the SDK's bare "An error occurred": input must never get that far without a reason.
                return code != -32603 && error["message"]?.GetValue<string>() is { Length: > 0 };
            }
            var result = response["result"]!.AsObject();
            if (result["isError"]?.GetValue<bool>() != true) { results++; return true; }
            toolErrors++;
            var text = result["content"]![0]!["text"]!.GetValue<string>();
            if (!Hostile.IsClear(text)) throw new Exception($"unclear tool error for {c.Tool}: {text}");
            return true;
        }

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(ServerCases).WithQuietOnSuccess(true), Prop.ForAll(ServerCalls.ToArbitrary(), Holds));

        ToolResult(await server.CallToolAsync("search_memory", Args(("query", "still serving"))));
        server.HasExited.Should().BeFalse();
        AllJsonRpc(server.StdoutLines);
        Consistent(db);

        var figures = $"hostile input, stdio server: {ServerCases} tool calls ({results} results, {toolErrors} clear tool errors, " +
                      $"{protocolErrors} JSON-RPC errors: " +
                      string.Join(", ", errorCodes.Select(p => $"{p.Value} x {p.Key}")) + "), server up throughout, stdout only JSON-RPC, database verified clean";
        output.WriteLine(figures);
        Figures.Record(figures);
    }

    /// <summary>
    /// The answer to the one request in flight: the response with its id, or an error with id null (a message too
    /// deep or too big to read cannot have its id read either, and JSON-RPC says to answer with null).
    /// </summary>
    private static JsonObject WaitFor(RawMcpServer server, int from, string id)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < until)
        {
            foreach (var line in server.StdoutLines.Skip(from))
                if (JsonNode.Parse(line) is JsonObject message &&
                    (message["id"]?.GetValue<string>() == id || (message["id"] is null && message["error"] is not null)))
                    return message;
            if (server.HasExited) throw new Exception("the server exited");
            Thread.Sleep(5);
        }
        throw new TimeoutException($"no response to {id}: the server stopped answering");
    }

    /// <summary>Every line on stdout is one JSON-RPC 2.0 message: no logs, no stack traces.</summary>
    private static void AllJsonRpc(IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            var message = JsonNode.Parse(line) as JsonObject;
            message.Should().NotBeNull(line);
            message!["jsonrpc"]!.GetValue<string>().Should().Be("2.0");
            (message.ContainsKey("result") || message.ContainsKey("error") || message.ContainsKey("method")).Should().BeTrue(line);
        }
    }

    [Fact]
    public async Task Malformed_json_rpc_lines_each_get_a_json_rpc_error_and_the_server_keeps_serving()
    {
        using var dir = new TempDirectory();
        await using var server = await RawMcpServer.StartAsync(dir.File("m.db"), "project:malformed");
        var fixedLines = new[]
        {
            "not json", "{", "}", "[]", "[1,2]", "null", "42", "\"text\"", "{}", "{\"id\":5}", "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}",
            "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":5}", "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"\"}",
            "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"no/such/method\"}", "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\",\"params\":5}",
            "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\",\"params\":{\"name\":\"no_such_tool\"}}",
            "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"tools/call\",\"params\":{\"name\":\"store_memory\",\"arguments\":[1]}}",
            "{\"jsonrpc\":\"2.0\",\"id\":\"\\ud800\",\"method\":\"\\udc00\"}", "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"ping\",\"method\":\"ping\"",
            new string('[', 100) + new string(']', 100), "{\"a\":" + new string('{', 70) + new string('}', 71),
            "{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"tools/call\",\"params\":{\"name\":\"store_memory\",\"arguments\":{\"content\":\"" + new string('x', 5_000_000) + "\"}}}",
            "\u0000\u0001\u0002", "\ufeff{\"jsonrpc\":\"2.0\"}", "{\"jsonrpc\":\"2.0\",\"id\":15,\"result\":{}}",
        };
        var random = Gen.Sample(Hostile.Text.Select(t => (t ?? "").Replace('\n', ' ').Replace('\r', ' ')), MalformedLines - fixedLines.Length, 50);
        var lines = fixedLines.Concat(random).ToList();

        var before = server.StdoutLines.Count;
        foreach (var line in lines) await server.SendLineAsync(line);
        // Responses to a client's response (id 15) are not sent; every other non-blank line gets exactly one answer.
        var expected = lines.Count(l => l.Trim('\r', ' ', '\t').Length > 0 && !l.Contains("\"result\":{}"));
        await server.WaitForLinesAsync(before + expected, TimeSpan.FromSeconds(60));

        var answers = server.StdoutLines.Skip(before).ToList();
        answers.Should().HaveCount(expected, "every malformed line gets one JSON-RPC error response");
        AllJsonRpc(answers);
        answers.Select(a => JsonNode.Parse(a)!).Should().OnlyContain(a => a["error"] != null || a["result"]!["isError"]!.GetValue<bool>());
        ToolResult(await server.CallToolAsync("store_memory", Args(("content", "still serving after the garbage"))));
        server.HasExited.Should().BeFalse();

        var figures = $"malformed JSON-RPC: {lines.Count} lines ({fixedLines.Length} crafted, {random.Length} random; up to 5 MB, nesting 100), " +
                      $"{answers.Count} error responses, server up, stdout only JSON-RPC";
        output.WriteLine(figures);
        Figures.Record(figures);
    }

    /// <summary>The next line the server writes after the first <paramref name="from"/> lines, parsed.</summary>
    private static async Task<JsonElement> NextAnswerAsync(RawMcpServer server, int from)
    {
        await server.WaitForLinesAsync(from + 1, TimeSpan.FromSeconds(30));
        server.StdoutLines.Count.Should().BeGreaterThan(from, "every request gets an answer");
        return JsonDocument.Parse(server.StdoutLines.ElementAt(from)).RootElement.Clone();
    }

    [Fact]
    public async Task An_oversized_line_is_answered_under_its_id_with_the_limit_wherever_the_id_is()
    {
        using var dir = new TempDirectory();
        await using var server = await RawMcpServer.StartAsync(dir.File("big.db"), "project:big");
        // 5 MB of content with quotes, backslashes, braces and a nested "id" inside: only the top-level id counts.
        var content = string.Concat(Enumerable.Repeat("x\\\"}{,\\\\ \\\"id\\\":9, ", 5_000_000 / 20));
        var parameters = $"{{\"name\":\"store_memory\",\"arguments\":{{\"id\":\"decoy\",\"content\":\"{content}\"}}}}";
        var lines = new (string Line, string Id)[]
        {
            ($"{{\"jsonrpc\":\"2.0\",\"id\":\"big-first\",\"method\":\"tools/call\",\"params\":{parameters}}}", "\"big-first\""),
            // The TypeScript SDK writes the id last: {...request, jsonrpc, id}.
            ($"{{\"method\":\"tools/call\",\"params\":{parameters},\"jsonrpc\":\"2.0\",\"id\":\"big-last\"}}", "\"big-last\""),
            ($"{{\"method\":\"tools/call\",\"params\":{parameters},\"jsonrpc\":\"2.0\",\"id\" : 77 }}", "77"),
        };
        foreach (var (line, id) in lines)
        {
            Encoding.UTF8.GetByteCount(line).Should().BeGreaterThan(4 * 1024 * 1024);
            var before = server.StdoutLines.Count;
            await server.SendLineAsync(line);
            var answer = await NextAnswerAsync(server, before);
            answer.GetProperty("id").GetRawText().Should().Be(id);
            answer.GetProperty("error").GetProperty("code").GetInt32().Should().Be(-32600);
            answer.GetProperty("error").GetProperty("message").GetString().Should().Contain("larger than the limit of 4194304 bytes");
        }
        ToolResult(await server.CallToolAsync("store_memory", Args(("content", "still serving after 5 MB lines"))));
        server.StdoutLines.Should().HaveCount(lines.Length + 2, "initialize, one answer per oversized line, the store");
    }

    [Fact]
    public async Task A_request_id_the_sdk_cannot_carry_gets_exactly_one_invalid_request_answer()
    {
        using var dir = new TempDirectory();
        await using var server = await RawMcpServer.StartAsync(dir.File("ids.db"), "project:ids");
        // The id sent, and the id the answer must carry: the exact token while it is a finite number, else null.
        var refused = new (string Sent, string Answered)[]
        {
            ("1.5", "1.5"), ("1e20", "1e20"), ("12345678901234567890123", "12345678901234567890123"), ("-0.0", "-0.0"),
            ("1e400", "null"), ("-1e999", "null"), ("null", "null"),
        };
        var start = server.StdoutLines.Count;
        foreach (var (sent, answered) in refused)
        {
            var before = server.StdoutLines.Count;
            await server.SendLineAsync($"{{\"jsonrpc\":\"2.0\",\"id\":{sent},\"method\":\"ping\"}}");
            var answer = await NextAnswerAsync(server, before);
            answer.GetProperty("id").GetRawText().Should().Be(answered, sent);
            var error = answer.GetProperty("error");
            error.GetProperty("code").GetInt32().Should().Be(-32600, sent);
            error.GetProperty("message").GetString().Should().StartWith("Invalid Request: id must", sent)
                .And.Contain(sent == "null" ? "not be null" : $"(got {sent})");
        }
        // Ids the SDK can carry are served as before: the 64-bit extremes and a string.
        foreach (var id in new[] { "9223372036854775807", "-9223372036854775808", "\"s-1.5\"" })
        {
            var before = server.StdoutLines.Count;
            await server.SendLineAsync($"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"ping\"}}");
            var answer = await NextAnswerAsync(server, before);
            answer.GetProperty("id").GetRawText().Should().Be(id);
            answer.TryGetProperty("result", out _).Should().BeTrue(id);
        }
        (await server.RequestAsync("ping", null)).Should().ContainKey("result");
        await Task.Delay(300); // room for a stray second answer to show up
        server.StdoutLines.Should().HaveCount(start + refused.Length + 3 + 1, "exactly one answer per request");
    }

    [Fact]
    public async Task Params_of_the_wrong_shape_and_bytes_that_are_not_utf8_are_named_in_the_error()
    {
        using var dir = new TempDirectory();
        var db = dir.File("params.db");
        await using var server = await RawMcpServer.StartAsync(db, "project:params");

        var arrayArguments = await server.RequestAsync("tools/call", new JsonObject { ["name"] = "store_memory", ["arguments"] = new JsonArray(1, 2) });
        arrayArguments["error"]!["code"]!.GetValue<int>().Should().Be(-32602);
        arrayArguments["error"]!["message"]!.GetValue<string>().Should().Be("Invalid params: arguments: must be an object (got [1,2])");
        var numberParams = await server.RequestAsync("tools/call", JsonValue.Create(5));
        numberParams["error"]!["message"]!.GetValue<string>().Should().Be("Invalid params: params: must be an object (got 5)");
        var noName = await server.RequestAsync("tools/call", new JsonObject { ["arguments"] = new JsonObject() });
        noName["error"]!["message"]!.GetValue<string>().Should().Be("Invalid params: name: is required");

        var before = server.StdoutLines.Count;
        var line = Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":\"raw-ff\",\"method\":\"tools/call\",\"params\":{\"name\":\"store_memory\",\"arguments\":{\"content\":\"a\u0001b\"}}}");
        line[Array.IndexOf(line, (byte)1)] = 0xFF;
        await server.SendBytesAsync(line);
        var answer = await NextAnswerAsync(server, before);
        answer.GetProperty("id").GetString().Should().Be("raw-ff");
        answer.GetProperty("error").GetProperty("code").GetInt32().Should().Be(-32602);
        answer.GetProperty("error").GetProperty("message").GetString().Should()
            .Be("Invalid params: the string at $.params.arguments.content is not valid UTF-8 (byte 0xFF)");

        before = server.StdoutLines.Count;
        await server.SendLineAsync("{\"jsonrpc\":\"2.0\",\"id\":\"lone\",\"method\":\"tools/call\",\"params\":{\"name\":\"store_memory\",\"arguments\":{\"content\":\"a\\ud800b\"}}}");
        (await NextAnswerAsync(server, before)).GetProperty("error").GetProperty("message").GetString().Should()
            .Be("Invalid params: the string at $.params.arguments.content holds an unpaired UTF-16 surrogate escape (not valid Unicode text)");

        Memories(db).Should().BeEmpty("a message that is refused stores nothing");
    }

    [Fact]
    public async Task Cli_commands_with_hostile_arguments_exit_with_a_clear_error_never_a_crash()
    {
        using var dir = new TempDirectory();
        var db = dir.File("cli.db");
        (await ToolProcess.RunAsync(["store", "seed memory", "--db", db])).ExitCode.Should().Be(0);
        // argv cannot carry NUL, and Linux caps one argument at 128 KiB.
        string Arg(string? s) => (s ?? "").Replace('\0', '0') is var a && a.Length > 30_000 ? a[..30_000] : (s ?? "").Replace('\0', '0');
        var samples = Gen.Sample(Gen.Zip(Hostile.Text, Hostile.Text), CliCases, 30);
        var commands = new List<string[]>();
        for (var i = 0; i < samples.Length; i++)
        {
            var (a, b) = (Arg(samples[i].Item1), Arg(samples[i].Item2));
            commands.Add((i % 13) switch
            {
                0 => ["store", a],
                1 => ["store", "ok", "--importance", a],
                2 => ["store", "ok", "--tags", a],
                3 => ["search", a, "--top-k", "5"],
                4 => ["get", a],
                5 => ["delete", a],
                6 => ["state", "set", a, b],
                7 => ["state", "get", a],
                8 => ["verify", a.Length == 0 ? "x" : a],
                9 => ["import", a.Length == 0 ? "x" : a],
                // Relative only: an absolute hostile target ("/dev/null" + "🎉") would really be written, outside the test's folder.
                10 => ["backup", "--to", a.TrimStart('/') is { Length: > 0 } relative ? relative : "x"],
                11 => ["restore", a.Length == 0 ? "x" : a, "--yes"],
                _ => ["export", "--format", a, "--out", "export-" + i],
            });
        }
        int ok = 0, refused = 0;
        foreach (var command in commands)
        {
            // Run inside the temp folder: a relative path with ../ in it may climb out, but only within the temp tree.
            var result = await ToolProcess.RunAsync([.. command, "--db", db], workingDirectory: dir.Path);
            var shown = string.Join(' ', command.Select(c => Hostile.Show(c)));
            (result.Stdout + result.Stderr).Should().NotContain("   at ", shown).And.NotContain("Unhandled exception", shown);
            if (result.ExitCode == 0) { ok++; continue; }
            refused++;
            result.ExitCode.Should().Be(1, shown);
            result.Stderr.Trim().Should().NotBeEmpty(shown);
        }
        Consistent(db);

        var figures = $"hostile input, CLI: {commands.Count} commands ({ok} succeeded, {refused} refused with exit 1 and a message), no crash";
        output.WriteLine(figures);
        Figures.Record(figures);
    }
}
