#!/usr/bin/env node
// Writes nfkc-golden.json: [[input, NFKC(input)], ...] computed by Node's ICU (the reference's normaliser),
// for random strings drawn from ranges where decomposition, reordering and composition are interesting.
// Deterministic (seeded PRNG). Usage: node make-nfkc-golden.js
"use strict";
const fs = require("fs");
const path = require("path");
let seed = 77;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
const ranges = [
  [0x41, 0x7a], [0xa0, 0x24f], [0x300, 0x36f], [0x300, 0x36f], [0x370, 0x3ff], [0x400, 0x4ff], [0x591, 0x5c7],
  [0x610, 0x65f], [0x900, 0x97f], [0x9bc, 0x9d7], [0xe30, 0xe4e], [0xf00, 0xfff], [0x1100, 0x11ff], [0x1b00, 0x1b7f],
  [0x1d00, 0x1dff], [0x1e00, 0x1fff], [0x2000, 0x2bff], [0x3000, 0x33ff], [0xac00, 0xd7a3], [0xf900, 0xfaff],
  [0xfb00, 0xfdff], [0xfe00, 0xfeff], [0xff00, 0xffef], [0x1d100, 0x1d1ff], [0x1d400, 0x1d7ff], [0x1f100, 0x1f2ff],
  [0x2f800, 0x2fa1f], [0x1cc00, 0x1ceff], [0x11000, 0x1107f], [0x11100, 0x1114f],
];
const pairs = [];
for (let k = 0; k < 3000; k++) {
  let s = "";
  const n = 1 + Math.floor(rand() * 10);
  for (let i = 0; i < n; i++) {
    const [lo, hi] = ranges[Math.floor(rand() * ranges.length)];
    s += String.fromCodePoint(lo + Math.floor(rand() * (hi - lo + 1)));
  }
  pairs.push([s, s.normalize("NFKC")]);
}
fs.writeFileSync(path.join(__dirname, "nfkc-golden.json"), JSON.stringify(pairs) + "\n");
console.error(`${pairs.length} pairs (Unicode ${process.versions.unicode})`);
