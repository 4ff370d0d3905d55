#!/usr/bin/env node
// Writes the test data for BertTokenizerTests: bert-agent-texts.json (the coding-agent texts below),
// bert-agent-ids.jsonl (Hugging Face's ids for each text, document and query mode, truncated to 512) and
// bert-random.jsonl ({text, ids}: seeded random strings drawn from every kind of bert-normalization.txt, Hangul,
// combining marks, any code point, ASCII and special-token fragments, in document mode), produced
// exactly as /work/shared/tools/bert-reference/tok.js produces ids.jsonl, with the tokenizer.json that
// make_tokenizer_json.py writes (ported here: python is not needed).
//
// Usage: npm install tokenizers@0.23.2 (in a scratch folder), then
//   NODE_PATH=<scratch>/node_modules node tests/McpMemory.Tests/Embeddings/make-bert-agent-data.js
"use strict";
const fs = require("fs");
const path = require("path");
const { Tokenizer } = require("tokenizers");
const here = __dirname;
const QUERY_PREFIX = "Represent this sentence for searching relevant passages: ";

const texts = [
  "git rebase -i HEAD~3 && git push --force-with-lease origin feature/bert_tokenizer",
  "dotnet test tests/McpMemory.Tests -c Release --no-build --filter \"FullyQualifiedName~BertTokenizerTests\"",
  "export PATH=$HOME/.dotnet/tools:$PATH; echo ${PATH%%:*} | tee -a ~/.bashrc >/dev/null 2>&1",
  "C:\\Users\\Ana\\source\\repos\\McpMemory\\src\\McpMemory.Core\\Embeddings\\Bert\\BertTokenizer.cs(172,40): error CS8352",
  "   at McpMemory.Core.Storage.Migrator.Apply(SqliteConnection connection) in /src/Storage/Migrator.cs:line 88\n   at System.Lazy`1.CreateValue()",
  "Traceback (most recent call last):\n  File \"/usr/lib/python3.11/json/decoder.py\", line 355, in raw_decode\nJSONDecodeError: Expecting value: line 1 column 1 (char 0)",
  "const x = arr.filter((v, i) => v !== null && i % 2 === 0).map(v => `${v}px`); // TODO(ana): O(n^2)?",
  "SELECT m.id, bm25(memories_fts) AS score FROM memories_fts JOIN memories m ON m.rowid = memories_fts.rowid WHERE memories_fts MATCH 'nginx OR \"reverse proxy\"' LIMIT 20;",
  "fix: NullReferenceException in HybridSearch when top_k=0 → return [] early; see #1234 and PR !56",
  "docker compose -f docker-compose.prod.yml up -d --build nginx certbot 2>&1 | grep -iE 'error|warn'",
  "Décision : on garde SQLite (WAL) plutôt que Postgres — moins d'opérations, sauvegarde à chaud via VACUUM INTO.",
  "Ошибка при сборке: не найден файл ‘appsettings.json’; Проверь путь и права доступа.",
  "配置文件在 ~/.config/mcp-memory/config.toml 里，修改后要重启服务器。日本語のテキストも混ざる：設定を保存しました。",
  "한국어 메모: 배포 스크립트는 매일 새벽 3시에 실행됩니다 (cron: 0 3 * * *).",
  "Emoji check 🚀🔥 deploy ok ✅ — latency p99 = 42 ms 👍🏽 and 𠀀𠀁 supplementary CJK, 𝐁𝐨𝐥𝐝 math letters",
  "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ １２３ and ligatures ﬁle ﬂow, Ⅻ, ½, ™, ℃, ㎏",
  "Special tokens in text: [CLS] start, middle[SEP]end, [MASK]ed, [UNK] and [PAD]; lowercase [sep] is not special, nor [ CLS ].",
  "Tabs\tand\r\nCRLF, NBSP\u00a0here, em\u2003space, ideographic\u3000space, zero\u200bwidth, soft\u00adhyphen, bell\u0007, NUL\u0000, BOM\ufeff, replacement \ufffd gone",
  "Combining: e\u0301 a\u0308 o\u0302\u0323 n\u0303 \u0130stanbul ΣΊΣΥΦΟΣ ǅungla ß İ ﬀ Å K Ω",
  "https://github.com/modelcontextprotocol/csharp-sdk/blob/main/src/ModelContextProtocol.Core/Server/McpServer.cs#L120-L140?plain=1",
  "{\"memory_id\":\"0b9f0c1e-3c1d-4c3e-9a7e-2f0d1c2b3a4f\",\"score\":0.8731,\"tags\":[\"nginx\",\"deploy\"],\"created_at\":\"2025-01-31T23:59:59Z\"}",
  "pneumonoultramicroscopicsilicovolcanoconiosis_supercalifragilisticexpialidocious_antidisestablishmentarianism_floccinaucinihilipilification_extra",
  "ǅ\u0345 ς σ Σ ΐ ᾼ ﬃ İı — Turkish dotted/dotless i, Greek iota subscript, Cherokee Ꭰ ꭰ, Deseret 𐐀 𐐨",
  "ML: tokens per second ≈ 1.2e6; α=0.5, β₂=0.999, ε=1e-8; loss → 0.03 ± 0.01 (σ²≈1e-4) ⇒ converged",
  "",
  "   \t\n  ",
];

// Seeded (mulberry32), so a rerun writes the same strings.
function randomTexts(count) {
  let seed = 19;
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (n) => Math.floor(next() * n);
  const table = fs.readFileSync(path.join(here, "../../../src/McpMemory.Core/Embeddings/Bert/bert-normalization.txt"), "utf8");
  const pool = [];
  for (const line of table.split("\n")) {
    if (!line || line[0] === "#") continue;
    const f = line.split(" ").slice(1).map((h) => parseInt(h, 16));
    if ("DSI".includes(line[0])) for (let k = 0; k < 2; k++) pool.push(f[0] + pick(f[1] - f[0] + 1));
    else pool.push(f[0]);
  }
  for (let k = 0; k < 200; k++) pool.push(0xac00 + pick(11172), 0x300 + pick(0x70), pick(0x110000));
  const ascii = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \t\n!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  const fragments = ["[SEP]", "[CLS]", "[MASK]", "[UNK]", "[PAD]", "[sep]", "[SE", "P]", "ing", "tion", "##", " "];
  const out = [];
  for (let t = 0; t < count; t++) {
    let s = "";
    for (let i = 0, n = 1 + pick(60); i < n; i++) {
      const r = pick(10);
      if (r < 4) s += ascii[pick(ascii.length)];
      else if (r < 5) s += fragments[pick(fragments.length)];
      else {
        const c = pool[pick(pool.length)];
        if (c < 0xd800 || c > 0xdfff) s += String.fromCodePoint(c);
      }
    }
    out.push(s);
  }
  // Words around the 100-character limit, made of characters that normalise ("É" -> "e").
  for (let t = 0; t < 20; t++) out.push(Array.from({ length: 95 + pick(10) }, () => (pick(2) ? "\u00c9" : "a")).join(""));
  return out;
}

function tokenizerJson(vocabPath) {
  const vocab = fs.readFileSync(vocabPath, "utf8").split(/\r?\n/);
  if (vocab[vocab.length - 1] === "") vocab.pop();
  const v = {};
  vocab.forEach((t, i) => (v[t] = i));
  const special = (t) => ({ id: v[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const cls = { SpecialToken: { id: "[CLS]", type_id: 0 } }, sep = { SpecialToken: { id: "[SEP]", type_id: 0 } };
  return JSON.stringify({
    version: "1.0", truncation: null, padding: null,
    added_tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].map(special),
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: { type: "TemplateProcessing",
      single: [cls, { Sequence: { id: "A", type_id: 0 } }, sep],
      pair: [cls, { Sequence: { id: "A", type_id: 0 } }, sep, { Sequence: { id: "B", type_id: 1 } }, { SpecialToken: { id: "[SEP]", type_id: 1 } }],
      special_tokens: { "[CLS]": { id: "[CLS]", ids: [v["[CLS]"]], tokens: ["[CLS]"] }, "[SEP]": { id: "[SEP]", ids: [v["[SEP]"]], tokens: ["[SEP]"] } } },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 100, vocab: v },
  });
}

(async () => {
  const tok = Tokenizer.fromString(tokenizerJson(path.join(here, "../../../models/arctic-embed-xs/vocab.txt")));
  tok.setTruncation(512);
  const rows = [];
  for (let i = 0; i < texts.length; i++)
    for (const query of [false, true]) {
      const e = await tok.encode((query ? QUERY_PREFIX : "") + texts[i]);
      rows.push(JSON.stringify({ index: i, query, ids: e.getIds(), tokens: e.getTokens() }));
    }
  const random = [];
  for (const text of randomTexts(300)) random.push(JSON.stringify({ text, ids: (await tok.encode(text)).getIds() }));
  fs.writeFileSync(path.join(here, "bert-agent-texts.json"), JSON.stringify(texts, null, 1) + "\n");
  fs.writeFileSync(path.join(here, "bert-agent-ids.jsonl"), rows.join("\n") + "\n");
  fs.writeFileSync(path.join(here, "bert-random.jsonl"), random.join("\n") + "\n");
  console.log(`${texts.length} texts, ${rows.length} encodings, ${random.length} random strings`);
})();
