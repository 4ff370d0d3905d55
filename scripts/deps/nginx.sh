#!/usr/bin/env bash
# Debian's nginx (nginx-light: the upstream hash module is built in) for the team-setup test
# (tests/McpMemory.Tests/Http/TeamProxyTests.cs runs two servers behind it; Support/NginxProxy.cs starts its own nginx
# with its own config in a temp folder; the package's service is not started here). Idempotent: quiet when installed.
set -euo pipefail
if [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1; then exit 0; fi
echo "installing nginx-light for the team-setup proxy test (apt-get)..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
