using McpMemory.Core.Indexes;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Core.Storage;

namespace McpMemory.Core;

/// <summary>
/// A caller's requests checked and turned into what the engine works with: rows to write, the ids a store supersedes,
/// a search's filter, a state key's scope, a feedback signal. Every error names the field and the limit; each check
/// also asks whether this caller may read or write the namespace.
/// </summary>
internal sealed class CallerRequests(MemoryValidator validate, MemoryStore store)
{
    /// <summary>At most this many memories may be superseded by one store.</summary>
    public const int MaxSupersedes = 32;

    public static readonly IReadOnlyList<string> FeedbackSignals = ["useful", "noted", "wrong"];

    /// <summary>The ids a new memory supersedes, each one a memory the caller can see and write.</summary>
    public IReadOnlyList<Guid> Superseded(Caller caller, IReadOnlyList<Guid>? ids, long now)
    {
        if (ids is null || ids.Count == 0) return [];
        if (ids.Count > MaxSupersedes)
            throw new MemoryValidationException("supersedes", $"has {ids.Count} ids; the limit is {MaxSupersedes}");
        var distinct = ids.Distinct().ToList();
        for (var i = 0; i < distinct.Count; i++)
        {
            var old = store.Get(distinct[i], now);
            if (old is null || !caller.CanRead(old.Namespace))
                throw new MemoryValidationException($"supersedes[{i}]", $"no memory with id {distinct[i]} (nothing was stored)");
            if (!caller.CanWrite(old.Namespace))
                throw new MemoryValidationException($"supersedes[{i}]", $"this caller may not change memories in \"{old.Namespace}\" (read-only access)");
        }
        return distinct;
    }

    public MemoryRow Row(Caller caller, NewMemory m, long now)
    {
        var ns = m.Namespace is null ? caller.DefaultNamespace : Namespaces.Validate(m.Namespace);
        if (!caller.CanWrite(ns))
            throw new MemoryValidationException("namespace", $"this caller may not write to \"{ns}\"");
        var created = m.CreatedAt is { } c ? UnixTime.ToMs(c) : now;
        long? expires = m.ExpiresAt is { } e ? UnixTime.ToMs(e) : null;
        if (expires is not null && expires <= now)
            throw new MemoryValidationException("expires_at", $"{m.ExpiresAt:O} is not in the future");
        return new MemoryRow(
            Id: Guid.NewGuid(),
            Namespace: ns,
            AgentId: validate.AgentId(m.AgentId) ?? caller.AgentId,
            SessionId: validate.SessionId(m.SessionId),
            MemoryType: validate.MemoryType(m.MemoryType),
            Content: validate.Content(m.Content),
            Metadata: validate.Metadata(m.MetadataJson),
            Tags: validate.Tags(m.Tags),
            Importance: validate.Importance(m.Importance),
            CreatedAt: created,
            UpdatedAt: Math.Max(created, now),
            ExpiresAt: expires,
            Source: validate.Source(m.Source));
    }

    public IndexFilter Filter(Caller caller, SearchRequest request, long now)
    {
        var namespaces = validate.NamespaceList(request.Namespaces) ?? caller.DefaultSearchNamespaces();
        foreach (var ns in namespaces)
            if (!caller.CanRead(ns))
                throw new MemoryValidationException("namespaces", $"this caller may not read \"{ns}\"");
        if (request.MinImportance is { } min && (double.IsNaN(min) || min < 0 || min > 1))
            throw new MemoryValidationException("min_importance", $"must be between 0 and 1 (got {min})");
        if (request.Since is { } since && request.Until is { } until && since >= until)
            throw new MemoryValidationException("since", $"{since:O} is not before until {until:O}");
        return new IndexFilter(
            Namespaces: namespaces,
            MemoryType: request.MemoryType is null ? null : validate.MemoryType(request.MemoryType),
            MinImportance: request.MinImportance ?? 0,
            Since: UnixTime.ToMs(request.Since),
            Until: UnixTime.ToMs(request.Until),
            Now: now,
            SessionId: validate.SessionId(request.SessionId),
            Tags: validate.Tags(request.Tags),
            IncludeSuperseded: request.IncludeSuperseded,
            IncludeArchived: request.IncludeArchived);
    }

    public (string Namespace, string Key) StateScope(Caller caller, string key, string? ns, bool write)
    {
        var space = ns is null ? caller.DefaultNamespace : Namespaces.Validate(ns);
        if (write ? !caller.CanWrite(space) : !caller.CanRead(space))
            throw new MemoryValidationException("namespace", $"this caller may not {(write ? "write" : "read")} \"{space}\"");
        return (space, validate.StateKey(key));
    }

    /// <summary>The signal, normalised (trimmed, lower case; success/worked → useful, failure/failed → wrong), when it is one of <see cref="FeedbackSignals"/> and the note fits.</summary>
    public static string FeedbackSignal(string? signal, string? note)
    {
        var normalized = (signal ?? "").Trim().ToLowerInvariant();
        // A skill's outcome in its own words: it worked (useful) or it failed (wrong); the success record counts these.
        normalized = normalized switch { "success" or "worked" => "useful", "failure" or "failed" => "wrong", _ => normalized };
        if (!FeedbackSignals.Contains(normalized))
            throw new MemoryValidationException("signal", $"\"{Namespaces.Truncate(signal ?? "", 40)}\" is not a signal; use one of: {string.Join(", ", FeedbackSignals)}");
        if (note is not null && note.Length > 2000)
            throw new MemoryValidationException("note", $"is {note.Length} characters; the limit is 2000");
        return normalized;
    }
}
