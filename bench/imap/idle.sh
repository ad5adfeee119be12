#!/usr/bin/env bash
# 10,000 authenticated IDLE sessions on a Release govmail, without and with TLS (imaps): govmail's
# RSS/PSS and delivery-to-EXISTS latency (bench/imap/idle_bench.py), on a private durable
# PostgreSQL cluster under /tmp. Builds nothing:
#   bench/imap/idle.sh [BUILD_DIR] [idle_bench.py options, e.g. --sessions 10000 --smtp]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$ROOT/build}" && pwd)
shift || true
[ -x "$B/govmail" ] || { echo "build it first: ninja -C $B govmail" >&2; exit 1; }
W=/tmp/govmail-bench-imap-idle
PGPORT=${BENCH_PG_PORT:-24342}
source "$ROOT/scripts/lib/pg.sh"
pg_stop_cluster "$W/pg" 2>/dev/null || true
rm -rf "$W"; mkdir -p "$W"; chmod 755 "$W"
pg_init_cluster "$W/pg"
trap 'pg_stop_cluster "$W/pg"' EXIT
pg_start_cluster "$W/pg" "$PGPORT" -c max_connections=200 -c shared_buffers=256MB
ulimit -n "$(ulimit -Hn)"
export GOVMAIL_TEST_DATABASE_URL="host=$W/pg/sock port=$PGPORT user=postgres dbname=postgres"
export GOVMAIL_BIN=$B/govmail
python3 "$ROOT/bench/imap/idle_bench.py" "$@"
python3 "$ROOT/bench/imap/idle_bench.py" --tls "$@"
