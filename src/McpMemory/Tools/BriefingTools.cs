using System.ComponentModel;
using McpMemory.Core;
using McpMemory.Core.Briefing;
using McpMemory.Core.Memories;
using ModelContextProtocol.Server;

namespace McpMemory.Tools;

/// <summary>get_briefing: what to know before starting, within a token budget (Core/Briefing).</summary>
[McpServerToolType]
public sealed class BriefingTools(MemoryService memories, Caller caller)
{
    [McpServerTool(Name = "get_briefing", Title = "Briefing: what to know before starting", ReadOnly = true, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Call this first in a session: a compact digest of what was learned before, within a token budget. It holds " +
                 "unfinished work (agent state), the user's preferences and corrections, recent decisions with their reasons, and " +
                 "the memories most relevant to the task (or the most important ones without a task). Every item carries its " +
                 "memory_id; each section says how many more were left out, to find with search_memory.")]
    public BriefingResult GetBriefing(
        [Description("What you are about to work on, in plain words (optional): the briefing then includes the memories most relevant to it.")] string? task = null,
        [Description("Most tokens the briefing may use (cl100k_base), 200..20000 (default 1500).")] int? budget_tokens = null,
        [Description("Brief from these namespaces instead of this project + shared, e.g. [\"shared\", \"project:api\"].")] string[]? namespaces = null)
        => BriefingResult.From(new BriefingBuilder(memories).Build(caller,
            new BriefingRequest { Task = task, BudgetTokens = budget_tokens, Namespaces = namespaces }));
}

public sealed record BriefingResult(
    string? Task,
    IReadOnlyList<string> Namespaces,
    int BudgetTokens,
    [property: Description("The markdown's size in cl100k_base tokens (never above budget_tokens).")] int Tokens,
    string Tokenizer,
    [property: Description("How the task's memories were found (hybrid, fts, vector, like); null without a task.")] string? SearchMode,
    IReadOnlyList<BriefingSectionResult> Sections,
    [property: Description("The briefing as markdown: what to read.")] string Markdown)
{
    public static BriefingResult From(Briefing b) => new(b.Task, b.Namespaces, b.BudgetTokens, b.Tokens, b.Tokenizer, b.SearchMode,
        b.Sections.Select(s => new BriefingSectionResult(s.Name, s.Title, s.Items.Select(BriefingItemResult.From).ToList(), s.Omitted, s.OmittedNote)).ToList(),
        b.Markdown);
}

public sealed record BriefingSectionResult(
    [property: Description("unfinished_work, preferences, decisions, relevant or most_important.")] string Name,
    string Title,
    IReadOnlyList<BriefingItemResult> Items,
    [property: Description("How many more of this kind were left out for the budget.")] long Omitted,
    string? OmittedNote);

public sealed record BriefingItemResult(
    [property: Description("The memory's id (null for a state key).")] string? MemoryId,
    [property: Description("The agent state key (null for a memory).")] string? Key,
    string? MemoryType,
    [property: Description("The memory's content or the state's value, clipped when long (clipped: true; read it whole by its id).")] string Text,
    bool Clipped,
    [property: Description("When the memory was created, or the state last set.")] string At,
    string Namespace,
    double? Importance,
    string? Reason,
    long? Version)
{
    public static BriefingItemResult From(BriefingItem i) =>
        new(i.MemoryId, i.Key, i.MemoryType, i.Text, i.Clipped, MemoryResult.Iso(i.At), i.Namespace, i.Importance, i.Reason, i.Version);
}
