#!/usr/bin/env bash
# Outbound delivery benchmark, govmail and Postfix side by side on this machine: COUNT messages
# of SIZE bytes to DOMAINS remote domains whose MX is Postfix's smtp-sink on 127.0.0.3, which
# dumps every message it accepts to a file (counted afterwards: every message must arrive once).
# Both servers get the whole load queued first with delivery held (govmail: workers off, then on
# with every recipient due in an hour; Postfix: defer_transports = smtp), then delivery is
# released (an UPDATE making them due; postqueue -f) and timed until the sink holds COUNT messages. govmail resolves MX through unbound on loopback (cached after the first
# lookup per domain); Postfix goes to the sink through transport_maps (no DNS at all), which
# favours Postfix. Prints messages/s, connections opened and the ratio.
#   bench/outbound/run.sh [BUILD_DIR]        COUNT=10000 SIZE=5120 DOMAINS=100
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$ROOT/build}" && pwd)
GOVMAIL=$B/govmail
COUNT=${COUNT:-10000}
SIZE=${SIZE:-5120}
DOMAINS=${DOMAINS:-100}
CLIENTS=${CLIENTS:-8}
W=${TMPDIR:-/tmp}/govmail-bench-outbound
PGPORT=${BENCH_PG_PORT:-24371}
source "$ROOT/scripts/lib/pg.sh"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

cleanup() {
  [ -n "${GPID:-}" ] && kill -INT "$GPID" 2>/dev/null && wait "$GPID" 2>/dev/null || true
  [ -n "${SINK:-}" ] && kill "$SINK" 2>/dev/null || true
  [ -n "${UPID:-}" ] && kill "$UPID" 2>/dev/null || true
  postfix -c "$W/postfix/etc" stop >/dev/null 2>&1 || true
  pg_stop_cluster "$W/pg" 2>/dev/null || true
}
trap cleanup EXIT
command -v postfix >/dev/null || /work/shared/anchors/dovecot-postfix start >/dev/null
rm -rf "$W"; mkdir -p "$W"/{sink,dns,postfix/etc,postfix/spool,postfix/data,postfix/log}
chmod 755 "$W"; chmod 777 "$W/sink"; chown postfix "$W/postfix/data"

# ---- the sink and the DNS ------------------------------------------------------------------
SINK_PORT=$(free_port)
start_sink() {
  rm -rf "$W/sink"/*; mkdir -p "$W/sink/$1"; chmod 777 "$W/sink/$1"
  smtp-sink -u nobody -d "$W/sink/$1/%H%M%S." -m 1000 127.0.0.3:"$SINK_PORT" 1000 &
  SINK=$!
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.3/$SINK_PORT) 2>/dev/null && break; sleep 0.1; done
}
sink_histogram() { ls "$W/sink/$1" | cut -c1-6 | sort | uniq -c | awk '{printf "%s ", $1} END {print ""}'; }
stop_sink() { kill "$SINK" 2>/dev/null; wait "$SINK" 2>/dev/null || true; SINK=""; }
sink_count() { find "$W/sink/$1" -type f | wc -l; }
# Each dumped message exactly once: the bench-N subjects, unique and COUNT of them.
sink_check() {
  local total unique
  total=$(cat "$W/sink/$1"/* | grep -a -c '^Subject: bench-' || true)
  unique=$(cat "$W/sink/$1"/* | grep -a '^Subject: bench-' | sort -u | wc -l)
  echo "delivered=$total unique=$unique"
}

DNS_PORT=$(free_port)
{
  echo "server:"
  echo "  interface: 127.0.0.1"; echo "  port: $DNS_PORT"; echo "  do-daemonize: no"
  echo "  username: \"\""; echo "  chroot: \"\""; echo "  directory: \"$W/dns\""; echo "  pidfile: \"\""
  echo "  use-syslog: no"; echo "  do-not-query-localhost: no"; echo "  local-zone: \"bench.example.\" static"
  echo "  local-data: \"mx.sink.bench.example. A 127.0.0.3\""
  for d in $(seq 0 $((DOMAINS - 1))); do echo "  local-data: \"d$d.bench.example. MX 10 mx.sink.bench.example.\""; done
} >"$W/dns/unbound.conf"
unbound -d -c "$W/dns/unbound.conf" >"$W/dns/log" 2>&1 &
UPID=$!

# ---- govmail -------------------------------------------------------------------------------
pg_init_cluster "$W/pg"
pg_start_cluster "$W/pg" "$PGPORT" -c max_connections=200 -c shared_buffers=256MB ${EXTRA_PG:-}
export GOVMAIL_DATABASE_URL="host=$W/pg/sock port=$PGPORT user=postgres dbname=postgres"
SUB_PORT=$(free_port); HTTP_PORT=$(free_port)
write_config() {
  cat >"$W/govmail.toml" <<CONF
[server]
hostname = "mail.so.gov.vn"
var_dir = "$W/var"
[tls]
cert_file = "$W/var/tls/cert.pem"
key_file = "$W/var/tls/key.pem"
self_signed = true
[database]
pool_size = 32
[listen]
smtp = []
submission = ["127.0.0.1:$SUB_PORT"]
submissions = []
imap = []
imaps = []
pop3 = []
pop3s = []
http = ["127.0.0.1:$HTTP_PORT"]
https = []
[auth]
allow_plaintext_on_loopback = true
argon2_memlimit = 8388608
argon2_opslimit = 1
[outbound]
enabled = $1
resolvers = ["127.0.0.1@$DNS_PORT"]
smtp_port = $SINK_PORT
tls = "none"
dkim_sign = ${DKIM:-false}
dkim_master_key_file = "$W/dkim-master.key"
dkim_master_key_create = true
[limits]
max_connections_per_ip = 1000
max_preauth_connections_per_network = 1000
[log]
level = "info"
CONF
}
write_config false
"$GOVMAIL" admin --config "$W/govmail.toml" domain add so.gov.vn >/dev/null
echo "bench password" | "$GOVMAIL" admin --config "$W/govmail.toml" account add vanthu@so.gov.vn --name v --password-stdin >/dev/null
[ "${DKIM:-false}" = true ] && "$GOVMAIL" admin --config "$W/govmail.toml" dkim generate so.gov.vn --algorithm "${DKIM_ALG:-rsa}" >/dev/null
serve() {
  "$GOVMAIL" serve --config "$W/govmail.toml" 2>>"$W/govmail.log" &
  GPID=$!
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$HTTP_PORT) 2>/dev/null && break; sleep 0.1; done
}
serve
python3 "$ROOT/bench/outbound/inject.py" 127.0.0.1 "$SUB_PORT" "$COUNT" "$SIZE" "$DOMAINS" "$CLIENTS" vanthu@so.gov.vn "bench password"
kill -INT "$GPID"; wait "$GPID" || true; GPID=""
# Held like Postfix's deferred queue: govmail runs with its workers on, the recipients due in an
# hour; the clock starts when they are made due (the analogue of `postqueue -f`).
psql_q() { psql -h "$W/pg/sock" -p "$PGPORT" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 -c "$1"; }
psql_q "UPDATE outbound_recipients SET next_attempt = now() + interval '1 hour'" >/dev/null
start_sink govmail
write_config true
serve
sleep 2
t0=$(date +%s.%N)
psql_q "UPDATE outbound_recipients SET next_attempt = now()" >/dev/null
while [ "$(sink_count govmail)" -lt "$COUNT" ]; do sleep 0.05; done
t1=$(date +%s.%N)
sleep 1  # anything sent twice would arrive now
kill -INT "$GPID"; wait "$GPID" || true; GPID=""
echo "govmail messages per second at the sink: $(sink_histogram govmail)"
stop_sink
g_rate=$(echo "$COUNT / ($t1 - $t0)" | bc -l)
g_conn=$(sed -n 's/.*outbound: stopped; \([0-9]*\) connections opened.*/\1/p' "$W/govmail.log" | tail -1)
printf 'govmail: %d messages in %.2f s = %.0f msg/s, %s connections, %s\n' "$COUNT" \
  "$(echo "$t1 - $t0" | bc -l)" "$g_rate" "$g_conn" "$(sink_check govmail)"

# ---- Postfix ---------------------------------------------------------------------------------
PF_PORT=$(free_port)
P=$W/postfix
cp /etc/postfix/master.cf "$P/etc/master.cf"
sed -i "s/^smtp \{2,\}inet .*/127.0.0.1:$PF_PORT inet n - n - - smtpd/" "$P/etc/master.cf"
: >"$P/etc/transport"
for d in $(seq 0 $((DOMAINS - 1))); do echo "d$d.bench.example smtp:[127.0.0.3]:$SINK_PORT" >>"$P/etc/transport"; done
cat >"$P/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $P/spool
data_directory = $P/data
maillog_file = $P/log/maillog
maillog_file_prefixes = /var, /dev/stdout, $W
myhostname = mail.so.gov.vn
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
transport_maps = texthash:$P/etc/transport
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
defer_transports = smtp
smtp_tls_security_level = none
biff = no
CONF
postfix -c "$P/etc" start >/dev/null 2>&1
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$PF_PORT) 2>/dev/null && break; sleep 0.2; done
python3 "$ROOT/bench/outbound/inject.py" 127.0.0.1 "$PF_PORT" "$COUNT" "$SIZE" "$DOMAINS" "$CLIENTS"
# Until every message is in the queue (the cleanup daemon has written them all).
while [ "$(find "$P/spool/deferred" "$P/spool/active" "$P/spool/incoming" -type f 2>/dev/null | wc -l)" -lt "$COUNT" ]; do sleep 0.2; done
start_sink postfix
postconf -c "$P/etc" -e defer_transports=
t0=$(date +%s.%N)
postfix -c "$P/etc" reload >/dev/null 2>&1
postqueue -c "$P/etc" -f
while [ "$(sink_count postfix)" -lt "$COUNT" ]; do sleep 0.05; done
t1=$(date +%s.%N)
sleep 1
echo "postfix messages per second at the sink: $(sink_histogram postfix)"
stop_sink
p_rate=$(echo "$COUNT / ($t1 - $t0)" | bc -l)
p_new=$(grep -c 'status=sent' "$P/log/maillog" || true)
p_reused=$(grep 'status=sent' "$P/log/maillog" | grep -c 'conn_use=' || true)
printf 'postfix: %d messages in %.2f s = %.0f msg/s, %s connections, %s\n' "$COUNT" \
  "$(echo "$t1 - $t0" | bc -l)" "$p_rate" "$((p_new - p_reused))" "$(sink_check postfix)"
printf 'ratio govmail/postfix: %.2fx\n' "$(echo "$g_rate / $p_rate" | bc -l)"
