# Makes the client generators of tests/e2e/generated_clients.rs available: openapi-python-client,
# pinned, from PyPI into its own virtual environment at .venv-clients (never the system's
# Python). Sourced by scripts/test; to install it alone:
#   bash -c 'source scripts/lib/clients.sh && ensure_openapi_python_client'

source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

# The version the test is written against: a new one may generate other names.
OPENAPI_PYTHON_CLIENT_VERSION=0.29.1
CLIENTS_VENV=.venv-clients

python_venv_present() {
  command -v python3 >/dev/null 2>&1 &&
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 9))' &&
    python3 -m venv --help >/dev/null 2>&1
}

openapi_python_client_present() {
  [ -x "$CLIENTS_VENV/bin/openapi-python-client" ] &&
    [ "$("$CLIENTS_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("openapi-python-client"))' 2>/dev/null)" = \
      "$OPENAPI_PYTHON_CLIENT_VERSION" ]
}

ensure_openapi_python_client() {
  openapi_python_client_present && return 0
  apt_install "python3 (3.9 or later) and its venv module" "python3 python3-venv" python_venv_present
  echo "scripts/test: installing openapi-python-client $OPENAPI_PYTHON_CLIENT_VERSION into $CLIENTS_VENV (pip, from PyPI)" >&2
  rm -rf "$CLIENTS_VENV"
  python3 -m venv "$CLIENTS_VENV" >&2
  "$CLIENTS_VENV/bin/pip" install -q "openapi-python-client==$OPENAPI_PYTHON_CLIENT_VERSION" >&2
  openapi_python_client_present || {
    echo "scripts/test: pip did not install openapi-python-client $OPENAPI_PYTHON_CLIENT_VERSION into $CLIENTS_VENV" >&2
    return 1
  }
}
