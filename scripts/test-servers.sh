#!/usr/bin/env bash
# Throwaway PostgreSQL and MariaDB servers on loopback for the ODBC connector's tests.
#
#   eval "$(scripts/test-servers.sh start)"   # prints `export ...` lines for the tests
#   scripts/test-servers.sh stop "$FACHADAPTER_TEST_SERVERS_DIR"
#
# `start` initialises both servers in a new temporary directory (never touching the system's
# clusters or services), on free ports bound to 127.0.0.1 only, and prints:
#   FACHADAPTER_TEST_SERVERS_DIR   the directory (logs: pg-run/pg.log, mariadb-run/mariadb.log)
#   FACHADAPTER_TEST_PG_DSN        ODBC connection string (psqlODBC, "PostgreSQL Unicode")
#   FACHADAPTER_TEST_MARIADB_DSN   ODBC connection string (MariaDB Connector/ODBC)
#   FACHADAPTER_TEST_PG_BINDIR     PostgreSQL's bin directory (initdb, pg_ctl), for tests that
#                                  restart a server of their own
# A server whose binaries or ODBC driver are missing is skipped with a message on stderr and
# its variable is not printed, so the tests that need it skip. The servers run as the
# unprivileged system users the Debian packages create (postgres, mysql), also when this
# script runs as root. Needs the packages of scripts/install-deps.sh.
set -euo pipefail

log() { echo "test-servers: $*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as `user` when we are root, else as ourselves.
as_user() {
  local user=$1
  shift
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

# Name of the first driver section in odbcinst.ini whose Driver line matches `pattern`.
odbc_driver() {
  odbcinst -q -d 2>/dev/null | tr -d '[]' | while read -r name; do
    if odbcinst -q -d -n "$name" 2>/dev/null | grep -qiE "^Driver *=.*($1)"; then
      echo "$name"
      break
    fi
  done
}

# Registers a driver under `name` with library `lib` unless a section for the library exists.
ensure_driver() {
  local name=$1 lib=$2
  [ -e "$lib" ] || return 0
  [ -n "$(odbc_driver "$(basename "$lib")")" ] && return 0
  local tmp
  tmp=$(mktemp)
  printf '[%s]\nDescription=%s\nDriver=%s\n' "$name" "$name" "$lib" >"$tmp"
  odbcinst -i -d -f "$tmp" >/dev/null
  rm -f "$tmp"
}

wait_for() {  # wait_for SECONDS COMMAND...: polls until the command succeeds
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

start_pg() {
  local dir=$1 bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$bindir" ] || ! id postgres >/dev/null 2>&1; then
    log "PostgreSQL not installed; PostgreSQL tests will skip"
    return 0
  fi
  ensure_driver "PostgreSQL Unicode" /usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so
  local driver
  driver=$(odbc_driver psqlodbcw)
  if [ -z "$driver" ]; then
    log "psqlODBC (odbc-postgresql) not installed; PostgreSQL tests will skip"
    return 0
  fi
  local port data=$dir/pg
  port=$(free_port)
  mkdir -p "$data" "$dir/pg-run"
  chown postgres "$data" "$dir/pg-run"
  as_user postgres "$bindir/initdb" -D "$data" -U fachadapter --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$dir/pg-init.log" 2>&1 || { log "initdb failed, see $dir/pg-init.log"; return 1; }
  as_user postgres "$bindir/pg_ctl" -D "$data" -l "$dir/pg-run/pg.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/pg-run -c fsync=off -c full_page_writes=off -c timezone=UTC" \
    start >/dev/null || { log "PostgreSQL did not start, see $dir/pg-run/pg.log"; return 1; }
  as_user postgres "$bindir/createdb" -h 127.0.0.1 -p "$port" -U fachadapter fachadapter_test
  echo "$bindir" >"$dir/pg-bindir"
  # For tests that run (and restart) a PostgreSQL server of their own.
  echo "export FACHADAPTER_TEST_PG_BINDIR='$bindir'"
  echo "export FACHADAPTER_TEST_PG_DSN='Driver={$driver};Server=127.0.0.1;Port=$port;Database=fachadapter_test;Uid=fachadapter;Pwd=unused;'"
  log "PostgreSQL on 127.0.0.1:$port (driver '$driver')"
}

start_mariadb() {
  local dir=$1
  if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ] || ! id mysql >/dev/null 2>&1; then
    log "MariaDB not installed; MariaDB tests will skip"
    return 0
  fi
  ensure_driver "MariaDB Unicode" /usr/lib/x86_64-linux-gnu/odbc/libmaodbc.so
  local driver
  driver=$(odbc_driver libmaodbc)
  if [ -z "$driver" ]; then
    log "MariaDB Connector/ODBC (odbc-mariadb) not installed; MariaDB tests will skip"
    return 0
  fi
  local port data=$dir/mariadb sock=$dir/mariadb-run/mysqld.sock
  port=$(free_port)
  mkdir -p "$data" "$dir/mariadb-run"
  chown mysql "$data" "$dir/mariadb-run"
  mariadb-install-db --no-defaults --datadir="$data" --user=mysql --auth-root-authentication-method=normal \
    --skip-test-db >"$dir/mariadb-init.log" 2>&1 || { log "mariadb-install-db failed, see $dir/mariadb-init.log"; return 1; }
  # --no-defaults: the system's my.cnf (datadir, socket, port) must not apply.
  as_user mysql /usr/sbin/mariadbd --no-defaults --datadir="$data" --socket="$sock" --port="$port" \
    --bind-address=127.0.0.1 --pid-file="$dir/mariadb-run/mariadbd.pid" --log-error="$dir/mariadb-run/mariadb.log" \
    --innodb-flush-log-at-trx-commit=0 --innodb-buffer-pool-size=64M --skip-name-resolve \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
    </dev/null >/dev/null 2>&1 &
  if ! wait_for 60 mariadb-admin --no-defaults --socket="$sock" -uroot ping; then
    log "MariaDB did not start, see $dir/mariadb-run/mariadb.log"
    return 1
  fi
  mariadb --no-defaults --socket="$sock" -uroot <<SQL
CREATE DATABASE fachadapter_test CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER 'fachadapter'@'127.0.0.1' IDENTIFIED BY 'fachadapter';
-- The tests create a database each (the server is throwaway).
GRANT ALL ON *.* TO 'fachadapter'@'127.0.0.1';
SQL
  echo "export FACHADAPTER_TEST_MARIADB_DSN='Driver={$driver};Server=127.0.0.1;Port=$port;Database=fachadapter_test;Uid=fachadapter;Pwd=fachadapter;'"
  log "MariaDB on 127.0.0.1:$port (driver '$driver')"
}

stop_servers() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if [ -f "$dir/pg-bindir" ] && [ -f "$dir/pg/postmaster.pid" ]; then
    as_user postgres "$(cat "$dir/pg-bindir")/pg_ctl" -D "$dir/pg" -m fast -w stop >/dev/null 2>&1 || true
  fi
  local pidfile=$dir/mariadb-run/mariadbd.pid
  if [ -f "$pidfile" ]; then
    local pid
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start)
    dir=$(mktemp -d /tmp/fachadapter-servers.XXXXXX)
    chmod 755 "$dir"
    echo "export FACHADAPTER_TEST_SERVERS_DIR='$dir'"
    start_pg "$dir" || log "continuing without PostgreSQL"
    start_mariadb "$dir" || log "continuing without MariaDB"
    ;;
  stop)
    stop_servers "${2:?usage: $0 stop DIR}"
    ;;
  *)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
