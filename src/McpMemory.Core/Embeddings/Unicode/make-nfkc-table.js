#!/usr/bin/env node
// Generates nfkc.txt, the Unicode data the managed NFKC normaliser (NfkcNormalizer.cs) runs on.
//
// Why Node: the reference tokenizer calls String.prototype.normalize("NFKC") in Node 20 (ICU 78.2,
// Unicode 17.0). .NET's string.Normalize is a no-op under InvariantGlobalization and otherwise depends on the
// machine's ICU (Debian 12 ships Unicode 15), so we carry our own table derived from the same ICU the
// reference used. Everything is read back through normalize(), so the table is exactly what that ICU does.
//
// Output lines (hex code points):
//   U <unicode version>
//   D <cp> <cp> <cp>...    full compatibility decomposition (NFKD) of cp, when it differs from cp
//                          (Hangul syllables are left out: they decompose algorithmically)
//   C <cp> <rank>          canonical combining class of cp as a rank (1..n) preserving the order of the real
//                          classes; only comparisons of classes matter to the algorithm
//   P <first> <second> <composite>   canonical composition pair (primary composites only; Hangul excluded)
//
// Usage: node make-nfkc-table.js > nfkc.txt
"use strict";
const hex = (c) => c.toString(16).toUpperCase();
const str = (c) => String.fromCodePoint(c);
const cps = (s) => [...s].map((ch) => ch.codePointAt(0));
const isHangulSyllable = (c) => c >= 0xac00 && c <= 0xd7a3;
const isSurrogate = (c) => c >= 0xd800 && c <= 0xdfff;

const out = [`U ${process.versions.unicode}`];
const marks = [];
const pairs = [];
for (let c = 0; c <= 0x10ffff; c++) {
  if (isSurrogate(c) || isHangulSyllable(c)) continue;
  const s = str(c);
  const nfkd = s.normalize("NFKD");
  if (nfkd !== s) out.push(`D ${hex(c)} ${cps(nfkd).map(hex).join(" ")}`);

  const nfd = s.normalize("NFD");
  if (nfd === s) {
    // Non-zero class test: U+0334 has class 1 and U+0345 class 240 (the extremes of the non-zero classes).
    // Canonical reordering swaps a pair (a, b) exactly when class(a) > class(b) > 0.
    const nonZero = (s + "\u0334").normalize("NFD") === "\u0334" + s || ("\u0345" + s).normalize("NFD") === s + "\u0345";
    if (nonZero && c !== 0x334 && c !== 0x345) marks.push(c);
    continue;
  }
  const d = cps(nfd);
  if (d.length >= 2 && nfd.normalize("NFC") === s) {
    const first = cps(String.fromCodePoint(...d.slice(0, -1)).normalize("NFC"));
    if (first.length !== 1) throw new Error(`composite ${hex(c)}: prefix does not compose to one code point`);
    pairs.push(`P ${hex(first[0])} ${hex(d[d.length - 1])} ${hex(c)}`);
  }
}
marks.push(0x334, 0x345);

// Order the marks by class: a sorts after b when NFD swaps "ab".
const greater = (a, b) => (str(a) + str(b)).normalize("NFD") === str(b) + str(a);
const cmp = (a, b) => (greater(a, b) ? 1 : greater(b, a) ? -1 : 0);
marks.sort(cmp);
let rank = 0;
for (let i = 0; i < marks.length; i++) {
  if (i === 0 || cmp(marks[i - 1], marks[i]) !== 0) rank++;
  out.push(`C ${hex(marks[i])} ${rank}`);
}
out.push(...pairs);
process.stdout.write(out.join("\n") + "\n");
