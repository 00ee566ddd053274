#!/usr/bin/env bash
# One-step set-up on a fresh Debian/Ubuntu machine: the system packages the keychain layer and
# the browser tests need, then a clean `npm ci` (which builds keytar from source against libsecret).
# Run as root or with sudo available. The Electron binary (for `npm start`) is downloaded when
# possible; where it cannot be (no internet access), the install is retried without it, since the
# CLI and the tests do not need it. ELECTRON_SKIP_BINARY_DOWNLOAD=1 skips the attempt.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

if command -v apt-get >/dev/null 2>&1; then
  apt_packages=(dbus gnome-keyring libsecret-tools libsecret-1-dev chromium)
  missing=()
  for package in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
else
  echo "setup: no apt-get; install libsecret (Linux) yourself. macOS and Windows need nothing extra." >&2
fi

echo "setup: npm ci"
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
  echo "setup: on Node $(node --version), npm warns EBADENGINE for Electron's download and packaging tools" \
    "(electron, @electron/get, @electron/fuses, @electron-internal/extract-zip want Node >= 22.12);" \
    "the CLI and the tests do not use them: nothing to do (README, 'Node versions')."
fi
if ! npm ci --no-audit --no-fund; then
  if [ -n "${ELECTRON_SKIP_BINARY_DOWNLOAD:-}" ]; then exit 1; fi
  echo "setup: npm ci failed; retrying without the Electron binary (ELECTRON_SKIP_BINARY_DOWNLOAD=1)." >&2
  echo "setup: the CLI and the tests work; \`npm start\` needs a machine that can download Electron." >&2
  ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
