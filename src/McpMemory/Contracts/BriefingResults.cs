using System.ComponentModel;
using McpMemory.Core.Briefing;

namespace McpMemory.Contracts;

// What get_briefing and `mcp-memory briefing --format json` return.

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
        new(i.MemoryId, i.Key, i.MemoryType, i.Text, i.Clipped, IsoTime.Format(i.At), i.Namespace, i.Importance, i.Reason, i.Version);
}
