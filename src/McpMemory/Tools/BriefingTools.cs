using System.ComponentModel;
using McpMemory.Contracts;
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
