using System.Data.Common;

namespace McpMemory.Core.Storage;

/// <summary>
/// What differs between the database engines behind <see cref="MemoryDatabase"/>: how sessions are opened and
/// configured, the migration list, how a write transaction takes the write lock, which errors mean "busy, try again",
/// and the few SQL fragments that are not portable. Everything else (every store and query in this folder) is one set
/// of SQL over ADO.NET's common types, the same for SQLite and PostgreSQL.
/// </summary>
internal abstract class StorageEngine : IDisposable
{
    /// <summary>What the user named: the full file path, or the PostgreSQL URL with its password masked.</summary>
    public abstract string Display { get; }

    /// <summary>True for PostgreSQL: a shared server, not a file (file-only commands refuse it).</summary>
    public abstract bool IsServer { get; }

    /// <summary>Opens and configures a new connection. <paramref name="first"/>: the first of this process (may refuse a newer schema).</summary>
    public abstract DbSession OpenSession(bool first = false);

    /// <summary>Brings the schema up to date on <paramref name="session"/>; returns its version.</summary>
    public abstract int Migrate(DbSession session);

    /// <summary>Begins a write transaction holding the database-wide write lock (one writer at a time, every process).</summary>
    public abstract DbTransaction BeginWrite(DbSession session);

    /// <summary>Begins a read transaction that sees one consistent snapshot while others write.</summary>
    public abstract DbTransaction BeginSnapshot(DbSession session);

    /// <summary>The error says another writer held a lock too long (or a transient conflict): the whole attempt may run again.</summary>
    public abstract bool IsBusy(Exception e);

    /// <summary>The connection itself failed (a server restart): a read may run again on a fresh session.</summary>
    public virtual bool IsConnectionLost(Exception e) => false;

    /// <summary>An error while opening, as one line that names the database and what to do; null: not ours to explain.</summary>
    public abstract Memories.MemoryFileException? Explain(Exception e);

    /// <summary>
    /// Calls <paramref name="changed"/> whenever another process may have appended to the event log (PostgreSQL:
    /// LISTEN/NOTIFY); null where the engine has no such notice (SQLite: searches catch up from the log before they run).
    /// </summary>
    public virtual IDisposable? WatchChanges(Action changed) => null;

    /// <summary>Last words before the writer closes (SQLite checkpoints its WAL).</summary>
    public virtual void Closing(DbSession writer) { }

    public virtual void Dispose() { }

    // --- The SQL fragments that differ ---

    /// <summary>
    /// The values of a JSON array bound to <paramref name="parameter"/> as a subquery (for <c>x IN (...)</c>); numbers when
    /// <paramref name="numbers"/>. Binding one JSON text keeps the statement the same whatever the list's length.
    /// </summary>
    public abstract string ListOf(string parameter, bool numbers = false);

    /// <summary>The JSON array of <paramref name="numbers"/>, the value to bind for <c>ListOf(parameter, numbers: true)</c>.</summary>
    public static string NumberList(IEnumerable<long> numbers) => "[" + string.Join(',', numbers) + "]";

    /// <summary>The database's size in bytes, as one scalar query.</summary>
    public abstract string SizeSql { get; }

    /// <summary>1-based position of <paramref name="needle"/> in <paramref name="haystack"/>, 0 when absent.</summary>
    public abstract string Position(string haystack, string needle);

    /// <summary>Case-insensitive LIKE (SQLite's LIKE folds ASCII case; PostgreSQL's does not).</summary>
    public abstract string LikeInsensitive { get; }

    /// <summary>The text at <paramref name="key"/> of a JSON object stored as text in <paramref name="column"/> (null when absent or not JSON).</summary>
    public abstract string JsonText(string column, string key);

    /// <summary>A planner hint naming an index (SQLite's INDEXED BY); empty where the engine has none.</summary>
    public virtual string IndexedBy(string index) => "";
}
