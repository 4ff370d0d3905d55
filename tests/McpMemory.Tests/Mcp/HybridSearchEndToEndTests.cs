using System.Text.Json;
using FluentAssertions;
using McpMemory.Tests.Support;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Xunit;

namespace McpMemory.Tests.Mcp;

/// <summary>Issue 4's end-to-end check: meaning beats word overlap, through the real server and the built-in encoder.</summary>
public class HybridSearchEndToEndTests
{
    private const string Deployment = "website deployment uses cloudflare tunnel through docker compose with nginx reverse proxy";
    private const string Question = "what's the deal with the nginx config on the portfolio site?";

    /// <summary>50 memories an agent might hold on a busy project; several share words with the question.</summary>
    internal static readonly string[] Distractors =
    [
        "The portfolio site's contact form posts to a Formspree endpoint",
        "Deal with flaky tests by quarantining them in tests/quarantine and filing an issue",
        "The config loader reads YAML first, then environment variables override it",
        "Site analytics use Plausible; no cookies, so no consent banner is needed",
        "Nginx is not used for local development; Vite serves on port 5173",
        "Portfolio images are resized to 1600px wide and served as AVIF with a JPEG fallback",
        "The blog's RSS feed is generated at build time by a Node script",
        "Use pnpm, not npm, in every package of this monorepo",
        "The CI pipeline runs lint, unit tests and Playwright tests in parallel",
        "Dark mode follows prefers-color-scheme and can be toggled in the header",
        "Database migrations run with `pnpm db:migrate` before the app starts",
        "The user prefers small pull requests with one concern each",
        "Sentry captures frontend errors; the DSN lives in .env.production",
        "Fonts are self-hosted: Inter for text, JetBrains Mono for code",
        "The README badge shows the test coverage from Codecov",
        "Commit messages follow the Conventional Commits style",
        "The search page uses Pagefind, indexed after every build",
        "Old blog URLs under /posts/ redirect to /blog/ with 301s",
        "Storybook documents the shared UI components",
        "The resume PDF is generated from Markdown with Pandoc",
        "Rate limiting on the API is 100 requests per minute per IP",
        "Backups of the Postgres database run nightly to an S3 bucket",
        "Feature flags are read from a JSON file in the repo, not a service",
        "The staging environment is rebuilt from main every night",
        "Timezone bugs: always store UTC and convert in the browser",
        "The mobile menu closes on route change via a router hook",
        "Lighthouse scores must stay above 95 for performance",
        "The newsletter signup uses Buttondown's embed form",
        "TypeScript strict mode is on; no implicit any anywhere",
        "The projects page reads its entries from content/projects/*.md",
        "ESLint and Prettier run on pre-commit through lint-staged",
        "Images in Markdown get lazy loading and width/height attributes",
        "The 404 page suggests the five most recent posts",
        "Code blocks are highlighted with Shiki at build time",
        "The sitemap is regenerated on every deploy by the build script",
        "Open Graph images are rendered with Satori per page",
        "The user wants British spelling in all copy",
        "Comment threads on posts come from GitHub Discussions via Giscus",
        "The API client retries twice with exponential backoff",
        "Accessibility: every icon button needs an aria-label",
        "Tailwind is configured with a custom color palette in tailwind.config.ts",
        "The about page photo should be replaced every year",
        "Unit tests use Vitest with happy-dom",
        "The domain renews automatically every March",
        "Email for the site goes through Fastmail with a custom domain",
        "Page transitions use the View Transitions API where supported",
        "The changelog is kept by hand in CHANGELOG.md",
        "Redis is not needed: the site is static apart from the contact form",
        "Drafts live in content/drafts and are excluded from production builds",
        "The talk slides are built with Slidev and hosted under /talks/",
    ];

    // With USE-lite, whose cosines spread widely, for which the fusion's vector-rank bonus was tuned (README, nginx case).
    [Theory, BothBackends]
    public async Task Deployment_memory_is_first_in_hybrid_and_by_meaning_among_50_distractors(Backend backend)
    {
        Distractors.Should().HaveCount(50);
        using var database = new TestDatabase(backend);
        await using var client = await StdioMcpClient.StartAsync(database.Db, "project:portfolio", ["--model", "use-lite"], RawMcpServer.InlineEmbedding);

        var deploymentId = await StoreDeploymentAndDistractorsAsync(client, TimeSpan.FromSeconds(60));

        var answer = await Call(client, "search_memory", new() { ["query"] = Question, ["top_k"] = 5, ["explain"] = true });
        answer.GetProperty("mode").GetString().Should().Be("hybrid");
        var results = answer.GetProperty("results").EnumerateArray().ToList();
        var ids = results.Select(r => r.GetProperty("memory_id").GetString()).ToList();
        // The distractor sharing the two rarer query words ("portfolio site") leads on keywords (BM25 rank 1 against
        // 6); the deployment memory leads on meaning, and the vector ranking's bonus puts it first.
        ids[0].Should().Be(deploymentId, $"results: {answer.GetProperty("results")}");
        var deployment = results[ids.IndexOf(deploymentId)];
        deployment.GetProperty("explain").GetProperty("vector_rank").GetInt32().Should().Be(1, "it is the closest in meaning");
        deployment.GetProperty("similarity_score").GetDouble().Should().BeGreaterThan(0);
        deployment.GetProperty("explain").GetProperty("final").GetDouble().Should().BeApproximately(deployment.GetProperty("score").GetDouble(), 1e-5);

        // Meaning alone puts it first as well.
        var vector = await Call(client, "search_memory", new() { ["query"] = Question, ["top_k"] = 3, ["mode"] = "vector" });
        vector.GetProperty("mode").GetString().Should().Be("vector");
        vector.GetProperty("results")[0].GetProperty("memory_id").GetString().Should().Be(deploymentId);
    }

    // arctic-embed-xs (the default) ranks the deployment memory first by meaning, but its cosines bunch (0.684 against
    // 0.682 and 0.680 for the next two), so in hybrid mode the distractor that leads on keywords stays ahead of it.
    [Theory, BothBackends]
    public async Task Deployment_memory_leads_by_meaning_with_the_default_encoder(Backend backend)
    {
        using var database = new TestDatabase(backend);
        await using var client = await StdioMcpClient.StartAsync(database.Db, "project:portfolio", env: RawMcpServer.InlineEmbedding);
        var deploymentId = await StoreDeploymentAndDistractorsAsync(client, TimeSpan.FromSeconds(90));

        var vector = await Call(client, "search_memory", new() { ["query"] = Question, ["top_k"] = 3, ["mode"] = "vector" });
        // Of 51 memories, two lead by meaning within 0.004 of each other (fp32 weights: 0.6839 against the Formspree
        // memory's 0.6806; int8: 0.6829 against 0.6835), so the order of those two is the weights' coin toss.
        var ranked = vector.GetProperty("results").EnumerateArray().ToList();
        var leaders = ranked.Take(2).Select(r => r.GetProperty("memory_id").GetString()).ToList();
        leaders.Should().Contain(deploymentId, $"results: {vector.GetProperty("results")}");
        double top = ranked[0].GetProperty("similarity_score").GetDouble();
        ranked[1].GetProperty("similarity_score").GetDouble().Should().BeGreaterThan(top - 0.005);
        var hybrid = await Call(client, "search_memory", new() { ["query"] = Question, ["top_k"] = 5, ["explain"] = true });
        hybrid.GetProperty("mode").GetString().Should().Be("hybrid");
        var deployment = hybrid.GetProperty("results").EnumerateArray().First(r => r.GetProperty("memory_id").GetString() == deploymentId);
        deployment.GetProperty("explain").GetProperty("vector_rank").GetInt32().Should().BeLessThanOrEqualTo(2);
    }

    /// <summary>
    /// Waits (bounded) until the encoder has loaded — a store then reports has_embedding — storing the deployment memory,
    /// then stores the 50 distractors with their vectors; returns the deployment memory's id.
    /// </summary>
    private static async Task<string> StoreDeploymentAndDistractorsAsync(McpClient client, TimeSpan encoderLoad)
    {
        var deadline = DateTime.UtcNow + encoderLoad;
        string? deploymentId = null;
        while (deploymentId is null)
        {
            var stored = await Call(client, "store_memory", new() { ["content"] = Deployment, ["memory_type"] = "decision" });
            if (stored.GetProperty("has_embedding").GetBoolean()) deploymentId = stored.GetProperty("memory_id").GetString();
            else
            {
                await Call(client, "delete_memory", new() { ["memory_id"] = stored.GetProperty("memory_id").GetString() });
                DateTime.UtcNow.Should().BeBefore(deadline, $"the encoder should load within {encoderLoad.TotalSeconds:0} s");
                await Task.Delay(200);
            }
        }
        foreach (var text in Distractors)
            (await Call(client, "store_memory", new() { ["content"] = text })).GetProperty("has_embedding").GetBoolean().Should().BeTrue();
        return deploymentId;
    }

    private static Task<JsonElement> Call(McpClient client, string tool, Dictionary<string, object?> args) =>
        StdioMcpClient.CallAsync(client, tool, args);
}
