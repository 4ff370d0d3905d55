namespace McpMemory.Core.Memories;

/// <summary>
/// Who is asking, and what they may touch: the namespace their writes and searches default to, the agent id
/// recorded with their memories and state, and (when access is restricted, e.g. an HTTP API key) the
/// namespaces they may read and write. Null sets mean unrestricted.
/// </summary>
public sealed record Caller(
    string DefaultNamespace,
    string AgentId,
    IReadOnlySet<string>? Readable = null,
    IReadOnlySet<string>? Writable = null)
{
    public const string DefaultAgentId = "default";

    public bool CanRead(string ns) => Readable is null || Readable.Contains(ns) || CanWrite(ns);
    public bool CanWrite(string ns) => Writable is null || Writable.Contains(ns);

    /// <summary>
    /// The namespaces a search covers when it names none: the default one plus "shared" (when the caller may read it;
    /// an API key limited to its project must still be able to search without naming namespaces).
    /// </summary>
    public IReadOnlyList<string> DefaultSearchNamespaces() =>
        DefaultNamespace == Namespaces.Shared || !CanRead(Namespaces.Shared) ? [DefaultNamespace] : [DefaultNamespace, Namespaces.Shared];
}
