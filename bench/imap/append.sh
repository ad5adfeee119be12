#!/usr/bin/env bash
# APPEND benchmark, govmail and Dovecot (high-performance mode) side by side: single-client 1 KB
# and big-message latency, bulk APPEND of the 2,000-message bench mbox from 1 and 4 connections
# (Python imaplib, as imapsync-like tools and scripts use it). PHASES=1 then also times each
# APPEND's two waits, for "+" and for the OK (append_phases.py); INDEXER=0 runs govmail without
# its search indexer (server.sh). Builds nothing:
#   bench/imap/append.sh [BUILD_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(cd "${1:-$ROOT/build}" && pwd)
GOVMAIL=$B/govmail
[ -x "$GOVMAIL" ] || { echo "build it first: ninja -C $B govmail" >&2; exit 1; }
W=${GOVMAIL_BENCH_DIR:-/tmp/govmail-bench-append}
PGPORT=${BENCH_PG_PORT:-24362}
USERS=1
source "$ROOT/bench/imap/server.sh"
trap bench_cleanup EXIT
start_servers
python3 "$ROOT/bench/imap/gen_mbox.py" "$W/bench.mbox" 2000
# Before each measure of either server, govmail's background work caused by the previous one
# (releasing the expunged messages, search indexing) is waited for: Dovecot's expunge is done
# when it answers, and Dovecot's measures must not share the CPU with govmail's indexing.
# Indexing of the messages a measure appends still runs during it, as it does in service.
cat >"$W/settle.sh" <<SETTLE
ROOT=$ROOT W=$W PGPORT=$PGPORT
source "$ROOT/bench/imap/server.sh"
wait_background_drained
SETTLE
export SETTLE_GOVMAIL="bash $W/settle.sh"
echo "machine: $(nproc) cores, $(uname -r); govmail on PostgreSQL fsync=on synchronous_commit=on"
python3 "$ROOT/bench/imap/append.py" "$W/bench.mbox" \
  "govmail=127.0.0.1:$IMAP_PORT:user1@bench.test:bench password" \
  "dovecot=127.0.0.1:10143:bench@anchors.test:pass"
if [ "${PHASES:-0}" = 1 ]; then
  python3 "$ROOT/bench/imap/append_phases.py" "$W/bench.mbox" \
    "govmail=127.0.0.1:$IMAP_PORT:user1@bench.test:bench password" \
    "dovecot=127.0.0.1:10143:bench@anchors.test:pass"
fi
