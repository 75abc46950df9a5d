#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: created in a temp dir, run as
# an unprivileged user, listening on loopback only. Installs Debian's
# postgresql when no server binaries are found (CI on a fresh machine).
#
#   eval "$(scripts/pg-test-cluster.sh start)"   # exports HORDEBOT_TEST_POSTGRES_URL and PGTEST_DIR
#   scripts/pg-test-cluster.sh stop "$PGTEST_DIR"
#
# The cluster runs with fsync off: it is for tests, and a test that kills
# hordebot does not kill the machine. Benchmarks start their own.
set -euo pipefail

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

cmd="${1:-start}"
case "$cmd" in
start)
  if ! bin="$(find_bin)"; then
    echo "== installing PostgreSQL from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
    bin="$(find_bin)"
  fi
  port="${PGTEST_PORT:-55432}"
  dir="$(mktemp -d /tmp/hordebot-pg.XXXXXX)"
  run=()
  if [ "$(id -u)" = 0 ]; then
    # initdb refuses root: run the cluster as an unprivileged user.
    user="${PGTEST_USER:-hordebot-pg}"
    id -u "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
    chown "$user" "$dir"
    run=(runuser -u "$user" --)
  fi
  "${run[@]}" "$bin/initdb" -D "$dir/data" -U hordebot -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 -c shared_buffers=256MB" \
    start >&2 || { cat "$dir/server.log" >&2; exit 1; }
  echo "export PGTEST_DIR='$dir'"
  echo "export HORDEBOT_TEST_POSTGRES_URL='postgres://hordebot@127.0.0.1:$port/postgres?sslmode=disable'"
  ;;
stop)
  dir="${2:?usage: $0 stop DIR}"
  bin="$(find_bin)"
  run=()
  [ "$(id -u)" = 0 ] && run=(runuser -u "$(stat -c %U "$dir")" --)
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
