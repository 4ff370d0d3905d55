namespace McpMemory.Core.Memories;

/// <summary>Base of every error the engine reports to a caller: its message is meant for the user or agent.</summary>
public abstract class MemoryException(string message) : Exception(message);

/// <summary>Bad input: names the field and the limit. Nothing was written.</summary>
public sealed class MemoryValidationException(string field, string message) : MemoryException($"{field}: {message}")
{
    public string Field { get; } = field;
}

/// <summary>The memory (or state key) asked for does not exist in the namespaces the caller may see.</summary>
public sealed class MemoryNotFoundException(string message) : MemoryException(message);

/// <summary>An optimistic-concurrency check failed (a stale expected_version).</summary>
public sealed class MemoryConflictException(string message, long currentVersion) : MemoryException(message)
{
    public long CurrentVersion { get; } = currentVersion;
}

/// <summary>The database stayed locked by another process past the busy timeout and the retries. Nothing was written.</summary>
public sealed class MemoryBusyException(string message) : MemoryException(message);

/// <summary>A backup, restore, verify, export or import could not be done as asked (the message says why and with which file).</summary>
public sealed class MemoryFileException(string message) : MemoryException(message);
