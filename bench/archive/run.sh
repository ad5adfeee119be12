#!/usr/bin/env bash
# Archive benchmark (docs/ARCHIVE.md):
#  1. SMTP delivered messages/s with the journal on and off, in one run, alternating rounds on the
#     same durable cluster (fsync on) and the same govmail (restarted per round: the switch is
#     the database setting govmail.journal, read when a connection opens). The load is
#     bench/smtp's bench_smtp_load; every acknowledged message is checked in the store, and with
#     the journal on, in the journal.
#  2. `govmail archive verify` over 1,000,000 journal entries made in SQL (the chain computed by
#     a recursive query with the same content form and link as the linker, "GMJ2"), chain only
#     (--no-blobs) and with the blob check over BLOB_MB of distinct blobs; the blob check's MB/s
#     beside the disk reading the blobs' table files (O_DIRECT) and PostgreSQL reading every blob.
#   bench/archive/run.sh [BUILD_DIR]   (Release; needs targets govmail and bench_smtp_load)
# ROUNDS (default 3 per mode, the order alternating; 0: the verify part only), PREFILL (messages delivered and analysed
# before the rounds, default 4000), SCENARIO clients:size:messages:rcpts:users (default
# 20:5120:2000:1:200), ENTRIES (default 1000000), WARMUP (messages sent before each round's
# measured load, default 1000). PROFILE=1: pg_stat_statements (nested statements
# too) over the journal-on rounds, the statements that took the most time printed at the end.
# EXTRA_CONF: more govmail.toml lines (e.g. "[search]" and "indexer = false"). BENCH_PG_PORT, BENCH_SMTP_PORT, BENCH_HTTP_PORT: fixed ports instead of free ones.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$ROOT/build}" && pwd)
GOVMAIL=$B/govmail
LOAD=$B/bench/smtp/bench_smtp_load
W=${TMPDIR:-/tmp}/govmail-bench-archive
PGPORT=${BENCH_PG_PORT:-26610}
ROUNDS=${ROUNDS:-3}
SCENARIO=${SCENARIO:-20:5120:2000:1:200}
ENTRIES=${ENTRIES:-1000000}
WARMUP=${WARMUP:-1000}
source "$ROOT/scripts/lib/pg.sh"

cleanup() {
  [ -n "${GPID:-}" ] && kill -INT "$GPID" 2>/dev/null && wait "$GPID" 2>/dev/null || true
  pg_stop_cluster "$W/pg" 2>/dev/null || true
}
trap cleanup EXIT

rm -rf "$W"; mkdir -p "$W"; chmod 755 "$W"
pg_init_cluster "$W/pg"
PROFILE=${PROFILE:-0}
PROFILE_OPTS=()
[ "$PROFILE" = 1 ] && PROFILE_OPTS=(-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all)
pg_start_cluster "$W/pg" "$PGPORT" -c max_connections=200 -c shared_buffers=256MB "${PROFILE_OPTS[@]}"
export GOVMAIL_DATABASE_URL="host=$W/pg/sock port=$PGPORT user=postgres dbname=postgres"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SMTP_PORT=${BENCH_SMTP_PORT:-$(free_port)}; HTTP_PORT=${BENCH_HTTP_PORT:-$(free_port)}
cat >"$W/govmail.toml" <<CONF
[server]
hostname = "mx.bench.test"
var_dir = "$W/var"
[tls]
cert_file = "$W/var/tls/cert.pem"
key_file = "$W/var/tls/key.pem"
self_signed = true
[database]
pool_size = 32
[listen]
smtp = ["127.0.0.1:$SMTP_PORT"]
submission = []
submissions = []
imap = []
imaps = []
pop3 = []
pop3s = []
http = ["127.0.0.1:$HTTP_PORT"]
https = []
[auth]
argon2_memlimit = 8388608
argon2_opslimit = 1
[smtp]
check_authentication = false
[limits]
max_connections_per_ip = 1000
max_preauth_connections_per_network = 1000
[log]
level = "warn"
${EXTRA_CONF:-}
CONF
psql_q() { psql -h "$W/pg/sock" -p "$PGPORT" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 -c "$1"; }
"$GOVMAIL" admin --config "$W/govmail.toml" domain add bench.test >/dev/null
echo "bench password" | "$GOVMAIL" admin --config "$W/govmail.toml" account add user1@bench.test --name u1 --password-stdin >/dev/null
psql_q "SELECT count(*) FROM (SELECT govmail_add_account('user' || i || '@bench.test', 'u' || i,
  (SELECT password_hash FROM accounts WHERE address = 'user1@bench.test'), 0, false, NULL, '')
  FROM generate_series(2, 200) i) x" >/dev/null

start_govmail() {
  "$GOVMAIL" serve --config "$W/govmail.toml" 2>>"$W/govmail.log" &
  GPID=$!
  for _ in $(seq 1 150); do (exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT) 2>/dev/null && return; sleep 0.2; done
  echo "govmail did not start" >&2; exit 1
}
stop_govmail() { kill -INT "$GPID"; wait "$GPID" || true; GPID=; }
field() { sed -n "s/.* $2=\\([0-9.]*\\).*/\\1/p" <<<"$1"; }

IFS=: read -r clients size messages rcpts users <<<"$SCENARIO"
echo "machine: $(nproc) cores, $(uname -r); PostgreSQL fsync=on synchronous_commit=on"
echo "scenario: clients=$clients size=$size messages=$messages rcpts=$rcpts users=$users, $ROUNDS rounds per mode, alternating"
declare -A RATES CPUS ALLS
# After each load, until the search index queue is empty and the auditors' text index has every
# journal entry (both run at nice 10 in serve and lag under load), at most DRAIN_MAX seconds:
# so that no round's indexing runs in the next round, and the indexing's CPU is shown apart.
wait_drained() {
  local t0=$SECONDS
  while [ $((SECONDS - t0)) -lt "${DRAIN_MAX:-120}" ]; do
    [ "$(psql_q "SELECT count(*) FROM index_queue")" = 0 ] &&
      "$GOVMAIL" archive --config "$W/govmail.toml" stats | grep -q '^entries not indexed yet: 0$' &&
      break
    sleep 1  # each poll is a new connection: its backend's CPU counts against the round
  done
  echo $((SECONDS - t0))
}
# CPU seconds of govmail (all threads) and its PostgreSQL from /proc, read before and after each
# load: CPU per message is steadier than msg/s on a shared machine, and says whether the cost is
# work or waiting. Background work (indexers) counts while it runs during the load.
cpu() { "$ROOT/bench/imap/cpu_seconds.py" govmail "$GPID" "$(head -1 "$W/pg/data/postmaster.pid")"; }
if [ "$PROFILE" = 1 ]; then
  psql_q "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
    CREATE TABLE bench_profile AS SELECT query, calls, total_exec_time FROM pg_stat_statements LIMIT 0"
fi
# A server in service has planner statistics: a cluster created a minute ago has none until
# autovacuum's first pass, and the plans its first connections make on empty tables (seq scans,
# kept for the connection's life) would be measured instead. So one load of PREFILL messages
# (journal on), then ANALYZE, before the measured rounds.
start_govmail
"$LOAD" 127.0.0.1 "$SMTP_PORT" "$clients" "${PREFILL:-4000}" "$size" "$rcpts" 'user%d@bench.test' "$users" >/dev/null || true
stop_govmail
psql_q "ANALYZE" >/dev/null
for round in $(seq 1 "$ROUNDS"); do
  # Alternating which mode goes first (on-off, off-on, ...), so that a drift over the run (the
  # tables grow) weighs on both alike.
  order="on off"; [ $((round % 2)) = 0 ] && order="off on"
  for mode in $order; do
    psql_q "ALTER DATABASE postgres SET govmail.journal = '$mode'"
    start_govmail
    [ "$PROFILE" = 1 ] && psql_q "SELECT pg_stat_statements_reset()" >/dev/null
    # Warm-up, not counted: each round starts a new govmail, whose new pool connections compile
    # the plpgsql functions and plans they use on first call (the journal's trigger functions in
    # the journal-on rounds only); a server's connections live far longer than a round.
    "$LOAD" 127.0.0.1 "$SMTP_PORT" "$clients" "$WARMUP" "$size" "$rcpts" 'user%d@bench.test' "$users" >/dev/null || true
    jb=$(psql_q "SELECT count(*) FROM archive_journal")
    eb=$(psql_q "SELECT count(*) FROM mailbox_entries")
    c0=$(cpu)
    g=$("$LOAD" 127.0.0.1 "$SMTP_PORT" "$clients" "$messages" "$size" "$rcpts" 'user%d@bench.test' "$users") || true
    c1=$(cpu)
    drain_s=$(wait_drained)
    c2=$(cpu)
    stop_govmail
    [ "$PROFILE" = 1 ] && [ "$mode" = on ] && psql_q "INSERT INTO bench_profile
      SELECT query, calls, total_exec_time FROM pg_stat_statements WHERE query NOT LIKE '%bench_profile%'
        AND query NOT LIKE '%pg_stat_statements%'"
    ok=$(field "$g" ok)
    journaled=$(( $(psql_q "SELECT count(*) FROM archive_journal") - jb ))
    durable=$(( $(psql_q "SELECT count(*) FROM mailbox_entries") - eb ))
    want=$([ "$mode" = on ] && echo "$ok" || echo 0)
    cpu_ms=$(awk -v a="$c0" -v b="$c1" -v n="$ok" 'BEGIN{printf "%.3f", n ? (b-a)*1000/n : 0}')
    all_ms=$(awk -v a="$c0" -v b="$c2" -v n="$ok" 'BEGIN{printf "%.3f", n ? (b-a)*1000/n : 0}')
    echo "journal=$mode round=$round $g durable_entries=$durable journaled=$journaled cpu_ms_per_msg=$cpu_ms with_indexing_ms_per_msg=$all_ms drained_after_s=$drain_s"
    [ "$durable" -eq $((ok * rcpts)) ] || echo "ERROR: acknowledged $((ok * rcpts)) deliveries, store has $durable"
    [ "$journaled" -eq "$want" ] || echo "ERROR: journal=$mode: $journaled entries for $ok messages"
    RATES[$mode]="${RATES[$mode]:-} $(field "$g" rate)"
    CPUS[$mode]="${CPUS[$mode]:-} $cpu_ms"
    ALLS[$mode]="${ALLS[$mode]:-} $all_ms"
  done
done
psql_q "ALTER DATABASE postgres RESET govmail.journal"
if [ "$PROFILE" = 1 ]; then
  echo "PROFILE journal-on rounds: ms in all, calls, ms per call, statement (nested ones included: a"
  echo "function's time holds its statements' time)"
  psql_q "SELECT round(sum(total_exec_time)::numeric, 0) || E'\t' || sum(calls) || E'\t' ||
    round((sum(total_exec_time) / greatest(sum(calls), 1))::numeric, 3) || E'\t' ||
    left(regexp_replace(query, '\s+', ' ', 'g'), 110)
    FROM bench_profile GROUP BY query ORDER BY sum(total_exec_time) DESC LIMIT 16"
fi
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
if [ "$ROUNDS" -gt 0 ]; then
on=$(median "${RATES[on]}"); off=$(median "${RATES[off]}")
echo "SMTP_JOURNAL median_on=$on median_off=$off cost=$(awk -v a="$on" -v b="$off" 'BEGIN{printf "%.1f%%", (b-a)/b*100}') (target < 10%)"
con=$(median "${CPUS[on]}"); coff=$(median "${CPUS[off]}")
echo "CPU_JOURNAL ms_per_msg median_on=$con median_off=$coff cost=$(awk -v a="$con" -v b="$coff" 'BEGIN{printf "%.1f%%", (a-b)/b*100}') (during the load)"
aon=$(median "${ALLS[on]}"); aoff=$(median "${ALLS[off]}")
echo "CPU_JOURNAL_WITH_INDEXING ms_per_msg median_on=$aon median_off=$aoff cost=$(awk -v a="$aon" -v b="$aoff" 'BEGIN{printf "%.1f%%", (a-b)/b*100}') (until both indexes caught up)"
fi

# 2. verify over ENTRIES journal entries. Their blobs: BLOB_MB (default 512) of distinct 64 KiB
# messages cut from random bytes in base64, as attachments travel (incompressible: the blob
# check reads every byte), each referenced by ENTRIES / (BLOB_MB * 16) entries.
BLOB_MB=${BLOB_MB:-512}
nblobs=$((BLOB_MB * 16))
head -c $((nblobs * 65536 * 3 / 4)) /dev/urandom | base64 -w 76 >"$W/blob-source"
chmod 644 "$W/blob-source"
t0=$(date +%s.%N)
psql_q "
CREATE TABLE bench_blobs AS
SELECT i - 1 AS n, sha256(b) AS sha, length(b) AS size
FROM generate_series(1, $nblobs) i,
     LATERAL (SELECT pg_read_binary_file('$W/blob-source', (i - 1) * 65536, 65536) AS b) x;
INSERT INTO blobs (sha256, size, refcount, data)
SELECT b.sha, b.size, 1000000, pg_read_binary_file('$W/blob-source', b.n * 65536, 65536)
FROM bench_blobs b ON CONFLICT DO NOTHING;
CREATE UNIQUE INDEX ON bench_blobs (n);
ANALYZE bench_blobs;
SET session_replication_role = replica;
SET work_mem = '256MB';
CREATE FUNCTION pg_temp.bench_row(s bigint, t timestamptz) RETURNS archive_journal
LANGUAGE sql STABLE AS \$f\$
  SELECT ROW(0, t, 'in', 'sender@outside.test',
      ARRAY['user' || (s % 200 + 1) || '@bench.test'], '', '127.0.0.1',
      b.sha, b.size, 'Bench ' || s, 'sender@outside.test',
      '<' || s || '@bench>', NULL, NULL, NULL, NULL)::archive_journal
  FROM bench_blobs b WHERE b.n = s % $nblobs
\$f\$;
CREATE FUNCTION pg_temp.bench_link(prev bytea, j archive_journal) RETURNS bytea
LANGUAGE sql IMMUTABLE AS \$f\$
  SELECT sha256(prev || convert_to('GMJ2' || '9:journal.0'
    || length(((extract(epoch FROM j.at) * 1000000)::bigint)::text) || ':'
    || ((extract(epoch FROM j.at) * 1000000)::bigint)::text, 'UTF8') || sha256(govmail_journal_content(j)))
\$f\$;
-- Linked as they are made (txid NULL: the linker leaves them), in chain journal.0 after its head.
CREATE TEMP TABLE gen AS
WITH RECURSIVE c (seq, at, prev, hash) AS (
  SELECT h.seq + 1, now(), h.hash, pg_temp.bench_link(h.hash, pg_temp.bench_row(h.seq + 1, now()))
  FROM archive_chain_heads h WHERE h.chain = 'journal.0'
  UNION ALL
  SELECT c.seq + 1, c.at, c.hash, pg_temp.bench_link(c.hash, pg_temp.bench_row(c.seq + 1, c.at))
  FROM c WHERE c.seq < (SELECT seq FROM archive_chain_heads WHERE chain = 'journal.0') + $ENTRIES)
SELECT (SELECT coalesce(max(id), 0) FROM archive_journal) + row_number() OVER (ORDER BY c.seq) AS id,
  c.* FROM c;
INSERT INTO archive_journal (id, at, direction, envelope_from, recipients, auth_user,
  client_ip, blob_sha256, size, subject, from_address, message_id_hdr, content_hash, txid)
SELECT g.id, g.at, (j).direction, (j).envelope_from, (j).recipients, (j).auth_user,
  (j).client_ip, (j).blob_sha256, (j).size, (j).subject, (j).from_address, (j).message_id_hdr,
  sha256(govmail_journal_content(j)), NULL
FROM gen g, LATERAL (SELECT pg_temp.bench_row(g.seq, g.at) AS j) x;
INSERT INTO archive_links (id, chain, seq, prev_hash, hash)
SELECT id, 'journal.0', seq, prev, hash FROM gen;
SELECT setval('archive_journal_id_seq', (SELECT max(id) FROM archive_journal));
UPDATE archive_chain_heads SET (seq, hash) = (SELECT seq, hash FROM gen ORDER BY seq DESC LIMIT 1)
WHERE chain = 'journal.0';
ANALYZE archive_journal;" >/dev/null
t1=$(date +%s.%N)
total=$(psql_q "SELECT count(*) FROM archive_journal")
echo "generated $ENTRIES journal entries in SQL in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s ($total in all)"
"$GOVMAIL" archive --config "$W/govmail.toml" checkpoint
echo "VERIFY chain only: govmail archive verify --no-blobs"
chain_out=$("$GOVMAIL" archive --config "$W/govmail.toml" verify --no-blobs 2>/dev/null)
echo "$chain_out"
echo "VERIFY with blobs: govmail archive verify"
blob_out=$("$GOVMAIL" archive --config "$W/govmail.toml" verify 2>/dev/null)
echo "$blob_out"
# The blob check against what bounds it: the disk reading the blobs' table files (O_DIRECT, past
# the page cache), and PostgreSQL reading every blob whole itself (get_byte de-TOASTs the value;
# length() would not).
blob_line=$(grep '^blob check:' <<<"$blob_out")
files=$(psql_q "SELECT pg_relation_filepath(c.oid) || ' ' || pg_relation_filepath(c.reltoastrelid)
                FROM pg_class c WHERE c.relname = 'blobs'")
t0=$(date +%s.%N)
file_bytes=0
for f in $files; do
  for seg in "$W/pg/data/$f" "$W/pg/data/$f".[0-9]*; do
    [ -f "$seg" ] || continue
    file_bytes=$((file_bytes + $(stat -c %s "$seg")))
    dd if="$seg" of=/dev/null bs=1M iflag=direct status=none
  done
done
t1=$(date +%s.%N)
pg_bytes=$(psql_q "SELECT sum(length(data)) FROM blobs WHERE get_byte(data, 0) >= 0")
t2=$(date +%s.%N)
echo "BLOB_HASHING verify $(sed -n 's/.*(\([0-9.]*\) MB\/s).*/\1/p' <<<"$blob_line") MB/s ($blob_line)"
awk -v fb="$file_bytes" -v f="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" -v pb="$pg_bytes" \
    -v p="$(awk -v a="$t1" -v b="$t2" 'BEGIN{print b-a}')" 'BEGIN{
  printf "BLOB_READ disk (O_DIRECT) %.1f MB/s (%d bytes of table files in %.2f s); PostgreSQL reading every blob %.1f MB/s (%d bytes in %.2f s)\n", fb/f/1e6, fb, f, pb/p/1e6, pb, p
}'
