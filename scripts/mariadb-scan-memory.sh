#!/usr/bin/env bash
# Peak memory of fachadapterd while a client streams a whole MariaDB table through it, with the
# ODBC source's scan_chunk_rows as given: shows whether the daemon's memory grows with the
# result (MariaDB Connector/ODBC 3.1.15 reads whole results into memory; chunked scans bound it).
#
#   eval "$(scripts/test-servers.sh start)"
#   scripts/mariadb-scan-memory.sh BUILD_DIR ROWS CHUNK_ROWS   # CHUNK_ROWS 0: off; "auto": setting absent
#   scripts/test-servers.sh stop "$FACHADAPTER_TEST_SERVERS_DIR"
#
# Creates (once) the database fa_scan_memory with table big (ROWS rows, 6 columns) on the server of
# FACHADAPTER_TEST_MARIADB_DSN, starts BUILD_DIR/bin/fachadapterd on a free loopback port, runs
# `fachadapter query Big` to /dev/null, and prints the daemon's VmHWM (peak RSS) and the time.
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR ROWS CHUNK_ROWS}
rows=${2:?rows}
chunk=${3:?chunk rows (0: off, auto: setting absent)}
dsn=${FACHADAPTER_TEST_MARIADB_DSN:?FACHADAPTER_TEST_MARIADB_DSN is not set (scripts/test-servers.sh start)}

field() { echo "$dsn" | tr ';' '\n' | sed -n "s/^$1=//Ip" | head -1; }
port=$(field Port)
user=$(field Uid)
pass=$(field Pwd)
sql() { mariadb -h127.0.0.1 -P"$port" -u"$user" -p"$pass" -N -B "$@"; }

db=fa_scan_memory
sql -e "CREATE DATABASE IF NOT EXISTS $db"
have=$(sql "$db" -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$db' AND TABLE_NAME = 'big'")
if [ "$have" = 1 ]; then have=$(sql "$db" -e "SELECT COUNT(*) FROM big"); fi
if [ "$have" != "$rows" ]; then
  echo "filling $db.big with $rows rows" >&2
  sql "$db" -e "DROP TABLE IF EXISTS big;
    CREATE TABLE big (id INTEGER PRIMARY KEY, name VARCHAR(60) NOT NULL, ort VARCHAR(40), betrag DECIMAL(12,2),
                      tag DATE, n BIGINT);
    INSERT INTO big SELECT seq, CONCAT('Betrieb Nummer ', seq), IF(seq % 7 = 0, NULL, CONCAT('Ort ', seq % 100)),
                           (seq % 100000) / 100, DATE_ADD('2000-01-01', INTERVAL seq % 9000 DAY), seq * 31
                    FROM seq_1_to_$rows;"
fi

work=$(mktemp -d)
trap 'if [ -n "${pid:-}" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
listen=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
setting=""
if [ "$chunk" != auto ]; then setting="      scan_chunk_rows: $chunk"; fi
cat > "$work/config.yaml" <<EOF
server:
  listen: 127.0.0.1:$listen
connectors:
  search_path: [$build/lib/fachadapter/connectors]
sources:
  maria:
    connector: odbc
    settings:
      connection_string: "$(echo "$dsn" | sed "s/Database=[^;]*/Database=$db/")"
$setting
entities:
  Big:
    source: maria
    table: big
EOF
"$build/bin/fachadapterd" --config "$work/config.yaml" > "$work/daemon.log" 2>&1 &
pid=$!
export FACHADAPTER_TARGET=127.0.0.1:$listen
for _ in $(seq 1 100); do
  if "$build/bin/fachadapter" entities > /dev/null 2>&1; then break; fi
  kill -0 "$pid" 2>/dev/null || { cat "$work/daemon.log" >&2; exit 1; }
  sleep 0.1
done
before=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
start=$(date +%s.%N)
"$build/bin/fachadapter" --timeout 0 --format csv query Big --batch-size 1000 > "$work/out.csv"
end=$(date +%s.%N)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
lines=$(($(wc -l < "$work/out.csv") - 1))
# The table's ids are 1..ROWS: a chunked scan delivers them in key order, each once.
ids=$(awk -F, 'NR > 1 && $1 != NR - 1 { bad = 1; exit } END { print bad ? "ids not 1..N in order" : "ids 1..N in order" }' \
  "$work/out.csv")
grep -i "chunk" "$work/daemon.log" >&2 || true
printf 'scan_chunk_rows=%s rows=%s records=%s (%s) daemon RSS before=%d MB peak (VmHWM)=%d MB time=%.1f s\n' \
  "$chunk" "$rows" "$lines" "$ids" $((before / 1024)) $((hwm / 1024)) "$(echo "$end - $start" | bc)"
