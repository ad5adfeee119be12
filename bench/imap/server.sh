# Sourced by bench/imap/*.sh: a private durable PostgreSQL cluster (fsync on) under $W with USERS
# users of one password (argon2id at the config default cost), govmail serving IMAP on
# 127.0.0.1:$IMAP_PORT, and Dovecot (high-performance mode) from ../shared/anchors on 10143.
# Needs ROOT, GOVMAIL, W, PGPORT, USERS; sets IMAP_PORT, GPID, DOVECOT_STARTED, psql_q,
# wait_background_drained and the CPU readings (cpu_g, cpu_d, per_cycle). IMAP_PORT and HTTP_PORT
# default to PGPORT+1000 and PGPORT+1001. GOVMAIL_THREADS sets server.threads (default 0: one io
# thread per core, as `scripts/run` starts). INDEXER=0 starts govmail without its search indexer
# (to measure what indexing costs a load; the index queue is then not waited for).
ANCHORS=/work/shared/anchors/dovecot-postfix
source "$ROOT/scripts/lib/pg.sh"

bench_cleanup() {
  [ -n "${GPID:-}" ] && kill -INT "$GPID" 2>/dev/null && wait "$GPID" 2>/dev/null || true
  pg_stop_cluster "$W/pg" 2>/dev/null || true
  [ -n "${DOVECOT_STARTED:-}" ] && "$ANCHORS" stop >/dev/null 2>&1 || true
}

psql_q() { psql -h "$W/pg/sock" -p "$PGPORT" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 -c "$1"; }

# govmail's background work after a round (search indexing of the appended messages, releasing
# the expunged ones) would otherwise run during Dovecot's round and take CPU from it.
wait_background_drained() {
  local t0=$SECONDS left
  while [ $((SECONDS - t0)) -lt "${DRAIN_MAX:-120}" ]; do
    if [ "${INDEXER:-1}" = 0 ]; then  # nothing drains the index queue: not waited for
      left=$(psql_q "SELECT count(*) FROM message_release_queue")
    else
      left=$(psql_q "SELECT (SELECT count(*) FROM index_queue) + (SELECT count(*) FROM index_removals)
                          + (SELECT count(*) FROM message_release_queue)")
    fi
    [ "$left" = 0 ] && break
    sleep 0.5
  done
  if [ "${left:-?}" = 0 ]; then echo "govmail background work drained in $((SECONDS - t0)) s"
  else echo "govmail background work NOT drained after $((SECONDS - t0)) s (left: ${left:-?}): the round that follows shares the CPU with it"; fi
}

# CPU seconds of each server (cpu_seconds.py), and ms per cycle between two readings.
cycle_count() { sed -n 's/^TOTAL .* cycles=\([0-9]*\) .*/\1/p' <<<"$1"; }
cpu_g() { "$ROOT/bench/imap/cpu_seconds.py" govmail "$GPID" "$(head -1 "$W/pg/data/postmaster.pid")"; }
cpu_d() { "$ROOT/bench/imap/cpu_seconds.py" dovecot; }
per_cycle() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN{ if (n>0) printf "%.2f", (b-a)*1000/n; else print "n/a"}'; }

# start_servers [extra postgres -c options...]
start_servers() {
  pg_stop_cluster "$W/pg" 2>/dev/null || true
  rm -rf "$W"; mkdir -p "$W"; chmod 755 "$W"
  pg_init_cluster "$W/pg"
  # PG_DEFAULTS=1: PostgreSQL's own defaults, which are what the embedded cluster of scripts/run
  # runs with (and what an external server has before anyone tunes it).
  local tuned=(-c max_connections=200 -c shared_buffers=256MB)
  [ "${PG_DEFAULTS:-0}" = 1 ] && tuned=()
  # PG_TCP=1: reached over TCP on 127.0.0.1, as an external server is (with PG_DEFAULTS=1: an
  # external PostgreSQL with default settings); else over its Unix socket, as the embedded one.
  local host=$W/pg/sock
  [ "${PG_TCP:-0}" = 1 ] && { tuned+=(-c listen_addresses=127.0.0.1); host=127.0.0.1; }
  pg_start_cluster "$W/pg" "$PGPORT" "${tuned[@]}" "$@"
  export GOVMAIL_DATABASE_URL="host=$host port=$PGPORT user=postgres dbname=postgres"
  IMAP_PORT=${IMAP_PORT:-$((PGPORT + 1000))}
  HTTP_PORT=${HTTP_PORT:-$((PGPORT + 1001))}
  cat >"$W/govmail.toml" <<CONF
[server]
hostname = "mail.bench.test"
threads = ${GOVMAIL_THREADS:-0}
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
pop3 = []
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
$([ "${INDEXER:-1}" = 0 ] && printf '[search]\nindexer = false')
${GOVMAIL_EXTRA_CONF:-}
CONF
  "$GOVMAIL" admin --config "$W/govmail.toml" domain add bench.test >/dev/null
  echo "bench password" | "$GOVMAIL" admin --config "$W/govmail.toml" account add user1@bench.test \
    --name u1 --password-stdin >/dev/null
  # The other users share user1's hash: one argon2id run here, the same cost at login.
  psql_q "SELECT count(*) FROM (SELECT govmail_add_account('user' || i || '@bench.test', 'u' || i,
    (SELECT password_hash FROM accounts WHERE address = 'user1@bench.test'), 0, false, NULL, '')
    FROM generate_series(2, $USERS) i) x" >/dev/null
  "$GOVMAIL" serve --config "$W/govmail.toml" 2>"$W/govmail.log" &
  GPID=$!
  for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$IMAP_PORT) 2>/dev/null && break; sleep 0.2; done
  # Something else on our ports would be measured instead: stop here.
  kill -0 "$GPID" 2>/dev/null || { echo "govmail did not start:" >&2; tail -3 "$W/govmail.log" >&2; exit 1; }
  if ! (exec 3<>/dev/tcp/127.0.0.1/10143) 2>/dev/null; then
    "$ANCHORS" start perf >/dev/null
    DOVECOT_STARTED=1
  fi
}
