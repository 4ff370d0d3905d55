namespace McpMemory.Core.Briefing;

/// <summary>What a briefing is asked for: an optional task, a token budget, the namespaces (default: the caller's search namespaces).</summary>
public sealed record BriefingRequest
{
    public string? Task { get; init; }
    public int? BudgetTokens { get; init; }
    public IReadOnlyList<string>? Namespaces { get; init; }

    public const int DefaultBudget = 1500;
    public const int MinBudget = 200;
    public const int MaxBudget = 20000;
}

/// <summary>
/// One line of a briefing: a memory (with its id) or an agent state key (with its key). <paramref name="Text"/> is the
/// memory's content or the state's JSON value, clipped when long (<paramref name="Clipped"/>: read the whole of it by id).
/// </summary>
public sealed record BriefingItem(
    string? MemoryId,
    string? Key,
    string? MemoryType,
    string Text,
    bool Clipped,
    DateTimeOffset At,
    string Namespace,
    double? Importance = null,
    string? Reason = null,
    long? Version = null);

/// <summary>
/// One section: its items in order, and how many more of its kind were left out for the budget (<paramref name="Omitted"/>,
/// said in <paramref name="OmittedNote"/>, e.g. "and 12 more decisions, search for them").
/// </summary>
public sealed record BriefingSection(string Name, string Title, IReadOnlyList<BriefingItem> Items, long Omitted, string? OmittedNote);

/// <summary>The briefing: its markdown (what an agent reads), the same content by section, and its size in tokens.</summary>
public sealed record Briefing(
    string? Task,
    IReadOnlyList<string> Namespaces,
    int BudgetTokens,
    int Tokens,
    string Tokenizer,
    string? SearchMode,
    IReadOnlyList<BriefingSection> Sections,
    string Markdown)
{
    /// <summary>Section names, in the order they appear.</summary>
    public const string UnfinishedWork = "unfinished_work";
    public const string Preferences = "preferences";
    public const string Decisions = "decisions";
    public const string Skills = "skills";
    public const string Relevant = "relevant";
    public const string MostImportant = "most_important";
}
