using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using FluentAssertions;
using McpMemory.Tests.Support;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Xunit;

namespace McpMemory.Tests.Http;

/// <summary>
/// The dashboard's safety rules with plain HTTP requests (no browser) against the real server: CSRF and origin checks on
/// every change, the login and its cookie, and memory content encoded in every page. The browser tests
/// (tests/McpMemory.BrowserTests) drive the same pages in Chromium.
/// </summary>
public partial class DashboardHttpTests
{
    /// <summary>A browser-like session by hand: its cookie, its CSRF token, and the server's own origin.</summary>
    private sealed class Session(HttpServerProcess server) : IDisposable
    {
        public HttpClient Client { get; } = new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(server.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        public string? Cookie { get; set; }
        public string Csrf { get; private set; } = "";
        public string Origin => server.BaseUrl;

        public async Task<string> GetAsync(string path, HttpStatusCode expected = HttpStatusCode.OK)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (Cookie is not null) request.Headers.Add("Cookie", Cookie);
            using var response = await Client.SendAsync(request);
            TakeCookie(response);
            var body = await response.Content.ReadAsStringAsync();
            response.StatusCode.Should().Be(expected, body);
            if (CsrfMeta().Match(body) is { Success: true } m) Csrf = m.Groups[1].Value;
            return body;
        }

        public async Task<HttpResponseMessage> PostAsync(string path, Dictionary<string, string> form, string? origin = "", string? referer = null, bool withCsrf = true)
        {
            var fields = new Dictionary<string, string>(form);
            if (withCsrf) fields["_csrf"] = Csrf;
            var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(fields) };
            if (Cookie is not null) request.Headers.Add("Cookie", Cookie);
            if (origin is not null) request.Headers.Add("Origin", origin.Length == 0 ? Origin : origin);
            if (referer is not null) request.Headers.Referrer = new Uri(referer);
            var response = await Client.SendAsync(request);
            TakeCookie(response);
            return response;
        }

        private void TakeCookie(HttpResponseMessage response)
        {
            if (response.Headers.TryGetValues("Set-Cookie", out var cookies))
                foreach (var cookie in cookies.Where(c => c.StartsWith("mcpm_session=", StringComparison.Ordinal)))
                    Cookie = cookie.Split(';')[0];
        }

        public void Dispose() => Client.Dispose();
    }

    [GeneratedRegex("<meta name=\"csrf-token\" content=\"([^\"]+)\">")]
    private static partial Regex CsrfMeta();

    private static async Task<McpClient> AgentAsync(HttpServerProcess server, string? key = null) =>
        await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri($"{server.BaseUrl}/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = key is null ? null : new Dictionary<string, string> { ["Authorization"] = $"Bearer {key}" },
        }), cancellationToken: new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

    private static async Task<JsonElement> CallAsync(McpClient client, string tool, Dictionary<string, object?> args)
    {
        var result = await client.CallToolAsync(tool, args);
        result.IsError.Should().NotBe(true, string.Join("\n", result.Content.OfType<TextContentBlock>().Select(c => c.Text)));
        return JsonSerializer.SerializeToElement(result.StructuredContent);
    }

    private static readonly Dictionary<string, string> Env = new() { ["MCP_MEMORY_ENCODER"] = "off" };

    [Fact]
    public async Task A_change_needs_the_sessions_csrf_token_and_the_dashboards_own_origin()
    {
        using var dir = new TempDirectory();
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"), env: Env);
        await using var agent = await AgentAsync(server);
        await CallAsync(agent, "set_agent_state", new() { ["key"] = "task", ["value"] = "original" });
        using var browser = new Session(server);
        await browser.GetAsync("/state");
        browser.Cookie.Should().NotBeNull("a keyless loopback dashboard starts a session without a login");
        using var other = new Session(server);
        await other.GetAsync("/state");
        var change = new Dictionary<string, string> { ["key"] = "task", ["value"] = "\"forged\"" };

        async Task Refused(HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.Forbidden)
        {
            using (response) response.StatusCode.Should().Be(status, await response.Content.ReadAsStringAsync());
        }
        await Refused(await browser.PostAsync("/state", change, withCsrf: false));
        await Refused(await browser.PostAsync("/state", new(change) { ["_csrf"] = "not-the-token" }, withCsrf: false));
        await Refused(await browser.PostAsync("/state", new(change) { ["_csrf"] = other.Csrf }, withCsrf: false));
        await Refused(await browser.PostAsync("/state", change, origin: null));                             // neither Origin nor Referer
        await Refused(await browser.PostAsync("/state", change, origin: "https://evil.example"));           // the server-wide origin guard
        await Refused(await browser.PostAsync("/state", change, origin: "http://localhost:1"));             // loopback, but not this dashboard
        await Refused(await browser.PostAsync("/state", change, origin: null, referer: "http://127.0.0.1:1/state"));
        using (var noSession = new Session(server)) await Refused(await noSession.PostAsync("/state", change), HttpStatusCode.Unauthorized);

        (await CallAsync(agent, "get_agent_state", new() { ["key"] = "task" })).GetProperty("value").GetString().Should().Be("original");

        // The same change from the page itself goes through (the Referer stands in for a missing Origin).
        using (var ok = await browser.PostAsync("/state", change, origin: null, referer: browser.Origin + "/state"))
            ok.StatusCode.Should().Be(HttpStatusCode.SeeOther);
        (await CallAsync(agent, "get_agent_state", new() { ["key"] = "task" })).GetProperty("value").GetString().Should().Be("forged");
        server.Stderr.Should().Contain("dashboard: refused POST /state");
    }

    [Fact]
    public async Task Memory_content_is_encoded_in_every_page_and_no_inline_script_may_run()
    {
        using var dir = new TempDirectory();
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"), env: Env);
        await using var agent = await AgentAsync(server);
        const string hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> \"quoted\" & 'single' [x](javascript:alert(3)) gecko";
        var id = (await CallAsync(agent, "store_memory", new() { ["content"] = hostile, ["tags"] = new[] { "gecko" } })).GetProperty("memory_id").GetString();
        using var browser = new Session(server);
        foreach (var path in new[] { "/", "/memories", $"/memories/{id}", "/search?q=gecko", "/search?q=gecko&partial=1", "/memories?partial=1" })
        {
            var body = await browser.GetAsync(path);
            body.Should().Contain("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; &quot;quoted&quot; &amp; &#39;single&#39;", path);
            body.Should().NotContain("<script>alert").And.NotContain("<img").And.NotContain("href=\"javascript", path);
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/memories/{id}");
        request.Headers.Add("Cookie", browser.Cookie);
        using var response = await browser.Client.SendAsync(request);
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        csp.Should().Contain("script-src 'self'").And.Contain("default-src 'none'").And.NotContain("unsafe-inline");
        response.Headers.GetValues("X-Content-Type-Options").Single().Should().Be("nosniff");
        response.Headers.GetValues("X-Frame-Options").Single().Should().Be("DENY");
    }

    [Fact]
    public async Task With_keys_the_dashboard_asks_for_a_login_and_sets_a_strict_cookie()
    {
        using var dir = new TempDirectory();
        await using var server = await HttpServerProcess.StartAsync(dir.File("m.db"), ["--api-key", "dash-key-0123456789abc"], Env);
        using var browser = new Session(server);
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/"))
        using (var home = await browser.Client.SendAsync(request))
        {
            home.StatusCode.Should().Be(HttpStatusCode.Redirect);
            home.Headers.Location!.ToString().Should().Be("/login");
        }
        await browser.GetAsync("/login");
        browser.Cookie.Should().BeNull("no session before a valid key");
        using (var wrong = await browser.PostAsync("/login", new() { ["key"] = "wrong-key-0123456789" }, withCsrf: false))
            wrong.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        using (var foreign = await browser.PostAsync("/login", new() { ["key"] = "dash-key-0123456789abc" }, origin: "http://localhost:1", withCsrf: false))
            foreign.StatusCode.Should().Be(HttpStatusCode.Forbidden, "a login from another page is refused (login CSRF)");
        browser.Cookie.Should().BeNull();
        using (var right = await browser.PostAsync("/login", new() { ["key"] = "dash-key-0123456789abc" }, withCsrf: false))
        {
            right.StatusCode.Should().Be(HttpStatusCode.Redirect);
            var cookie = right.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("mcpm_session=", StringComparison.Ordinal)).ToLowerInvariant();
            cookie.Should().Contain("httponly").And.Contain("secure").And.Contain("samesite=strict").And.Contain("path=/");
        }
        (await browser.GetAsync("/memories")).Should().Contain("<h1>Memories</h1>");
        // The bearer key alone does not open the dashboard's pages (they use the login), and the MCP endpoint still needs the key.
        server.Stderr.Should().NotContain("dash-key-0123456789abc").And.NotContain("wrong-key-0123456789");
    }

    [Fact]
    public async Task Ui_prints_its_url_and_serves_the_dashboard_without_a_login()
    {
        using var dir = new TempDirectory();
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { ToolProcess.Dll, "ui", "--urls", "http://127.0.0.1:0", "--db", dir.File("m.db") }) start.ArgumentList.Add(a);
        start.Environment["MCP_MEMORY_ENCODER"] = "off";
        start.Environment.Remove("MCP_MEMORY_API_KEY");
        using var process = System.Diagnostics.Process.Start(start)!;
        try
        {
            _ = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
            line.Should().MatchRegex(@"^mcp-memory dashboard: http://127\.0\.0\.1:\d+/$");
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var home = await client.GetStringAsync(line!["mcp-memory dashboard: ".Length..]);
            home.Should().Contain("<h1>Overview</h1>").And.Contain("Keyword index:").And.Contain("off (");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task Ui_refuses_a_non_loopback_address()
    {
        using var dir = new TempDirectory();
        var result = await HttpServerProcess.RunToExitAsync(["ui", "--urls", "http://0.0.0.0:0", "--db", dir.File("m.db")]);
        result.ExitCode.Should().Be(2);
        result.Stderr.Should().Contain("refusing to listen on non-loopback address");
    }
}
