#!/usr/bin/env bash
# The Native AOT toolchain: packing the linux-x64 tool package (McpMemory.csproj, PublishAot) links the native executable
# with clang and lld against zlib. Installs them when missing; quiet when all is there. Idempotent.
set -euo pipefail
missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
command -v ld.lld >/dev/null 2>&1 || missing+=(lld)
dpkg -s zlib1g-dev >/dev/null 2>&1 || missing+=(zlib1g-dev)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing the Native AOT toolchain: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
