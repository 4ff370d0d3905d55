using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpMemory.Core;
using McpMemory.Core.Briefing;
using McpMemory.Contracts;

namespace McpMemory.Cli;

/// <summary>
/// `mcp-memory briefing`: the get_briefing tool from the command line, and (with --hook) the SessionStart hook that
/// Claude Code and Gemini CLI run (src/McpMemory/Install/README.md has their contract).
/// </summary>
internal static class BriefingCommand
{
    public static Command Create()
    {
        var task = new Option<string?>("--task") { Description = "What you are about to work on: adds the memories most relevant to it (hybrid search)" };
        var budget = new Option<int?>("--budget") { Description = $"Most tokens the briefing may use (cl100k_base), {BriefingRequest.MinBudget}..{BriefingRequest.MaxBudget} (default {BriefingRequest.DefaultBudget})" };
        var format = new Option<string>("--format") { Description = "markdown (default) or json (the get_briefing tool's result)", DefaultValueFactory = _ => "markdown" };
        format.AcceptOnlyFromAmong("markdown", "json");
        var namespaces = new Option<string[]>("--namespaces") { Description = "Brief from these namespaces instead of the default + shared", AllowMultipleArgumentsPerToken = true };
        var hook = new Option<bool>("--hook")
        {
            Description = "Run as an agent's SessionStart hook: print {\"hookSpecificOutput\": {\"hookEventName\": \"SessionStart\", \"additionalContext\": <markdown>}} " +
                          $"and always exit 0; no database, a damaged one or more than 0.8 s (${Settings.HookDeadlineVariable}) → no output",
        };
        var command = new Command("briefing", "What to know before starting: unfinished work, preferences and corrections, recent decisions, and the memories relevant to a task, within a token budget")
        {
            task, budget, format, namespaces, hook,
        };
        command.SetAction(parse =>
        {
            var request = new BriefingRequest
            {
                Task = parse.GetValue(task),
                BudgetTokens = parse.GetValue(budget),
                Namespaces = MemoryCommands.SplitList(parse.GetValue(namespaces)),
            };
            if (parse.GetValue(hook)) return Hook(parse, request);
            var json = parse.GetValue(format) == "json" || parse.GetValue(CliOptions.Json);
            return CliRunner.WithService(parse, (service, settings) =>
            {
                var briefing = new BriefingBuilder(service).Build(settings.ToCaller(), request);
                if (json) Output.Json(BriefingResult.From(briefing), ResultJsonContext.Default.BriefingResult);
                else Console.Out.Write(briefing.Markdown);
            }, vectors: !string.IsNullOrWhiteSpace(request.Task));
        });
        return command;
    }

    /// <summary>
    /// The hook: exit 0 whatever happens, and either one JSON object on stdout or nothing (both clients parse stdout as
    /// JSON on exit 0; Gemini CLI refuses anything else on stdout). Keywords only: loading the encoder would take longer
    /// than a session start should wait.
    /// </summary>
    private static int Hook(ParseResult parse, BriefingRequest request)
    {
        var clock = Stopwatch.StartNew();
        Settings settings;
        try { settings = CliOptions.ResolveSettings(parse); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine("mcp-memory briefing --hook: " + Output.OneLine(e));
            return 0;
        }
        var deadline = settings.HookDeadline;
        var work = Task.Run(() =>
        {
            if (!settings.IsPostgres && !File.Exists(settings.DatabasePath)) return null; // nothing stored yet: never create a database from a hook
            using var service = MemoryService.Open(settings.DatabasePath, settings.Engine with { EmbeddingInterval = TimeSpan.Zero, KeywordIndex = false });
            var markdown = new BriefingBuilder(service).Build(settings.ToCaller(), request).Markdown;
            var output = new JsonObject
            {
                ["hookSpecificOutput"] = new JsonObject { ["hookEventName"] = "SessionStart", ["additionalContext"] = markdown },
            };
            return output.ToJsonString(ResultJson.Options);
        });
        try
        {
            var left = deadline - clock.Elapsed;
            if (work.Wait(left > TimeSpan.Zero ? left : TimeSpan.Zero) && work.Result is { } text) Console.Out.WriteLine(text);
            else if (!work.IsCompleted) Console.Error.WriteLine($"mcp-memory briefing --hook: no briefing within {deadline.TotalSeconds:0.0} s; skipped");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // stderr only: the clients show it in their logs, never in the session.
            Console.Error.WriteLine("mcp-memory briefing --hook: " + Output.OneLine(e));
        }
        return 0;
    }
}
