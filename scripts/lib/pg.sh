# Shell helpers for private PostgreSQL clusters (sourced by tests/pg-fixture.sh and bench/).
# initdb refuses root, so as root the cluster runs as the unprivileged 'postgres' user.
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
pg_as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_init_cluster() {  # DIR [initdb flags...]
  local dir=$1; shift
  if [ "$(id -u)" = 0 ]; then install -d -o postgres -g postgres -m 700 "$dir" "$dir/sock"; else install -d -m 700 "$dir" "$dir/sock"; fi
  pg_as "$(pg_bin)/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 "$@" >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
}
pg_start_cluster() {  # DIR PORT [postgres -c options...]
  local dir=$1 port=$2; shift 2
  pg_as "$(pg_bin)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir/sock -c listen_addresses='' $*" start >/dev/null \
    || { tail -20 "$dir/server.log" >&2; return 1; }
}
pg_stop_cluster() {  # DIR
  [ -d "$1/data" ] || return 0
  pg_as "$(pg_bin)/pg_ctl" -D "$1/data" -m fast -w -t 60 stop >/dev/null
}
pg_psql() {  # DIR PORT DB psql-args...
  local dir=$1 port=$2 db=$3; shift 3
  psql -h "$dir/sock" -p "$port" -U postgres -d "$db" -v ON_ERROR_STOP=1 "$@"
}
