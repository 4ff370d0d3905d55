using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace McpMemory.Core.Storage;

/// <summary>
/// One open connection (SQLite or PostgreSQL), whose statements are prepared once and reused across calls so that a lookup
/// costs a bind and a step, not a parse (SQLite: the command objects are kept; PostgreSQL: Npgsql's auto-prepare keeps the
/// server-side statement of each SQL text).
/// Not thread-safe: <see cref="MemoryDatabase"/> hands each to one caller at a time.
/// </summary>
internal sealed class DbSession(DbConnection connection) : IDisposable
{
    private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);

    public DbConnection Connection { get; } = connection;

    /// <summary>False once the connection broke (a PostgreSQL server restarted or went away): the session is thrown away.</summary>
    public bool IsOpen => Connection.State == System.Data.ConnectionState.Open;

    /// <summary>
    /// Npgsql binds a parsed statement to the parameter objects it first saw, so a command whose parameters are cleared and
    /// added again would send the old values: each call gets a new NpgsqlCommand (cheap; the server-side prepared statement
    /// is reused by its SQL text through auto-prepare). SQLite's commands are reused, each prepared once.
    /// </summary>
    private readonly bool _reuseCommands = connection is SqliteConnection;

    /// <summary>The command for <paramref name="sql"/> with no parameters yet (reused and prepared, where the engine allows).</summary>
    public DbCommand Command(string sql, DbTransaction? transaction = null)
    {
        if (!_reuseCommands)
        {
            var fresh = Connection.CreateCommand();
            fresh.CommandText = sql;
            fresh.Transaction = transaction;
            return fresh;
        }
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

    public int Execute(string sql, DbTransaction? transaction = null) => Command(sql, transaction).ExecuteNonQuery();

    public void Dispose()
    {
        foreach (var command in _commands.Values) command.Dispose();
        _commands.Clear();
        Connection.Dispose();
    }
}

/// <summary><c>AddWithValue</c> on the common parameter type, so the SQL code reads the same for both engines.</summary>
internal static class DbParameters
{
    public static void AddWithValue(this DbParameterCollection parameters, string name, object? value)
    {
        switch (parameters)
        {
            case SqliteParameterCollection sqlite: sqlite.AddWithValue(name, value ?? DBNull.Value); break;
            case NpgsqlParameterCollection postgres: postgres.AddWithValue(name, value ?? DBNull.Value); break;
            default: throw new NotSupportedException(parameters.GetType().Name);
        }
    }
}
