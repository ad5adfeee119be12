#!/usr/bin/env bash
# Webmail first-page benchmark (issue 13): CLIENTS concurrent users each load the first page of a
# 10,000-message INBOX and open one message, over and over, through govmail's JMAP and, in the
# same run, through Dovecot's IMAP (the reference):
#   JMAP: Email/query (inMailbox, receivedAt desc, limit 50) + Email/get of those 50 with the
#         webmail's list properties in ONE request (result reference); then Email/get of one of
#         them with bodyValues (bench_jmap_load, Boost.Beast, one keep-alive connection each).
#   IMAP: SELECT INBOX, UID SEARCH ALL, UID FETCH of the last 50 (ENVELOPE FLAGS RFC822.SIZE);
#         then UID FETCH BODY.PEEK[] of one of them (bench_imap_load page, one connection each).
# Both INBOXes hold the same 10,000 messages of bench/imap/gen_mbox.py: govmail's through
# `govmail admin import-mail`, Dovecot's (user151@anchors.test, Dovecot from ../shared/anchors in
# high-performance mode, left running if it was) through IMAP APPEND. All clients share that one
# account (govmail: [jmap] max_concurrent_requests raised for it; Dovecot allows 20,000
# connections per user). govmail runs on a private durable PostgreSQL cluster (fsync on).
# Prints ops/s, p50/p99 per step and server, then the ratio of pages/s. Builds nothing:
#   bench/jmap/run.sh [BUILD_DIR]   (Release build with govmail bench_jmap_load bench_imap_load)
# CLIENTS="50 500" SECONDS_MAX=30 override the defaults; PROFILE=1 loads pg_stat_statements and
# prints govmail's statements by PostgreSQL time after the runs. Ports: three free ones of
# 54700-54749 (PostgreSQL, IMAP, HTTP).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$ROOT/build}" && pwd)
GOVMAIL=$B/govmail
JLOAD=$B/bench/jmap/bench_jmap_load
ILOAD=$B/bench/imap/bench_imap_load
for bin in "$GOVMAIL" "$JLOAD" "$ILOAD"; do
  [ -x "$bin" ] || { echo "build it first: ninja -C $B govmail bench_jmap_load bench_imap_load" >&2; exit 1; }
done
W=${GOVMAIL_BENCH_DIR:-/tmp/govmail-bench-jmap}
# This machine's ephemeral range covers 54700-54749: an outgoing connection may hold any of them,
# so the first three ports no socket uses are taken (BENCH_PORTS="PG IMAP HTTP" to choose).
free_ports() {
  local p out=()
  for p in $(seq 54700 54749); do
    [ -z "$(ss -tanH "( sport = :$p )")" ] && out+=("$p")
    [ ${#out[@]} = 3 ] && break
  done
  echo "${out[@]}"
}
read -r PGPORT IMAP_PORT HTTP_PORT <<<"${BENCH_PORTS:-$(free_ports)}"
CLIENTS=${CLIENTS:-"50 500"}
SECONDS_MAX=${SECONDS_MAX:-30}
MESSAGES=${MESSAGES:-10000}
USERS=1
export GOVMAIL_EXTRA_CONF="[http]
rate_per_network = 0
max_requests_per_connection = 1000000
[jmap]
max_concurrent_requests = 1000"
source "$ROOT/bench/imap/server.sh"
trap bench_cleanup EXIT

profile_opts=()
[ "${PROFILE:-0}" = 1 ] && profile_opts=(-c shared_preload_libraries=pg_stat_statements
  -c pg_stat_statements.track=all)
start_servers "${profile_opts[@]}"
MBOX=$W/page.mbox
python3 "$ROOT/bench/imap/gen_mbox.py" "$MBOX" "$MESSAGES"
t0=$(date +%s)
"$GOVMAIL" admin --config "$W/govmail.toml" import-mail user1@bench.test "$MBOX" >/dev/null
echo "govmail: $MESSAGES messages imported in $(($(date +%s) - t0)) s"
t0=$(date +%s)
"$ILOAD" setup 127.0.0.1 10143 1 1 'user15%d@anchors.test' pass "$MBOX" "$MESSAGES" 0 | grep TOTAL >/dev/null
echo "dovecot: $MESSAGES messages appended in $(($(date +%s) - t0)) s"
psql_q "ANALYZE" >/dev/null
if [ "${PROFILE:-0}" = 1 ]; then
  psql_q "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
  psql_q "SELECT pg_stat_statements_reset()" >/dev/null
fi
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the runs"
jmap() { "$JLOAD" 127.0.0.1 "$HTTP_PORT" "$1" user1@bench.test 'bench password' 100000000 "$2"; }
imap() { "$ILOAD" page 127.0.0.1 10143 "$1" 1 'user15%d@anchors.test' pass "$MBOX" 100000000 "$2"; }
# A few seconds of each first: caches filled, connections of the pool opened.
jmap 10 3 >/dev/null || true
imap 10 3 >/dev/null || true
page_rate() { sed -n 's/^PAGE .* ops_s=\([0-9.]*\) .*/\1/p' <<<"$1"; }
summary=()
for c in $CLIENTS; do
  echo "== $c clients, ${SECONDS_MAX}s each, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  g=$(jmap "$c" "$SECONDS_MAX") || true
  sed 's/^/govmail-jmap  /' <<<"$g"
  d=$(imap "$c" "$SECONDS_MAX") || true
  sed 's/^/dovecot-imap  /' <<<"$d"
  gr=$(page_rate "$g"); dr=$(page_rate "$d")
  summary+=("RATIO clients=$c jmap_pages_s=$gr dovecot_pages_s=$dr ratio=$(awk -v a="$gr" -v b="$dr" \
    'BEGIN{ if (b>0) printf "%.2f", a/b; else print "n/a"}')")
done
printf '%s\n' "${summary[@]}"
if [ "${PROFILE:-0}" = 1 ]; then
  echo "== PostgreSQL time by statement (ms)"
  psql -h "$W/pg/sock" -p "$PGPORT" -U postgres -d postgres -P pager=off -c "
    SELECT calls, round(total_exec_time) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
           rows, left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS query
    FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15"
fi
