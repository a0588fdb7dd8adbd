# Sourced by scripts/test and scripts/test-engines: a throwaway PostgreSQL cluster on a
# Unix socket in a temporary directory, for the SQL conformance tests. start_postgres
# exports KAM_PG (psql connection options) and stops the cluster when the script exits.
pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

start_postgres() {
  local bin
  bin="$(pg_bin)" || return 1
  command -v psql >/dev/null 2>&1 || return 1
  KAM_PG_DIR="$(mktemp -d /tmp/kam-pg.XXXXXX)"
  # initdb will not run as root: the cluster belongs to the postgres user when we are root.
  local as=()
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || return 1
    chown postgres "$KAM_PG_DIR"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$KAM_PG_DIR/data" -U kam -A trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null 2>&1 \
    || "${as[@]}" "$bin/initdb" -D "$KAM_PG_DIR/data" -U kam -A trust --no-sync -E UTF8 >/dev/null || return 1
  "${as[@]}" "$bin/pg_ctl" -D "$KAM_PG_DIR/data" -l "$KAM_PG_DIR/log" -w \
    -o "-k $KAM_PG_DIR -c listen_addresses='' -p 54329 -c fsync=off" start >/dev/null || return 1
  export KAM_PG="-h $KAM_PG_DIR -p 54329 -U kam -d postgres"
  export KAM_PG_BIN="$bin"
  trap stop_postgres EXIT
}

stop_postgres() {
  [ -n "${KAM_PG_DIR:-}" ] || return 0
  local as=()
  [ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
  "${as[@]}" "$KAM_PG_BIN/pg_ctl" -D "$KAM_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$KAM_PG_DIR"
  KAM_PG_DIR=""
}
