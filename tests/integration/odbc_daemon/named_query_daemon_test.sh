#!/usr/bin/env bash
# A configured named query of the ODBC connector through the real daemon and CLI: the example
# Gewerberegister's database, a query that joins businesses with the activity code list for
# one postal code (a typed :plz parameter), mapped as an entity like any table. Checks the
# rows against the database, that a missing parameter is a clear error, and that a broken
# query stops --check-config with the query's name and SQLite's message.
# usage: named_query_daemon_test.sh SOURCE_DIR BINARY_DIR
set -euo pipefail
. "$1/tests/integration/example/daemon_lib.sh"
src=$1
bin=$2
tmp=$(mktemp -d -t fachadapter-named-query.XXXXXX)
daemon=""
cleanup() {
  if [ -n "$daemon" ]; then kill -KILL "$daemon" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

/usr/bin/python3 "$src/examples/gewerberegister/generate.py" --betriebe 400 --output "$tmp/gewerbe.db" --quiet

# $1: the query's SQL (YAML double-quoted string content).
write_config() {
  cat > "$tmp/fachadapter.yaml" <<YAML
server:
  listen: 127.0.0.1:0
sources:
  gewerbe:
    connector: odbc
    settings:
      connection_string: "Driver=SQLite3;Database=\${CONFIG_DIR}/gewerbe.db;NoCreat=1;StepAPI=1"
      queries:
        branchenbuch:
          sql: "$1"
          parameters: {plz: string}
          key: [BETR_NR]
entities:
  Branchenbuch:
    source: gewerbe
    table: branchenbuch
    description: Aktive Betriebe einer Postleitzahl mit der Bezeichnung ihres Wirtschaftszweigs
    key: [betriebsnummer]
    operations: [query]
    fields:
      betriebsnummer: {column: BETR_NR, type: int64}
      name: {column: BETR_NAME, type: string, trim: right}
      wirtschaftszweig: {column: WZ_CD, type: string}
      bezeichnung: {column: WZ_TXT, type: string, trim: right}
      plz: {column: plz, type: string}
YAML
}

write_config "SELECT b.BETR_NR, b.BETR_NAME, b.WZ_CD, w.WZ_TXT FROM GEW_BETRIEB b JOIN GEW_WZ w ON w.WZ_CD = b.WZ_CD WHERE b.STAT_KZ = 'A' AND b.PLZ = :plz"
"$bin/bin/fachadapterd" --check-config --config "$tmp/fachadapter.yaml"

# The postal code with the most active businesses, and their numbers, straight from SQLite.
read -r plz expected < <(/usr/bin/python3 - "$tmp/gewerbe.db" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
plz = con.execute("SELECT PLZ FROM GEW_BETRIEB WHERE STAT_KZ = 'A' GROUP BY PLZ ORDER BY COUNT(*) DESC, PLZ LIMIT 1").fetchone()[0]
ids = [r[0] for r in con.execute("SELECT BETR_NR FROM GEW_BETRIEB WHERE STAT_KZ = 'A' AND PLZ = ? ORDER BY BETR_NR", (plz,))]
print(plz, ",".join(map(str, ids)))
PY
)

start_daemon "$bin" "$tmp/fachadapter.yaml" "$tmp/daemon.log"
cli() { "$bin/bin/fachadapter" --target "127.0.0.1:$port" "$@"; }

cli describe Branchenbuch | grep -q bezeichnung
# CSV lines end in CRLF (RFC 4180).
out=$(cli --format csv query Branchenbuch --filter "plz = '$plz'" --fields betriebsnummer,plz,bezeichnung | tr -d '\r')
got=$(printf '%s\n' "$out" | tail -n +2 | cut -d, -f1 | paste -sd, -)
[ "$got" = "$expected" ] || { echo "plz $plz: got [$got], want [$expected]:" >&2; echo "$out" >&2; exit 1; }
printf '%s\n' "$out" | tail -n +2 | grep -v ",$plz,." && { echo "rows without plz or bezeichnung" >&2; exit 1; }

# Further filters and the limit run in the database around the query.
first=${expected%%,*}
out=$(cli --format csv query Branchenbuch --filter "plz = '$plz' and betriebsnummer > $first" --limit 1 \
        --fields betriebsnummer 2> /dev/null | tr -d '\r')
rest=${expected#*,}
[ "$(printf '%s\n' "$out" | tail -n +2)" = "${rest%%,*}" ] || { echo "unexpected page: $out" >&2; exit 1; }

# Without the parameter: INVALID_ARGUMENT (exit code 4) naming it.
set +e
cli query Branchenbuch > /dev/null 2> "$tmp/err.txt"
rc=$?
set -e
[ "$rc" -eq 4 ] || { echo "query without plz: exit code $rc, want 4" >&2; cat "$tmp/err.txt" >&2; exit 1; }
grep -q "MISSING_PARAMETER" "$tmp/err.txt" && grep -q "plz" "$tmp/err.txt" ||
  { echo "error does not name the parameter:" >&2; cat "$tmp/err.txt" >&2; exit 1; }

kill -TERM "$daemon"
wait "$daemon"
daemon=""

# A query on a table that does not exist stops the source at start with the query's name.
write_config "SELECT BETR_NR, BETR_NAME, WZ_CD, WZ_TXT FROM GEW_BETRIEBE WHERE PLZ = :plz"
set +e
"$bin/bin/fachadapterd" --check-config --config "$tmp/fachadapter.yaml" > "$tmp/check.txt" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] || { echo "--check-config accepted a broken query" >&2; exit 1; }
grep -q "branchenbuch" "$tmp/check.txt" && grep -qi "GEW_BETRIEBE" "$tmp/check.txt" ||
  { echo "the message names neither the query nor the table:" >&2; cat "$tmp/check.txt" >&2; exit 1; }
echo "named query through the daemon: OK"
