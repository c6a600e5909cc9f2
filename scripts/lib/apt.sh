# Installing Debian packages a test needs, the one way every scripts/lib helper does it.
# Sourced by scripts/lib/browser.sh and scripts/lib/gateways.sh.

# apt_install WHAT "PACKAGES" PRESENT_CHECK: installs PACKAGES (as root) unless PRESENT_CHECK
# already succeeds, then fails unless PRESENT_CHECK succeeds. WHAT names them in messages.
apt_install() {
  local what=$1 packages=$2 present=$3
  "$present" && return 0
  echo "scripts/test: $what are not all installed; installing them (apt-get install -y --no-install-recommends $packages)" >&2
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/test: installing $packages needs root; run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends $packages" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine's package lists may be empty or old: update only when the packages are
  # not known yet, so an ordinary run makes no network request.
  # shellcheck disable=SC2086 # the package list is meant to split
  if ! apt-get install -y -qq --no-install-recommends $packages >&2; then
    apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends $packages >&2
  fi
  "$present" || {
    echo "scripts/test: $packages did not install $what" >&2
    return 1
  }
}
