#!/usr/bin/env bash
# End to end on examples/gewerbesteuer-gaststaetten, the way its README walks through it:
# generate the Gewerberegister and the two legacy files from it, check the config, start the
# real daemon (from a relative config path), and through the CLI compare every record of both
# file entities with what the generator wrote (umlauts, exact decimals, dates), run filtered
# queries and Gets by key, create a Gaststättenerlaubnis and check the bytes it added to the
# CSV file (ISO-8859-15, CRLF like the file), then stop the daemon with SIGTERM.
# usage: flatfile_example_test.sh SOURCE_DIR BINARY_DIR
set -euo pipefail
. "$1/tests/integration/example/daemon_lib.sh"
src=$1
bin=$2
py=/usr/bin/python3
tmp=$(mktemp -d -t fachadapter-flatfile-example.XXXXXX)
daemon=""
cleanup() {
  if [ -n "$daemon" ]; then kill -KILL "$daemon" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The example's layout: the register beside the example folder, as in the source tree.
mkdir -p "$tmp/gewerberegister/data" "$tmp/ex"
$py "$src/examples/gewerberegister/generate.py" --betriebe 400 --output "$tmp/gewerberegister/data/gewerbe.db" --quiet
cp -r "$src/examples/gewerbesteuer-gaststaetten/copybooks" "$tmp/ex/"
sed -e 's|^  listen: .*|  listen: 127.0.0.1:0|' "$src/examples/gewerbesteuer-gaststaetten/fachadapter.yaml" \
  > "$tmp/ex/fachadapter.yaml"
$py "$src/examples/gewerbesteuer-gaststaetten/generate.py" --gewerbe-db "$tmp/gewerberegister/data/gewerbe.db" \
  --output-dir "$tmp/ex/data" --expect "$tmp/expect.json" --quiet
csv=$tmp/ex/data/gaststaetten.csv
cp "$csv" "$tmp/original.csv"

cd "$tmp"  # a relative config path: every file path must resolve against the config's folder
"$bin/bin/fachadapterd" --check-config --config ex/fachadapter.yaml
start_daemon "$bin" ex/fachadapter.yaml "$tmp/daemon.log"
cli() { "$bin/bin/fachadapter" --target "127.0.0.1:$port" "$@"; }

cli entities > entities.txt
for e in Gewerbebetrieb Gewerbesteuerzahlung Gaststaettenerlaubnis; do
  grep -q "^$e " entities.txt || fail "entity $e missing"
done

# Every record of both files, compared field by field with the generator's intent.
cli --format json query Gewerbesteuerzahlung > zahlungen.json
cli --format json query Gaststaettenerlaubnis > erlaubnisse.json
# Filtered queries: pushed down on a code-mapped field; evaluated in the core on a decimal.
cli --format json query Gewerbesteuerzahlung --filter "zahlart = 'Erstattung'" > erstattungen.json
cli --format json query Gaststaettenerlaubnis --filter "ort = 'Berlin' and gebuehr >= 600" > berlin.json
cli --format json query Gewerbesteuerzahlung --filter "saeumniszuschlag > 0 and gebuchtAm >= 2024-01-01" \
  --fields buchungsnummer,faelligAm,gebuchtAm,saeumniszuschlag > saeumig.json
# Get by key on both: the first record with a late-payment surcharge, and a restaurant licence.
zkey=$($py -c 'import json,sys; print(next(z["buchungsnummer"] for z in json.load(open(sys.argv[1]))["Gewerbesteuerzahlung"] if z["saeumniszuschlag"] != "0.00"))' expect.json)
ekey=$($py -c 'import json,sys; print(next(e["erlaubnisnummer"] for e in json.load(open(sys.argv[1]))["Gaststaettenerlaubnis"] if e["aussenflaeche"]))' expect.json)
cli --format json get Gewerbesteuerzahlung "$zkey" > get_zahlung.json
cli --format json get Gaststaettenerlaubnis "$ekey" > get_erlaubnis.json
set +e
cli get Gewerbesteuerzahlung 1 > /dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "get of a missing Buchungsnummer: exit code $rc, want 3 (not found)"

$py - "$zkey" "$ekey" <<'PY'
import json, sys
zkey, ekey = int(sys.argv[1]), sys.argv[2]
exp = json.load(open("expect.json", encoding="utf-8"))
def lines(p):
    return [json.loads(l) for l in open(p, encoding="utf-8") if l.strip()]
KEYS = ("buchungsnummer", "erlaubnisnummer")
def check(what, got, want):
    # Query results come in key order (the daemon pages on the key), the file in its own.
    for k in KEYS:
        if want and k in want[0]:
            want = sorted(want, key=lambda r: r[k])
    if got != want:
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                sys.exit(f"FAIL: {what}: record {i} differs:\n got  {g}\n want {w}")
        sys.exit(f"FAIL: {what}: {len(got)} records, want {len(want)}")
zs, es = exp["Gewerbesteuerzahlung"], exp["Gaststaettenerlaubnis"]
assert len(zs) > 100 and len(es) > 10, (len(zs), len(es))
check("Gewerbesteuerzahlung", lines("zahlungen.json"), zs)
check("Gaststaettenerlaubnis", lines("erlaubnisse.json"), es)
# The data must exercise what the test claims to check.
assert any(any(c in z["steuerpflichtiger"] for c in "äöüÄÖÜß") for z in zs), "no umlaut in the EBCDIC names"
assert any(z["betrag"].startswith("-") for z in zs), "no refund (negative COMP-3)"
assert any(z["saeumniszuschlag"] != "0.00" for z in zs), "no surcharge (signed zoned decimal)"
assert any("€" in (e["bemerkung"] or "") for e in es), "no euro sign (ISO-8859-15)"
assert any(";" in (e["bemerkung"] or "") for e in es), "no quoted field with the delimiter"
assert any(float(e["gebuehr"]) >= 1000 for e in es), "no amount with a thousands dot"
check("zahlart = Erstattung", lines("erstattungen.json"), [z for z in zs if z["zahlart"] == "Erstattung"])
from decimal import Decimal
check("Berlin, gebuehr >= 600", lines("berlin.json"),
      [e for e in es if e["ort"] == "Berlin" and Decimal(e["gebuehr"]) >= 600])
keep = ["buchungsnummer", "faelligAm", "gebuchtAm", "saeumniszuschlag"]
check("saeumig since 2024", lines("saeumig.json"),
      [{k: z[k] for k in keep} for z in zs if Decimal(z["saeumniszuschlag"]) > 0 and z["gebuchtAm"] >= "2024-01-01"])
assert lines("berlin.json") and lines("erstattungen.json"), "filters selected nothing"
got = json.load(open("get_zahlung.json", encoding="utf-8"))["record"]
check("get Gewerbesteuerzahlung", [got], [z for z in zs if z["buchungsnummer"] == zkey])
got = json.load(open("get_erlaubnis.json", encoding="utf-8"))["record"]
check("get Gaststaettenerlaubnis", [got], [e for e in es if e["erlaubnisnummer"] == ekey])
PY

# Create: the new licence is appended to the CSV in the file's code page and line ending, with
# decimal comma, thousands dot and German dates; the rest of the file stays byte for byte.
key=9f1d2c1e-5d7e-4c1a-8a55-000000000101
new=(erlaubnisnummer=GA-2025-0101 betriebsnummer=100077 "betrieb=Brauhaus Zur Mühle"
     "betriebsart=Schank- und Speisewirtschaft" "strasse=Schloßstraße 12" plz=13595 ort=Berlin
     "inhaber=Jürgen Weiß" erteiltAm=2025-07-01 befristetBis=2027-06-30 sitzplaetze=84
     aussenflaeche=42.5 gebuehr=1250.50 "bemerkung=Sicherheitsleistung 750 € hinterlegt; Auflage Lärmschutz")
cli --format json create Gaststaettenerlaubnis "${new[@]}" --idempotency-key "$key" > created.json
cli --format json create Gaststaettenerlaubnis "${new[@]}" --idempotency-key "$key" > replayed.json
cli --format json get Gaststaettenerlaubnis GA-2025-0101 > get_new.json
# A character ISO-8859-15 cannot hold is refused, and the file is not touched.
cp "$csv" after_create.csv
set +e
cli create Gaststaettenerlaubnis erlaubnisnummer=GA-2025-0102 betriebsnummer=100077 "betrieb=Bar Łódź" \
  betriebsart=Schankwirtschaft strasse=X plz=13595 ort=Berlin erteiltAm=2025-07-01 sitzplaetze=1 \
  gebuehr=250 > unmappable.out 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a name with Ł was written to an ISO-8859-15 file"
grep -q "UNMAPPABLE_CHARACTER" unmappable.out || { cat unmappable.out >&2; fail "no UNMAPPABLE_CHARACTER error"; }
cmp -s "$csv" after_create.csv || fail "a refused create changed the file"

$py - "$csv" <<'PY'
import json, sys
csv = open(sys.argv[1], "rb").read()
orig = open("original.csv", "rb").read()
want = ("GA-2025-0101;100077;Brauhaus Zur Mühle;3;Schloßstraße 12;13595;Berlin;Jürgen Weiß;"
        "01.07.2025;30.06.2027;;84;42,5;1.250,50;"
        '"Sicherheitsleistung 750 € hinterlegt; Auflage Lärmschutz"').encode("iso-8859-15") + b"\r\n"
if csv != orig + want:
    sys.exit(f"FAIL: the file after the create is not the original plus\n {want!r}\n"
             f"its last 200 bytes: {csv[-200:]!r}")
created = json.load(open("created.json", encoding="utf-8"))
replayed = json.load(open("replayed.json", encoding="utf-8"))
got = json.load(open("get_new.json", encoding="utf-8"))["record"]
rec = {"erlaubnisnummer": "GA-2025-0101", "betriebsnummer": 100077, "betrieb": "Brauhaus Zur Mühle",
       "betriebsart": "Schank- und Speisewirtschaft", "strasse": "Schloßstraße 12", "plz": "13595",
       "ort": "Berlin", "inhaber": "Jürgen Weiß", "erteiltAm": "2025-07-01", "befristetBis": "2027-06-30",
       "erloschenAm": None, "sitzplaetze": 84, "aussenflaeche": "42.5", "gebuehr": "1250.50",
       "bemerkung": "Sicherheitsleistung 750 € hinterlegt; Auflage Lärmschutz"}
for what, r in (("create", created["record"]), ("replayed create", replayed["record"]), ("get", got)):
    if r != rec:
        sys.exit(f"FAIL: {what} returned\n {r}\nwant\n {rec}")
assert created.get("replayed") is False and replayed.get("replayed") is True, (created, replayed)
PY

kill -TERM "$daemon"
wait "$daemon"
daemon=""
grep -q "stopped" "$tmp/daemon.log" || fail "daemon did not log its stop"
echo "flat-file example end to end: OK"
