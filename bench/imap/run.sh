#!/usr/bin/env bash
# IMAP benchmark, govmail and Dovecot (high-performance mode) side by side on this machine, with
# the mix of Dovecot's imaptest: LOGIN, SELECT INBOX, FETCH 1:* (ENVELOPE FLAGS), FETCH of three
# whole bodies, two STOREs, APPEND (from a generated 2,000-message mbox), EXPUNGE, LOGOUT.
# govmail runs on a private durable PostgreSQL cluster (fsync on) under /tmp with 100 users of
# one password (argon2id at the config default cost); both servers get every user's INBOX
# prefilled with 20 messages of the mbox by the load generator's setup phase. Prints per-command
# ops/s and p50/p99 per run, then the govmail/Dovecot ratio of total ops/s per client count, and
# how many govmail logins were answered from the verified-credentials cache. Builds nothing:
#   bench/imap/run.sh [BUILD_DIR]     (a Release build with targets govmail and bench_imap_load)
# CLIENTS="10 50" CYCLES=3000 SECONDS_MAX=60 PER_USER=20 ROUNDS=3 override the defaults; each
# client count runs ROUNDS times per server, alternating, and the ratio is of the medians. PROFILE=1 also
# loads pg_stat_statements and prints, after the runs, govmail's statements by PostgreSQL time.
# PG_DEFAULTS=1 runs PostgreSQL with its defaults (the embedded cluster's settings) instead of
# max_connections=200 shared_buffers=256MB.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$ROOT/build}" && pwd)
GOVMAIL=$B/govmail
LOAD=$B/bench/imap/bench_imap_load
for bin in "$GOVMAIL" "$LOAD"; do
  [ -x "$bin" ] || { echo "build it first: ninja -C $B govmail bench_imap_load ($bin)" >&2; exit 1; }
done
# Always under /tmp (the cluster runs as user postgres); GOVMAIL_BENCH_DIR lets two runs coexist.
W=${GOVMAIL_BENCH_DIR:-/tmp/govmail-bench-imap}
PGPORT=${BENCH_PG_PORT:-24352}
CLIENTS=${CLIENTS:-"10 50"}
CYCLES=${CYCLES:-3000}
SECONDS_MAX=${SECONDS_MAX:-60}
PER_USER=${PER_USER:-20}
ROUNDS=${ROUNDS:-3}
USERS=100
source "$ROOT/bench/imap/server.sh"
trap bench_cleanup EXIT

profile_opts=()
[ "${PROFILE:-0}" = 1 ] && profile_opts=(-c shared_preload_libraries=pg_stat_statements,auto_explain -c auto_explain.log_min_duration=2 -c auto_explain.log_nested_statements=on
  -c pg_stat_statements.track=all -c pg_stat_statements.track_planning=on)
# shellcheck disable=SC2086
start_servers ${EXTRA_PG:-} "${profile_opts[@]}"
python3 "$ROOT/bench/imap/gen_mbox.py" "$W/bench.mbox" 2000

G=(127.0.0.1 "$IMAP_PORT")
GU=('user%d@bench.test' 'bench password')
D=(127.0.0.1 10143)
DU=('user%d@anchors.test' pass)
echo "machine: $(nproc) cores, $(uname -r); govmail on PostgreSQL fsync=on synchronous_commit=on"
echo "setup: $USERS users each, INBOX emptied and $PER_USER messages appended"
"$LOAD" setup "${G[@]}" 10 $USERS "${GU[@]}" "$W/bench.mbox" "$PER_USER" 300 | grep TOTAL | sed 's/^/govmail setup /'
"$LOAD" setup "${D[@]}" 10 $USERS "${DU[@]}" "$W/bench.mbox" "$PER_USER" 300 | grep TOTAL | sed 's/^/dovecot setup /'
# A server in service has planner statistics; a cluster created a minute ago has none until
# autovacuum's first pass, and plans made on empty tables (seq scans) would be measured instead.
psql_q "ANALYZE" >/dev/null
total_ops() { sed -n 's/^TOTAL .* ops_s=\([0-9.]*\) .*/\1/p' <<<"$1"; }
errors_of() { sed -n 's/^TOTAL .* errors=\([0-9]*\).*/\1/p' <<<"$1"; }
summary=()
if [ "${PROFILE:-0}" = 1 ]; then
  psql_q "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
  psql_q "SELECT pg_stat_statements_reset()" >/dev/null
fi
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
for c in $CLIENTS; do
  # Rounds alternate the two servers: the machine's state (page cache, writeback of the last
  # run) drifts, and whichever ran second would otherwise pay for it.
  gs=""; ds=""; ge=0; de=0; gc=""; dc=""
  for r in $(seq 1 "$ROUNDS"); do
    echo "== $c clients, $USERS users, at most $CYCLES cycles or ${SECONDS_MAX}s (round $r of $ROUNDS)"
    wait_background_drained  # the setup's or the last round's
    c0=$(cpu_g)
    g=$("$LOAD" run "${G[@]}" "$c" $USERS "${GU[@]}" "$W/bench.mbox" "$CYCLES" "$SECONDS_MAX") || true
    c1=$(cpu_g)
    sed 's/^/govmail  /' <<<"$g"
    wait_background_drained
    c2=$(cpu_g)
    n=$(cycle_count "$g")
    echo "govmail  CPU ms per cycle (govmail + PostgreSQL): $(per_cycle "$c0" "$c1" "$n") in the round, $(per_cycle "$c0" "$c2" "$n") with the background work it left"
    gc="$gc $(per_cycle "$c0" "$c2" "$n")"
    d0=$(cpu_d)
    d=$("$LOAD" run "${D[@]}" "$c" $USERS "${DU[@]}" "$W/bench.mbox" "$CYCLES" "$SECONDS_MAX") || true
    d1=$(cpu_d)
    sed 's/^/dovecot  /' <<<"$d"
    echo "dovecot  CPU ms per cycle: $(per_cycle "$d0" "$d1" "$(cycle_count "$d")")"
    dc="$dc $(per_cycle "$d0" "$d1" "$(cycle_count "$d")")"
    gs="$gs $(total_ops "$g")"; ds="$ds $(total_ops "$d")"
    ge=$((ge + $(errors_of "$g"))); de=$((de + $(errors_of "$d")))
  done
  gr=$(median <<<"$gs"); dr=$(median <<<"$ds")
  summary+=("RATIO clients=$c govmail_ops_s=$gr dovecot_ops_s=$dr ratio=$(awk -v a="$gr" -v b="$dr" \
    'BEGIN{ if (b>0) printf "%.2f", a/b; else print "n/a"}') (medians of$gs and$ds) govmail_errors=$ge dovecot_errors=$de")
  gcm=$(median <<<"$gc"); dcm=$(median <<<"$dc")
  summary+=("CPU clients=$c govmail_ms_per_cycle=$gcm dovecot_ms_per_cycle=$dcm efficiency_ratio=$(awk -v a="$gcm" -v b="$dcm" \
    'BEGIN{ if (a>0) printf "%.2f", b/a; else print "n/a"}') (medians of$gc and$dc; govmail counts the background work each round left)")
done
printf '%s\n' "${summary[@]}"
if [ "${PROFILE:-0}" = 1 ]; then
  echo "== PostgreSQL time by statement (all runs; top-level and nested, ms)"
  psql -h "$W/pg/sock" -p "$PGPORT" -U postgres -d postgres -P pager=off -c "
    SELECT calls, plans, round(total_plan_time) AS plan_ms, round(total_exec_time) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
           round((jit_generation_time + jit_inlining_time + jit_optimization_time + jit_emission_time)::numeric) AS jit_ms,
           toplevel AS top, left(regexp_replace(query, '\s+', ' ', 'g'), 90) AS query
    FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25"
fi
logins=$(grep -c ' logged in' "$W/govmail.log" || true)
cached=$(grep -c ' logged in (cached)' "$W/govmail.log" || true)
echo "govmail logins: $logins, from the verified-credentials cache: $cached (argon2id paid: $((logins - cached)))"
