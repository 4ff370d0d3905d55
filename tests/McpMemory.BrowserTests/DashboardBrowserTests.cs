using FluentAssertions;
using Microsoft.Playwright;
using Xunit;
using static McpMemory.BrowserTests.DashboardFixture;
using static Microsoft.Playwright.Assertions;

namespace McpMemory.BrowserTests;

/// <summary>
/// The dashboard end to end in Chromium: what agents stored (over MCP) is found, curated and protected in the browser.
/// Each test takes a screenshot of the page it exercises (bin/.../screenshots/).
/// </summary>
[Collection("dashboard")]
public class DashboardBrowserTests(DashboardFixture f)
{
    private static ILocator Hits(IPage page) => page.Locator("#results a.hit");

    [Fact]
    public async Task Search_finds_a_stored_memory_with_its_score_bar_debounced_and_by_keyboard()
    {
        await using var agent = await AgentAsync(f.Local);
        var id = await StoreAsync(agent, "The quokka service deploys through a cloudflare tunnel behind nginx", new() { ["tags"] = new[] { "deploy", "nginx" } });
        var (context, page, _) = await f.NewPageAsync();
        await using var _c = context;

        await page.GotoAsync(f.Local.BaseUrl + "/search");
        // Labelled inputs: every filter is reachable by its label.
        foreach (var label in new[] { "Query", "Namespaces", "Tags", "From", "To", "Min. importance" })
            await Expect(page.GetByLabel(label, new() { Exact = true })).ToBeVisibleAsync();
        foreach (var label in new[] { "Mode", "Type" })
            await Expect(page.GetByRole(AriaRole.Combobox, new() { Name = label, Exact = true })).ToBeVisibleAsync();

        // Typed like a person: one request after the pause, not one per key.
        await page.GetByLabel("Query", new() { Exact = true }).PressSequentiallyAsync("quokka tunnel", new() { Delay = 40 });
        await Expect(Hits(page).First).ToContainTextAsync("quokka service deploys");
        (await page.Locator("#search-form").GetAttributeAsync("data-fetches")).Should().Be("1");
        await Expect(page.Locator("#results .score svg").First).ToBeVisibleAsync();
        await Expect(page.Locator("#results .score").First).ToContainTextAsync("keywords #1");
        await ScreenshotAsync(page, "search");

        // Keyboard: arrow down from the query box to the first result, Enter opens it.
        await page.GetByLabel("Query", new() { Exact = true }).FocusAsync();
        await page.Keyboard.PressAsync("ArrowDown");
        (await page.EvaluateAsync<string>("document.activeElement.className")).Should().Be("hit");
        (await page.EvaluateAsync<string>("document.activeElement.getAttribute('href')")).Should().Be($"/memories/{id}");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page).ToHaveURLAsync($"{f.Local.BaseUrl}/memories/{id}");
        await Expect(page.Locator("#memory-content")).ToHaveTextAsync("The quokka service deploys through a cloudflare tunnel behind nginx");
        await ScreenshotAsync(page, "memory");
    }

    [Fact]
    public async Task Edit_creates_a_version_visible_in_history()
    {
        await using var agent = await AgentAsync(f.Local);
        var id = await StoreAsync(agent, "The wombat builds run on the self-hosted runner", new() { ["memory_type"] = "decision" });
        var (context, page, _) = await f.NewPageAsync();
        await using var _c = context;

        await page.GotoAsync($"{f.Local.BaseUrl}/memories/{id}");
        await page.GetByText("Edit (saved as a new version)").ClickAsync();
        await page.GetByLabel("Content").FillAsync("The wombat builds run on the hosted runner since the disk filled up");
        await page.GetByLabel("Tags").FillAsync("ci,wombat");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save new version" }).ClickAsync();

        await Expect(page.Locator("#notice")).ToContainTextAsync("Saved as a new version");
        page.Url.Should().NotContain(id, "the edit is a new memory that supersedes the old one");
        await Expect(page.Locator("#memory-content")).ToHaveTextAsync("The wombat builds run on the hosted runner since the disk filled up");
        var history = page.Locator("#history");
        await Expect(history.Locator("li[data-kind=superseded]")).ToContainTextAsync("The wombat builds run on the self-hosted runner");
        await Expect(history.Locator("li[data-kind=stored]").Last).ToContainTextAsync("since the disk filled up");
        await ScreenshotAsync(page, "history");

        // The old version is still there, marked superseded, and links to the new one.
        await page.GotoAsync($"{f.Local.BaseUrl}/memories/{id}");
        await Expect(page.GetByText("Superseded by")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Delete_with_confirmation_removes_it()
    {
        await using var agent = await AgentAsync(f.Local);
        var id = await StoreAsync(agent, "The platypus cache lives in redis database seven");
        var (context, page, dialogs) = await f.NewPageAsync();
        await using var _c = context;

        await page.GotoAsync($"{f.Local.BaseUrl}/memories/{id}");
        await page.GetByText("Delete…").ClickAsync();
        await ScreenshotAsync(page, "delete");
        // Without the confirmation tick the browser does not send it (required), and the server would refuse it.
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();
        page.Url.Should().EndWith($"/memories/{id}");
        await page.GetByLabel("Yes, delete this memory").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();
        await Expect(page.Locator("#notice")).ToHaveTextAsync("Deleted.");
        await Expect(page.Locator("#memory-list")).Not.ToContainTextAsync("platypus");

        await page.GotoAsync($"{f.Local.BaseUrl}/search?q=platypus+redis");
        await Expect(page.Locator("#result-summary")).ToContainTextAsync("0 result(s)");
        dialogs.Should().BeEmpty();
    }

    [Fact]
    public async Task Feedback_changes_its_rank()
    {
        await using var agent = await AgentAsync(f.Local);
        var first = await StoreAsync(agent, "numbat release checklist alpha");
        var second = await StoreAsync(agent, "numbat release checklist bravo");
        var (context, page, _) = await f.NewPageAsync();
        await using var _c = context;

        async Task<string?> TopAsync()
        {
            await page.GotoAsync($"{f.Local.BaseUrl}/search?q=numbat+release+checklist&mode=fts");
            return await page.Locator("#hits li").First.GetAttributeAsync("data-id");
        }
        var top = await TopAsync();
        var other = top == first ? second : first;

        await page.GotoAsync($"{f.Local.BaseUrl}/memories/{other}");
        for (var i = 0; i < 3; i++)
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "useful", Exact = true }).ClickAsync();
            await Expect(page.Locator("#feedback-counts")).ToContainTextAsync($"useful {i + 1}");
        }
        (await TopAsync()).Should().Be(other, "three useful signals lift it above an equally matching memory");
        await Expect(page.Locator("#hits li").First.Locator(".score")).ToContainTextAsync("feedback ×1.");
    }

    [Fact]
    public async Task State_compare_and_set_conflict_is_shown_and_nothing_is_overwritten()
    {
        await using var agent = await AgentAsync(f.Local);
        await CallAsync(agent, "set_agent_state", new() { ["key"] = "echidna_task", ["value"] = new { step = 1 } });
        var (context, page, _) = await f.NewPageAsync();
        await using var _c = context;

        await page.GotoAsync($"{f.Local.BaseUrl}/state");
        var row = page.Locator("tr[data-key=echidna_task]");
        await Expect(row.Locator(".version")).ToHaveTextAsync("1");
        // An agent writes meanwhile (version 2); the page still holds version 1.
        await CallAsync(agent, "set_agent_state", new() { ["key"] = "echidna_task", ["value"] = new { step = 2 }, ["expected_version"] = 1 });
        await row.GetByLabel("Value of echidna_task (JSON)").FillAsync("{\"step\": 99}");
        await row.GetByRole(AriaRole.Button).ClickAsync();

        await Expect(page.Locator("#conflict")).ToContainTextAsync("stored version 2");
        await Expect(page.Locator("#conflict")).ToContainTextAsync("Nothing was saved");
        await ScreenshotAsync(page, "state-conflict");
        var stored = await CallAsync(agent, "get_agent_state", new() { ["key"] = "echidna_task" });
        stored.GetProperty("version").GetInt64().Should().Be(2);
        stored.GetProperty("value").GetProperty("step").GetInt32().Should().Be(2);

        // From the fresh page (version 2) the same edit goes through.
        await page.GotoAsync($"{f.Local.BaseUrl}/state");
        await page.Locator("tr[data-key=echidna_task]").GetByLabel("Value of echidna_task (JSON)").FillAsync("{\"step\": 3}");
        await page.Locator("tr[data-key=echidna_task]").GetByRole(AriaRole.Button).ClickAsync();
        await Expect(page.Locator("#notice")).ToContainTextAsync("version 3");
        await ScreenshotAsync(page, "state");
    }

    [Fact]
    public async Task Hostile_content_shows_as_text_and_runs_nothing()
    {
        string[] hostile =
        [
            "<script>window.__pwned = 1; alert('script')</script> ferret note one",
            "<img src=x onerror=\"window.__pwned = 2; alert('img')\"> ferret note two",
            "[click me](javascript:window.__pwned=3) and <a href=\"javascript:alert('link')\">ferret link</a> three",
            "![ferret](x\" onerror=\"alert('md')) **ferret** <svg onload=alert('svg')> four",
            "\"><script>alert('attr')</script><input value=\" ferret five",
        ];
        await using var agent = await AgentAsync(f.Local);
        var ids = new List<string>();
        foreach (var text in hostile) ids.Add(await StoreAsync(agent, text, new() { ["tags"] = new[] { "ferret" }, ["metadata"] = new Dictionary<string, object> { ["note"] = "</pre><script>alert('meta')</script>" } }));
        await CallAsync(agent, "set_agent_state", new() { ["key"] = "ferret_state", ["value"] = "</textarea><script>alert('state')</script>" });
        var (context, page, dialogs) = await f.NewPageAsync();
        await using var _c = context;

        var pages = new List<string> { "/memories?tags=ferret", "/search?q=ferret", "/", "/state" };
        pages.AddRange(ids.Select(id => $"/memories/{id}"));
        foreach (var path in pages)
        {
            await page.GotoAsync(f.Local.BaseUrl + path);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            (await page.EvaluateAsync<bool>("typeof window.__pwned === 'undefined'")).Should().BeTrue($"no script from memory content may run on {path}");
            (await page.Locator("main img, main script, main iframe, main input[value=' ferret five']").CountAsync()).Should().Be(0, path);
            (await page.Locator("main a[href^='javascript:' i]").CountAsync()).Should().Be(0, path);
            (await page.Locator("main [onerror], main [onload]").CountAsync()).Should().Be(0, path);
        }
        await page.GotoAsync(f.Local.BaseUrl + "/search");
        await page.GetByLabel("Query", new() { Exact = true }).FillAsync("ferret");
        await Expect(Hits(page)).ToHaveCountAsync(5);
        await Expect(page.Locator("#results")).ToContainTextAsync("<script>window.__pwned = 1; alert('script')</script>");
        await Expect(page.Locator("#results")).ToContainTextAsync("<img src=x onerror=");
        await ScreenshotAsync(page, "hostile-search");
        await page.GotoAsync($"{f.Local.BaseUrl}/memories/{ids[0]}");
        await Expect(page.Locator("#memory-content")).ToHaveTextAsync(hostile[0]);
        await ScreenshotAsync(page, "hostile-detail");
        (await page.EvaluateAsync<bool>("typeof window.__pwned === 'undefined'")).Should().BeTrue();
        dialogs.Should().BeEmpty("no alert() from memory content may run");
    }

    [Fact]
    public async Task The_list_updates_live_when_an_agent_stores_a_memory()
    {
        var (context, page, _) = await f.NewPageAsync();
        await using var _c = context;
        await page.GotoAsync($"{f.Local.BaseUrl}/memories");
        await Expect(page.Locator("#memory-list")).ToBeVisibleAsync();
        await using var agent = await AgentAsync(f.Local);
        await StoreAsync(agent, "The axolotl queue drains every night at two");
        await Expect(page.Locator("#memory-list")).ToContainTextAsync("axolotl queue", new() { Timeout = 15_000 });
        await Expect(page.Locator("#live-status")).ToContainTextAsync("Updated");

        // Keyboard through the list: arrows move between items.
        await page.Locator("#memory-list a.hit").First.FocusAsync();
        await page.Keyboard.PressAsync("ArrowDown");
        (await page.EvaluateAsync<int>("Array.from(document.querySelectorAll('a.hit')).indexOf(document.activeElement)")).Should().Be(1);
        await ScreenshotAsync(page, "memories");
    }

    [Fact]
    public async Task Overview_shows_counts_chart_and_backs_up()
    {
        await using var agent = await AgentAsync(f.Local);
        await StoreAsync(agent, "The dingo dashboard overview has a chart", new() { ["memory_type"] = "decision", ["tags"] = new[] { "dingo" } });
        await StoreAsync(agent, "Prefer short dingo answers", new() { ["memory_type"] = "preference", ["tags"] = new[] { "dingo" } });
        var (context, page, _) = await f.NewPageAsync();
        await using var _c = context;
        await page.GotoAsync(f.Local.BaseUrl + "/");
        await Expect(page.Locator("#chart rect").First).ToBeVisibleAsync();
        await Expect(page.GetByText("Top tags")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Back up now" }).ClickAsync();
        await Expect(page.Locator("#notice")).ToContainTextAsync("Backed up to");
        await Expect(page.GetByText("Last backup: local-")).ToBeVisibleAsync();
        await ScreenshotAsync(page, "overview");

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "JSONL" }).ClickAsync());
        var path = await download.PathAsync();
        (await File.ReadAllTextAsync(path)).Should().Contain("dingo dashboard overview");
    }

    [Fact]
    public async Task Login_sets_a_secure_httponly_strict_cookie_and_refuses_a_bad_key()
    {
        var (context, page, _) = await f.NewPageAsync();
        await using var _c = context;
        await page.GotoAsync(f.Keyed.BaseUrl + "/memories");
        page.Url.Should().EndWith("/login");
        await ScreenshotAsync(page, "login");
        await page.GetByLabel("API key").FillAsync("not-a-key-0123456789");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("That key is not valid.");

        await SignInAsync(page, f.Keyed, KeyA);
        var cookie = (await context.CookiesAsync()).Single(c => c.Name == "mcpm_session");
        cookie.HttpOnly.Should().BeTrue();
        cookie.Secure.Should().BeTrue();
        cookie.SameSite.Should().Be(SameSiteAttribute.Strict);
        (await page.EvaluateAsync<string>("document.cookie")).Should().NotContain("mcpm_session");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.GotoAsync(f.Keyed.BaseUrl + "/memories");
        page.Url.Should().EndWith("/login");
    }

    [Fact]
    public async Task A_read_only_key_cannot_change_anything()
    {
        await using var admin = await AgentAsync(f.Keyed, KeyA);
        var id = await StoreAsync(admin, "The quoll api rate limit is 600 per minute");
        await CallAsync(admin, "set_agent_state", new() { ["key"] = "quoll_task", ["value"] = "halfway" });
        var (context, page, _) = await f.NewPageAsync();
        await using var _c = context;
        await SignInAsync(page, f.Keyed, ReadOnlyA);
        await Expect(page.Locator("#who")).ToContainTextAsync("read-only");

        await page.GotoAsync($"{f.Keyed.BaseUrl}/memories/{id}");
        await Expect(page.Locator("#memory-content")).ToContainTextAsync("quoll api rate limit");
        await Expect(page.Locator("#read-only")).ToBeVisibleAsync();
        (await page.Locator("main form").CountAsync()).Should().Be(0, "no change is offered to a read-only key");
        await ScreenshotAsync(page, "read-only");
        await page.GotoAsync($"{f.Keyed.BaseUrl}/state");
        (await page.Locator("main form").CountAsync()).Should().Be(0);
        await page.GotoAsync($"{f.Keyed.BaseUrl}/");
        (await page.Locator("main form").CountAsync()).Should().Be(0, "no backup button either");

        // Forged from the page itself (same origin, the session's own CSRF token): the engine still refuses.
        var statuses = await page.EvaluateAsync<int[]>($$"""
            async () => {
              const csrf = document.querySelector('meta[name="csrf-token"]').content;
              const post = (path, body) => fetch(path, { method: 'POST', redirect: 'manual',
                headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, ...body }) }).then(r => r.status);
              return [
                await post('/memories/{{id}}/edit', { content: 'rewritten by a read-only key' }),
                await post('/memories/{{id}}/delete', { confirm: 'yes' }),
                await post('/memories/{{id}}/feedback', { signal: 'wrong' }),
                await post('/state', { key: 'quoll_task', value: '"hijacked"', namespace: 'project:a' }),
                await post('/backup', {}),
              ];
            }
            """);
        statuses.Should().AllSatisfy(s => s.Should().Be(403));
        (await CallAsync(admin, "search_memory", new() { ["query"] = "quoll rate limit" })).GetProperty("results")[0].GetProperty("content").GetString()
            .Should().Be("The quoll api rate limit is 600 per minute");
        (await CallAsync(admin, "get_agent_state", new() { ["key"] = "quoll_task" })).GetProperty("value").GetString().Should().Be("halfway");
    }

    [Fact]
    public async Task A_key_sees_only_its_namespaces()
    {
        await using var a = await AgentAsync(f.Keyed, KeyA);
        await using var b = await AgentAsync(f.Keyed, KeyB);
        var aId = await StoreAsync(a, "The bilby secret: project a rotates its tokens on fridays");
        var bId = await StoreAsync(b, "The bilby plan: project b ships on mondays");
        var (context, page, _) = await f.NewPageAsync();
        await using var _c = context;
        await SignInAsync(page, f.Keyed, KeyB);

        await page.GotoAsync($"{f.Keyed.BaseUrl}/memories");
        await Expect(page.Locator("#memory-list")).ToContainTextAsync("project b ships");
        await Expect(page.Locator("#memory-list")).Not.ToContainTextAsync("project a rotates");
        await page.GotoAsync($"{f.Keyed.BaseUrl}/search?q=bilby");
        await Expect(page.Locator("#results")).ToContainTextAsync("project b ships");
        await Expect(page.Locator("#results")).Not.ToContainTextAsync("project a rotates");
        var response = await page.GotoAsync($"{f.Keyed.BaseUrl}/memories/{aId}");
        response!.Status.Should().Be(404);
        await page.GotoAsync($"{f.Keyed.BaseUrl}/memories?ns=project:a");
        await Expect(page.Locator("main")).ToContainTextAsync("may not read \"project:a\"");
        await page.GotoAsync($"{f.Keyed.BaseUrl}/");
        await Expect(page.Locator("main")).Not.ToContainTextAsync("project:a");
        var export = await page.GotoAsync($"{f.Keyed.BaseUrl}/export.jsonl");
        export!.Status.Should().Be(403, "an export covers the whole database");
        bId.Should().NotBe(aId);
    }
}
