#!/usr/bin/env bash
# End-to-end SMTP benchmark, govmail and Postfix->LMTP->Dovecot side by side on this machine.
# govmail: a delivered message is one that got 250, which govmail sends only after COMMIT on a
# durable PostgreSQL (fsync on); the run then checks that every accepted message is in the store.
# Postfix: delivered = the message file is in the recipient's Maildir (the clock runs until the
# last one lands). Prints one line per run and the govmail/Postfix ratio per scenario.
#   bench/smtp/run.sh [BUILD_DIR]     (a Release build: cmake -DCMAKE_BUILD_TYPE=Release)
# The circular is 200 recipients (the anchors have 200 users). Scenarios can be narrowed with
# SCENARIOS="20:5120:2000:1 ..." (clients:size:messages:rcpts[:users[:group]]); users (default
# 200) is how many mailboxes the recipients rotate over: 1 is one hot mailbox (an agency's văn
# thư). group N (rcpts 1, users 1) sends every message to ONE address that the server expands to
# N mailboxes (a broadcast to every commune): a govmail group (`govmail admin group`) and, on
# Postfix, a virtual alias (virtual_alias_maps, set on the anchors' Postfix for the run).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$ROOT/build}" && pwd)
GOVMAIL=$B/govmail
LOAD=$B/bench/smtp/bench_smtp_load
W=${TMPDIR:-/tmp}/govmail-bench-smtp
PGPORT=${BENCH_PG_PORT:-24362}
ANCHORS=/work/shared/anchors/dovecot-postfix
A=${ANCHORS_DIR:-${TMPDIR:-/tmp}/govmail-anchors}
# LOADER=smtp-source drives the scenarios with Postfix's smtp-source instead of bench_smtp_load
# (one recipient per message; users 1 only): the load shape of a tool we did not write.
# PG_DEFAULTS=1 runs PostgreSQL with its defaults (the settings of the embedded cluster); PG_TCP=1
# reaches it over TCP (with both: an external PostgreSQL with default settings).
LOADER=${LOADER:-bench}
SCENARIOS=${SCENARIOS:-"20:5120:3000:1 10:4096:2000:1 100:4096:3000:1 10:102400:500:1 100:102400:1000:1 10:4096:30:200 20:5120:5000:1:1 10:5120:100:1:1:200"}
source "$ROOT/scripts/lib/pg.sh"

cleanup() {
  declare -F unmake_group >/dev/null && unmake_group
  [ -n "${GPID:-}" ] && kill -INT "$GPID" 2>/dev/null && wait "$GPID" 2>/dev/null || true
  pg_stop_cluster "$W/pg" 2>/dev/null || true
}
trap cleanup EXIT

rm -rf "$W"; mkdir -p "$W"; chmod 755 "$W"
pg_init_cluster "$W/pg"
# PG_DEFAULTS=1: PostgreSQL's own defaults (the embedded cluster of scripts/run runs with them).
tuned=(-c max_connections=200 -c shared_buffers=256MB)
[ "${PG_DEFAULTS:-0}" = 1 ] && tuned=()
# PG_TCP=1: reached over TCP on 127.0.0.1, as an external server is (with PG_DEFAULTS=1: an
# external PostgreSQL with default settings); else over its Unix socket, as the embedded one.
pg_host=$W/pg/sock
[ "${PG_TCP:-0}" = 1 ] && { tuned+=(-c listen_addresses=127.0.0.1); pg_host=127.0.0.1; }
pg_start_cluster "$W/pg" "$PGPORT" "${tuned[@]}"
export GOVMAIL_DATABASE_URL="host=$pg_host port=$PGPORT user=postgres dbname=postgres"
# Free ports chosen by the kernel: fixed offsets from PGPORT collided with other benches.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SMTP_PORT=$(free_port); HTTP_PORT=$(free_port)
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
# Postfix+Dovecot check no SPF/DKIM/DMARC here either (and this machine has no DNS).
[smtp]
check_authentication = false
[limits]
max_connections_per_ip = 1000
max_preauth_connections_per_network = 1000
[log]
level = "warn"
CONF
psql_q() { psql -h "$W/pg/sock" -p "$PGPORT" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 -c "$1"; }
"$GOVMAIL" admin --config "$W/govmail.toml" domain add bench.test >/dev/null
echo "bench password" | "$GOVMAIL" admin --config "$W/govmail.toml" account add user1@bench.test --name u1 --password-stdin >/dev/null
psql_q "SELECT count(*) FROM (SELECT govmail_add_account('user' || i || '@bench.test', 'u' || i,
  (SELECT password_hash FROM accounts WHERE address = 'user1@bench.test'), 0, false, NULL, '')
  FROM generate_series(2, 200) i) x" >/dev/null
"$GOVMAIL" serve --config "$W/govmail.toml" 2>"$W/govmail.log" &
GPID=$!
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT) 2>/dev/null && break; sleep 0.2; done
# Another session may be using the anchors (Dovecot for IMAP benches): stop them at the end only
# if this run started them.
anchors_up=$("$ANCHORS" status | grep -c ' up' || true)
[ "$anchors_up" -eq 2 ] || "$ANCHORS" start >/dev/null

# The broadcast groups: all1@ with members user1..userN on both servers, made once per size.
groups_made=""
make_group() {  # N
  case " $groups_made " in *" $1 "*) return ;; esac
  local g=all1@bench.test i
  "$GOVMAIL" admin --config "$W/govmail.toml" group delete "$g" >/dev/null 2>&1 || true
  "$GOVMAIL" admin --config "$W/govmail.toml" group add "$g" --send-policy anyone >/dev/null
  for i in $(seq 1 "$1"); do
    "$GOVMAIL" admin --config "$W/govmail.toml" group member-add "$g" "user$i@bench.test" >/dev/null
  done
  printf 'all1@anchors.test %s\n' "$(seq -f 'user%g@anchors.test' -s ', ' 1 "$1")" >"$W/virtual"
  postconf -c "$A/postfix/etc" -e "virtual_alias_maps = texthash:$W/virtual"
  postfix -c "$A/postfix/etc" reload >/dev/null 2>&1
  groups_made="$1"
}
unmake_group() {
  [ -n "$groups_made" ] || return 0
  groups_made=""
  postconf -c "$A/postfix/etc" -X virtual_alias_maps
  postfix -c "$A/postfix/etc" reload >/dev/null 2>&1 || true
}

maildir_count() { find "$A/mail" -path '*/new/*' -type f 2>/dev/null | wc -l; }
rate_of() { sed -n 's/.*rate=\([0-9.]*\).*/\1/p' <<<"$1"; }
# load HOST PORT clients messages size rcpts PATTERN users: bench_smtp_load's summary line, or
# the same fields for smtp-source (which prints nothing: timed here; ok = messages it sent).
load() {
  if [ "$LOADER" = smtp-source ]; then
    [ "$6" = 1 ] && [ "$8" = 1 ] || { echo "LOADER=smtp-source needs rcpts=1 users=1" >&2; exit 2; }
    local rcpt t0 t1
    rcpt=$(printf "$7" 1); t0=$(date +%s.%N)
    /usr/sbin/smtp-source -s "$3" -m "$4" -l "$5" -f sender@outside.test -t "$rcpt" "$1:$2" >&2 || return 1
    t1=$(date +%s.%N)
    awk -v c="$3" -v m="$4" -v s="$5" -v a="$t0" -v b="$t1" 'BEGIN{printf "clients=%d size=%d rcpts=1 messages=%d ok=%d loader=smtp-source secs=%.2f rate=%.1f\n", c, s, m, m, b-a, m/(b-a)}'
  else
    "$LOAD" "$@"
  fi
}
field() { sed -n "s/.* $2=\\([0-9.]*\\).*/\\1/p" <<<"$1"; }

echo "machine: $(nproc) cores, $(uname -r); PostgreSQL fsync=on synchronous_commit=on"
for s in $SCENARIOS; do
  IFS=: read -r clients size messages rcpts users group <<<"$s"
  users=${users:-200}
  local_part=user; fanout=$rcpts  # mailboxes each message lands in
  if [ -n "${group:-}" ]; then
    [ "$rcpts" = 1 ] && [ "$users" = 1 ] || { echo "group scenarios need rcpts=1 users=1" >&2; exit 2; }
    make_group "$group"; local_part=all; fanout=$group
  fi
  before=$(psql_q "SELECT count(*) FROM mailbox_entries")
  g=$(load 127.0.0.1 "$SMTP_PORT" "$clients" "$messages" "$size" "$rcpts" "$local_part%d@bench.test" "$users") || true
  after=$(psql_q "SELECT count(*) FROM mailbox_entries")
  ok=$(field "$g" ok)
  durable=$((after - before))
  echo "govmail  $g durable_entries=$durable expected=$((ok * fanout))"
  [ "$durable" -eq $((ok * fanout)) ] || echo "ERROR: govmail acknowledged $((ok * fanout)) deliveries, store has $durable"

  before=$(maildir_count)
  t0=$(date +%s.%N)
  p=$(load 127.0.0.1 10025 "$clients" "$messages" "$size" "$rcpts" "$local_part%d@anchors.test" "$users") || true
  pok=$(field "$p" ok)
  want=$((before + pok * fanout))
  for _ in $(seq 1 3000); do [ "$(maildir_count)" -ge "$want" ] && break; sleep 0.1; done
  t1=$(date +%s.%N)
  got=$(( $(maildir_count) - before ))
  prate=$(awk -v n="$pok" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", n/(b-a)}')
  echo "postfix  $p delivered=$got/$((pok * fanout)) delivered_rate=$prate"
  grate=$(rate_of "$g")
  echo "RATIO clients=$clients size=$size rcpts=$rcpts users=$users${group:+ group=$group} govmail=$grate postfix_delivered=$prate ratio=$(awk -v a="$grate" -v b="$prate" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "n/a"}')"
done
unmake_group
[ "$anchors_up" -gt 0 ] || "$ANCHORS" stop >/dev/null || true
