using Microsoft.Data.Sqlite;

namespace McpMemory.Core.Storage;

/// <summary>Applies <see cref="Schema.Migrations"/> in order; backs the file up before changing an existing schema.</summary>
internal static class Migrator
{
    public static int Migrate(DbSession session, string path) => Migrate(session, path, Schema.Migrations);

    /// <summary>Brings the file up to <c>migrations.Count</c>. (The list is a parameter so tests can stage an older schema.)</summary>
    internal static int Migrate(DbSession session, string path, IReadOnlyList<string> migrations)
    {
        var version = Convert.ToInt32(session.Command("PRAGMA user_version").ExecuteScalar());
        if (version >= migrations.Count) return version;

        if (version > 0) BackupBeforeMigration((SqliteConnection)session.Connection, path, version);
        for (var next = version + 1; next <= migrations.Count; next++)
        {
            using var transaction = ((SqliteConnection)session.Connection).BeginTransaction(deferred: false);
            // Another process may have migrated while we waited for the lock.
            var current = Convert.ToInt32(session.Command("PRAGMA user_version", transaction).ExecuteScalar());
            if (current >= next) { transaction.Commit(); continue; }
            using (var command = session.Connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = migrations[next - 1] + $"\nPRAGMA user_version = {next};";
                command.ExecuteNonQuery();
            }
            transaction.Commit();
        }
        return migrations.Count;
    }

    public static void RefuseNewerSchema(SqliteConnection connection, string path)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version";
        var version = Convert.ToInt32(command.ExecuteScalar());
        if (version > Schema.CurrentVersion)
        {
            connection.Dispose();
            throw new SchemaTooNewException(path, version, Schema.CurrentVersion);
        }
    }

    private static void BackupBeforeMigration(SqliteConnection connection, string path, int version)
    {
        var backup = $"{path}.v{version}-{DateTime.UtcNow:yyyyMMddTHHmmssZ}.bak";
        using var target = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = backup, Pooling = false }.ToString());
        target.Open();
        connection.BackupDatabase(target);
    }
}

/// <summary>The file was written by a newer McpMemory; it is left untouched.</summary>
public sealed class SchemaTooNewException(string path, int found, int known)
    : Exception($"{path} has schema version {found}, but this mcp-memory knows only up to version {known}. " +
                "Upgrade mcp-memory (dotnet tool update -g McpMemory); the file was not changed.");
