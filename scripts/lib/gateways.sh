# Makes what the gateway tests (tests/e2e/gateways/) need available, whatever state the machine
# is in: Debian's nginx and caddy, run by the tests as child processes of their own (the
# packages' services are not used). Sourced by scripts/test and scripts/bench-load.

GATEWAY_PACKAGES="nginx caddy"

gateways_present() {
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || return 1
  command -v caddy >/dev/null 2>&1 || [ -x /usr/bin/caddy ] || return 1
}

ensure_gateways() {
  gateways_present && return 0
  echo "scripts/test: nginx or caddy is missing; installing them (apt-get install -y --no-install-recommends $GATEWAY_PACKAGES)" >&2
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/test: installing $GATEWAY_PACKAGES needs root; run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends $GATEWAY_PACKAGES" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Update the package lists only when the packages are not known yet, so an ordinary run
  # makes no network request.
  # shellcheck disable=SC2086 # the package list is meant to split
  if ! apt-get install -y -qq --no-install-recommends $GATEWAY_PACKAGES >&2; then
    apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends $GATEWAY_PACKAGES >&2
  fi
  # The packages start their own services where a service manager runs; the tests do not use
  # them, and a system nginx on port 80 is none of the tests' business either way.
  gateways_present || {
    echo "scripts/test: $GATEWAY_PACKAGES did not install nginx and caddy" >&2
    return 1
  }
}
