using System.Text.Json;
using McpMemory.Tests.Support;
using Microsoft.Playwright;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Xunit;

namespace McpMemory.BrowserTests;

/// <summary>
/// One Chromium and two real servers (the built tool, `serve --http`, as child processes) for the whole collection:
/// <see cref="Local"/> without keys (loopback: the dashboard needs no login, as under `mcp-memory ui`) and
/// <see cref="Keyed"/> with a keys file (login form; per-namespace and read-only keys). Memories are stored through MCP,
/// as agents store them, and every test uses words of its own so that tests do not see each other's memories.
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    public const string AdminKey = "admin-key-0123456789abcdef";
    public const string KeyA = "key-a-0123456789abcdef";
    public const string KeyB = "key-b-0123456789abcdef";
    public const string ReadOnlyA = "key-r-0123456789abcdef";

    private readonly TempDirectory _dir = new();
    public HttpServerProcess Local { get; private set; } = null!;
    public HttpServerProcess Keyed { get; private set; } = null!;
    public IPlaywright? Playwright { get; private set; }
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Screenshots land here (under the test output folder), one PNG per page and state.</summary>
    public static string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(ScreenshotFolder);
        var keysFile = _dir.File("keys.json");
        await File.WriteAllTextAsync(keysFile, $$"""
            {"keys": [
              {"key": "{{KeyA}}", "namespaces": ["project:a", "shared"], "access": "read-write", "default_namespace": "project:a"},
              {"key": "{{KeyB}}", "namespaces": ["project:b"], "access": "read-write"},
              {"key": "{{ReadOnlyA}}", "namespaces": ["project:a"], "access": "read"}
            ]}
            """);
        // Keyword search only: the tests are about the dashboard, and loading the encoder would cost seconds per server.
        var env = new Dictionary<string, string> { ["MCP_MEMORY_ENCODER"] = "off" };
        Local = await HttpServerProcess.StartAsync(_dir.File("local.db"), env: env, ns: "project:local");
        Keyed = await HttpServerProcess.StartAsync(_dir.File("keyed.db"), ["--api-key", AdminKey, "--keys-file", keysFile], env, ns: "project:a");

        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/lib/chromium/chromium",
            Headless = true,
            Args = ["--disable-gpu"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        Playwright?.Dispose();
        if (Local is not null) await Local.DisposeAsync();
        if (Keyed is not null) await Keyed.DisposeAsync();
        _dir.Dispose();
    }

    /// <summary>A fresh browser context (its own cookies) with a page on it; dialogs are recorded, never accepted.</summary>
    public async Task<(IBrowserContext Context, IPage Page, List<string> Dialogs)> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1200, Height = 900 } });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        var dialogs = new List<string>();
        page.Dialog += async (_, dialog) => { lock (dialogs) dialogs.Add(dialog.Message); await dialog.DismissAsync(); };
        return (context, page, dialogs);
    }

    /// <summary>Signs the page in through the login form.</summary>
    public static async Task SignInAsync(IPage page, HttpServerProcess server, string key)
    {
        await page.GotoAsync(server.BaseUrl + "/");
        await page.GetByLabel("API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(server.BaseUrl + "/overview");
    }

    public static async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new() { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = true });

    /// <summary>An MCP client of a server (as an agent would connect), optionally with a key.</summary>
    public static async Task<McpClient> AgentAsync(HttpServerProcess server, string? key = null) =>
        await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri($"{server.BaseUrl}/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = key is null ? null : new Dictionary<string, string> { ["Authorization"] = $"Bearer {key}" },
        }), cancellationToken: new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);

    public static async Task<JsonElement> CallAsync(McpClient client, string tool, Dictionary<string, object?> args)
    {
        var result = await client.CallToolAsync(tool, args);
        if (result.IsError == true) throw new InvalidOperationException($"{tool} failed: {string.Join("\n", result.Content.OfType<TextContentBlock>().Select(c => c.Text))}");
        return JsonSerializer.SerializeToElement(result.StructuredContent);
    }

    public static async Task<string> StoreAsync(McpClient client, string content, Dictionary<string, object?>? more = null)
    {
        var args = new Dictionary<string, object?>(more ?? []) { ["content"] = content };
        return (await CallAsync(client, "store_memory", args)).GetProperty("memory_id").GetString()!;
    }
}

[CollectionDefinition("dashboard")]
public class DashboardCollection : ICollectionFixture<DashboardFixture>;
