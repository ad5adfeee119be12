#!/usr/bin/env bash
# Bulk import benchmark: `govmail admin import` of generated provinces (Vietnamese names, many
# collisions) into a private PostgreSQL cluster with DURABLE settings (fsync and synchronous_commit
# on), compared with the raw argon2id throughput of this machine on every core at the same cost.
# Hashing is meant to be the only limit: the target is accounts/s >= 90% of argon2id/s.
#   bench/admin/run.sh [BUILD_DIR] [COUNTS...]     (default counts: 10000 50000)
# ARGON2_OPS / ARGON2_MEM override the cost (default: the config default, opslimit 2, 64 MiB).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
shift || true
counts=${*:-10000 50000}
ops=${ARGON2_OPS:-2}
mem=${ARGON2_MEM:-67108864}
source "$root/scripts/lib/pg.sh"
for bin in govmail bench/admin/bench_admin; do
  [ -x "$build/$bin" ] || { echo "build $bin first (ninja -C $build govmail bench_admin)" >&2; exit 1; }
done
# Always under /tmp: the cluster runs as user postgres, which cannot reach a build directory
# inside a 0700 home or checkout (nor a private TMPDIR).
w=${GOVMAIL_BENCH_DIR:-/tmp/govmail-bench-admin}
port=${GOVMAIL_BENCH_PG_PORT:-24398}
pg_stop_cluster "$w/pg" 2>/dev/null || true
rm -rf "$w"; mkdir -p "$w"; chmod 755 "$w"
pg_init_cluster "$w/pg"
trap 'pg_stop_cluster "$w/pg"' EXIT
pg_start_cluster "$w/pg" "$port" -c max_connections=50 -c shared_buffers=256MB
export GOVMAIL_DATABASE_URL="host=$w/pg/sock port=$port user=postgres dbname=postgres"
cat >"$w/govmail.toml" <<CONF
[server]
hostname = "mail.bench.gov.vn"
var_dir = "$w/var"

[auth]
argon2_opslimit = $ops
argon2_memlimit = $mem
hash_workers = 0
CONF
admin() { "$build/govmail" admin --config "$w/govmail.toml" "$@"; }

# The raw rate is measured before and after each import and averaged: on a shared machine the
# load changes while an import runs, and one measurement taken before it would be unfair either way.
raw_count=${RAW_COUNT:-400}
raw_rate() {
  echo "raw argon2id throughput (every core, $raw_count hashes)..." >&2
  "$build/bench/admin/bench_admin" --count "$raw_count" --ops "$ops" --mem "$mem" | tee /dev/stderr |
    awk '/^argon2id_per_s/ {print $2}'
}
raw_after=$(raw_rate)

for n in $counts; do
  domain="b$n.bench.gov.vn"
  python3 "$here/gen_csv.py" "$n" "$w/units.csv" "$w/accounts-$n.csv"
  admin domain add "$domain" >/dev/null
  admin unit import "$w/units.csv" >/dev/null
  rm -f "$w/creds-$n.csv"
  raw_before=$raw_after
  start=$(date +%s.%N)
  admin import "$w/accounts-$n.csv" --domain "$domain" --credentials "$w/creds-$n.csv" \
    >"$w/import-$n.out" 2>"$w/import-$n.err" || { cat "$w/import-$n.err" >&2; exit 1; }
  end=$(date +%s.%N)
  raw_after=$(raw_rate)
  raw=$(python3 -c "print(($raw_before + $raw_after) / 2)")
  created=$(awk '$1 == "created" {print $2}' "$w/import-$n.out")
  phases=$(grep '^hashing' "$w/import-$n.err" || true)
  rerun_start=$(date +%s.%N)
  admin import "$w/accounts-$n.csv" --domain "$domain" >"$w/rerun-$n.out" 2>&1
  rerun_end=$(date +%s.%N)
  unchanged=$(awk '$1 == "unchanged" {print $2}' "$w/rerun-$n.out")
  python3 - "$n" "$created" "$start" "$end" "$raw" "$phases" "$unchanged" "$rerun_start" "$rerun_end" <<'PY'
import sys
n, created, start, end, raw, phases, unchanged, rs, re_ = sys.argv[1:]
secs = float(end) - float(start)
rate = int(created) / secs
print(f"import {n}: created {created} in {secs:.1f} s = {rate:.1f} accounts/s ({phases}); "
      f"raw argon2id {float(raw):.1f}/s (mean of before and after); ratio {100 * rate / float(raw):.1f}% (target >= 90%); "
      f"re-run: {unchanged} unchanged in {float(re_) - float(rs):.1f} s")
PY
done
