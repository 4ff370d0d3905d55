#!/usr/bin/env bash
# Debian's Chromium for the dashboard's browser tests (tests/McpMemory.BrowserTests, Playwright for .NET drives it through
# its executable path; no browser download). Not --no-install-recommends: fonts-liberation is only a Recommends.
# Idempotent: quiet and quick when Chromium is already there.
set -euo pipefail
if [ -x /usr/lib/chromium/chromium ] || command -v chromium >/dev/null 2>&1; then exit 0; fi
echo "installing chromium for the browser tests (apt-get)..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
