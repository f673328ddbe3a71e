#!/usr/bin/env bash
# The README's second command: every test of the workspace. The Redis and CLI tests start their own
# redis-server on a free loopback port, the SQL store's tests their own PostgreSQL cluster; this
# installs redis-server and postgresql when they are missing (as root, with apt), and otherwise
# stops with the command to run. Nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v "${REDIS_SERVER:-redis-server}" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "redis-server is missing: installing it (apt-get install -y redis-server)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "redis-server is missing: install it (apt-get install -y redis-server) and run again" >&2
    exit 1
  fi
fi

# Where the tests look for PostgreSQL (webhook-guard-test-support's postgres_server): $PG_BIN,
# Debian's /usr/lib/postgresql/*/bin (off the PATH), or initdb on the PATH.
has_postgres() {
  if [ -n "${PG_BIN:-}" ]; then
    [ -x "$PG_BIN/initdb" ]
    return
  fi
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null 2>&1
}

if ! has_postgres; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "PostgreSQL is missing: installing it (apt-get install -y postgresql)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL is missing: install it (apt-get install -y postgresql) and run again" >&2
    exit 1
  fi
fi

cargo test --workspace "$@"
