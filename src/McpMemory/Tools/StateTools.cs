using System.ComponentModel;
using System.Text.Json;
using McpMemory.Core;
using McpMemory.Core.Memories;
using McpMemory.Contracts;
using ModelContextProtocol.Server;

namespace McpMemory.Tools;

/// <summary>get_agent_state, set_agent_state: small named JSON values per agent and namespace, versioned.</summary>
[McpServerToolType]
public sealed class StateTools(MemoryService memories, Caller caller)
{
    [McpServerTool(Name = "get_agent_state", Title = "Read agent state", ReadOnly = true, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Read a named piece of working state kept across sessions (e.g. \"current_task\", \"todo\"). " +
                 "Returns the value and its version; pass that version as expected_version when you update it.")]
    public AgentStateResult GetAgentState(
        [Description("The state key, e.g. \"current_task\" (max 200 characters).")] string key)
        => AgentStateResult.From(memories.GetState(caller, key));

    [McpServerTool(Name = "set_agent_state", Title = "Write agent state", Destructive = false, Idempotent = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Write a named piece of working state (any JSON value) to pick up in a later session. " +
                 "With expected_version the write succeeds only if nobody changed it since you read it (0 = must not exist yet).")]
    public AgentStateResult SetAgentState(
        [Description("The state key, e.g. \"current_task\" (max 200 characters).")] string key,
        [Description("Any JSON value: object, array, string, number, boolean or null (max 256 KiB).")] JsonElement value,
        [Description("Optional optimistic-concurrency check: the version you last read (0 = the key must not exist yet).")] long? expected_version = null)
        => AgentStateResult.From(memories.SetState(caller, key, value, expected_version));
}
