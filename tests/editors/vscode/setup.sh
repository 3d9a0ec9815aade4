#!/usr/bin/env bash
# Installs what tests/editors/test_vscode.py needs (Debian, as root): Chromium and the
# build tools code-server's native modules compile with (apt), then code-server and
# playwright-core (npm) into a cache directory outside the checkout.
#   PHXGUARD_VSCODE_CACHE  where (default: ${XDG_CACHE_HOME:-~/.cache}/phxguard-vscode-test)
# Safe to run repeatedly: skips what is installed. Needs Node.js 20 (code-server 4.100.3).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${PHXGUARD_VSCODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/phxguard-vscode-test}

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
command -v make >/dev/null 2>&1 || missing+=(build-essential)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "vscode-test: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
node -e 'process.exit(process.versions.node.split(".")[0] === "20" ? 0 : 1)' || {
  echo "vscode-test: code-server 4.100.3 needs Node.js 20 (found $(node --version))" >&2
  exit 1
}

mkdir -p "$CACHE"
if [ -d "$CACHE/node_modules/code-server" ] && cmp -s "$HERE/package-lock.json" "$CACHE/installed.lock"; then
  echo "vscode-test: code-server already installed in $CACHE"
  exit 0
fi
cp "$HERE/package.json" "$HERE/package-lock.json" "$CACHE/"

# @vscode/ripgrep's postinstall would download rg from GitHub: seed its cache (in Node's
# os.tmpdir()) with Debian's rg instead.
RG_CACHE="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
mkdir -p "$RG_CACHE"
SEED=$(mktemp -d)
cp "$(command -v rg)" "$SEED/rg"
tar -czf "$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$SEED" rg
rm -rf "$SEED"

# Native modules build against the installed Node headers instead of downloading them.
NODE_PREFIX=$(dirname "$(dirname "$(command -v node)")")
if [ -f "$NODE_PREFIX/include/node/node.h" ]; then
  export npm_config_nodedir="$NODE_PREFIX"
fi
# unsafe_perm: code-server's postinstall refuses to run as root without it;
# yes: node-pty's postinstall runs `npx node-gyp`.
(cd "$CACHE" && npm_config_unsafe_perm=true npm_config_yes=true npm ci --no-audit --no-fund)
cp "$HERE/package-lock.json" "$CACHE/installed.lock"
echo "vscode-test: code-server installed in $CACHE"
