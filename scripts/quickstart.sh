#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install what is missing, build, start fachadapterd
# on the bundled example Fachverfahren (the Gewerberegister), and run a first query against it.
# The daemon then keeps serving on 127.0.0.1:50051 until Ctrl-C. With --once it stops after
# the first query (used by the tests).
set -euo pipefail
cd "$(dirname "$0")/.."

once=0
[ "${1:-}" = "--once" ] && once=1

scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$(nproc)" --target fachadapterd fachadapter fachadapter_connector_odbc

example=examples/gewerberegister
if [ ! -f "$example/data/gewerbe.db" ]; then
  /usr/bin/python3 "$example/generate.py"
fi

log=$(mktemp -t fachadapterd.XXXXXX.log)
build/bin/fachadapterd --config "$example/fachadapter.yaml" 2>"$log" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null; wait $daemon 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q "serving" "$log" && break
  if ! kill -0 $daemon 2>/dev/null; then cat "$log" >&2; exit 1; fi
  sleep 0.1
done
cat "$log" >&2

echo
echo '$ build/bin/fachadapter entities'
build/bin/fachadapter entities
echo
echo "\$ build/bin/fachadapter query Gewerbebetrieb --filter \"ort = 'Berlin' and beginn >= 2015-01-01\" --fields betriebsnummer,name,rechtsform,ort,beginn --order-by -beginn --limit 10"
build/bin/fachadapter query Gewerbebetrieb --filter "ort = 'Berlin' and beginn >= 2015-01-01" \
  --fields betriebsnummer,name,rechtsform,ort,beginn --order-by -beginn --limit 10

if [ $once -eq 1 ]; then exit 0; fi
echo
echo "fachadapterd is serving the example on 127.0.0.1:50051 (log: $log). Ctrl-C stops it."
wait $daemon
