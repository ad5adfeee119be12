#!/usr/bin/env bash
# Search benchmark: govmail and Dovecot with the fts-xapian plugin (Debian dovecot-fts-xapian,
# the settings of ../shared/anchors/dovecot-postfix's "fts": partial=3 full=20, fts_enforced) side
# by side on the same generated corpus of COUNT messages in one account (gen_corpus.py: Vietnamese
# and English official mail, ~5 KB mean, seeded), through IMAP UID SEARCH (run_queries.py).
# Prints: loading and indexing messages/s and index bytes per message for each server, then per
# query the ground truth's hits, each server's hits, p50/p99 and equal/UNEQUAL to the ground truth,
# then per query kind the worst p99 and the ratio of p50s. Builds nothing:
#   bench/search/run.sh [BUILD_DIR]        (needs BUILD_DIR/govmail; GOVMAIL_BIN overrides it)
# COUNT=100000 messages (QUICK=1: 5000); REPS=20 BUDGET_S=20 (run_queries.py); DOVECOT=0 skips
# Dovecot, GOVMAIL_ON=0 skips govmail; INDEX_WAIT_S=1800 bounds the wait for govmail's index queue to
# drain (INDEX_LATER=1: the server starts after the import, so the indexer runs alone;
# GOVMAIL_EXTRA_CONF: TOML appended to govmail's configuration, e.g. $'[search]\nbatch = 2000'); KEEP=1
# leaves the servers up at the end (their run_queries.py arguments are printed), so
# that two runs in two directories (GOVMAIL_BENCH_DIR, BENCH_PORT_BASE) can load in parallel and
# be queried side by side afterwards: run_queries.py TRUTH.json SPEC SPEC (QUERIES=0: no queries).
# ACCOUNTS=N (1): govmail's corpus imported into N accounts (bench@ and bench-a2@ .. bench-aN@;
# COUNT x N messages, the shards holding N/search.shards accounts each), queried in the first and
# the last; Dovecot's side stays one account. LOG_LEVEL=debug: the indexer logs each round.
# SMTP_RATE=R: while the index catches up, SMTP delivers corpus messages to a second account at R
# messages/s (smtp_trickle.py, one connection), stopped once the backlog is under a second of
# them; the indexing rate then counts the delivered messages too (they are indexed as well).
# govmail runs on a private durable PostgreSQL cluster (fsync on), Dovecot is a private instance
# (its own ports and Maildir under the bench directory): the shared anchors are left alone.
# Loopback only: PostgreSQL on BENCH_PG_PORT (24352), govmail IMAP BENCH_PORT_BASE+1 (26201),
# HTTP +2, SMTP +3 (SMTP_RATE), Dovecot IMAP +10.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/search
B=${1:-$ROOT/build}
GOVMAIL=${GOVMAIL_BIN:-$B/govmail}
[ "${GOVMAIL_ON:-1}" = 0 ] || [ -x "$GOVMAIL" ] || { echo "no govmail binary at $GOVMAIL (build it first)" >&2; exit 1; }
COUNT=${COUNT:-$([ "${QUICK:-0}" = 1 ] && echo 5000 || echo 100000)}
W=${GOVMAIL_BENCH_DIR:-/tmp/gm-searchbench}
PGPORT=${BENCH_PG_PORT:-24352}
BASE=${BENCH_PORT_BASE:-26200}
IMAP_PORT=$((BASE + 1)); HTTP_PORT=$((BASE + 2)); SMTP_PORT=$((BASE + 3)); D_IMAP=$((BASE + 10))
SMTP_RATE=${SMTP_RATE:-0}
ACCOUNTS=${ACCOUNTS:-1}
TOTAL=$((COUNT * ACCOUNTS))  # govmail's messages
INDEX_WAIT_S=${INDEX_WAIT_S:-1800}
CORPUS=${CORPUS_DIR:-$W}/corpus-$COUNT  # CORPUS_DIR: share one corpus between runs
S=$W/run  # this run's servers
source "$ROOT/scripts/lib/pg.sh"
NICE=${NICE-nice -n 5}  # NICE= runs the servers and tools at normal priority

cleanup() {
  [ -n "${TRICKLE_PID:-}" ] && kill "$TRICKLE_PID" 2>/dev/null || true
  [ -n "${GPID:-}" ] && kill -INT "$GPID" 2>/dev/null && wait "$GPID" 2>/dev/null || true
  [ -s "$S/dovecot/run/master.pid" ] && kill "$(cat "$S/dovecot/run/master.pid")" 2>/dev/null || true
  pg_stop_cluster "$S/pg" 2>/dev/null || true
}
trap cleanup EXIT
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
per_msg() { awk -v b="$1" -v n="$2" 'BEGIN { printf "%.0f", b / n }'; }

mkdir -p "$W"
# The corpus and its ground truth are made once per COUNT (same seed, same bytes) and kept.
if [ ! -s "$CORPUS.truth.json" ]; then
  rm -rf "$CORPUS"
  $NICE python3 "$HERE/gen_corpus.py" "$CORPUS" "$COUNT"
fi
[ -s "$S/dovecot/run/master.pid" ] && kill "$(cat "$S/dovecot/run/master.pid")" 2>/dev/null || true
pg_stop_cluster "$S/pg" 2>/dev/null || true
for port in $IMAP_PORT $D_IMAP; do  # a previous run's servers may be stopping
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null || break; sleep 0.2; done
done
rm -rf "$S"; mkdir -p "$S"; chmod 755 "$W" "$S"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); corpus $COUNT messages," \
  "$(du -sm "$CORPUS" | cut -f1) MB ($CORPUS); govmail $GOVMAIL"
SERVERS=()

# --- Dovecot 2.3 + fts-xapian, private instance, Maildir filled with the corpus files.
if [ "${DOVECOT:-1}" = 1 ]; then
  [ -e /usr/lib/dovecot/modules/lib21_fts_xapian_plugin.so ] || /work/shared/anchors/dovecot-postfix status >/dev/null
  [ -e /usr/lib/dovecot/modules/lib21_fts_xapian_plugin.so ] ||
    { echo "dovecot-fts-xapian missing: run /work/shared/anchors/dovecot-postfix start fts once" >&2; exit 1; }
  mkdir -p "$S"/dovecot/{run,state,log} "$S/mail/bench/Maildir"
  echo "bench:{PLAIN}pass:8:8::$S/mail/bench::" >"$S/dovecot/users"
  cat >"$S/dovecot/dovecot.conf" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $S/dovecot/run
state_dir = $S/dovecot/state
instance_name = govmail-bench-search
log_path = $S/dovecot/log/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_username_format = %Ln
first_valid_uid = 8
last_valid_uid = 8
first_valid_gid = 8
mail_location = maildir:~/Maildir
mail_plugins = \$mail_plugins fts fts_xapian
plugin {
  fts = xapian
  fts_xapian = partial=3 full=20 verbose=0
  fts_autoindex = yes
  fts_enforced = yes
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $S/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%n $S/dovecot/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $D_IMAP
  }
  inet_listener imaps {
    port = 0
  }
  service_count = 0
  process_min_avail = 1
}
service imap {
  service_count = 1000
  process_limit = 100
}
CONF
  # Hard links: the same bytes without a second copy (Dovecot only renames them).
  cp -al "$CORPUS/cur" "$S/mail/bench/Maildir/cur"
  mkdir -p "$S/mail/bench/Maildir"/{new,tmp}
  chown -R mail:mail "$S/mail"
  for try in 1 2 3 4 5; do dovecot -c "$S/dovecot/dovecot.conf" && break; [ $try = 5 ] && exit 1; sleep 2; done
  DA=(doveadm -c "$S/dovecot/dovecot.conf")
  t0=$(now)
  $NICE "${DA[@]}" mailbox status -u bench messages INBOX >/dev/null 2>>"$S/dovecot/log/doveadm.log"  # Maildir scan, Dovecot's own index
  t1=$(now)
  $NICE "${DA[@]}" index -u bench INBOX 2>>"$S/dovecot/log/doveadm.log"  # fts-xapian, at once
  t2=$(now)
  xsize=$(du -sb "$S/mail/bench/Maildir/xapian-indexes" 2>/dev/null | cut -f1 || echo 0)
  dsize=$(du -sb --exclude=cur --exclude=xapian-indexes "$S/mail/bench/Maildir" | cut -f1)
  echo "LOAD dovecot: maildir scan $COUNT msgs in $(secs "$t0" "$t1") s ($(rate "$COUNT" "$t0" "$t1") msg/s);" \
    "fts-xapian index (doveadm index) $(secs "$t1" "$t2") s = $(rate "$COUNT" "$t1" "$t2") msg/s;" \
    "xapian index $(per_msg "$xsize" "$COUNT") B/msg, dovecot index files $(per_msg "$dsize" "$COUNT") B/msg"
  SERVERS+=("dovecot=127.0.0.1:$D_IMAP:bench:pass")
fi

# --- govmail on its own cluster; the corpus imported with `govmail admin import-mail`.
if [ "${GOVMAIL_ON:-1}" = 1 ]; then
pg_init_cluster "$S/pg"
pg_start_cluster "$S/pg" "$PGPORT" -c max_connections=100 -c shared_buffers=256MB
export GOVMAIL_DATABASE_URL="host=$S/pg/sock port=$PGPORT user=postgres dbname=postgres"
cat >"$S/govmail.toml" <<CONF
[server]
hostname = "mail.bench.test"
var_dir = "$S/var"
[tls]
cert_file = "$S/var/tls/cert.pem"
key_file = "$S/var/tls/key.pem"
self_signed = true
[database]
pool_size = 16
[listen]
smtp = [$([ "$SMTP_RATE" = 0 ] || echo "\"127.0.0.1:$SMTP_PORT\"")]
submission = []
submissions = []
imap = ["127.0.0.1:$IMAP_PORT"]
imaps = []
pop3 = []
pop3s = []
http = ["127.0.0.1:$HTTP_PORT"]
https = []
[auth]
allow_plaintext_on_loopback = true
[smtp]
check_authentication = false  # this machine has no DNS (SMTP_RATE's sender is "outside")
[log]
level = "${LOG_LEVEL:-info}"
${GOVMAIL_EXTRA_CONF:-}
CONF
"$GOVMAIL" admin --config "$S/govmail.toml" domain add bench.test >/dev/null
echo "bench password" | "$GOVMAIL" admin --config "$S/govmail.toml" account add bench@bench.test \
  --name Bench --password-stdin >/dev/null
for i in $(seq 2 "$ACCOUNTS"); do
  echo "bench password" | "$GOVMAIL" admin --config "$S/govmail.toml" account add \
    "bench-a$i@bench.test" --name "Bench $i" --password-stdin >/dev/null
done
[ "$SMTP_RATE" = 0 ] || echo "bench password" | "$GOVMAIL" admin --config "$S/govmail.toml" \
  account add bench2@bench.test --name Bench2 --password-stdin >/dev/null
start_govmail() {
  $NICE "$GOVMAIL" serve --config "$S/govmail.toml" 2>"$S/govmail.log" &
  GPID=$!
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$IMAP_PORT) 2>/dev/null && break; sleep 0.2; done
  kill -0 "$GPID" 2>/dev/null || { echo "govmail did not start:" >&2; tail -3 "$S/govmail.log" >&2; exit 1; }
}
# INDEX_LATER=1: the server (and so the indexer) starts only once the import is done, so that
# the indexing rate is the indexer's own, not bounded by the import's.
[ "${INDEX_LATER:-0}" = 1 ] || start_govmail
has_search=0
"$GOVMAIL" admin --config "$S/govmail.toml" search stats >/dev/null 2>&1 && has_search=1
TRICKLE_PID=""
start_trickle() {  # SMTP_RATE: deliveries while the index catches up (from t0)
  [ "$SMTP_RATE" = 0 ] && return
  python3 "$HERE/smtp_trickle.py" 127.0.0.1 "$SMTP_PORT" "$SMTP_RATE" "$INDEX_WAIT_S" "$CORPUS" \
    bench2@bench.test "$S/smtp.stop" >"$S/smtp.out" &
  TRICKLE_PID=$!
}
stop_trickle() {
  [ -n "$TRICKLE_PID" ] || return 0
  touch "$S/smtp.stop"
  wait "$TRICKLE_PID" || true
  TRICKLE_PID=""
}
t0=$(now)
[ "${INDEX_LATER:-0}" = 1 ] || start_trickle
for i in $(seq 1 "$ACCOUNTS"); do
  account=bench@bench.test; [ "$i" = 1 ] || account="bench-a$i@bench.test"
  $NICE "$GOVMAIL" admin --config "$S/govmail.toml" import-mail "$account" "$CORPUS" >/dev/null
done
t1=$(now)
line="LOAD govmail: import-mail $TOTAL msgs ($ACCOUNTS account(s)) in $(secs "$t0" "$t1") s ($(rate "$TOTAL" "$t0" "$t1") msg/s);"
if [ "${INDEX_LATER:-0}" = 1 ]; then
  start_govmail
  t0=$(now)
  start_trickle
  line+=" server started after the import (INDEX_LATER=1): times from its start;"
fi
queue_len() {  # the index queue's length, from `govmail search stats` (JSON or "key: value")
  "$GOVMAIL" admin --config "$S/govmail.toml" search stats 2>/dev/null |
    grep -Eio '"?queue(_length|_rows|d)?"?[ :=]+[0-9]+' | head -1 | grep -Eo '[0-9]+$'
}
if [ $has_search = 1 ]; then
  deadline=$(($(date +%s) + INDEX_WAIT_S)); q=""
  while [ "$(date +%s)" -lt "$deadline" ]; do
    q=$(queue_len || true)
    [ "$q" = 0 ] && break
    # The backlog is under a second of deliveries: stop them, the rest drains at once.
    [ -n "$TRICKLE_PID" ] && [ -n "$q" ] && [ "$q" -lt "$SMTP_RATE" ] && stop_trickle
    sleep 1
  done
  stop_trickle
  t2=$(now)
  indexed=$TOTAL
  if [ -s "$S/smtp.out" ]; then
    line+=" $(cat "$S/smtp.out") to bench2 while indexing;"
    indexed=$((TOTAL + $(sed -n 's/^SMTP: \([0-9]*\) accepted.*/\1/p' "$S/smtp.out")))
  fi
  isize=$(du -sb "$S/var/search" 2>/dev/null | cut -f1 || echo 0)
  if [ "$q" = 0 ]; then
    line+=" index queue empty $(secs "$t0" "$t2") s after the $([ "${INDEX_LATER:-0}" = 1 ] && echo "server's start" || echo "import began") = $(rate "$indexed" "$t0" "$t2") msg/s indexed ($indexed messages);"
  else
    line+=" index queue NOT empty after ${INDEX_WAIT_S} s (queue=$q);"
  fi
  line+=" xapian index $(per_msg "$isize" "${indexed:-$TOTAL}") B/msg"
else
  line+=" indexing N/A (no \`govmail search\` in this binary: IMAP SEARCH reads every message)"
fi
echo "$line"
psql -h "$S/pg/sock" -p "$PGPORT" -U postgres -d postgres -qAt -c "VACUUM ANALYZE" >/dev/null
SERVERS=("govmail=127.0.0.1:$IMAP_PORT:bench@bench.test:bench password" "${SERVERS[@]}")
[ "$ACCOUNTS" = 1 ] ||
  SERVERS=("${SERVERS[0]}" "govmail-a$ACCOUNTS=127.0.0.1:$IMAP_PORT:bench-a$ACCOUNTS@bench.test:bench password" "${SERVERS[@]:1}")
fi
if [ "${KEEP:-0}" = 1 ]; then
  trap - EXIT
  echo "KEEP: servers left up (govmail pid ${GPID:-none}; stop: kill it, kill \$(cat $S/dovecot/run/master.pid), pg_ctl -D $S/pg/data stop)"
  printf 'KEEP spec: %q\n' "${SERVERS[@]}"
fi
if [ "${QUERIES:-1}" = 1 ]; then $NICE python3 "$HERE/run_queries.py" "$CORPUS.truth.json" "${SERVERS[@]}"; fi
