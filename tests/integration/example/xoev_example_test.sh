#!/usr/bin/env bash
# The XÖV exchange-folder example end to end, as its README walks through it: real sample
# messages in, query them, send a valid message (complete, and assembled from header fields and
# a body), have invalid ones refused with their schema errors and nothing written. Exits 77 (skipped) when ../shared/data is absent.
# usage: xoev_example_test.sh SOURCE_DIR BINARY_DIR
set -euo pipefail
. "$(dirname "$0")/daemon_lib.sh"
src=$1
bin=$2
data=${FACHADAPTER_SHARED_DATA:-$src/../shared/data}
if [ ! -d "$data/xoev" ]; then
  echo "SKIP: real XÖV data not found at $data (set FACHADAPTER_SHARED_DATA)"
  exit 77
fi
tmp=$(mktemp -d -t fachadapter-xoev.XXXXXX)
daemon=""
cleanup() {
  if [ -n "$daemon" ]; then kill -KILL "$daemon" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# A copy of the example beside a copy of the data layout it expects (../../../shared/data).
mkdir -p "$tmp/main/examples" "$tmp/main/connectors/xoev" "$tmp/shared"
cp -r "$src/examples/xoev-beteiligung" "$tmp/main/examples/"
cp -r "$src/connectors/xoev/catalogs" "$tmp/main/connectors/xoev/"
ln -s "$(cd "$data" && pwd)" "$tmp/shared/data"
ex=$tmp/main/examples/xoev-beteiligung
sed -i -e 's|^  listen: .*|  listen: 127.0.0.1:0|' "$ex/fachadapter.yaml"
rm -rf "$ex/exchange"
FACHADAPTER_SHARED_DATA="$tmp/shared/data" "$ex/setup.sh"

"$bin/bin/fachadapterd" --check-config --config "$ex/fachadapter.yaml"
start_daemon "$bin" "$ex/fachadapter.yaml" "$tmp/daemon.log"
F() { "$bin/bin/fachadapter" --target "127.0.0.1:$port" "$@"; }

out=$(F --format csv query Eingang --fields datei,status,planname)
[ "$(printf '%s\n' "$out" | tail -n +2 | wc -l)" -eq 5 ] || { echo "$out" >&2; exit 1; }
printf '%s\n' "$out" | grep -q '^xdomea-4.0.0_no-xsd-here_0503.xml,unknown_schema,'
out=$(F --format csv query Eingang --filter "status = 'valid' and planname like 'Test%'" --fields datei)
[ "$(printf '%s\n' "$out" | tail -n +2 | wc -l)" -eq 2 ] || { echo "$out" >&2; exit 1; }

sample=$data/xoev/xbeteiligung-1.2/samples/xbeteiligung-test-kommunal.Initiieren.0401.xml
sed 's/60f6667b-fa45-4bd7-b717-f4d6c65e5edb/0b1c5f9e-2c7d-4e8a-9f10-5a6b7c8d9e01/' "$sample" > "$tmp/send.xml"
F create Ausgang "dokument=0x$(od -An -v -tx1 "$tmp/send.xml" | tr -d ' \n')" --idempotency-key demo-1 > /dev/null
ls "$ex/exchange/out" | grep -q '^0b1c5f9e-2c7d-4e8a-9f10-5a6b7c8d9e01'

sed 's/0b1c5f9e-2c7d-4e8a-9f10-5a6b7c8d9e01/0b1c5f9e-2c7d-4e8a-9f10-5a6b7c8d9e02/; s/<ns2:erstellungszeitpunkt>[^<]*</<ns2:erstellungszeitpunkt>gestern</' \
  "$tmp/send.xml" > "$tmp/bad.xml"
set +e
err=$(F create Ausgang "dokument=0x$(od -An -v -tx1 "$tmp/bad.xml" | tr -d ' \n')" 2>&1)
rc=$?
set -e
[ "$rc" -eq 4 ] || { echo "invalid message: exit $rc, want 4: $err" >&2; exit 1; }
printf '%s\n' "$err" | grep -q "SCHEMA_VALIDATION_FAILED"
printf '%s\n' "$err" | grep -q "line 19: .*erstellungszeitpunkt.*'gestern'"
if ls "$ex/exchange/out" | grep -q 'd9e02'; then echo "an invalid message was written" >&2; exit 1; fi

# Header fields and the body, assembled by the connector (the README's second way).
sed -n '/<ns5:nachrichteninhalt>/,/<\/ns5:nachrichteninhalt>/p' "$sample" |
  sed '1s|<ns5:nachrichteninhalt>|<ns5:nachrichteninhalt xmlns:ns5="https://www.xleitstelle.de/xbeteiligung/12">|' \
  > "$tmp/inhalt.xml"
header=(typ=0401 von_dienst=DVDV von_kennung=xyz:0001 von_name=behoerde1
        an_dienst=DVDV an_kennung=xyz:0002 an_name=behoerde2)
out=$(F --format csv create Ausgang "${header[@]}" "inhalt=0x$(od -An -v -tx1 "$tmp/inhalt.xml" | tr -d ' \n')" \
        --idempotency-key demo-2)
file=$(printf '%s\n' "$out" | grep -o '[0-9a-f-]\{36\}_kommunal.Initiieren.0401.xml' | head -n 1)
[ -n "$file" ] && [ -f "$ex/exchange/out/$file" ] || { echo "assembled message not written: $out" >&2; exit 1; }
grep -q '<ns5:planname>TestAdrian33</ns5:planname>' "$ex/exchange/out/$file"
out=$(F --format csv query Ausgang --filter "datei = '$file'" --fields datei,zustand,typ)
printf '%s\n' "$out" | grep -q "^$file,valid,0401" || { echo "$out" >&2; exit 1; }
count=$(ls "$ex/exchange/out" | wc -l)
sed 's|<ns5:planname>TestAdrian33</ns5:planname>|<ns5:x>1</ns5:x>|' "$tmp/inhalt.xml" > "$tmp/bad-inhalt.xml"
set +e
err=$(F create Ausgang "${header[@]}" "inhalt=0x$(od -An -v -tx1 "$tmp/bad-inhalt.xml" | tr -d ' \n')" 2>&1)
rc=$?
set -e
[ "$rc" -eq 4 ] || { echo "invalid body: exit $rc, want 4: $err" >&2; exit 1; }
printf '%s\n' "$err" | grep -q "SCHEMA_VALIDATION_FAILED"
[ "$(ls "$ex/exchange/out" | wc -l)" -eq "$count" ] || { echo "an invalid body was written" >&2; exit 1; }

kill -TERM "$daemon"
wait "$daemon"
daemon=""
echo "xoev example end to end: OK"
