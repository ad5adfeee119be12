#!/usr/bin/env bash
# Runs bench_store against a private PostgreSQL cluster with DURABLE settings (default fsync and
# synchronous_commit), under the build directory, and stops it afterwards.
#   bench/store/run.sh [BUILD_DIR] [bench_store options...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
shift || true
source "$root/scripts/lib/pg.sh"
dir=$build/bench-pg
port=${GOVMAIL_BENCH_PG_PORT:-24397}
[ -x "$build/bench/store/bench_store" ] || { echo "build bench_store first (ninja -C $build bench_store)" >&2; exit 1; }
pg_stop_cluster "$dir" 2>/dev/null || true
rm -rf "$dir"
pg_init_cluster "$dir"
trap 'pg_stop_cluster "$dir"' EXIT
pg_start_cluster "$dir" "$port" -c max_connections=200 -c shared_buffers=512MB
url="host=$dir/sock port=$port user=postgres dbname=postgres"
"$build/bench/store/bench_store" --url "$url" "$@"
