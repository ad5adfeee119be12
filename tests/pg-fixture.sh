#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the test suite: start DIR PORT | stop DIR PORT.
# fsync is off: this cluster holds only test data and is deleted at stop.
set -euo pipefail
action=$1 dir=$2 port=$3
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/lib/pg.sh"
case $action in
  start)
    pg_stop_cluster "$dir" 2>/dev/null || true
    rm -rf "$dir"
    pg_init_cluster "$dir" --no-sync
    pg_start_cluster "$dir" "$port" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300
    pg_psql "$dir" "$port" postgres -qc "CREATE DATABASE govmail_test"
    ;;
  stop)
    pg_stop_cluster "$dir" || true
    rm -rf "$dir"
    ;;
esac
