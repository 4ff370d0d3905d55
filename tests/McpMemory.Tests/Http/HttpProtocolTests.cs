using System.Net;
using System.Text.Json;
using FluentAssertions;
using McpMemory.Tests.Support;
using Xunit;
using static McpMemory.Tests.Http.RawMcpHttp;

namespace McpMemory.Tests.Http;

/// <summary>The HTTP rules of `serve --http`, checked with raw requests against the real server process.</summary>
public class HttpProtocolTests
{
    [Fact]
    public async Task Health_answers_200_without_a_key()
    {
        using var dir = new TempDirectory();
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"), ["--api-key", "health-key-0123456789"]);
        using var client = server.Client();
        using var response = await client.GetAsync("/health");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString().Should().Be("ok");
    }

    [Fact]
    public async Task Without_a_valid_key_every_mcp_endpoint_answers_401()
    {
        using var dir = new TempDirectory();
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"), ["--api-key", "right-key-0123456789"]);
        using var anonymous = server.Client();
        using var wrong = server.Client("wrong-key-0123456789");
        foreach (var client in new[] { anonymous, wrong })
        {
            using var post = await client.SendAsync(Post(Initialize));
            post.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            post.Headers.WwwAuthenticate.ToString().Should().StartWith("Bearer");
            (await ErrorBodyAsync(post)).GetProperty("message").GetString().Should().Contain("Authorization: Bearer");
            using var sse = await client.GetAsync("/sse", HttpCompletionOption.ResponseHeadersRead);
            sse.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
            using var message = await client.SendAsync(Post(Initialized, path: "/message?sessionId=x"));
            message.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        }
        using var right = server.Client("right-key-0123456789");
        await OpenSessionAsync(right);
        server.Stderr.Should().NotContain("wrong-key-0123456789").And.NotContain("right-key-0123456789");
    }

    [Fact]
    public async Task A_foreign_origin_or_host_is_refused_and_loopback_ones_pass()
    {
        using var dir = new TempDirectory();
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"), ["--allowed-origins", "https://app.example.com"]);
        using var client = server.Client();

        async Task<HttpStatusCode> WithHeaders(string? origin, string? host = null)
        {
            using var request = Post(Initialize);
            if (origin is not null) request.Headers.Add("Origin", origin);
            if (host is not null) request.Headers.Host = host;
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        (await WithHeaders("http://evil.example")).Should().Be(HttpStatusCode.Forbidden);
        (await WithHeaders("http://localhost.evil.example:3000")).Should().Be(HttpStatusCode.Forbidden);
        (await WithHeaders("null")).Should().Be(HttpStatusCode.Forbidden);
        (await WithHeaders(null, host: "attacker.example:80")).Should().Be(HttpStatusCode.Forbidden);
        (await WithHeaders("http://localhost:6274")).Should().Be(HttpStatusCode.OK);
        (await WithHeaders("http://127.0.0.1:5173")).Should().Be(HttpStatusCode.OK);
        (await WithHeaders("http://[::1]:8080")).Should().Be(HttpStatusCode.OK);
        (await WithHeaders("https://app.example.com")).Should().Be(HttpStatusCode.OK);
        (await WithHeaders(null)).Should().Be(HttpStatusCode.OK);

        using var health = new HttpRequestMessage(HttpMethod.Get, "/health");
        health.Headers.Add("Origin", "http://evil.example");
        (await client.SendAsync(health)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Streamable_http_follows_the_protocol_rules()
    {
        using var dir = new TempDirectory();
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"));
        using var client = server.Client();

        using (var noAccept = await client.SendAsync(Post(Initialize, accept: "application/json")))
            noAccept.StatusCode.Should().Be(HttpStatusCode.NotAcceptable);
        using (var notInitialize = await client.SendAsync(Post(ToolCall(1, "search_memory", new { query = "x" }))))
            notInitialize.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        using (var malformed = await client.SendAsync(Post("{not json")))
            malformed.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        using (var plainText = Post(Initialize))
        {
            plainText.Content!.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/plain");
            using var response = await client.SendAsync(plainText);
            response.StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);
            (await ErrorBodyAsync(response)).GetProperty("message").GetString().Should().Contain("application/json");
        }
        using (var root = await client.SendAsync(Post(Initialize, path: "/")))
            root.StatusCode.Should().Be(HttpStatusCode.NotFound, "Streamable HTTP is served at /mcp only");
        using (var batch = await client.SendAsync(Post($"[{Initialize}]")))
            batch.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        using (var tooLarge = Post(Initialize.Replace("\"raw\"", $"\"{new string('x', 2 * 1024 * 1024)}\"")))
        {
            // Expect: 100-continue lets the server refuse before the body is sent (else the refused upload can break the pipe).
            tooLarge.Headers.ExpectContinue = true;
            using var huge = await client.SendAsync(tooLarge);
            huge.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
            (await ErrorBodyAsync(huge)).GetProperty("message").GetString().Should().Contain("1048576 bytes");
        }
        using (var unknown = await client.SendAsync(Post(ToolCall(1, "search_memory", new { query = "x" }), "no-such-session")))
        {
            unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
            (await ErrorBodyAsync(unknown)).GetProperty("code").GetInt32().Should().Be(-32001);
        }
        // The session-less 2026-07-28 revision, as its clients send it (no initialize; version and capabilities in _meta),
        // is refused so that they fall back to initialize: every session here is bound to the key that opened it.
        using (var future = Post("""{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"""))
        {
            future.Headers.Add("MCP-Protocol-Version", "2026-07-28");
            future.Headers.Add("Mcp-Method", "server/discover");
            using var response = await client.SendAsync(future);
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            var error = await ErrorBodyAsync(response);
            error.GetProperty("code").GetInt32().Should().Be(-32022);
            error.GetProperty("data").GetProperty("supported").EnumerateArray().Select(v => v.GetString()).Should().Contain("2025-11-25").And.NotContain("2026-07-28");
        }
        using (var unknownVersion = Post(Initialize))
        {
            unknownVersion.Headers.Add("MCP-Protocol-Version", "1999-01-01");
            using var response = await client.SendAsync(unknownVersion);
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            var error = await ErrorBodyAsync(response);
            error.GetProperty("code").GetInt32().Should().Be(-32022);
            error.GetProperty("data").GetProperty("supported").EnumerateArray().Select(v => v.GetString()).Should().Contain("2025-11-25");
        }

        var session = await OpenSessionAsync(client);
        var stored = await CallAsync(client, session, "store_memory", new { content = "raw http stored this" });
        stored.GetProperty("structuredContent").GetProperty("status").GetString().Should().Be("stored");

        using (var get = new HttpRequestMessage(HttpMethod.Get, "/mcp"))
        {
            get.Headers.Add("Mcp-Session-Id", session);
            get.Headers.Add("Last-Event-ID", "3");
            get.Headers.Accept.Add(EventStream);
            (await client.SendAsync(get)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        }
        using (var noSession = new HttpRequestMessage(HttpMethod.Delete, "/mcp"))
            (await client.SendAsync(noSession)).StatusCode.Should().Be(HttpStatusCode.BadRequest);
        using (var delete = new HttpRequestMessage(HttpMethod.Delete, "/mcp"))
        {
            delete.Headers.Add("Mcp-Session-Id", session);
            (await client.SendAsync(delete)).StatusCode.Should().Be(HttpStatusCode.OK);
        }
        using (var afterDelete = await client.SendAsync(Post(ToolCall(3, "search_memory", new { query = "raw" }), session)))
            afterDelete.StatusCode.Should().Be(HttpStatusCode.NotFound, "DELETE frees the session");
    }

    [Fact]
    public async Task A_message_the_sdk_cannot_take_gets_one_json_rpc_error_naming_the_problem()
    {
        using var dir = new TempDirectory();
        var db = dir.File("m.db");
        await using var server = await HttpServerProcess.StartAsync(db);
        using var client = server.Client();
        var session = await OpenSessionAsync(client);

        // The id sent, and the id the answer must carry: the exact token while it is a finite number, else null.
        foreach (var (sent, answered) in new[] { ("1.5", "1.5"), ("1e20", "1e20"), ("1e400", "null"), ("12345678901234567890123", "12345678901234567890123") })
        {
            using var response = await client.SendAsync(Post($"{{\"jsonrpc\":\"2.0\",\"id\":{sent},\"method\":\"ping\"}}", session));
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest, sent);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            body.GetProperty("id").GetRawText().Should().Be(answered, sent);
            body.GetProperty("error").GetProperty("code").GetInt32().Should().Be(-32600, sent);
            body.GetProperty("error").GetProperty("message").GetString().Should()
                .Be($"Invalid Request: id must be a string or an integer from -2^63 to 2^63-1 (got {sent})");
        }

        using (var arrayArguments = await client.SendAsync(Post("""{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"store_memory","arguments":[1,2]}}""", session)))
        {
            arrayArguments.StatusCode.Should().Be(HttpStatusCode.OK);
            var answer = await ReadEventAsync(arrayArguments);
            answer.GetProperty("id").GetInt32().Should().Be(5);
            answer.GetProperty("error").GetProperty("code").GetInt32().Should().Be(-32602);
            answer.GetProperty("error").GetProperty("message").GetString().Should().Be("Invalid params: arguments: must be an object (got [1,2])");
        }

        var notUtf8 = System.Text.Encoding.UTF8.GetBytes("""{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"store_memory","arguments":{"content":"a?b"}}}""");
        notUtf8[Array.IndexOf(notUtf8, (byte)'?')] = 0xFF;
        using (var response = await client.SendAsync(Post(notUtf8, session)))
        {
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            body.GetProperty("id").GetInt32().Should().Be(6);
            body.GetProperty("error").GetProperty("code").GetInt32().Should().Be(-32602);
            body.GetProperty("error").GetProperty("message").GetString().Should()
                .Be("Invalid params: the string at $.params.arguments.content is not valid UTF-8 (byte 0xFF)");
        }
        McpMemory.Tests.Reliability.ReliabilityChecks.Memories(db).Should().BeEmpty("bytes that are not UTF-8 are refused, not stored as U+FFFD");

        // The legacy SSE transport reads its POSTs with the same check.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var sse = await client.GetAsync("/sse", HttpCompletionOption.ResponseHeadersRead, cts.Token);
        using var reader = new StreamReader(await sse.Content.ReadAsStreamAsync(cts.Token));
        (await reader.ReadLineAsync(cts.Token)).Should().Be("event: endpoint");
        var endpoint = (await reader.ReadLineAsync(cts.Token))!["data: ".Length..];
        using (var legacy = await client.SendAsync(Post("""{"jsonrpc":"2.0","id":1.5,"method":"ping"}""", path: endpoint), cts.Token))
        {
            legacy.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            var body = JsonDocument.Parse(await legacy.Content.ReadAsStringAsync(cts.Token)).RootElement;
            body.GetProperty("id").GetRawText().Should().Be("1.5");
            body.GetProperty("error").GetProperty("message").GetString().Should().StartWith("Invalid Request: id must be a string or an integer");
        }
    }

    [Fact]
    public async Task The_get_stream_is_one_per_session_and_ends_when_the_session_is_deleted()
    {
        using var dir = new TempDirectory();
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"));
        using var client = server.Client();
        var session = await OpenSessionAsync(client);

        HttpRequestMessage Get()
        {
            var get = new HttpRequestMessage(HttpMethod.Get, "/mcp");
            get.Headers.Add("Mcp-Session-Id", session);
            get.Headers.Accept.Add(EventStream);
            return get;
        }

        using var stream = await client.SendAsync(Get(), HttpCompletionOption.ResponseHeadersRead);
        stream.StatusCode.Should().Be(HttpStatusCode.OK);
        using (var second = await client.SendAsync(Get(), HttpCompletionOption.ResponseHeadersRead))
            second.StatusCode.Should().Be(HttpStatusCode.BadRequest, "the SDK serves one GET stream per session");

        using var body = await stream.Content.ReadAsStreamAsync();
        using (var delete = new HttpRequestMessage(HttpMethod.Delete, "/mcp"))
        {
            delete.Headers.Add("Mcp-Session-Id", session);
            (await client.SendAsync(delete)).StatusCode.Should().Be(HttpStatusCode.OK);
        }
        var drained = new StreamReader(body).ReadToEndAsync();
        (await Task.WhenAny(drained, Task.Delay(TimeSpan.FromSeconds(10)))).Should().BeSameAs(drained, "deleting the session ends its GET stream");
    }

    [Fact]
    public async Task Legacy_sse_announces_the_endpoint_first_answers_on_the_stream_and_frees_the_session_on_disconnect()
    {
        using var dir = new TempDirectory();
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"));
        using var client = server.Client();

        using (var missing = await client.SendAsync(Post(Initialize, path: "/message")))
            missing.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        // The SDK answers a session it does not know with 400 (the 2024-11-05 transport names no status for it).
        using (var unknown = await client.SendAsync(Post(Initialize, path: "/message?sessionId=nope")))
        {
            unknown.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            (await unknown.Content.ReadAsStringAsync()).Should().Contain("Session ID not found");
        }

        var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var sse = await client.GetAsync("/sse", HttpCompletionOption.ResponseHeadersRead, cts.Token);
        sse.StatusCode.Should().Be(HttpStatusCode.OK);
        var reader = new StreamReader(await sse.Content.ReadAsStreamAsync(cts.Token));
        (await reader.ReadLineAsync(cts.Token)).Should().Be("event: endpoint");
        var endpoint = (await reader.ReadLineAsync(cts.Token))!["data: ".Length..];
        endpoint.Should().StartWith("/message?sessionId=");

        using (var posted = await client.SendAsync(Post(Initialize, path: endpoint), cts.Token))
            posted.StatusCode.Should().Be(HttpStatusCode.Accepted);
        string? line;
        do line = await reader.ReadLineAsync(cts.Token); while (line is not null && !line.StartsWith("data: ", StringComparison.Ordinal));
        JsonDocument.Parse(line!["data: ".Length..]).RootElement.GetProperty("result").GetProperty("serverInfo").GetProperty("name").GetString()
            .Should().Be("mcp-memory");

        // Disconnecting frees the session: within a bounded time, posting to it is "Session ID not found".
        sse.Dispose();
        reader.Dispose();
        var freed = false;
        for (var attempt = 0; attempt < 50 && !freed; attempt++)
        {
            using var after = await client.SendAsync(Post(Initialized, path: endpoint));
            freed = after.StatusCode == HttpStatusCode.BadRequest && (await after.Content.ReadAsStringAsync()).Contains("Session ID not found");
            if (!freed) await Task.Delay(100);
        }
        freed.Should().BeTrue("a client that disconnects frees its SSE session");
    }

    [Fact]
    public async Task Sigterm_stops_the_server_quickly_even_with_open_streams()
    {
        using var dir = new TempDirectory();
        var server = await HttpServerProcess.StartAsync(dir.File("m.db"));
        await using var _ = server;
        using var client = server.Client();
        var session = await OpenSessionAsync(client);
        using var get = new HttpRequestMessage(HttpMethod.Get, "/mcp");
        get.Headers.Add("Mcp-Session-Id", session);
        get.Headers.Accept.Add(EventStream);
        using var stream = await client.SendAsync(get, HttpCompletionOption.ResponseHeadersRead);
        using var sse = await client.GetAsync("/sse", HttpCompletionOption.ResponseHeadersRead);
        stream.StatusCode.Should().Be(HttpStatusCode.OK);
        sse.StatusCode.Should().Be(HttpStatusCode.OK);

        var took = await server.TerminateAsync(TimeSpan.FromSeconds(10));
        took.Should().BeLessThan(TimeSpan.FromSeconds(2));
        server.Process.ExitCode.Should().Be(0);
    }

    [Fact]
    public async Task Refuses_a_non_loopback_address_without_a_key_and_names_the_options()
    {
        using var dir = new TempDirectory();
        var run = await HttpServerProcess.RunToExitAsync(["serve", "--http", "--urls", "http://0.0.0.0:0", "--db", dir.File("m.db")]);
        run.ExitCode.Should().NotBe(0);
        run.Stderr.Should().Contain("non-loopback").And.Contain("--api-key").And.Contain("MCP_MEMORY_API_KEY").And.Contain("--keys-file");

        var shortKey = await HttpServerProcess.RunToExitAsync(["serve", "--http", "--api-key", "short", "--db", dir.File("m.db")]);
        shortKey.ExitCode.Should().NotBe(0);
        shortKey.Stderr.Should().Contain("--api-key").And.Contain("at least 16 characters");

        var keyOverStdio = await HttpServerProcess.RunToExitAsync(["serve", "--api-key", "stdio-key-0123456789", "--db", dir.File("m.db")]);
        keyOverStdio.ExitCode.Should().NotBe(0);
        keyOverStdio.Stderr.Should().Contain("--api-key applies only with --http");
    }

    [Fact]
    public async Task A_port_in_use_is_one_line_naming_the_address()
    {
        using var dir = new TempDirectory();
        await using var first = await HttpServerProcess.StartAsync(dir.File("a.db"));
        var run = await HttpServerProcess.RunToExitAsync(["serve", "--http", "--urls", first.BaseUrl, "--db", dir.File("b.db")]);
        run.ExitCode.Should().Be(2);
        run.Stderr.Trim().Should().StartWith($"mcp-memory: cannot listen on {first.BaseUrl}").And.NotContain("   at ");
    }

    [Fact]
    public async Task The_api_key_can_come_from_the_environment()
    {
        using var dir = new TempDirectory();
        var env = new Dictionary<string, string> { ["MCP_MEMORY_API_KEY"] = "env-key-0123456789abc" };
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"), env: env);
        using var anonymous = server.Client();
        (await anonymous.SendAsync(Post(Initialize))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        using var client = server.Client("env-key-0123456789abc");
        await OpenSessionAsync(client);
    }
}
