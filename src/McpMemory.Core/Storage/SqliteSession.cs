using Microsoft.Data.Sqlite;

namespace McpMemory.Core.Storage;

/// <summary>
/// One open connection with its prepared statements, reused across calls so that a lookup costs a
/// bind and a step, not a parse. Not thread-safe: <see cref="MemoryDatabase"/> hands each to one caller at a time.
/// </summary>
internal sealed class SqliteSession(SqliteConnection connection) : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    public SqliteConnection Connection { get; } = connection;

    /// <summary>The prepared command for <paramref name="sql"/>, with its parameters cleared.</summary>
    public SqliteCommand Command(string sql, SqliteTransaction? transaction = null)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            _commands[sql] = command;
        }
        command.Parameters.Clear();
        command.Transaction = transaction;
        return command;
    }

    public int Execute(string sql, SqliteTransaction? transaction = null)
    {
        var command = Command(sql, transaction);
        return command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values) command.Dispose();
        _commands.Clear();
        Connection.Dispose();
    }
}
