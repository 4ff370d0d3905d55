#!/usr/bin/env node
// Generates bert-normalization.txt, the per-character data BertTokenizer.cs runs on.
//
// Why from Hugging Face itself: the reference is Hugging Face's BertNormalizer + BertPreTokenizer (Rust, npm
// `tokenizers` 0.23.2). Their Unicode tables (control, non-spacing mark, punctuation, NFD, lowercase) come from
// Rust crates of various Unicode versions, so neither .NET's CharUnicodeInfo nor Node's ICU reproduces them
// exactly. Asking the reference about every code point does. (.NET's string.Normalize is moreover a no-op under
// InvariantGlobalization.)
//
// The reference works per character: clean text, CJK padding, NFD + dropping non-spacing marks and
// lowercasing all map one character to a fixed string, and the pre-tokenizer splits on whitespace and on each
// punctuation character. The one exception is NFD's canonical reordering of combining marks across characters;
// this script checks that no mark that survives normalisation with a non-zero combining class occurs in the
// vocabulary, so a word holding one becomes [UNK] whatever the order, and reordering cannot change an id.
//
// For every code point c the script normalises c to out and pre-tokenises "a" + out + "a", and writes (hex):
//   D <first> <last>    dropped (controls, format characters, private use, U+FFFD, ...)
//   S <first> <last>    becomes a space: ends the word
//   I <first> <last>    a word on its own: punctuation (every ASCII non-alphanumeric too) and CJK ideographs
//   M <cp> <out>...     replaced by <out> (lowercased, accents stripped) inside the word
//   N <cp> <out>        replaced by <out>, a word on its own (CJK compatibility ideographs)
// Code points not listed are kept as they are. Hangul syllables are left out: they decompose algorithmically
// (checked below). Surrogates are not code points; the tokenizer drops a lone one, as a UTF-8 encoder would
// turn it into U+FFFD, which is dropped.
//
// Usage: npm install tokenizers@0.23.2; node make-bert-table.js vocab.txt > bert-normalization.txt
"use strict";
const fs = require("fs");
const { bertNormalizer, bertPreTokenizer } = require("tokenizers");
const normalizer = bertNormalizer({ cleanText: true, handleChineseChars: true, lowercase: true });
const preTokenizer = bertPreTokenizer();
const vocabPath = process.argv[2];
if (!vocabPath) throw new Error("usage: node make-bert-table.js vocab.txt > bert-normalization.txt");

const hex = (c) => c.toString(16).toUpperCase();
const cps = (s) => [...s].map((ch) => ch.codePointAt(0));
const str = String.fromCodePoint;
const isSurrogate = (c) => c >= 0xd800 && c <= 0xdfff;
const isHangulSyllable = (c) => c >= 0xac00 && c <= 0xd7a3;
function hangul(c) {
  const s = c - 0xac00, l = 0x1100 + Math.floor(s / 588), v = 0x1161 + Math.floor((s % 588) / 28), t = s % 28;
  return t ? str(l, v, 0x11a7 + t) : str(l, v);
}
const combiningClassNonZero = (c) => {
  const s = str(c);
  return c === 0x334 || c === 0x345 || (s + "\u0334").normalize("NFD") === "\u0334" + s || ("\u0345" + s).normalize("NFD") === s + "\u0345";
};

const ranges = []; // [kind, first, last]
const lines = [];
const survivingMarks = new Set();
const addRange = (kind, c) => {
  const last = ranges[ranges.length - 1];
  if (last && last[0] === kind && last[2] === c - 1) last[2] = c;
  else ranges.push([kind, c, c]);
};
for (let c = 0; c <= 0x10ffff; c++) {
  if (isSurrogate(c)) continue;
  const s = str(c);
  const out = normalizer.normalizeString(s);
  for (const d of cps(out)) if (combiningClassNonZero(d)) survivingMarks.add(d);
  if (isHangulSyllable(c)) {
    if (out !== hangul(c)) throw new Error(`Hangul ${hex(c)} does not decompose algorithmically`);
    continue;
  }
  if (out === "") { addRange("D", c); continue; }
  if (out === " ") { addRange("S", c); continue; }
  const pieces = preTokenizer.preTokenizeString("a" + out + "a").map((p) => p[0]);
  const trimmed = out.trim();
  if (pieces.length === 1 && pieces[0] === "a" + out + "a") {
    if (out !== s) lines.push(`M ${hex(c)} ${cps(out).map(hex).join(" ")}`);
  } else if (pieces.length === 3 && pieces[0] === "a" && pieces[2] === "a" && pieces[1] === trimmed && cps(trimmed).length === 1) {
    if (trimmed === s) addRange("I", c);
    else lines.push(`N ${hex(c)} ${hex(trimmed.codePointAt(0))}`);
  } else {
    throw new Error(`${hex(c)}: unexpected shape ${JSON.stringify(out)} -> ${JSON.stringify(pieces)}`);
  }
}

const vocabChars = new Set();
for (const token of fs.readFileSync(vocabPath, "utf8").split(/\r?\n/)) for (const ch of token) vocabChars.add(ch.codePointAt(0));
const inVocab = [...survivingMarks].filter((c) => vocabChars.has(c));
if (inVocab.length) throw new Error(`combining marks in the vocabulary, reordering matters: ${inVocab.map(hex).join(" ")}`);

const out = [`# BERT normalisation, from Hugging Face tokenizers (npm ${require("tokenizers/package.json").version}) via make-bert-table.js`];
for (const [kind, first, last] of ranges) out.push(`${kind} ${hex(first)} ${hex(last)}`);
out.push(...lines);
process.stdout.write(out.join("\n") + "\n");
