#!/usr/bin/env bash
# The IMAP mix of imaptest's default profile on big mailboxes (bench_imap_load mix: LIST/STATUS
# 50%, SELECT, FETCH 1:* of flags/envelope/bodystructure/header fields, a body and a part, STORE
# 50%, one message deleted + EXPUNGE, APPEND, LOGOUT), govmail and Dovecot (high-performance
# mode) side by side: CLIENTS clients over USERS users whose INBOX holds PER_USER messages of the
# generated 2,000-message mbox (attachments up to ~300 KB), SECONDS per run, the rate printed
# every 5 s (a decline shows), then the ratio of cycles (= logins) per second. Builds nothing:
#   bench/imap/mix.sh [BUILD_DIR]      CLIENTS=10 USERS=100 PER_USER=2000 SECONDS_MAX=60 ROUNDS=1
# The setup appends USERS x PER_USER messages to each server (200,000 by default: minutes, and
# ~4 GB each); USERS=20 PER_USER=500 for a quick look. PROFILE=1, PG_DEFAULTS=1 (PostgreSQL's
# defaults, as the embedded cluster of scripts/run) and PG_TCP=1 (over TCP, as an external server)
# as in bench/imap/server.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$ROOT/build}" && pwd)
GOVMAIL=$B/govmail
LOAD=$B/bench/imap/bench_imap_load
for bin in "$GOVMAIL" "$LOAD"; do
  [ -x "$bin" ] || { echo "build it first: ninja -C $B govmail bench_imap_load ($bin)" >&2; exit 1; }
done
W=${GOVMAIL_BENCH_DIR:-/tmp/govmail-bench-imap-mix}
PGPORT=${BENCH_PG_PORT:-24372}
CLIENTS=${CLIENTS:-10}
USERS=${USERS:-100}
PER_USER=${PER_USER:-2000}
SECONDS_MAX=${SECONDS_MAX:-60}
ROUNDS=${ROUNDS:-1}
source "$ROOT/bench/imap/server.sh"
trap bench_cleanup EXIT
profile_opts=()
[ "${PROFILE:-0}" = 1 ] && profile_opts=(-c shared_preload_libraries=pg_stat_statements
  -c pg_stat_statements.track=all)
start_servers "${profile_opts[@]}"
python3 "$ROOT/bench/imap/gen_mbox.py" "$W/bench.mbox" 2000

G=(127.0.0.1 "$IMAP_PORT" "$CLIENTS" "$USERS" 'user%d@bench.test' 'bench password' "$W/bench.mbox")
D=(127.0.0.1 10143 "$CLIENTS" "$USERS" 'user%d@anchors.test' pass "$W/bench.mbox")
echo "machine: $(nproc) cores, $(uname -r); govmail on PostgreSQL fsync=on synchronous_commit=on"
echo "setup: $USERS users, INBOX emptied and $PER_USER messages appended on each server"
"$LOAD" setup "${G[@]:0:7}" "$PER_USER" 3600 | grep TOTAL | sed 's/^/govmail setup /'
"$LOAD" setup "${D[@]:0:7}" "$PER_USER" 3600 | grep TOTAL | sed 's/^/dovecot setup /'
psql_q "ANALYZE" >/dev/null
# The search index of the setup's messages (minutes at 200,000) is not the mix's work: it would
# run on into the first round and take the CPU it measures.
DRAIN_MAX=${SETUP_DRAIN_MAX:-1800} wait_background_drained
[ "${PROFILE:-0}" = 1 ] && psql_q "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null \
  && psql_q "SELECT pg_stat_statements_reset()" >/dev/null
cycles_of() { sed -n 's/^TOTAL .* cycles_s=\([0-9.]*\) .*/\1/p' <<<"$1"; }
gs=""; ds=""
for r in $(seq 1 "$ROUNDS"); do
  echo "== mix, $CLIENTS clients, $USERS users of $PER_USER messages, ${SECONDS_MAX}s (round $r of $ROUNDS)"
  wait_background_drained  # the last round's
  c0=$(cpu_g)
  g=$("$LOAD" mix "${G[@]}" 100000000 "$SECONDS_MAX") || true
  sed 's/^/govmail  /' <<<"$g"
  wait_background_drained
  c1=$(cpu_g)
  echo "govmail  CPU ms per cycle (govmail + PostgreSQL, with its background work): $(per_cycle "$c0" "$c1" "$(cycle_count "$g")")"
  d0=$(cpu_d)
  d=$("$LOAD" mix "${D[@]}" 100000000 "$SECONDS_MAX") || true
  d1=$(cpu_d)
  sed 's/^/dovecot  /' <<<"$d"
  echo "dovecot  CPU ms per cycle: $(per_cycle "$d0" "$d1" "$(cycle_count "$d")")"
  gs="$gs $(cycles_of "$g")"; ds="$ds $(cycles_of "$d")"
done
echo "RATIO mix clients=$CLIENTS govmail_logins_s=[$gs ] dovecot_logins_s=[$ds ] ratio_of_sums=$(awk -v a="$gs" -v b="$ds" \
  'BEGIN{ n=split(a,x," "); split(b,y," "); s=0; t=0; for(i=1;i<=n;i++){s+=x[i]; t+=y[i]} if (t>0) printf "%.2f", s/t; else print "n/a"}')"
if [ "${PROFILE:-0}" = 1 ]; then
  psql -h "$W/pg/sock" -p "$PGPORT" -U postgres -d postgres -P pager=off -c "
    SELECT calls, round(total_exec_time) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
           left(regexp_replace(query, '\s+', ' ', 'g'), 100) AS query
    FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 20"
fi
