using System.Text.RegularExpressions;
using McpMemory.Core.Memories;
using Npgsql;

namespace McpMemory.Core.Storage;

/// <summary>
/// The one place that decides what a <c>--db</c> value (or <c>MCP_MEMORY_DB</c>) names: a PostgreSQL database
/// (<c>postgres://user[:password]@host[:port]/db</c>, <c>postgresql://…</c>, or an Npgsql connection string such as
/// <c>Host=…;Database=…</c>) or else a SQLite file path.
/// </summary>
public static partial class DatabaseTarget
{
    /// <summary>True when <paramref name="db"/> names a PostgreSQL database rather than a file.</summary>
    public static bool IsPostgres(string? db) =>
        db is not null && (IsUrl(db) || ConnectionStringHost().IsMatch(db));

    private static bool IsUrl(string db) =>
        db.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || db.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    /// <summary>An Npgsql connection string has a Host (or Server) key; a file path practically never starts like that.</summary>
    [GeneratedRegex(@"^\s*(host|server)\s*=", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ConnectionStringHost();

    /// <summary>
    /// Refuses a PostgreSQL database for <paramref name="what"/>, which works on a SQLite file (backup, restore, verify, the
    /// check for processes holding the file), saying what to use instead.
    /// </summary>
    public static void RefuseServer(string db, string what)
    {
        if (IsPostgres(db))
            throw new MemoryFileException($"{what} works on a SQLite database file, and --db {Masked(db)} is PostgreSQL: use the server's own " +
                                          "tools instead (pg_dump to back up, pg_restore to restore; amcheck or a test restore to verify), or mcp-memory export / import for JSONL");
    }

    /// <summary>The value as it may be shown (logs, errors, stats): the password masked.</summary>
    public static string Masked(string db)
    {
        if (IsUrl(db)) return UrlPassword().Replace(db, "$1:***@");
        return ConnectionStringPassword().Replace(db, "$1=***");
    }

    [GeneratedRegex(@"^([a-zA-Z]+://[^:/@]*):[^@]*@")]
    private static partial Regex UrlPassword();

    [GeneratedRegex(@"(?i)\b(password|pwd)\s*=\s*[^;]*")]
    private static partial Regex ConnectionStringPassword();

    /// <summary>
    /// The Npgsql connection string for <paramref name="db"/>. A URL's user and password are percent-decoded; its query
    /// may carry sslmode, application_name and connect_timeout. A malformed value is refused in one line.
    /// </summary>
    internal static NpgsqlConnectionStringBuilder ConnectionString(string db)
    {
        try
        {
            if (!IsUrl(db)) return new NpgsqlConnectionStringBuilder(db);
            if (!Uri.TryCreate(db, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
                throw new FormatException("expected postgres://user[:password]@host[:port]/database");
            var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host.Trim('[', ']') };
            if (uri.Port > 0) builder.Port = uri.Port;
            var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
            if (database.Length > 0) builder.Database = database;
            if (uri.UserInfo.Length > 0)
            {
                var colon = uri.UserInfo.IndexOf(':');
                builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
                if (colon >= 0) builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
            foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var (key, value) = pair.IndexOf('=') is var eq and >= 0
                    ? (Uri.UnescapeDataString(pair[..eq]), Uri.UnescapeDataString(pair[(eq + 1)..])) : (pair, "");
                switch (key.ToLowerInvariant())
                {
                    case "sslmode": builder.SslMode = Enum.Parse<SslMode>(value.Replace("-", ""), ignoreCase: true); break;
                    case "application_name": builder.ApplicationName = value; break;
                    case "connect_timeout": builder.Timeout = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                    default: throw new FormatException($"unknown URL parameter \"{key}\" (known: sslmode, application_name, connect_timeout)");
                }
            }
            return builder;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or KeyNotFoundException or OverflowException)
        {
            throw new MemoryFileException($"--db {Masked(db)}: not a usable PostgreSQL URL or connection string ({e.Message.TrimEnd('.')}); " +
                                          "use postgres://user[:password]@host[:port]/database or Host=…;Database=…;Username=…");
        }
    }
}
