using System.ComponentModel;
using McpMemory.Core;
using McpMemory.Core.Briefing;
using McpMemory.Core.Memories;
using ModelContextProtocol.Server;

namespace McpMemory.Tools;

/// <summary>The `briefing` prompt: the same briefing as get_briefing, offered as a slash command by clients that list prompts.</summary>
[McpServerPromptType]
public sealed class BriefingPrompts(MemoryService memories, Caller caller)
{
    [McpServerPrompt(Name = "briefing", Title = "Memory briefing")]
    [Description("What was learned before in this project: unfinished work, preferences and corrections, recent decisions, and what is relevant to the task.")]
    public string Briefing(
        [Description("What you are about to work on (optional): adds the memories most relevant to it.")] string? task = null)
        => new BriefingBuilder(memories).Build(caller, new BriefingRequest { Task = task }).Markdown +
                              "\nUse this as background for the work ahead; search_memory finds more.";
}
