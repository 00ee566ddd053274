#!/usr/bin/env bash
# One-step set-up on a fresh Debian/Ubuntu machine: the system packages the keychain layer and
# the browser tests need, then a clean `npm ci` (which builds keytar from source against libsecret).
# Run as root or with sudo available. Set ELECTRON_SKIP_BINARY_DOWNLOAD=1 on machines without
# internet access (CI does); leave it unset on a desktop to get the Electron binary for `npm start`.
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
npm ci --no-audit --no-fund
