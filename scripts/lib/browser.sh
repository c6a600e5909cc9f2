# Makes what the console's browser tests need available, whatever state the machine is in:
# Debian's chromium and chromium-driver (never a browser build downloaded by a tool of its
# own), and axe-core from tests/browser/package-lock.json in tests/browser/node_modules.
# Sourced by scripts/test and scripts/screenshots.

source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

BROWSER_PACKAGES="chromium chromium-driver"

browser_present() {
  [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]
}

ensure_browser() {
  apt_install "chromium and chromedriver" "$BROWSER_PACKAGES" browser_present
}

AXE_DIR=tests/browser

axe_present() {
  [ -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ] &&
    # The installed version is the locked one (an older checkout's node_modules may linger).
    [ "$(node -p "require('./$AXE_DIR/node_modules/axe-core/package.json').version" 2>/dev/null)" = \
      "$(node -p "require('./$AXE_DIR/package-lock.json').packages['node_modules/axe-core'].version" 2>/dev/null)" ]
}

ensure_axe() {
  axe_present && return 0
  if ! command -v npm >/dev/null 2>&1; then
    echo "scripts/test: npm is missing; installing it (apt-get install -y --no-install-recommends npm)" >&2
    if [ "$(id -u)" != 0 ]; then
      echo "scripts/test: installing npm needs root: apt-get install -y --no-install-recommends npm" >&2
      return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends npm >&2; then
      apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends npm >&2
    fi
  fi
  echo "scripts/test: installing axe-core (cd $AXE_DIR && npm ci)" >&2
  (cd "$AXE_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2
  axe_present || {
    echo "scripts/test: npm ci in $AXE_DIR did not install the locked axe-core" >&2
    return 1
  }
}
