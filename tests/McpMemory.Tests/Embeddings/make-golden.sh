#!/usr/bin/env bash
# Regenerates the golden data for the encoder tests from the reference implementation (TensorFlow.js).
#
#   cp -r /work/shared/tools/use-reference /tmp/use-ref && (cd /tmp/use-ref && npm install --no-audit --no-fund)
#   tests/McpMemory.Tests/Embeddings/make-golden.sh [path-to-use-reference]
#
# Writes texts.json (make-texts.js) and golden.jsonl: one line per text,
#   {"text": ..., "ids": [...reference token ids, uncapped...], "vector": "<base64 of 512 little-endian float32>"}
# The vector is the reference output stored bit-exactly (the reference returns float32 values).
# The tests read only the committed files; node is not needed at test time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
ref="${1:-/tmp/use-ref}"
node "$here/make-texts.js"
node "$ref/embed.js" "$here/texts.json" | node -e '
  const lines = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean);
  for (const line of lines) {
    const { text, ids, vector } = JSON.parse(line);
    if (!Array.isArray(vector) || vector.length !== 512) throw new Error("bad vector for " + JSON.stringify(text));
    const bytes = Buffer.from(new Float32Array(vector).buffer);
    process.stdout.write(JSON.stringify({ text, ids, vector: bytes.toString("base64") }) + "\n");
  }' > "$here/golden.jsonl"
echo "wrote $(wc -l < "$here/golden.jsonl") golden lines" >&2
