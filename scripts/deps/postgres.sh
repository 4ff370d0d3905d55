#!/usr/bin/env bash
# Debian's PostgreSQL server for the PostgreSQL backend's tests (tests/McpMemory.Tests/Support/PostgresServer.cs starts a
# throwaway cluster of its own with initdb/pg_ctl from /usr/lib/postgresql/<major>/bin; nothing is started here).
# Idempotent: quiet and quick when the server binaries are already there.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi
echo "installing postgresql for the PostgreSQL backend tests (apt-get)..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql >/dev/null
