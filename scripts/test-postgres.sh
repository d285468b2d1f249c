#!/usr/bin/env bash
# Starts (or stops) a throwaway PostgreSQL cluster on loopback for the test suite.
#   scripts/test-postgres.sh start   -> prints "<dir> <url>"
#   scripts/test-postgres.sh stop DIR
set -euo pipefail
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pgbin" ]; then
  echo "PostgreSQL server binaries not found: install the Debian package 'postgresql'" >&2
  exit 3
fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
  start)
    port=${NIXSPACE_TEST_PG_PORT:-$((20000 + RANDOM % 20000))}
    dir=$(mktemp -d /tmp/nixspace-test-pg.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    as_pg "$pgbin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 >/dev/null
    as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
      "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null
    echo "$dir postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_pg "$pgbin/pg_ctl" -D "$2/data" -m immediate stop >/dev/null || true
    rm -rf "$2"
    ;;
  *)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
