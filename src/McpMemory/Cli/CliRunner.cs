using System.CommandLine;
using McpMemory.Core;
using McpMemory.Core.Embeddings;
using McpMemory.Core.Memories;
using McpMemory.Core.Storage;
using Microsoft.Data.Sqlite;

namespace McpMemory.Cli;

/// <summary>
/// Runs every command the same way: resolves the settings, runs the action, and turns whatever goes wrong into one
/// line on stderr ("error: …") and exit code 1, never a stack trace.
/// </summary>
internal static class CliRunner
{
    /// <summary>Parses and runs the command line; the net for anything a command did not expect.</summary>
    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        try { return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }); }
        catch (Exception e) when (e is not OutOfMemoryException) { return Fail(e, null); }
    }

    public static int Run(ParseResult parse, Action<Settings> action) => Run(parse, settings => { action(settings); return 0; });

    public static int Run(ParseResult parse, Func<Settings, int> action)
    {
        Settings? settings = null;
        try { return action(settings = CliOptions.ResolveSettings(parse)); }
        catch (Exception e) when (e is not OutOfMemoryException) { return Fail(e, settings); }
    }

    public static async Task<int> RunAsync(ParseResult parse, Func<Settings, Task<int>> action)
    {
        Settings? settings = null;
        try { return await action(settings = CliOptions.ResolveSettings(parse)); }
        catch (Exception e) when (e is not OutOfMemoryException) { return Fail(e, settings); }
    }

    /// <summary>Opens the database, then runs the action on the engine.</summary>
    /// <param name="vectors">Load the encoder and the vector index first (store merges duplicates and lists similar memories, search is hybrid).</param>
    /// <param name="creates">The command may create the database (store, state set); the others need it to exist.</param>
    public static int WithService(ParseResult parse, Action<MemoryService, Settings> action, bool vectors = false, bool creates = false) => Run(parse, settings =>
    {
        if (!creates) settings.RequireDatabase();
        // With vectors (store, search) the in-memory indexes are built as in the server, so a search ranks the same;
        // other commands skip them.
        var encoder = vectors ? Encoders.StartDefault(settings) : null;
        // One-shot: a store embeds inline (no work left behind when the process exits; its answer judges by meaning), and
        // nothing embeds in the background (reindex does that itself).
        using var service = MemoryService.Open(settings.DatabasePath, settings.Engine with
        {
            EmbeddingInterval = TimeSpan.Zero, KeywordIndex = vectors, WriteBehind = false, BackgroundEmbedding = false,
        }, encoder);
        if (encoder is not null && !service.WaitForVectors(TimeSpan.FromMinutes(1)))
            Console.Error.WriteLine($"warning: the encoder is not available ({service.VectorError?.Message}); using keywords only");
        if (vectors) service.WaitForKeywordIndex(TimeSpan.FromMinutes(1));
        action(service, settings);
    });

    private static int Fail(Exception e, Settings? settings)
    {
        Output.Error(Message(e, settings));
        return 1;
    }

    /// <summary>
    /// What the user reads: the message of an error the tool reports on purpose (bad input, a file it cannot use, the
    /// encoder or endpoint failing); damage SQLite finds after opening, named with its remedy; anything else as one line
    /// with its type, so it can be reported.
    /// </summary>
    private static string Message(Exception e, Settings? settings) => e switch
    {
        MemoryException or SchemaTooNewException or EmbeddingEndpointException or InvalidOperationException
            or IOException or UnauthorizedAccessException => e.Message,
        SqliteException sqlite when settings is not null => MemoryDatabase.Unusable(settings.DatabasePath, sqlite).Message,
        _ => Output.OneLine(e),
    };
}
