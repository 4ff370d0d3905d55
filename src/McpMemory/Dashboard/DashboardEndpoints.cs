using System.Text;
using System.Text.Json;
using McpMemory.Core;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Core.Storage;
using McpMemory.Transports.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace McpMemory.Dashboard;

/// <summary>What one dashboard request acts as: its session (key and CSRF token) and the engine.</summary>
public sealed record DashboardRequest(HttpContext Http, DashboardSession Session, MemoryService Memory, DashboardOptions Options)
{
    public Caller Caller => Session.Key.Caller;

    /// <summary>A key with no writable namespace (read-only) gets no change buttons; the engine refuses its changes anyway.</summary>
    public bool CanChange => Caller.Writable is null || Caller.Writable.Count > 0;

    /// <summary>Backup and export cover the whole database: only for a caller that may read everything.</summary>
    public bool Unrestricted => Caller.Readable is null || Caller.Writable is null;
}

/// <summary>Where the dashboard runs: the database (for the backup folder) and the origins allowed besides its own.</summary>
public sealed record DashboardOptions(string DatabasePath, IReadOnlyList<string> AllowedOrigins, bool EncoderOff = false)
{
    public string BackupFolder => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(DatabasePath)) ?? ".", "backups");
}

/// <summary>
/// The web dashboard's routes, beside /mcp on the same Kestrel app. Pages are server-rendered HTML (<see cref="DashboardPages"/>);
/// every read and change goes through <see cref="MemoryService"/> as the session's caller, so a key sees and changes
/// only its namespaces here as over MCP. Every change is a POST that must come from this very origin (Origin, else
/// Referer) and carry the session's CSRF token.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>The dashboard's home; the server rewrites "/" to it.</summary>
    public const string HomePath = "/overview";

    public static void Map(WebApplication app, DashboardOptions options)
    {
        var sessions = app.Services.GetRequiredService<DashboardSessions>();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("McpMemory.Dashboard");

        app.MapGet(DashboardAssets.ScriptPath, context => Asset(context, DashboardAssets.Script, "text/javascript; charset=utf-8"));
        app.MapGet(DashboardAssets.StylePath, context => Asset(context, DashboardAssets.Style, "text/css; charset=utf-8"));

        app.MapGet("/login", context =>
        {
            if (!sessions.LoginRequired || sessions.Find(context) is not null) { context.Response.Redirect(HomePath); return Task.CompletedTask; }
            return Page(context, DashboardPages.Login(null), StatusCodes.Status200OK);
        });
        app.MapPost("/login", async context =>
        {
            if (!SameOrigin(context, options)) { await Refuse(context, log, "the request did not come from this dashboard's own page"); return; }
            var form = await context.Request.ReadFormAsync();
            if (sessions.SignIn(context, form["key"].ToString()) is null)
            {
                log.LogWarning("dashboard: refused a sign-in from {Remote}: no configured key matches", context.Connection.RemoteIpAddress);
                await Page(context, DashboardPages.Login("That key is not valid."), StatusCodes.Status401Unauthorized);
                return;
            }
            context.Response.Redirect(HomePath, permanent: false);
        });
        app.MapPost("/logout", async context =>
        {
            if (await ChangeAsync(context, sessions, options, log) is null) return;
            sessions.SignOut(context);
            context.Response.Redirect(sessions.LoginRequired ? "/login" : HomePath);
        });

        Read(app, HomePath, sessions, options, r => Ok(DashboardPages.Overview(r, Status(r))));
        Read(app, "/search", sessions, options, r => SearchPage(r));
        Read(app, "/memories", sessions, options, r => ListPage(r));
        Read(app, "/memories/{id}", sessions, options, r => DetailPage(r, null, null));
        Read(app, "/state", sessions, options, r => Ok(DashboardPages.State(r, r.Memory.ListState(r.Caller), null, null)));

        app.MapGet("/changes", async context =>
        {
            if (await ReaderAsync(context, sessions, options) is not { } r) return;
            NoStore(context);
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(r.Memory.ChangeMark(r.Caller).ToString(System.Globalization.CultureInfo.InvariantCulture));
        });

        Change(app, "/memories/{id}/edit", sessions, options, log, (r, form) =>
        {
            var id = RouteId(r);
            var result = r.Memory.Edit(r.Caller, id, form["content"].ToString(), Blank(form["memory_type"]), Tags(form["tags"]), Importance(form["importance"]));
            return Redirect($"/memories/{result.MemoryId:D}?done=edited");
        });
        Change(app, "/memories/{id}/delete", sessions, options, log, (r, form) =>
        {
            var id = RouteId(r);
            if (form["confirm"].ToString() != "yes")
                return DetailPage(r, "Tick \u201cYes, delete this memory\u201d to confirm the delete.", null, StatusCodes.Status400BadRequest);
            r.Memory.Delete(r.Caller, id);
            return Redirect($"/memories?done=deleted");
        });
        Change(app, "/memories/{id}/feedback", sessions, options, log, (r, form) =>
        {
            var id = RouteId(r);
            var recorded = r.Memory.Feedback(r.Caller, id, form["signal"].ToString(), Blank(form["note"]));
            return Redirect($"/memories/{id:D}?done=feedback-{recorded.Signal}");
        });
        Change(app, "/memories/{id}/supersede", sessions, options, log, (r, form) =>
        {
            var id = RouteId(r);
            if (!Guid.TryParse(form["by"].ToString().Trim(), out var by))
                return DetailPage(r, "by: enter the id of the memory that replaces this one", null, StatusCodes.Status400BadRequest);
            r.Memory.Supersede(r.Caller, id, by);
            return Redirect($"/memories/{by:D}?done=superseded");
        });
        Change(app, "/state", sessions, options, log, (r, form) =>
        {
            var key = form["key"].ToString();
            var ns = Blank(form["namespace"]);
            var agent = Blank(form["agent_id"]);
            long? expected = long.TryParse(form["expected_version"], out var v) ? v : null;
            JsonElement value;
            try { value = JsonDocument.Parse(form["value"].ToString()).RootElement.Clone(); }
            catch (JsonException e) { throw new MemoryValidationException("value", $"is not valid JSON ({e.Message})"); }
            var caller = agent is null ? r.Caller : r.Caller with { AgentId = agent };
            try
            {
                var saved = r.Memory.SetState(caller, key, value, expected, ns);
                return Redirect($"/state?done=saved&key={Html.Q(saved.Key)}&version={saved.Version}");
            }
            catch (MemoryConflictException e)
            {
                return Task.FromResult(new Rendered(DashboardPages.State(r, r.Memory.ListState(r.Caller), null, new StateConflict(key, ns, agent, e.Message, e.CurrentVersion, form["value"].ToString())),
                    StatusCodes.Status409Conflict));
            }
        });
        Change(app, "/backup", sessions, options, log, (r, _) =>
        {
            if (!r.Unrestricted) throw new MemoryValidationException("backup", "this key may not back up: it may read only some namespaces, and a backup copies the whole database");
            Directory.CreateDirectory(r.Options.BackupFolder);
            var report = DatabaseBackup.Backup(r.Memory.Database.Path, r.Options.BackupFolder);
            return Redirect($"{HomePath}?done=backup&file={Html.Q(Path.GetFileName(report.Path))}");
        });

        app.MapGet("/export.jsonl", async context =>
        {
            if (await ExporterAsync(context, sessions, options) is not { } r) return;
            context.Response.ContentType = "application/x-ndjson; charset=utf-8";
            context.Response.Headers.ContentDisposition = "attachment; filename=\"mcp-memory-export.jsonl\"";
            // The exporter writes synchronously; buffer it (exports are of a personal store) and send it.
            var text = new StringWriter();
            r.Memory.ExportJsonl(text);
            await context.Response.WriteAsync(text.ToString());
        });
        app.MapGet("/export.md", async context =>
        {
            if (await ExporterAsync(context, sessions, options) is not { } r) return;
            context.Response.ContentType = "text/markdown; charset=utf-8";
            context.Response.Headers.ContentDisposition = "attachment; filename=\"mcp-memory-export.md\"";
            await context.Response.WriteAsync(string.Join("\n\n", r.Memory.ExportMarkdown().Select(f => f.Text)));
        });
    }

    // ---- pages that need more than one call --------------------------------------------------------------------------

    private static Task<Rendered> SearchPage(DashboardRequest r)
    {
        var q = r.Http.Request.Query;
        var filters = Filters.From(q);
        SearchResponse? response = null;
        string? error = null;
        if (!string.IsNullOrWhiteSpace(q["q"]))
        {
            try
            {
                response = r.Memory.Search(r.Caller, new SearchRequest
                {
                    Query = q["q"].ToString(),
                    Mode = filters.Mode,
                    Namespaces = filters.Namespaces,
                    MemoryType = filters.Type,
                    Tags = filters.Tags,
                    Since = filters.Since,
                    Until = filters.Until,
                    MinImportance = filters.MinImportance,
                    IncludeArchived = filters.IncludeArchived,
                    TopK = 20,
                    Explain = true,
                }, trackAccess: false);
            }
            catch (MemoryException e) { error = e.Message; }
        }
        var partial = q["partial"] == "1";
        return Task.FromResult(new Rendered(partial ? DashboardPages.SearchResults(response, error) : DashboardPages.Search(r, filters, q["q"].ToString(), response, error),
            error is null ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest, Fragment: partial));
    }

    private static Task<Rendered> ListPage(DashboardRequest r)
    {
        var q = r.Http.Request.Query;
        var filters = Filters.From(q);
        var page = int.TryParse(q["page"], out var p) ? p : 1;
        var sort = q["sort"].ToString() switch { "used" => BrowseSort.MostUsed, "importance" => BrowseSort.Importance, _ => BrowseSort.Newest };
        BrowsePage? list = null;
        string? error = null;
        try
        {
            list = r.Memory.Browse(r.Caller, new BrowseRequest
            {
                Namespaces = filters.Namespaces,
                MemoryType = filters.Type,
                Tags = filters.Tags,
                Since = filters.Since,
                Until = filters.Until,
                MinImportance = filters.MinImportance,
                IncludeArchived = filters.IncludeArchived,
                Sort = sort,
                Page = page,
            });
        }
        catch (MemoryException e) { error = e.Message; }
        var partial = q["partial"] == "1";
        var mark = r.Memory.ChangeMark(r.Caller);
        return Task.FromResult(new Rendered(partial ? DashboardPages.ListItems(r, list, error, filters, sort) : DashboardPages.Memories(r, filters, sort, list, error, mark),
            error is null ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest, Fragment: partial));
    }

    private static Task<Rendered> DetailPage(DashboardRequest r, string? error, string? notice, int status = StatusCodes.Status200OK)
    {
        var id = RouteId(r);
        var memory = r.Memory.Get(r.Caller, id);
        var history = r.Memory.History(r.Caller, id);
        var feedback = r.Memory.FeedbackOn(r.Caller, id);
        IReadOnlyList<SearchHit> similar = [];
        try
        {
            similar = r.Memory.Search(r.Caller, new SearchRequest
            {
                Query = memory.Content.Length > 2000 ? memory.Content[..2000] : memory.Content,
                Namespaces = [memory.Namespace],
                TopK = 6,
                TimeAware = false,
            }, trackAccess: false).Results.Where(h => h.Memory.Id != id).Take(5).ToList();
        }
        catch (MemoryException) { /* a text search cannot use (no searchable word): no similar list */ }
        return Task.FromResult(new Rendered(DashboardPages.Detail(r, memory, history, feedback, similar, error, notice), status));
    }

    private static DashboardStatus Status(DashboardRequest r)
    {
        string? lastBackup = null;
        DateTimeOffset? lastBackupAt = null;
        if (Directory.Exists(r.Options.BackupFolder))
        {
            var newest = new DirectoryInfo(r.Options.BackupFolder).EnumerateFiles("*.db").OrderByDescending(f => f.LastWriteTimeUtc).FirstOrDefault();
            if (newest is not null) { lastBackup = newest.Name; lastBackupAt = newest.LastWriteTimeUtc; }
        }
        var encoder = r.Memory.Embedder;
        return new DashboardStatus(
            Encoder: r.Options.EncoderOff ? $"off (${Settings.EncoderVariable}): keyword search only" : encoder?.ModelId,
            KeywordIndexReady: r.Memory.WaitForKeywordIndex(TimeSpan.Zero),
            VectorsReady: r.Memory.VectorsReady,
            VectorError: r.Memory.VectorError?.GetBaseException().Message,
            LastBackup: lastBackup,
            LastBackupAt: lastBackupAt);
    }

    // ---- plumbing ----------------------------------------------------------------------------------------------------

    /// <summary>A page or fragment, and its status code.</summary>
    public sealed record Rendered(string Html, int Status, string? RedirectTo = null, bool Fragment = false);

    private static Task<Rendered> Ok(string html) => Task.FromResult(new Rendered(html, StatusCodes.Status200OK));

    private static Task<Rendered> Redirect(string to) => Task.FromResult(new Rendered("", StatusCodes.Status303SeeOther, to));

    private static void Read(WebApplication app, string pattern, DashboardSessions sessions, DashboardOptions options, Func<DashboardRequest, Task<Rendered>> render)
    {
        RequestDelegate handler = async context =>
        {
            if (await ReaderAsync(context, sessions, options) is not { } r) return;
            await Respond(context, r, render);
        };
        app.MapGet(pattern, handler);
    }

    private static void Change(WebApplication app, string pattern, DashboardSessions sessions, DashboardOptions options, ILogger log,
        Func<DashboardRequest, IFormCollection, Task<Rendered>> change)
    {
        RequestDelegate handler = async context =>
        {
            if (await ChangeAsync(context, sessions, options, log) is not { } checkedRequest) return;
            var (r, form) = checkedRequest;
            await Respond(context, r, WithForm(change, form));
        };
        app.MapPost(pattern, handler);
    }

    private static Func<DashboardRequest, Task<Rendered>> WithForm(Func<DashboardRequest, IFormCollection, Task<Rendered>> change, IFormCollection form) =>
        request => change(request, form);

    private static async Task Respond(HttpContext context, DashboardRequest r, Func<DashboardRequest, Task<Rendered>> render)
    {
        Rendered rendered;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try { rendered = await render(r); }
        catch (MemoryException e)
        {
            var status = e switch
            {
                MemoryNotFoundException => StatusCodes.Status404NotFound,
                MemoryConflictException => StatusCodes.Status409Conflict,
                _ when e.Message.Contains("may not", StringComparison.Ordinal) => StatusCodes.Status403Forbidden,
                _ => StatusCodes.Status400BadRequest,
            };
            rendered = new Rendered(DashboardPages.Error(r, e.Message), status);
        }
        if (rendered.RedirectTo is { } to)
        {
            context.Response.StatusCode = rendered.Status;
            context.Response.Headers.Location = to;
            return;
        }
        // The time to read and render the page, for the browser's devtools and the dashboard bench.
        context.Response.Headers["Server-Timing"] = $"app;dur={System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)}";
        await Page(context, rendered.Html, rendered.Status);
    }

    /// <summary>The request's session (a keyless one is started on loopback without keys), else a redirect to the login.</summary>
    private static Task<DashboardRequest?> ReaderAsync(HttpContext context, DashboardSessions sessions, DashboardOptions options)
    {
        var session = sessions.FindOrStartKeyless(context);
        if (session is null)
        {
            if (context.Request.Path == "/changes") context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            else context.Response.Redirect("/login");
            return Task.FromResult<DashboardRequest?>(null);
        }
        return Task.FromResult<DashboardRequest?>(new DashboardRequest(context, session, context.RequestServices.GetRequiredService<MemoryService>(), options));
    }

    private static async Task<DashboardRequest?> ExporterAsync(HttpContext context, DashboardSessions sessions, DashboardOptions options)
    {
        if (await ReaderAsync(context, sessions, options) is not { } r) return null;
        if (r.Unrestricted) return r;
        await Page(context, DashboardPages.Error(r, "this key may read only some namespaces; an export covers the whole database"), StatusCodes.Status403Forbidden);
        return null;
    }

    /// <summary>
    /// A change is let through only from this dashboard's own page in a signed-in session: same origin (Origin, else
    /// Referer; a request with neither is refused) and the session's CSRF token (form field or header).
    /// </summary>
    private static async Task<(DashboardRequest, IFormCollection)?> ChangeAsync(HttpContext context, DashboardSessions sessions, DashboardOptions options, ILogger log)
    {
        if (!SameOrigin(context, options)) { await Refuse(context, log, "the request did not come from this dashboard's own page"); return null; }
        var session = sessions.Find(context);
        if (session is null) { await Refuse(context, log, "no signed-in session; sign in again", StatusCodes.Status401Unauthorized); return null; }
        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync() : FormCollection.Empty;
        var token = form.TryGetValue(DashboardSessions.CsrfField, out var field) ? field.ToString() : context.Request.Headers[DashboardSessions.CsrfHeader].ToString();
        if (!DashboardSessions.CsrfMatches(session, token)) { await Refuse(context, log, "the form's CSRF token is missing or stale; reload the page and try again"); return null; }
        return (new DashboardRequest(context, session, context.RequestServices.GetRequiredService<MemoryService>(), options), form);
    }

    /// <summary>Origin (or, without it, Referer) names this server as the browser reached it, or an allowed origin.</summary>
    public static bool SameOrigin(HttpContext context, DashboardOptions options)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0 || origin == "null")
        {
            var referer = context.Request.Headers.Referer.ToString();
            if (referer.Length == 0 || !Uri.TryCreate(referer, UriKind.Absolute, out var refererUri)) return false;
            origin = refererUri.GetLeftPart(UriPartial.Authority);
        }
        if (options.AllowedOrigins.Any(a => string.Equals(a.TrimEnd('/'), origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase))) return true;
        // Behind a TLS-terminating proxy the scheme differs from Kestrel's; the authority (host and port) must match.
        return Uri.TryCreate(origin, UriKind.Absolute, out var uri)
               && string.Equals(uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}", context.Request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task Refuse(HttpContext context, ILogger log, string reason, int status = StatusCodes.Status403Forbidden)
    {
        log.LogWarning("dashboard: refused {Method} {Path} from {Remote}: {Reason}", context.Request.Method, context.Request.Path, context.Connection.RemoteIpAddress, reason);
        await Page(context, DashboardPages.Refused(reason), status);
    }

    private static async Task Page(HttpContext context, string html, int status)
    {
        context.Response.StatusCode = status;
        SecurityHeaders(context);
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(html, Encoding.UTF8);
    }

    private static Task Asset(HttpContext context, string text, string type)
    {
        context.Response.ContentType = type;
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "no-cache";
        return context.Response.WriteAsync(text, Encoding.UTF8);
    }

    private static void SecurityHeaders(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = DashboardAssets.ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "same-origin";
        NoStore(context);
    }

    private static void NoStore(HttpContext context) => context.Response.Headers.CacheControl = "no-store";

    private static Guid RouteId(DashboardRequest r) =>
        Guid.TryParse(r.Http.Request.RouteValues["id"]?.ToString(), out var id) ? id : throw new MemoryNotFoundException("memory_id: not a memory id");

    private static string? Blank(Microsoft.Extensions.Primitives.StringValues value) => string.IsNullOrWhiteSpace(value) ? null : value.ToString().Trim();

    internal static IReadOnlyList<string>? Tags(Microsoft.Extensions.Primitives.StringValues value) =>
        string.IsNullOrWhiteSpace(value) ? null : value.ToString().Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static double? Importance(Microsoft.Extensions.Primitives.StringValues value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        return double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new MemoryValidationException("importance", $"\"{Namespaces.Truncate(value.ToString(), 20)}\" is not a number between 0 and 1");
    }
}

/// <summary>The encoder and backup facts the overview shows.</summary>
public sealed record DashboardStatus(string? Encoder, bool KeywordIndexReady, bool VectorsReady, string? VectorError, string? LastBackup, DateTimeOffset? LastBackupAt);

/// <summary>A refused compare-and-set: what was tried, and the version that is stored now.</summary>
public sealed record StateConflict(string Key, string? Namespace, string? AgentId, string Message, long CurrentVersion, string TriedValue);

/// <summary>The filters the search and list pages share, read from the query string.</summary>
public sealed record Filters(string? Mode, IReadOnlyList<string>? Namespaces, string? Type, IReadOnlyList<string>? Tags, DateTimeOffset? Since, DateTimeOffset? Until, double? MinImportance,
    bool IncludeArchived = false)
{
    public static Filters From(IQueryCollection q) => new(
        Mode: string.IsNullOrWhiteSpace(q["mode"]) ? null : q["mode"].ToString(),
        Namespaces: DashboardEndpoints.Tags(q["ns"]),
        Type: string.IsNullOrWhiteSpace(q["type"]) ? null : q["type"].ToString(),
        Tags: DashboardEndpoints.Tags(q["tags"]),
        Since: Date(q["since"]),
        Until: Date(q["until"]) is { } until ? until.AddDays(1) : null, // the day given is included
        MinImportance: double.TryParse(q["min_importance"], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var min) ? min : null,
        IncludeArchived: q["archived"] == "1");

    private static DateTimeOffset? Date(Microsoft.Extensions.Primitives.StringValues value) =>
        DateOnly.TryParseExact(value.ToString(), "yyyy-MM-dd", out var day) ? new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null;

    /// <summary>The filters as a query string (without a leading ?), for paging and sort links.</summary>
    public string ToQuery() => string.Join('&', new[]
    {
        Mode is null ? null : "mode=" + Html.Q(Mode),
        Namespaces is null ? null : "ns=" + Html.Q(string.Join(',', Namespaces)),
        Type is null ? null : "type=" + Html.Q(Type),
        Tags is null ? null : "tags=" + Html.Q(string.Join(',', Tags)),
        Since is { } s ? "since=" + s.UtcDateTime.ToString("yyyy-MM-dd") : null,
        Until is { } u ? "until=" + u.AddDays(-1).UtcDateTime.ToString("yyyy-MM-dd") : null,
        MinImportance is { } m ? "min_importance=" + Html.Num(m) : null,
        IncludeArchived ? "archived=1" : null,
    }.Where(p => p is not null));
}
