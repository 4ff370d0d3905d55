#!/usr/bin/env bash
# Runs every test: restores the real MCP/agent clients the tests drive (npm, pinned by package-lock.json),
# then the whole .NET test suite in Release. Prints "N passed, N failed" at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every scripts/deps/*.sh installs one system dependency the tests need (Debian packages such as chromium,
# postgresql, the Native AOT toolchain) when it is missing; each is idempotent and quiet when all is there.
for dep in scripts/deps/*.sh; do
  [ -f "$dep" ] || continue
  bash "$dep"
done

# Every tests/<folder>/package-lock.json pins a set of real clients the tests drive.
for lock in tests/*/package-lock.json; do
  [ -f "$lock" ] || continue
  dir=$(dirname "$lock")
  if [ ! -d "$dir/node_modules" ] || [ "$lock" -nt "$dir/node_modules" ]; then
    echo "installing test clients (npm ci in $dir)..." >&2
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test McpMemory.sln -c Release 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# Sum the per-assembly summary lines ("Passed!  - Failed: 0, Passed: 72, Skipped: 0, ...").
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -oE 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -ne 0 ]; then exit "$status"; fi
if [ "$passed" -eq 0 ]; then echo "no test ran" >&2; exit 1; fi
