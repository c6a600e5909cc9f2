# Makes what the gateway tests (tests/e2e/gateways/) need available, whatever state the machine
# is in: Debian's nginx and caddy, run by the tests as child processes of their own (the
# packages' services are not used). Sourced by scripts/test and scripts/bench-load.

source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

GATEWAY_PACKAGES="nginx caddy"

gateways_present() {
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || return 1
  command -v caddy >/dev/null 2>&1 || [ -x /usr/bin/caddy ] || return 1
}

ensure_gateways() {
  # The packages start their own services where a service manager runs; the tests do not use them.
  apt_install "nginx and caddy" "$GATEWAY_PACKAGES" gateways_present
}
