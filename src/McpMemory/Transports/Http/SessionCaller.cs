using McpMemory.Core.Memories;

namespace McpMemory.Transports.Http;

/// <summary>
/// The caller of one HTTP session. Each session runs its McpServer on its own DI scope, and this scoped holder is filled
/// with the caller of the key that opened the session before the server starts; the tools' <see cref="Caller"/>
/// resolves from it. So a tool can only ever act as the key its session was opened with.
/// </summary>
public sealed class SessionCaller
{
    private Caller? _caller;

    public Caller Caller
    {
        get => _caller ?? throw new InvalidOperationException("no caller was bound to this session's scope");
        set => _caller = _caller is null ? value : throw new InvalidOperationException("a session's caller is bound once");
    }
}
