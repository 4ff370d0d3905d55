using System.CommandLine;
using McpMemory.Contracts;
using McpMemory.Core.Knowledge;

namespace McpMemory.Cli;

/// <summary>seed: memories from what the project already says (its documents and its git history).</summary>
internal static class KnowledgeCommands
{
    public static IEnumerable<Command> Create() => [Seed(), Skills(), Consolidate()];

    private static Command Seed()
    {
        var paths = new Argument<string[]>("paths") { Description = "Files or folders of markdown to seed from (default: the current folder unless --git alone)", Arity = ArgumentArity.ZeroOrMore };
        var git = new Option<bool>("--git") { Description = "Also turn the repository's commits into fix / decision memories (merge commits skipped)" };
        var since = new Option<string?>("--since") { Description = "With --git: only commits since this ISO-8601 date" };
        var max = new Option<int?>("--max") { Description = $"With --git: at most this many commits, newest first (default {GitHistory.DefaultMaxCommits} without --since)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Say what would be added, updated and removed; write nothing" };
        var maxBytes = new Option<long?>("--max-file-bytes") { Description = $"Refuse files larger than this (default {SeedSources.DefaultMaxFileBytes:N0})" };
        var command = new Command("seed", "Seed memories from the project's documents (chunked by heading, type context) and, with --git, its commits; " +
                                          "a re-run changes only what changed")
        {
            paths, git, since, max, dryRun, maxBytes,
        };
        command.SetAction(parse => CliRunner.WithService(parse, (service, settings) =>
        {
            var json = parse.GetValue(CliOptions.Json);
            var bar = new ProgressBar("seeding", 0);
            var report = new Seeder(service).Run(settings.ToCaller(), new SeedRequest
            {
                Paths = parse.GetValue(paths) ?? [],
                Git = parse.GetValue(git),
                Since = IsoTime.Parse(parse.GetValue(since), "--since"),
                MaxCommits = parse.GetValue(max),
                DryRun = parse.GetValue(dryRun),
                MaxFileBytes = parse.GetValue(maxBytes) ?? SeedSources.DefaultMaxFileBytes,
            }, new Progress(bar));
            bar.Done();
            foreach (var refused in report.Refused) Console.Error.WriteLine($"refused {refused.Path}: {refused.Reason}");
            if (json) { Output.Json(SeedResult.From(report), ResultJsonContext.Default.SeedResult); return; }
            Console.Out.WriteLine(Seeder.Summary(report));
        }, vectors: !parse.GetValue(dryRun), creates: true));
        return command;
    }

    private static Command Skills()
    {
        var task = new Argument<string>("task") { Description = "What you are about to do, in plain words" };
        var topK = new Option<int?>("--top-k", "-k") { Description = $"How many skills, 1..{SkillBook.MaxTopK} (default 5)" };
        var namespaces = new Option<string[]>("--namespaces") { Description = "Look in these namespaces instead of the default + shared", AllowMultipleArgumentsPerToken = true };
        var command = new Command("skills", "Find the skills for a task (the find_skills tool): trigger fit weighed by the success record") { task, topK, namespaces };
        command.SetAction(parse => CliRunner.WithService(parse, (service, settings) =>
        {
            var query = parse.GetValue(task)!;
            var result = FindSkillsResult.From(query, new SkillBook(service).Find(settings.ToCaller(), query, parse.GetValue(topK), MemoryCommands.SplitList(parse.GetValue(namespaces))));
            if (parse.GetValue(CliOptions.Json)) { Output.Json(result, ResultJsonContext.Default.FindSkillsResult); return; }
            Console.Out.WriteLine($"{result.Skills.Count} skill(s) for \"{query}\"");
            for (var i = 0; i < result.Skills.Count; i++)
            {
                var s = result.Skills[i];
                Console.Out.WriteLine($"{i + 1,2}. {s.MemoryId}  score {s.Score:0.###}  {s.Successes} succeeded, {s.Failures} failed{(s.Failing ? "  FAILING" : "")}");
                Console.Out.WriteLine($"    when: {s.Trigger}");
                for (var j = 0; j < s.Steps.Count; j++) Console.Out.WriteLine($"    {j + 1}. {s.Steps[j]}");
                if (s.SuccessHint is not null) Console.Out.WriteLine($"    success: {s.SuccessHint}");
            }
        }, vectors: true));
        return command;
    }

    private static Command Consolidate()
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Say which memories would be merged; write nothing" };
        var all = new Option<bool>("--all") { Description = "Every namespace, not only the default one (--namespace)" };
        var archiveAfter = new Option<int?>("--archive-after") { Description = $"Archive memories of importance below {ArchivePolicy.DefaultBelowImportance} never accessed and older than this many days; 0: off (default ${Settings.ArchiveAfterVariable}, else {ArchivePolicy.DefaultAfterDays})" };
        var command = new Command("consolidate", "Merge memories that say the same thing (the store's strict merge rule: identical, contained or " +
                                                 "restated, never merely similar): one canonical memory keeps merged tags, the highest importance and " +
                                                 "the summed access counts; the others are superseded, history kept; then archive stale memories " +
                                                 "(low importance, never accessed, old: hidden from search, restorable with unarchive)") { dryRun, all, archiveAfter };
        command.SetAction(parse => CliRunner.WithService(parse, (service, settings) =>
        {
            var report = ConsolidateResult.From(new Consolidator(service).Run(settings.ToCaller(),
                new ConsolidateRequest
                {
                    DryRun = parse.GetValue(dryRun), AllNamespaces = parse.GetValue(all),
                    Archive = parse.GetValue(archiveAfter) is { } days ? ArchivePolicy.Days(days, "--archive-after") : settings.Archive,
                }));
            if (parse.GetValue(CliOptions.Json)) { Output.Json(report, ResultJsonContext.Default.ConsolidateResult); return; }
            foreach (var group in report.Groups)
            {
                Console.Out.WriteLine($"keep {group.CanonicalId} ({group.MemoryType}, {group.Namespace}): {Output.OneLineText(group.Content)}");
                foreach (var m in group.Members) Console.Out.WriteLine($"  {(report.DryRun ? "would merge" : "merged")} {m.MemoryId} ({m.Reason}, {m.Similarity:0.000}): {Output.OneLineText(m.Content)}");
            }
            foreach (var a in report.Archived)
                Console.Out.WriteLine($"{(report.DryRun ? "would archive" : "archived")} {a.MemoryId} ({a.MemoryType}, importance {a.Importance:0.##}, {a.CreatedAt[..10]}, never accessed): {Output.OneLineText(a.Content)}");
            Console.Out.WriteLine(report.ArchiveRule.AfterDays == 0 ? "archiving off"
                : $"{(report.DryRun ? "would archive" : "archived")} {report.Archived.Count} stale memories (importance below {report.ArchiveRule.BelowImportance}, never accessed, older than {report.ArchiveRule.AfterDays} days)");
            Console.Out.WriteLine($"{(report.DryRun ? "would merge" : "merged")} {report.Merged} of {report.Scanned} memories into {report.Groups.Count} group(s) " +
                                  $"in {string.Join(", ", report.Namespaces)} ({report.ElapsedMs} ms; encoder {report.Encoder ?? "none: identical and contained only"})");
        }, vectors: true));
        return command;
    }

    /// <summary>Progress on stderr, synchronously (System.Progress would post to the thread pool and print out of order).</summary>
    private sealed class Progress(ProgressBar bar) : IProgress<SeedProgress>
    {
        public void Report(SeedProgress value) => bar.Report(value.Done, value.Stage, value.Total);
    }
}
