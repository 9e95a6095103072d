#!/usr/bin/env bash
# End to end on the bundled example, the way the README walks through it: generate the legacy
# database, check the mapping and the config, start the real daemon, query it with the CLI and
# with the Python client (stock grpcio), and stop it with SIGTERM.
# usage: example_test.sh SOURCE_DIR BINARY_DIR
set -euo pipefail
. "$(dirname "$0")/daemon_lib.sh"
src=$1
bin=$2
ex=$src/examples/gewerberegister
tmp=$(mktemp -d -t fachadapter-example.XXXXXX)
daemon=""
cleanup() {
  if [ -n "$daemon" ]; then kill -KILL "$daemon" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/data"
/usr/bin/python3 "$ex/generate.py" --betriebe 400 --output "$tmp/data/gewerbe.db" --quiet
# The example config, served from a copy beside the test database on a free loopback port.
sed -e 's|^  listen: .*|  listen: 127.0.0.1:0|' "$ex/fachadapter.yaml" > "$tmp/fachadapter.yaml"
/usr/bin/python3 "$ex/check_mapping.py" --db "$tmp/data/gewerbe.db" --config "$tmp/fachadapter.yaml"

"$bin/bin/fachadapterd" --check-config --config "$tmp/fachadapter.yaml"

start_daemon "$bin" "$tmp/fachadapter.yaml" "$tmp/daemon.log"
target=127.0.0.1:$port
cli() { "$bin/bin/fachadapter" --target "$target" "$@"; }

cli entities | grep -q Gewerbebetrieb
cli describe Gewerbebetrieb | grep -q beginn
out=$(cli --format csv query Gewerbebetrieb --filter "ort = 'Berlin' and beginn >= 2015-01-01" \
        --fields betriebsnummer,ort,beginn --order-by -beginn --limit 10)
rows=$(printf '%s\n' "$out" | tail -n +2 | wc -l)
[ "$rows" -ge 1 ] && [ "$rows" -le 10 ] || { echo "unexpected query result:" >&2; echo "$out" >&2; exit 1; }
printf '%s\n' "$out" | tail -n +2 | grep -v ',Berlin,' && { echo "filter not applied" >&2; exit 1; }
cli get Gewerbebetrieb 100001 | grep -q 100001
set +e
cli get Gewerbebetrieb 1 > /dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 3 ] || { echo "get of a missing key: exit code $rc, want 3 (not found)" >&2; exit 1; }

/usr/bin/python3 "$ex/client.py" --target "$target" > "$tmp/client.out"
grep -q "Gewerbebetrieb" "$tmp/client.out"

kill -TERM "$daemon"
wait "$daemon"
daemon=""
grep -q "stopped" "$tmp/daemon.log"
echo "example end to end: OK"
