namespace McpMemory.Core.Memories;

/// <summary>The kinds of memory an agent may store. Closed on purpose: filters and ranking rely on it.</summary>
public static class MemoryTypes
{
    public const string Default = "fact";

    /// <summary>Every accepted type with a one-line meaning (shown in tool schemas and help).</summary>
    public static readonly IReadOnlyDictionary<string, string> All = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["fact"] = "something true about the project, the code or the world",
        ["decision"] = "a choice that was made, with its reason",
        ["preference"] = "how the user likes things done",
        ["fix"] = "a bug, its cause and what fixed it",
        ["skill"] = "a procedure or command that works",
        ["episode"] = "what happened in a session",
        ["context"] = "background that helps later work",
        ["correction"] = "something that turned out wrong, and what is right",
    };

    public static string Describe() => string.Join(", ", All.Keys);
}
