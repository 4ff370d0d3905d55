using System.ComponentModel;
using McpMemory.Contracts;
using McpMemory.Core;
using McpMemory.Core.Knowledge;
using McpMemory.Core.Memories;
using ModelContextProtocol.Server;

namespace McpMemory.Tools;

/// <summary>seed_memories: memories from the project's documents and git history (Core/Knowledge).</summary>
[McpServerToolType]
public sealed class KnowledgeTools(MemoryService memories, Caller caller, ArchivePolicy archive)
{
    [McpServerTool(Name = "seed_memories", Title = "Seed memories from the project's docs and git history", Destructive = true, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Cold start: turn what the project already says into memories. Markdown files (README, docs/, ADRs, CONTRIBUTING, " +
                 "CLAUDE.md, AGENTS.md…) are chunked by heading into context memories (the heading path in the text; metadata: " +
                 "source_path, heading, content_hash); with git, commits become fix or decision memories. Run it again after the " +
                 "docs change: changed pieces supersede the old ones (history kept), pieces whose source vanished are removed, " +
                 "unchanged ones are not touched. Only paths inside the server's project folder; binary files and files over 1 MiB are refused.")]
    public SeedResult SeedMemories(
        [Description("Files or folders inside the project to seed from, relative to the server's folder (default: the whole project folder, unless git alone is asked for).")] string[]? paths = null,
        [Description("Also turn the repository's commits into fix / decision memories (conventional-commit prefixes read, merge commits skipped). Default false.")] bool? git = null,
        [Description("With git: only commits since this ISO-8601 date.")] string? since = null,
        [Description($"With git: at most this many commits, newest first (default 1000 without since).")] int? max_commits = null,
        [Description("Say what would be added, updated and removed, without writing anything. Default false.")] bool? dry_run = null,
        [Description("Where the memories go: \"shared\", \"project:<name>\" or \"agent:<id>\" (default: this project).")] string? @namespace = null)
    {
        var folder = Directory.GetCurrentDirectory();
        return SeedResult.From(new Seeder(memories).Run(caller, new SeedRequest
        {
            Paths = paths ?? (git == true ? [] : [folder]),
            Git = git == true,
            Since = IsoTime.Parse(since, "since"),
            MaxCommits = max_commits,
            DryRun = dry_run == true,
            Namespace = @namespace,
            Within = folder,
        }));
    }

    [McpServerTool(Name = "find_skills", Title = "Find skills for a task", ReadOnly = true, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Before a task, find the procedures that worked for it: skills (memory_type \"skill\") whose trigger fits the task, " +
                 "best first, each with its steps, how to know it worked, and its success record (successes, failures; a skill " +
                 "that keeps failing is marked failing and ranks lower). After using one, report the outcome with feedback " +
                 "(success or failure).")]
    public FindSkillsResult FindSkills(
        [Description("What you are about to do, in plain words, e.g. \"release build fails on the CI runner\".")] string task,
        [Description("How many skills, 1..50 (default 5).")] int? top_k = null,
        [Description("Look in these namespaces instead of this project + shared.")] string[]? namespaces = null)
        => FindSkillsResult.From(task, new SkillBook(memories).Find(caller, task, top_k, namespaces));

    [McpServerTool(Name = "consolidate_memories", Title = "Consolidate memories that say the same thing", Destructive = false, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Keep the store small and true: merge memories that say the same thing by the store's strict merge rule (identical, " +
                 "one contained in another, or a strict restatement; never merely similar facts). One canonical memory keeps the " +
                 "merged tags, the highest importance and the summed access counts; the others are superseded (kept, hidden from " +
                 "search, shown in memory_history). Stale memories (low importance, never accessed, old) are archived: kept whole, " +
                 "hidden from search unless include_archived, restorable with unarchive_memory. With summarize, and a client that " +
                 "supports MCP sampling, the client's model writes a summary memory for each large cluster (at least 5 memories " +
                 "sharing a tag); the originals stay. dry_run says what would be done.")]
    public async Task<ConsolidateResult> ConsolidateMemories(
        McpServer server,
        [Description("The namespace to consolidate: \"shared\", \"project:<name>\" or \"agent:<id>\" (default: this project).")] string? @namespace = null,
        [Description("Say which memories would be merged, archived and summarised, without writing anything. Default false.")] bool? dry_run = null,
        [Description("Archive memories of importance below 0.5 that were never accessed and are older than this many days, 0..36500; 0 turns archiving off (default: the server's setting, 90 unless MCP_MEMORY_ARCHIVE_AFTER_DAYS says otherwise).")] int? archive_after_days = null,
        [Description("Ask this client's model (MCP sampling) to write a summary memory for each large cluster: at least 5 live memories sharing a tag. Default false. The result says whether the client supports sampling.")] bool? summarize = null,
        CancellationToken cancellationToken = default)
    {
        var policy = archive_after_days is { } days ? ArchivePolicy.Days(days, "archive_after_days") : archive;
        var dry = dry_run == true;
        var report = ConsolidateResult.From(new Consolidator(memories).Run(caller, new ConsolidateRequest { Namespace = @namespace, DryRun = dry, Archive = policy }));
        var sampling = await new SamplingSummaries(memories, caller).RunAsync(server, @namespace, summarize == true, dry, cancellationToken);
        return report with { Sampling = sampling };
    }
}
