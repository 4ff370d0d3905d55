using System.ComponentModel;
using System.Text.Json;
using McpMemory.Contracts;
using McpMemory.Core;
using McpMemory.Core.Briefing;
using McpMemory.Core.Memories;
using ModelContextProtocol.Server;

namespace McpMemory.Tools;

/// <summary>
/// Resources: memory://briefing (the default briefing as markdown), and the templates memory://memories/{id} and
/// memory://state/{key} (JSON, the shapes of the tools). Each reads as the caller, like the tools: a memory outside the
/// caller's namespaces is "not found", and state is the caller's own.
/// </summary>
[McpServerResourceType]
public sealed class MemoryResources(MemoryService memories, Caller caller)
{
    [McpServerResource(UriTemplate = "memory://briefing", Name = "briefing", Title = "Memory briefing", MimeType = "text/markdown")]
    [Description("What to know before starting: unfinished work, preferences and corrections, recent decisions, the most important memories (1500 tokens).")]
    public string Briefing() => new BriefingBuilder(memories).Build(caller, new BriefingRequest()).Markdown;

    [McpServerResource(UriTemplate = "memory://memories/{id}", Name = "memory", Title = "A memory", MimeType = "application/json")]
    [Description("One memory by its id, as search_memory returns it.")]
    public string Memory([Description("The memory id (UUID).")] string id) =>
        JsonSerializer.Serialize(MemoryResult.From(memories.Get(caller, MemoryValidator.MemoryId(id, "id")), 0), ResultJson.TypeInfo<MemoryResult>());

    [McpServerResource(UriTemplate = "memory://state/{key}", Name = "state", Title = "Agent state", MimeType = "application/json")]
    [Description("One agent state value by its key, as get_agent_state returns it.")]
    public string State([Description("The state key.")] string key) =>
        JsonSerializer.Serialize(AgentStateResult.From(memories.GetState(caller, key)), ResultJson.TypeInfo<AgentStateResult>());
}
