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
  apt_packages=(dbus gnome-keyring libsecret-tools libsecret-1-dev chromium bash-completion)
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

# fishbowl-llm on PATH: npm's global bin links to this checkout's bin (npm link), so a new shell
# runs the plain command; where npm's global folder is not writable (no root), ~/.local/bin gets the
# link instead (Debian's ~/.profile puts it on PATH when it exists). Bash completion goes where
# bash-completion looks in every new shell.
echo "setup: fishbowl-llm on PATH"
if [ -w "$(npm prefix -g)/lib" ] || [ -w "$(npm prefix -g)" ]; then
  npm link --workspace @fishbowl/desktop --no-audit --no-fund >/dev/null
else
  mkdir -p "$HOME/.local/bin"
  ln -sf "$PWD/apps/desktop/bin/fishbowl-llm.cjs" "$HOME/.local/bin/fishbowl-llm"
  case ":$PATH:" in *":$HOME/.local/bin:"*) ;; *) echo "setup: add ~/.local/bin to PATH (open a new login shell, or: export PATH=\"\$HOME/.local/bin:\$PATH\")" ;; esac
fi
completions="${XDG_DATA_HOME:-$HOME/.local/share}/bash-completion/completions"
mkdir -p "$completions"
node apps/desktop/bin/fishbowl-llm.cjs completions bash > "$completions/fishbowl-llm"
echo "setup: $(command -v fishbowl-llm || echo "$HOME/.local/bin/fishbowl-llm") $(node apps/desktop/bin/fishbowl-llm.cjs --version); bash completion in $completions"

