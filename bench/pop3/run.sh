#!/usr/bin/env bash
# POP3 benchmark, govmail and Dovecot's POP3 (Debian dovecot-pop3d, high-performance mode) side
# by side on this machine: USERS users (100) each download a mailbox of PER_USER (200) messages
# of the same generated mbox (bench/imap/gen_mbox.py: office mail, mostly 2-8 KB) with RETR of
# every message, then QUIT without DELE ("leave a copy on the server"), all users at once.
# govmail runs on a private durable PostgreSQL cluster (fsync on); Dovecot is a private instance
# started here (its own ports and Maildirs under the bench directory, so that the shared anchors
# and other benchmarks are left alone). Both get the messages through IMAP APPEND
# (bench_imap_load setup). A warm-up download of every mailbox on each server precedes the
# measured rounds (Dovecot's indexes, govmail's credentials cache). Prints messages/s and MB/s
# per round, then the govmail/Dovecot ratio of the medians. Builds nothing:
#   bench/pop3/run.sh [BUILD_DIR]   (targets govmail, bench_imap_load, bench_pop3_load)
# CLIENTS=100 PER_USER=200 ROUNDS=3 SECONDS_MAX=300 override the defaults.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$ROOT/build}" && pwd)
GOVMAIL=$B/govmail
SETUP=$B/bench/imap/bench_imap_load
LOAD=$B/bench/pop3/bench_pop3_load
for bin in "$GOVMAIL" "$SETUP" "$LOAD"; do
  [ -x "$bin" ] || { echo "build it first: ninja -C $B govmail bench_imap_load bench_pop3_load ($bin)" >&2; exit 1; }
done
W=${GOVMAIL_BENCH_DIR:-/tmp/govmail-bench-pop3}
PGPORT=${BENCH_PG_PORT:-24362}
CLIENTS=${CLIENTS:-100}
PER_USER=${PER_USER:-200}
ROUNDS=${ROUNDS:-3}
SECONDS_MAX=${SECONDS_MAX:-300}
USERS=100
IMAP_PORT=$((PGPORT + 1000)); HTTP_PORT=$((PGPORT + 1001)); POP3_PORT=$((PGPORT + 1002))
D_IMAP=$((PGPORT + 1010)); D_POP3=$((PGPORT + 1011))
source "$ROOT/scripts/lib/pg.sh"

cleanup() {
  [ -n "${GPID:-}" ] && kill -INT "$GPID" 2>/dev/null && wait "$GPID" 2>/dev/null || true
  [ -s "$W/dovecot/run/master.pid" ] && kill "$(cat "$W/dovecot/run/master.pid")" 2>/dev/null || true
  pg_stop_cluster "$W/pg" 2>/dev/null || true
}
trap cleanup EXIT

command -v dovecot >/dev/null && [ -e /usr/lib/dovecot/pop3 ] ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-imapd dovecot-pop3d >/dev/null
[ -s "$W/dovecot/run/master.pid" ] && kill "$(cat "$W/dovecot/run/master.pid")" 2>/dev/null || true
pg_stop_cluster "$W/pg" 2>/dev/null || true
for port in $IMAP_PORT $POP3_PORT $D_IMAP $D_POP3; do  # a previous run's servers may be stopping
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null || break; sleep 0.2; done
done
rm -rf "$W"; mkdir -p "$W"; chmod 755 "$W"
python3 "$ROOT/bench/imap/gen_mbox.py" "$W/bench.mbox" 2000

# --- Dovecot: IMAP (for the setup) and POP3 on loopback, plain text passwords, Maildir.
mkdir -p "$W"/dovecot/{run,state,log} "$W/mail"
for u in $(seq 1 $USERS); do echo "user$u:{PLAIN}pass:8:8::$W/mail/user$u::"; done >"$W/dovecot/users"
chown -R mail:mail "$W/mail"
cat >"$W/dovecot/dovecot.conf" <<CONF
protocols = imap pop3
listen = 127.0.0.1
base_dir = $W/dovecot/run
state_dir = $W/dovecot/state
instance_name = govmail-bench-pop3
log_path = $W/dovecot/log/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_username_format = %Ln
first_valid_uid = 8
last_valid_uid = 8
first_valid_gid = 8
mail_location = maildir:~/Maildir
mail_max_userip_connections = 20000
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $W/dovecot/users
}
userdb {
  driver = passwd-file
  args = username_format=%n $W/dovecot/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $D_IMAP
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $D_POP3
  }
  inet_listener pop3s {
    port = 0
  }
  service_count = 0
  process_min_avail = 2
  client_limit = 1000
}
service pop3 {
  service_count = 1000
  process_min_avail = 10
  process_limit = 200
}
protocol pop3 {
  pop3_uidl_format = %08Xu%08Xv
}
CONF
# The ports lie in the ephemeral range: a passing client connection may hold one for a moment.
for try in 1 2 3 4 5; do dovecot -c "$W/dovecot/dovecot.conf" && break; [ $try = 5 ] && exit 1; sleep 2; done

# --- govmail on its own cluster.
pg_init_cluster "$W/pg"
pg_start_cluster "$W/pg" "$PGPORT" -c max_connections=200 -c shared_buffers=256MB ${EXTRA_PG:-}
export GOVMAIL_DATABASE_URL="host=$W/pg/sock port=$PGPORT user=postgres dbname=postgres"
cat >"$W/govmail.toml" <<CONF
[server]
hostname = "mail.bench.test"
var_dir = "$W/var"
[tls]
cert_file = "$W/var/tls/cert.pem"
key_file = "$W/var/tls/key.pem"
self_signed = true
[database]
pool_size = 32
[listen]
smtp = []
submission = []
submissions = []
imap = ["127.0.0.1:$IMAP_PORT"]
imaps = []
pop3 = ["127.0.0.1:$POP3_PORT"]
pop3s = []
http = ["127.0.0.1:$HTTP_PORT"]
https = []
[auth]
allow_plaintext_on_loopback = true
[limits]
max_connections_per_ip = 1000
max_preauth_connections_per_network = 1000
[log]
level = "info"
CONF
psql_q() { psql -h "$W/pg/sock" -p "$PGPORT" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 -c "$1"; }
"$GOVMAIL" admin --config "$W/govmail.toml" domain add bench.test >/dev/null
echo "bench password" | "$GOVMAIL" admin --config "$W/govmail.toml" account add user1@bench.test --name u1 --password-stdin >/dev/null
# The other 99 share user1's hash: one argon2id run here, the same cost at login.
psql_q "SELECT count(*) FROM (SELECT govmail_add_account('user' || i || '@bench.test', 'u' || i,
  (SELECT password_hash FROM accounts WHERE address = 'user1@bench.test'), 0, false, NULL, '')
  FROM generate_series(2, $USERS) i) x" >/dev/null
"$GOVMAIL" serve --config "$W/govmail.toml" 2>"$W/govmail.log" &
GPID=$!
for port in $IMAP_PORT $POP3_PORT $D_IMAP $D_POP3; do
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.2; done
  (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null || { echo "port $port not open" >&2; tail -5 "$W/govmail.log" >&2; exit 1; }
done

G=(127.0.0.1 "$POP3_PORT" "$CLIENTS" $USERS 'user%d@bench.test' 'bench password' "$PER_USER" "$SECONDS_MAX")
D=(127.0.0.1 "$D_POP3" "$CLIENTS" $USERS 'user%d' pass "$PER_USER" "$SECONDS_MAX")
echo "machine: $(nproc) cores, $(uname -r); govmail on PostgreSQL fsync=on; $(dovecot --version | cut -d' ' -f1) (dovecot-pop3d)"
echo "setup: $USERS users, $PER_USER messages each appended over IMAP"
"$SETUP" setup 127.0.0.1 "$IMAP_PORT" 10 $USERS 'user%d@bench.test' 'bench password' "$W/bench.mbox" "$PER_USER" 600 | grep TOTAL | sed 's/^/govmail setup /'
"$SETUP" setup 127.0.0.1 "$D_IMAP" 10 $USERS 'user%d' pass "$W/bench.mbox" "$PER_USER" 600 | grep TOTAL | sed 's/^/dovecot setup /'
psql_q "ANALYZE" >/dev/null  # planner statistics, as a server in service has
echo "govmail warm-up: $("$LOAD" "${G[@]}")"
echo "dovecot warm-up: $("$LOAD" "${D[@]}")"
# CPU seconds used so far by a process and all its descendants (reaped ones included).
cpu_tree() {
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | sed 's/^\([0-9]*\) (.*) /\1 x /' | awk -v root="$1" -v hz="$(getconf CLK_TCK)" '
    { ppid[$1] = $4; t[$1] = $14 + $15 + $16 + $17 }
    END { for (p in t) { q = p; while (q != "" && q != root && q > 1) q = ppid[q]; if (q == root) s += t[p] }
          printf "%.1f", s / hz }'
}
PGPID=$(head -1 "$W/pg/data/postmaster.pid"); DPID=$(cat "$W/dovecot/run/master.pid")
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
gm=""; dm=""; gb=""; db=""; ge=0; de=0
for r in $(seq 1 "$ROUNDS"); do
  # Alternating order: whichever ran second would otherwise pay for the machine's drift.
  for server in $([ $((r % 2)) = 1 ] && echo "govmail dovecot" || echo "dovecot govmail"); do
    g0=$(cpu_tree "$GPID"); p0=$(cpu_tree "$PGPID"); d0=$(cpu_tree "$DPID")
    if [ "$server" = govmail ]; then out=$("$LOAD" "${G[@]}") || true; else out=$("$LOAD" "${D[@]}") || true; fi
    cpu=$(awk -v a="$g0" -v b="$(cpu_tree "$GPID")" -v c="$p0" -v d="$(cpu_tree "$PGPID")" \
      -v e="$d0" -v f="$(cpu_tree "$DPID")" 'BEGIN { printf "cpu_s govmail=%.1f postgres=%.1f dovecot=%.1f", b-a, d-c, f-e }')
    printf '%-8s round %d: %s %s\n' "$server" "$r" "$out" "$cpu"
    if [ "$server" = govmail ]; then
      gm="$gm $(field messages_s "$out")"; gb="$gb $(field mb_s "$out")"; ge=$((ge + $(field errors "$out")))
    else
      dm="$dm $(field messages_s "$out")"; db="$db $(field mb_s "$out")"; de=$((de + $(field errors "$out")))
    fi
  done
done
g=$(median <<<"$gm"); d=$(median <<<"$dm")
echo "RATIO clients=$CLIENTS users=$USERS messages_per_user=$PER_USER" \
  "govmail_messages_s=$g govmail_mb_s=$(median <<<"$gb") dovecot_messages_s=$d dovecot_mb_s=$(median <<<"$db")" \
  "ratio=$(awk -v a="$g" -v b="$d" 'BEGIN{ if (b>0) printf "%.2f", a/b; else print "n/a"}')" \
  "(medians of$gm and$dm) govmail_errors=$ge dovecot_errors=$de"
if [ "${KEEP:-0}" = 1 ]; then  # profiling: leave both servers up (stop: kill PIDs, pg_ctl stop)
  trap - EXIT
  echo "kept: govmail pid $GPID pop3 $POP3_PORT, dovecot pop3 $D_POP3, postgres $W/pg (port $PGPORT)"
  echo "load: $LOAD ${G[*]} | $LOAD ${D[*]}"
fi
