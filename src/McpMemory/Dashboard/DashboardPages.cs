using System.Text;
using System.Text.Json;
using McpMemory.Core.Memories;
using McpMemory.Core.Search;
using McpMemory.Core.Storage;
using static McpMemory.Dashboard.Html;

namespace McpMemory.Dashboard;

/// <summary>
/// The dashboard's pages as HTML strings. Every value that comes from the store goes through <see cref="Html.E"/>;
/// links and attributes are built from ids (GUIDs) and encoded query values only.
/// </summary>
public static class DashboardPages
{
    private static readonly string[] Modes = [SearchResponse.Hybrid, SearchResponse.Fts, SearchResponse.Vector];

    // Colours of the memory types in the overview's chart (fixed order, so a type keeps its colour).
    private static readonly string[] Palette = ["#1f5fbf", "#d9822b", "#21733a", "#a32020", "#6b3fa0", "#1b8a8a", "#8a6d1b", "#5b6670"];

    public static string Login(string? error) => Layout("Sign in", null, null, $"""
        <h1>Sign in</h1>
        <div class="card">
        {(error is null ? "" : $"<p class=\"alert\" role=\"alert\">{E(error)}</p>")}
        <form class="stack" method="post" action="/login">
          <label for="key">API key <input id="key" name="key" type="password" autocomplete="current-password" required minlength="1" autofocus></label>
          <p class="muted">The key from the server's --api-key or keys file. It decides which namespaces you see and whether you can change them.</p>
          <div><button type="submit">Sign in</button></div>
        </form>
        </div>
        """);

    public static string Refused(string reason) => Layout("Refused", null, null, $"""
        <h1>Refused</h1><p class="alert" role="alert">{E(reason)}</p><p><a href="/">Back to the dashboard</a></p>
        """);

    public static string Error(DashboardRequest r, string message) => Layout("Error", r, null, $"""
        <h1>That did not work</h1><p class="alert" role="alert">{E(message)}</p><p><a href="/">Overview</a></p>
        """);

    // ---- overview ----------------------------------------------------------------------------------------------------

    public static string Overview(DashboardRequest r, DashboardStatus status)
    {
        var o = r.Memory.Overview(r.Caller);
        var sb = new StringBuilder();
        sb.Append("<h1>Overview</h1>");
        sb.Append(Notice(r));
        sb.Append("<div class=\"grid\">");
        sb.Append($"<div class=\"card\"><h2>Memories</h2><p><strong id=\"memory-count\">{o.Memories}</strong> in {o.Namespaces.Count} namespace(s)</p>");
        sb.Append($"<p class=\"muted\">{o.NeverAccessed} never accessed · {o.PendingEmbeddings} waiting for a vector</p></div>");
        sb.Append("<div class=\"card\"><h2>Encoder and index</h2>");
        sb.Append($"<p>Encoder: <strong>{E(status.Encoder ?? "not loaded yet")}</strong></p>");
        sb.Append($"<p>Keyword index: {(status.KeywordIndexReady ? "ready" : "building (search reads SQLite's FTS5 meanwhile)")}</p>");
        sb.Append($"<p>Vector index: {(status.VectorsReady ? "ready" : status.VectorError is { } err ? "failed: " + E(err) : status.Encoder?.StartsWith("off", StringComparison.Ordinal) == true ? "none" : "loading (search uses keywords meanwhile)")}</p></div>");
        sb.Append("<div class=\"card\"><h2>Database</h2>");
        sb.Append($"<p>{E(Path.GetFileName(r.Memory.Database.Path))}: <strong id=\"db-size\">{Bytes(o.FileBytes)}</strong></p>");
        sb.Append($"<p>Last backup: {(status.LastBackup is null ? "none in " + E(r.Options.BackupFolder) : E(status.LastBackup) + " " + Time(status.LastBackupAt))}</p>");
        if (r.Unrestricted)
        {
            if (r.CanChange)
                sb.Append($"<form method=\"post\" action=\"/backup\">{Csrf(r.Session)}<button type=\"submit\">Back up now</button></form>");
            sb.Append("<p>Export: <a href=\"/export.jsonl\" download>JSONL</a> · <a href=\"/export.md\" download>Markdown</a></p>");
        }
        sb.Append("</div></div>");

        sb.Append("<div class=\"card\"><h2>Memories over time, by type</h2>");
        sb.Append(Chart(o.PerWeek));
        sb.Append("</div><div class=\"grid\">");
        sb.Append("<div class=\"card\"><h2>Top tags</h2>");
        sb.Append(o.TopTags.Count == 0 ? "<p class=\"muted\">No tags yet.</p>" : "<ul>" + string.Concat(o.TopTags.Select(t =>
            $"<li><a href=\"/memories?tags={E(Q(t.Tag))}\"><span class=\"tag\">{E(t.Tag)}</span></a> {t.Count}</li>")) + "</ul>");
        sb.Append("</div><div class=\"card\"><h2>Namespaces</h2><ul>");
        foreach (var (ns, count) in o.Namespaces) sb.Append($"<li><a href=\"/memories?ns={E(Q(ns))}\">{E(ns)}</a> {count}</li>");
        sb.Append("</ul></div></div><div class=\"grid\">");
        sb.Append("<div class=\"card\"><h2>Most accessed</h2>").Append(ShortList(o.MostAccessed, m => $"{m.AccessCount}×")).Append("</div>");
        sb.Append($"<div class=\"card\"><h2>Never accessed ({o.NeverAccessed}), oldest</h2>").Append(ShortList(o.NeverAccessedOldest, m => m.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd"))).Append("</div>");
        sb.Append("</div>");
        return Layout("Overview", r, "/", sb.ToString());
    }

    private static string ShortList(IReadOnlyList<Memory> memories, Func<Memory, string> note) =>
        memories.Count == 0 ? "<p class=\"muted\">None.</p>" :
        "<ul>" + string.Concat(memories.Select(m => $"<li><a href=\"/memories/{m.Id:D}\">{E(Clip(m.Content, 80))}</a> <span class=\"muted\">{E(note(m))}</span></li>")) + "</ul>";

    /// <summary>Stacked bars per week, one colour per type, as inline SVG (no script, no library).</summary>
    private static string Chart(IReadOnlyList<(DateOnly Week, string MemoryType, long Count)> perWeek)
    {
        if (perWeek.Count == 0) return "<p class=\"muted\">No memories yet.</p>";
        var weeks = perWeek.Select(p => p.Week).Distinct().Order().ToList();
        // At most the last 26 weeks that have memories, so the bars stay readable.
        if (weeks.Count > 26) weeks = weeks[^26..];
        var types = perWeek.Select(p => p.MemoryType).Distinct().Order(StringComparer.Ordinal).ToList();
        var colour = types.Select((t, i) => (t, Palette[i % Palette.Length])).ToDictionary(x => x.t, x => x.Item2);
        var totals = weeks.ToDictionary(w => w, w => perWeek.Where(p => p.Week == w).Sum(p => p.Count));
        var max = Math.Max(1, totals.Values.Max());
        const int height = 160, barWidth = 26, gap = 8, left = 36, bottom = 24;
        var width = left + weeks.Count * (barWidth + gap) + 10;
        var sb = new StringBuilder();
        sb.Append($"<svg id=\"chart\" role=\"img\" aria-label=\"Memories stored per week, by type\" width=\"{width}\" height=\"{height + bottom + 6}\" viewBox=\"0 0 {width} {height + bottom + 6}\" class=\"bar\">");
        sb.Append($"<line x1=\"{left - 4}\" y1=\"{height}\" x2=\"{width}\" y2=\"{height}\" stroke=\"#aab4bd\"/>");
        sb.Append($"<text x=\"0\" y=\"10\">{max}</text><text x=\"0\" y=\"{height}\">0</text>");
        for (var i = 0; i < weeks.Count; i++)
        {
            var x = left + i * (barWidth + gap);
            var y = (double)height;
            foreach (var type in types)
            {
                var count = perWeek.Where(p => p.Week == weeks[i] && p.MemoryType == type).Sum(p => p.Count);
                if (count == 0) continue;
                var h = count * (height - 14.0) / max;
                y -= h;
                sb.Append($"<rect x=\"{x}\" y=\"{Num(y, "0.#")}\" width=\"{barWidth}\" height=\"{Num(h, "0.#")}\" fill=\"{colour[type]}\"><title>{E(type)}: {count} in the week of {weeks[i]:yyyy-MM-dd}</title></rect>");
            }
            sb.Append($"<text x=\"{x}\" y=\"{height + 14}\">{weeks[i]:MM-dd}</text>");
        }
        sb.Append("</svg><p class=\"legend\">");
        foreach (var type in types)
            sb.Append($"<span><svg width=\"10\" height=\"10\" aria-hidden=\"true\"><rect width=\"10\" height=\"10\" fill=\"{colour[type]}\"/></svg>{E(type)}</span>");
        sb.Append("</p>");
        return sb.ToString();
    }

    // ---- search ------------------------------------------------------------------------------------------------------

    public static string Search(DashboardRequest r, Filters f, string query, SearchResponse? response, string? error)
    {
        var sb = new StringBuilder("<h1>Search</h1>");
        sb.Append($"<form id=\"search-form\" class=\"filters card\" method=\"get\" action=\"/search\" role=\"search\">");
        sb.Append($"<label for=\"q\">Query <input id=\"q\" name=\"q\" type=\"search\" value=\"{E(query)}\" autocomplete=\"off\" autofocus></label>");
        sb.Append("<label for=\"mode\">Mode <select id=\"mode\" name=\"mode\">");
        foreach (var mode in Modes) sb.Append($"<option value=\"{mode}\"{(f.Mode == mode ? " selected" : "")}>{mode}</option>");
        sb.Append("</select></label>");
        sb.Append(FilterInputs(f));
        sb.Append("<button type=\"submit\">Search</button></form>");
        sb.Append("<div id=\"results\" aria-live=\"polite\">").Append(SearchResults(response, error)).Append("</div>");
        return Layout("Search", r, "/search", sb.ToString());
    }

    /// <summary>The results alone: the search page's body, and what search-as-you-type swaps in.</summary>
    public static string SearchResults(SearchResponse? response, string? error)
    {
        if (error is not null) return $"<p class=\"alert\" role=\"alert\">{E(error)}</p>";
        if (response is null) return "<p class=\"muted\">Type to search; arrow down moves into the results.</p>";
        var sb = new StringBuilder();
        sb.Append($"<p class=\"muted\" id=\"result-summary\">{response.Results.Count} result(s) · mode <strong>{E(response.Mode)}</strong>");
        if (response.FallbackReason is { } why) sb.Append($" · {E(why)}");
        sb.Append("</p><ol class=\"hits\" id=\"hits\">");
        var maxFinal = response.Results.Select(h => h.Explanation?.Final ?? h.Score).DefaultIfEmpty(1).Max();
        var maxFusion = response.Results.Select(h => h.Explanation?.Fusion ?? 0).DefaultIfEmpty(1).Max();
        foreach (var hit in response.Results)
        {
            var m = hit.Memory;
            sb.Append($"<li class=\"hit-item\" data-id=\"{m.Id:D}\"><a class=\"hit\" href=\"/memories/{m.Id:D}\"><span class=\"content\">{E(Clip(m.Content, 400))}</span></a>");
            sb.Append($"<div class=\"meta\">{E(m.MemoryType)} · {E(m.Namespace)} · importance {Num(m.Importance, "0.##")} · {Time(m.CreatedAt)} {TagList(m.Tags)}</div>");
            sb.Append(ScoreBar(hit, maxFinal, maxFusion));
            sb.Append("</li>");
        }
        sb.Append("</ol>");
        return sb.ToString();
    }

    /// <summary>The score as a bar (relative to the best result) and its factors as a line of text, from explain.</summary>
    private static string ScoreBar(SearchHit hit, double maxFinal, double maxFusion)
    {
        var x = hit.Explanation;
        var final = x?.Final ?? hit.Score;
        var share = maxFinal > 0 ? final / maxFinal : 0;
        var fusionShare = x is not null && maxFusion > 0 ? x.Fusion / maxFusion : 0;
        var factors = x is null ? "" : string.Join(" · ", new[]
        {
            x.FtsRank is { } fr ? $"keywords #{fr}" + (x.Bm25 is { } b ? $" (bm25 {Num(b, "0.00")})" : "") : null,
            x.VectorRank is { } vr ? $"meaning #{vr}" + (x.Similarity is { } s ? $" (cos {Num(s, "0.000")})" : "") : null,
            $"fusion {Num(x.Fusion, "0.0000")}",
            $"recency ×{Num(x.Recency, "0.00")}", $"access ×{Num(x.Access, "0.00")}", $"importance ×{Num(x.Importance, "0.00")}",
            $"feedback ×{Num(x.Feedback, "0.00")}", Math.Abs(x.Time - 1) > 1e-9 ? $"time ×{Num(x.Time, "0.00")}" : null,
        }.Where(s => s is not null));
        return $"""
            <div class="score"><svg class="bar" width="220" height="20" role="img" aria-label="score {Num(final, "0.0000")}, {Num(share * 100, "0")}% of the best">
            <rect x="0" y="2" width="200" height="7" fill="#e3e8ee"/><rect x="0" y="2" width="{Num(share * 200, "0.#")}" height="7" fill="#21733a"/>
            <rect x="0" y="11" width="200" height="5" fill="#eef1f4"/><rect x="0" y="11" width="{Num(fusionShare * 200, "0.#")}" height="5" fill="#1f5fbf"/></svg>
            <span class="muted">score <span class="score-value">{Num(final, "0.0000")}</span> · {E(factors)}</span></div>
            """;
    }

    private static string FilterInputs(Filters f)
    {
        var sb = new StringBuilder();
        sb.Append($"<label for=\"ns\">Namespaces <input id=\"ns\" name=\"ns\" value=\"{E(f.Namespaces is null ? "" : string.Join(',', f.Namespaces))}\" placeholder=\"all yours\"></label>");
        sb.Append("<label for=\"type\">Type <select id=\"type\" name=\"type\"><option value=\"\">any</option>");
        foreach (var type in MemoryTypes.All.Keys) sb.Append($"<option{(f.Type == type ? " selected" : "")}>{E(type)}</option>");
        sb.Append("</select></label>");
        sb.Append($"<label for=\"tags\">Tags <input id=\"tags\" name=\"tags\" value=\"{E(f.Tags is null ? "" : string.Join(',', f.Tags))}\" placeholder=\"a,b\"></label>");
        sb.Append($"<label for=\"since\">From <input id=\"since\" name=\"since\" type=\"date\" value=\"{f.Since?.UtcDateTime:yyyy-MM-dd}\"></label>");
        sb.Append($"<label for=\"until\">To <input id=\"until\" name=\"until\" type=\"date\" value=\"{f.Until?.AddDays(-1).UtcDateTime:yyyy-MM-dd}\"></label>");
        sb.Append($"<label for=\"min_importance\">Min. importance <input id=\"min_importance\" name=\"min_importance\" type=\"number\" min=\"0\" max=\"1\" step=\"0.1\" value=\"{(f.MinImportance is { } m ? Num(m) : "")}\"></label>");
        sb.Append($"<label for=\"archived\"><input id=\"archived\" name=\"archived\" type=\"checkbox\" value=\"1\"{(f.IncludeArchived ? " checked" : "")}> Include archived</label>");
        return sb.ToString();
    }

    // ---- memories list -----------------------------------------------------------------------------------------------

    public static string Memories(DashboardRequest r, Filters f, BrowseSort sort, BrowsePage? page, string? error, long mark)
    {
        var sb = new StringBuilder("<h1>Memories</h1>");
        sb.Append(Notice(r));
        sb.Append("<form id=\"list-form\" class=\"filters card\" method=\"get\" action=\"/memories\">");
        sb.Append(FilterInputs(f));
        sb.Append("<label for=\"sort\">Sort <select id=\"sort\" name=\"sort\">");
        foreach (var (value, label, s) in new[] { ("newest", "newest", BrowseSort.Newest), ("used", "most used", BrowseSort.MostUsed), ("importance", "importance", BrowseSort.Importance) })
            sb.Append($"<option value=\"{value}\"{(sort == s ? " selected" : "")}>{label}</option>");
        sb.Append("</select></label><button type=\"submit\">Apply</button></form>");
        sb.Append("<p class=\"muted\" id=\"live-status\" role=\"status\" aria-live=\"polite\">Updates live as agents store memories.</p>");
        sb.Append($"<div id=\"list\" data-live data-mark=\"{mark}\">").Append(ListItems(r, page, error, f, sort)).Append("</div>");
        return Layout("Memories", r, "/memories", sb.ToString());
    }

    public static string ListItems(DashboardRequest r, BrowsePage? page, string? error, Filters f, BrowseSort sort)
    {
        if (error is not null) return $"<p class=\"alert\" role=\"alert\">{E(error)}</p>";
        if (page is null) return "";
        var sb = new StringBuilder();
        var pages = Math.Max(1, (int)((page.Total + page.PageSize - 1) / page.PageSize));
        sb.Append($"<p class=\"muted\" id=\"list-summary\">{page.Total} memories · page {page.Page} of {pages}</p>");
        sb.Append("<ul class=\"hits\" id=\"memory-list\">");
        foreach (var m in page.Items)
        {
            sb.Append($"<li data-id=\"{m.Id:D}\"><a class=\"hit\" href=\"/memories/{m.Id:D}\"><span class=\"content\">{E(Clip(m.Content, 300))}</span></a>");
            sb.Append($"<div class=\"meta\">{E(m.MemoryType)} · {E(m.Namespace)} · importance {Num(m.Importance, "0.##")} · used {m.AccessCount}× · {Time(m.CreatedAt)} {TagList(m.Tags)}</div></li>");
        }
        sb.Append("</ul>");
        var query = f.ToQuery();
        var sortValue = sort switch { BrowseSort.MostUsed => "used", BrowseSort.Importance => "importance", _ => "newest" };
        string Link(int p) => E($"/memories?{(query.Length > 0 ? query + "&" : "")}sort={sortValue}&page={p}");
        sb.Append("<nav class=\"pager\" aria-label=\"Pages\">");
        if (page.Page > 1) sb.Append($"<a href=\"{Link(page.Page - 1)}\" rel=\"prev\">← Newer page</a>");
        if (page.Page < pages) sb.Append($"<a href=\"{Link(page.Page + 1)}\" rel=\"next\">Next page →</a>");
        sb.Append("</nav>");
        return sb.ToString();
    }

    // ---- one memory --------------------------------------------------------------------------------------------------

    public static string Detail(DashboardRequest r, Memory m, IReadOnlyList<MemoryVersion> history, FeedbackCounts feedback,
        IReadOnlyList<SearchHit> similar, string? error, string? notice)
    {
        var canChange = r.CanChange && r.Caller.CanWrite(m.Namespace);
        var sb = new StringBuilder("<h1>Memory</h1>");
        if (error is not null) sb.Append($"<p class=\"alert\" role=\"alert\">{E(error)}</p>");
        sb.Append(notice is null ? Notice(r) : $"<p class=\"notice\" role=\"status\">{E(notice)}</p>");
        if (m.SupersededBy is { } by) sb.Append($"<p class=\"alert\">Superseded by <a href=\"/memories/{by:D}\">{by:D}</a>; hidden from default search.</p>");
        if (m.ArchivedAt is { } archived) sb.Append($"<p class=\"alert\">Archived as stale on {E(archived.UtcDateTime.ToString("yyyy-MM-dd"))}; hidden from default search (mcp-memory unarchive {m.Id:D} brings it back).</p>");
        sb.Append($"<div class=\"card\"><pre class=\"content\" id=\"memory-content\">{E(m.Content)}</pre>");
        sb.Append("<table aria-label=\"Details\"><tbody>");
        Row(sb, "Id", $"<code id=\"memory-id\">{m.Id:D}</code>");
        Row(sb, "Type", E(m.MemoryType));
        Row(sb, "Namespace", E(m.Namespace));
        Row(sb, "Tags", TagList(m.Tags));
        Row(sb, "Importance", Num(m.Importance, "0.##"));
        Row(sb, "Accessed", $"<span id=\"access-count\">{m.AccessCount}</span>× {(m.LastAccessed is { } last ? "(last " + Time(last) + ")" : "")}");
        Row(sb, "Feedback", $"<span id=\"feedback-counts\">useful {feedback.Useful} · noted {feedback.Noted} · wrong {feedback.Wrong}</span>");
        Row(sb, "Created", Time(m.CreatedAt));
        Row(sb, "Updated", Time(m.UpdatedAt));
        if (m.ExpiresAt is { } expires) Row(sb, "Expires", Time(expires));
        Row(sb, "Agent", E(m.AgentId));
        if (m.SessionId is not null) Row(sb, "Session", E(m.SessionId));
        if (m.Source is not null) Row(sb, "Source", E(m.Source));
        Row(sb, "Vector", m.HasEmbedding ? "yes" : "not yet");
        if (m.Metadata is { Count: > 0 } meta)
            Row(sb, "Metadata", $"<pre class=\"json\">{E(Pretty(meta.ToJsonString()))}</pre>");
        sb.Append("</tbody></table></div>");

        if (canChange)
        {
            var id = m.Id.ToString("D");
            sb.Append("<div class=\"card\"><h2>Feedback</h2><div class=\"filters\">");
            foreach (var signal in new[] { "useful", "noted", "wrong" })
                sb.Append($"<form method=\"post\" action=\"/memories/{id}/feedback\">{Csrf(r.Session)}<input type=\"hidden\" name=\"signal\" value=\"{signal}\"><button type=\"submit\" class=\"secondary\">{signal}</button></form>");
            sb.Append("</div></div>");

            sb.Append($"<details class=\"card\" id=\"edit\"><summary>Edit (saved as a new version)</summary><form class=\"stack\" method=\"post\" action=\"/memories/{id}/edit\">{Csrf(r.Session)}");
            sb.Append($"<label for=\"edit-content\">Content <textarea id=\"edit-content\" name=\"content\" required>{E(m.Content)}</textarea></label>");
            sb.Append("<label for=\"edit-type\">Type <select id=\"edit-type\" name=\"memory_type\">");
            foreach (var type in MemoryTypes.All.Keys) sb.Append($"<option{(m.MemoryType == type ? " selected" : "")}>{E(type)}</option>");
            sb.Append("</select></label>");
            sb.Append($"<label for=\"edit-tags\">Tags <input id=\"edit-tags\" name=\"tags\" value=\"{E(string.Join(',', m.Tags))}\"></label>");
            sb.Append($"<label for=\"edit-importance\">Importance <input id=\"edit-importance\" name=\"importance\" type=\"number\" min=\"0\" max=\"1\" step=\"0.05\" value=\"{Num(m.Importance, "0.##")}\"></label>");
            sb.Append("<div><button type=\"submit\">Save new version</button></div></form></details>");

            sb.Append($"<details class=\"card\" id=\"supersede\"><summary>Supersede with another memory</summary><form class=\"stack\" method=\"post\" action=\"/memories/{id}/supersede\">{Csrf(r.Session)}");
            sb.Append("<label for=\"supersede-by\">Id of the memory that replaces this one <input id=\"supersede-by\" name=\"by\" required pattern=\"[0-9a-fA-F-]{36}\"></label>");
            sb.Append("<div><button type=\"submit\">Supersede</button></div></form></details>");

            sb.Append($"<details class=\"card\" id=\"delete\"><summary>Delete…</summary><form class=\"stack\" method=\"post\" action=\"/memories/{id}/delete\">{Csrf(r.Session)}");
            sb.Append("<p>The memory leaves search and the list; its text stays in the event log (history).</p>");
            sb.Append("<label for=\"delete-confirm\"><span><input id=\"delete-confirm\" type=\"checkbox\" name=\"confirm\" value=\"yes\" required> Yes, delete this memory</span></label>");
            sb.Append("<div><button type=\"submit\" class=\"danger\">Delete</button></div></form></details>");
        }
        else sb.Append("<p class=\"muted\" id=\"read-only\">Read-only: this key cannot change memories in this namespace.</p>");

        sb.Append("<div class=\"card\"><h2>History</h2><ol class=\"history\" id=\"history\">");
        foreach (var v in history)
        {
            sb.Append($"<li data-kind=\"{E(v.Kind)}\"><span class=\"kind\">{E(v.Kind)}</span> {Time(v.At)} ");
            sb.Append(v.MemoryId == m.Id ? "" : $"<a href=\"/memories/{v.MemoryId:D}\" class=\"muted\">{v.MemoryId:D}</a>");
            if (v.SupersededBy is { } successor) sb.Append($" <span class=\"muted\">→ <a href=\"/memories/{successor:D}\">{successor:D}</a></span>");
            if (v.Similarity is { } sim) sb.Append($" <span class=\"muted\">cos {Num(sim, "0.000")}</span>");
            if (v.Content is not null) sb.Append($"<pre class=\"content\">{E(v.Content)}</pre>");
            sb.Append("</li>");
        }
        sb.Append("</ol></div>");

        sb.Append("<div class=\"card\"><h2>Similar memories</h2>");
        sb.Append(similar.Count == 0 ? "<p class=\"muted\">None found.</p>" : "<ul class=\"hits\" id=\"similar\">" + string.Concat(similar.Select(h =>
            $"<li><a class=\"hit\" href=\"/memories/{h.Memory.Id:D}\"><span class=\"content\">{E(Clip(h.Memory.Content, 200))}</span></a><div class=\"meta\">{E(h.Memory.MemoryType)} · score {Num(h.Score, "0.000")}</div></li>")) + "</ul>");
        sb.Append("</div>");
        return Layout("Memory", r, "/memories", sb.ToString());
    }

    private static void Row(StringBuilder sb, string name, string html) => sb.Append($"<tr><th scope=\"row\">{name}</th><td>{html}</td></tr>");

    // ---- agent state -------------------------------------------------------------------------------------------------

    public static string State(DashboardRequest r, IReadOnlyList<StateEntry> entries, string? error, StateConflict? conflict)
    {
        var sb = new StringBuilder("<h1>Agent state</h1>");
        if (error is not null) sb.Append($"<p class=\"alert\" role=\"alert\">{E(error)}</p>");
        if (conflict is not null)
        {
            sb.Append($"<div class=\"alert\" role=\"alert\" id=\"conflict\"><strong>Conflict:</strong> {E(conflict.Key)} changed since you loaded it (stored version {conflict.CurrentVersion}). ");
            sb.Append($"Nothing was saved. {E(conflict.Message)}<br>Your value was: <pre class=\"json\">{E(conflict.TriedValue)}</pre></div>");
        }
        else sb.Append(Notice(r));
        if (entries.Count == 0) sb.Append("<p class=\"muted\">No state keys yet.</p>");
        else
        {
            sb.Append("<table id=\"state-table\"><thead><tr><th scope=\"col\">Key</th><th scope=\"col\">Namespace</th><th scope=\"col\">Agent</th><th scope=\"col\">Version</th><th scope=\"col\">Value</th></tr></thead><tbody>");
            var i = 0;
            foreach (var s in entries)
            {
                var editable = r.CanChange && r.Caller.CanWrite(s.Namespace);
                sb.Append($"<tr data-key=\"{E(s.Key)}\"><td>{E(s.Key)}<div class=\"muted\">{Time(s.UpdatedAt)}</div></td><td>{E(s.Namespace)}</td><td>{E(s.AgentId)}</td><td class=\"version\">{s.Version}</td><td>");
                if (editable)
                {
                    sb.Append($"<form class=\"stack\" method=\"post\" action=\"/state\">{Csrf(r.Session)}");
                    sb.Append($"<input type=\"hidden\" name=\"key\" value=\"{E(s.Key)}\"><input type=\"hidden\" name=\"namespace\" value=\"{E(s.Namespace)}\"><input type=\"hidden\" name=\"agent_id\" value=\"{E(s.AgentId)}\">");
                    sb.Append($"<input type=\"hidden\" name=\"expected_version\" value=\"{s.Version}\">");
                    sb.Append($"<label for=\"value-{i}\">Value of {E(s.Key)} (JSON) <textarea id=\"value-{i}\" name=\"value\">{E(Pretty(s.ValueJson))}</textarea></label>");
                    sb.Append($"<div><button type=\"submit\">Save (expects version {s.Version})</button></div></form>");
                }
                else sb.Append($"<pre class=\"json\">{E(Pretty(s.ValueJson))}</pre>");
                sb.Append("</td></tr>");
                i++;
            }
            sb.Append("</tbody></table>");
        }
        if (r.CanChange)
        {
            sb.Append($"<details class=\"card\"><summary>New key</summary><form class=\"stack\" method=\"post\" action=\"/state\">{Csrf(r.Session)}");
            sb.Append("<input type=\"hidden\" name=\"expected_version\" value=\"0\">");
            sb.Append("<label for=\"new-key\">Key <input id=\"new-key\" name=\"key\" required></label>");
            sb.Append($"<label for=\"new-namespace\">Namespace <input id=\"new-namespace\" name=\"namespace\" value=\"{E(r.Caller.DefaultNamespace)}\"></label>");
            sb.Append("<label for=\"new-value\">Value (JSON) <textarea id=\"new-value\" name=\"value\">\"\"</textarea></label>");
            sb.Append("<div><button type=\"submit\">Create</button></div></form></details>");
        }
        return Layout("Agent state", r, "/state", sb.ToString());
    }

    private static string Pretty(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
                document.WriteTo(writer);
            return Encoding.UTF8.GetString(stream.ToArray());
        }
        catch (JsonException) { return json; }
    }

    // ---- shared pieces -----------------------------------------------------------------------------------------------

    private static string Notice(DashboardRequest r)
    {
        var done = r.Http.Request.Query["done"].ToString();
        var text = done switch
        {
            "edited" => "Saved as a new version; the old text is in the history below.",
            "deleted" => "Deleted.",
            "superseded" => "Superseded.",
            "saved" => $"Saved {r.Http.Request.Query["key"]} (version {r.Http.Request.Query["version"]}).",
            "backup" => $"Backed up to {r.Http.Request.Query["file"]} (verified).",
            _ when done.StartsWith("feedback-", StringComparison.Ordinal) => $"Feedback recorded: {done["feedback-".Length..]}.",
            _ => null,
        };
        return text is null ? "" : $"<p class=\"notice\" role=\"status\" id=\"notice\">{E(text)}</p>";
    }

    private static string TagList(IReadOnlyList<string> tags) => string.Concat(tags.Select(t => $"<span class=\"tag\">{E(t)}</span>"));

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    private static string Layout(string title, DashboardRequest? r, string? current, string body)
    {
        var sb = new StringBuilder(body.Length + 2048);
        sb.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        sb.Append($"<title>{E(title)} · mcp-memory</title>");
        sb.Append($"<link rel=\"stylesheet\" href=\"{DashboardAssets.StylePath}\">");
        if (r is not null) sb.Append($"<meta name=\"csrf-token\" content=\"{E(r.Session.CsrfToken)}\">");
        sb.Append($"<script src=\"{DashboardAssets.ScriptPath}\" defer></script></head><body>");
        sb.Append("<a class=\"skip\" href=\"#main\">Skip to content</a><header><strong>mcp-memory</strong>");
        if (r is not null)
        {
            sb.Append("<nav aria-label=\"Dashboard\">");
            foreach (var (href, label) in new[] { ("/", "Overview"), ("/search", "Search"), ("/memories", "Memories"), ("/state", "Agent state") })
                sb.Append($"<a href=\"{href}\"{(href == current ? " aria-current=\"page\"" : "")}>{label}</a>");
            sb.Append("</nav><div class=\"who\">");
            sb.Append($"<span id=\"who\">{E(r.Session.Key.Label)}{(r.CanChange ? "" : " · read-only")}</span>");
            if (r.Session.Key.KeyNumber != 0)
                sb.Append($"<form method=\"post\" action=\"/logout\">{Csrf(r.Session)}<button type=\"submit\" class=\"secondary\">Sign out</button></form>");
            sb.Append("</div>");
        }
        sb.Append("</header><main id=\"main\">").Append(body).Append("</main></body></html>");
        return sb.ToString();
    }
}
