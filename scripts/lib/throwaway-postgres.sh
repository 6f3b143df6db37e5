# A PostgreSQL cluster that lives for one run: created in a temporary directory (as the
# unprivileged `postgres` user when run as root, since initdb refuses root), started on
# 127.0.0.1 on a free port. Sourced by scripts/test.sh and scripts/bench.sh.
#
# start_throwaway_postgres [SERVER OPTION...] sets THROWAWAY_POSTGRES_URL (the `postgres`
# database, user `growdesk`, no password); the caller arranges stop_throwaway_postgres on exit.

find_pg_bin() {
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir
    return
  fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  done
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  return 1
}

start_throwaway_postgres() {
  local bin
  if ! bin=$(find_pg_bin); then
    echo "PostgreSQL is not installed, and this needs it." >&2
    echo "Install it (Debian/Ubuntu: apt-get install -y postgresql) or set GROWDESK_TEST_DATABASE_URL" >&2
    echo "to a server where the user may create databases." >&2
    exit 1
  fi
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/growdesk-pg.XXXXXX")
  local as_user=()
  if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    fi
    chown postgres "$PG_DIR"
    as_user=(runuser -u postgres --)
  fi
  PG_RUN=("${as_user[@]}" "$bin/pg_ctl")
  PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "${as_user[@]}" "$bin/initdb" -D "$PG_DIR/data" -U growdesk --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
  local options="-h 127.0.0.1 -p $PG_PORT -k $PG_DIR $*"
  "${PG_RUN[@]}" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start -o "$options" >/dev/null \
    || { cat "$PG_DIR/server.log" >&2; exit 1; }
  THROWAWAY_POSTGRES_URL="postgres://growdesk@127.0.0.1:$PG_PORT/postgres"
  echo "throwaway PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
}

stop_throwaway_postgres() {
  "${PG_RUN[@]}" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
