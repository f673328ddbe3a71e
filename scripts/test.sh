#!/usr/bin/env bash
# The README's second command: every test of the workspace. The Redis and CLI tests start their own
# redis-server on a free loopback port; this installs it when it is missing (as root, with apt),
# and otherwise stops with the command to run. Nothing is skipped.
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

cargo test --workspace "$@"
