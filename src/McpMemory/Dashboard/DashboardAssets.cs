namespace McpMemory.Dashboard;

/// <summary>
/// The dashboard's only script and style sheet, shipped inside the tool (no CDN, no build step). They are served as
/// files, not inline, so that the Content-Security-Policy can forbid every inline script: even if some text slipped
/// through unencoded, the browser would not run it.
/// </summary>
public static class DashboardAssets
{
    public const string ScriptPath = "/assets/dashboard.js";
    public const string StylePath = "/assets/dashboard.css";

    /// <summary>No inline script or style, nothing from another origin, no framing, forms post only here.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public const string Script = """
        "use strict";
        (function () {
          const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

          // Search as you type: one request per pause in typing (debounced), the newest answer wins.
          const form = document.getElementById("search-form");
          const results = document.getElementById("results");
          if (form && results) {
            let timer = 0, sequence = 0;
            form.dataset.fetches = "0";
            const run = async () => {
              const params = new URLSearchParams(new FormData(form));
              const mine = ++sequence;
              form.dataset.fetches = String(Number(form.dataset.fetches) + 1);
              history.replaceState(null, "", "/search?" + params.toString());
              params.set("partial", "1");
              const response = await fetch("/search?" + params.toString(), { headers: { "Accept": "text/html" } });
              if (mine !== sequence) return;
              results.innerHTML = await response.text(); // server-rendered, every memory text already encoded
              results.setAttribute("aria-busy", "false");
            };
            const later = () => { clearTimeout(timer); results.setAttribute("aria-busy", "true"); timer = setTimeout(run, 300); };
            form.addEventListener("input", later);
            form.addEventListener("submit", e => { e.preventDefault(); clearTimeout(timer); run(); });
          }

          // Keyboard: arrow down from the query box into the results; arrows (or j/k) move between items of a list.
          document.addEventListener("keydown", e => {
            const target = e.target;
            const down = e.key === "ArrowDown" || (e.key === "j" && target.classList?.contains("hit"));
            const up = e.key === "ArrowUp" || (e.key === "k" && target.classList?.contains("hit"));
            if (!down && !up) return;
            if (target.id === "q" && down) {
              const first = document.querySelector("#results a.hit");
              if (first) { e.preventDefault(); first.focus(); }
              return;
            }
            if (!target.classList?.contains("hit")) return;
            const hits = Array.from(document.querySelectorAll("a.hit"));
            const i = hits.indexOf(target);
            const next = hits[down ? i + 1 : i - 1];
            e.preventDefault();
            if (next) next.focus();
            else if (up && document.getElementById("q")) document.getElementById("q").focus();
          });

          // Live list: poll the change mark; when it moves, fetch the list again.
          const live = document.querySelector("[data-live]");
          if (live) {
            const status = document.getElementById("live-status");
            let mark = live.dataset.mark;
            setInterval(async () => {
              try {
                const now = await (await fetch("/changes", { cache: "no-store" })).text();
                if (now === mark) return;
                mark = now;
                const url = new URL(location.href);
                url.searchParams.set("partial", "1");
                live.innerHTML = await (await fetch(url, { cache: "no-store" })).text();
                live.dataset.mark = mark;
                if (status) status.textContent = "Updated " + new Date().toLocaleTimeString();
              } catch (_) { /* the server restarted or the network blinked: try again next tick */ }
            }, Number(live.dataset.interval || 2000));
          }

          // Every fetch that changes something sends the session's CSRF token (forms carry it as a field).
          window.mcpMemoryCsrf = csrf;
        })();
        """;

    public const string Style = """
        :root { --fg: #1d232a; --muted: #5b6670; --line: #d8dde2; --bg: #fff; --accent: #1f5fbf; --bad: #a32020; --ok: #21733a; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 15px/1.45 system-ui, "Liberation Sans", "DejaVu Sans", sans-serif; color: var(--fg); background: #f5f7f9; }
        a { color: var(--accent); }
        a:focus, button:focus, input:focus, select:focus, textarea:focus { outline: 3px solid #f0a000; outline-offset: 1px; }
        .skip { position: absolute; left: -999px; } .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; }
        header { background: #17324d; color: #fff; display: flex; align-items: center; gap: 20px; padding: 8px 20px; }
        header a { color: #fff; text-decoration: none; padding: 4px 6px; border-radius: 4px; }
        header a[aria-current="page"] { background: #2f5a86; }
        header .who { margin-left: auto; font-size: 13px; opacity: .9; display: flex; gap: 10px; align-items: center; }
        header form { margin: 0; }
        main { max-width: 1100px; margin: 0 auto; padding: 16px 20px 40px; }
        h1 { font-size: 22px; margin: 8px 0 14px; } h2 { font-size: 17px; margin: 20px 0 8px; }
        .card { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px; margin-bottom: 14px; }
        .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 14px; }
        .filters { display: flex; flex-wrap: wrap; gap: 10px 14px; align-items: end; }
        form.filters label, form.stack label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
        form.stack { display: flex; flex-direction: column; gap: 8px; max-width: 700px; }
        input, select, textarea, button { font: inherit; padding: 4px 6px; border: 1px solid #aab4bd; border-radius: 4px; background: #fff; }
        input#q { width: 420px; max-width: 100%; font-size: 16px; }
        textarea { width: 100%; min-height: 90px; }
        button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
        button.secondary { background: #fff; color: var(--accent); }
        button.danger { background: var(--bad); border-color: var(--bad); }
        button:disabled { opacity: .5; cursor: not-allowed; }
        ol.hits, ul.hits { list-style: none; padding: 0; margin: 0; }
        .hits li { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin-bottom: 8px; }
        .hits .meta, .muted { color: var(--muted); font-size: 12px; }
        .content { white-space: pre-wrap; overflow-wrap: anywhere; margin: 4px 0; font: inherit; }
        pre.json { white-space: pre-wrap; overflow-wrap: anywhere; background: #f0f3f6; padding: 8px; border-radius: 4px; font-size: 13px; }
        .tag { display: inline-block; background: #e6eef8; color: #17324d; border-radius: 10px; padding: 0 8px; font-size: 12px; margin-right: 4px; }
        .alert { border-left: 4px solid var(--bad); background: #fdecec; padding: 8px 12px; margin-bottom: 12px; }
        .notice { border-left: 4px solid var(--ok); background: #e9f6ec; padding: 8px 12px; margin-bottom: 12px; }
        table { border-collapse: collapse; width: 100%; background: var(--bg); }
        th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; font-size: 14px; }
        .bar text { font-size: 10px; fill: var(--muted); }
        .pager { display: flex; gap: 12px; align-items: center; margin-top: 10px; }
        .history li { border-left: 3px solid var(--line); padding: 4px 10px; margin-bottom: 6px; list-style: none; }
        .history { padding: 0; }
        .kind { font-weight: 600; text-transform: uppercase; font-size: 11px; letter-spacing: .04em; }
        .legend span { display: inline-flex; align-items: center; gap: 4px; margin-right: 10px; font-size: 12px; }
        """;
}
