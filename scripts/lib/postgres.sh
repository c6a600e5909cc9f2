# Makes a PostgreSQL server available on 127.0.0.1:5432 for the tests, whatever state the
# machine is in: running already, installed but stopped, or not installed at all.
# Sourced by scripts/test and scripts/bench-load; exports TOLLGATE_TEST_DATABASE_URL.

: "${TOLLGATE_TEST_DATABASE_URL:=postgres://postgres@127.0.0.1:5432/postgres}"
export TOLLGATE_TEST_DATABASE_URL

pg_answers() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p 5432 -U postgres
  else
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}

pg_wait() {
  for _ in $(seq 1 60); do
    pg_answers && return 0
    sleep 0.5
  done
  return 1
}

pg_start_clusters() {
  command -v pg_ctlcluster >/dev/null 2>&1 || return 1
  local started=1
  for dir in /etc/postgresql/*/main; do
    [ -d "$dir" ] || continue
    local version
    version=$(basename "$(dirname "$dir")")
    echo "scripts/test: starting PostgreSQL $version (pg_ctlcluster --skip-systemctl-redirect $version main start)" >&2
    pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>&1 | sed 's/^/  /' >&2 || true
    started=0
  done
  return $started
}

# A fresh Debian install asks for passwords on TCP; the tests connect as `postgres` without
# one, as on the development machines, so trust local TCP connections (this is a test machine).
pg_trust_local_tcp() {
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    [ -f "$hba" ] || continue
    if ! grep -q '^# tollgate-tests' "$hba"; then
      { echo '# tollgate-tests: trust loopback TCP for the test suite'
        echo 'host all all 127.0.0.1/32 trust'
        echo 'host all all ::1/128 trust'
        cat "$hba"; } > "$hba.new" && mv "$hba.new" "$hba"
      chown postgres:postgres "$hba" 2>/dev/null || true
    fi
  done
}

pg_install() {
  echo "scripts/test: PostgreSQL is not installed; installing it (apt-get install -y postgresql)" >&2
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/test: installing PostgreSQL needs root" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
  pg_trust_local_tcp
}

ensure_postgres() {
  pg_answers && return 0
  pg_start_clusters && pg_wait && return 0
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    pg_install && { pg_start_clusters || true; } && pg_wait && return 0
  fi
  cat >&2 <<'MSG'
scripts/test: PostgreSQL does not answer on 127.0.0.1:5432 and could not be started.
Start it with:   pg_ctlcluster --skip-systemctl-redirect 15 main start
or install it:   apt-get install -y postgresql
(or point TOLLGATE_TEST_DATABASE_URL at a server where user postgres may create databases).
MSG
  return 1
}

# Test databases are created per test (tollgate_test_<uuid>); drop what earlier runs left.
drop_stale_test_databases() {
  command -v psql >/dev/null 2>&1 || return 0
  psql "$TOLLGATE_TEST_DATABASE_URL" -qAt -c \
    "SELECT datname FROM pg_database WHERE datname LIKE 'tollgate\_test\_%'" 2>/dev/null |
    while read -r db; do
      psql "$TOLLGATE_TEST_DATABASE_URL" -q -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
}
