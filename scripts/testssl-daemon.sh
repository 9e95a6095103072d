#!/usr/bin/env bash
# Runs testssl (Debian package testssl.sh) against fachadapterd with TLS and writes the report
# to docs/security-testssl.txt. The PKI and the database are made for this run and removed.
#   scripts/testssl-daemon.sh [BUILD_DIR]     (default: build)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
out="$here/docs/security-testssl.txt"
command -v testssl >/dev/null || { echo "testssl-daemon: install the Debian package testssl.sh (scripts/install-deps.sh)" >&2; exit 2; }
work=$(mktemp -d)
daemon_pid=""
cleanup() { [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -days 2 -subj "/CN=testssl CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
  -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 \
  -extfile server.ext 2>/dev/null
sqlite3 register.db "CREATE TABLE T (ID INTEGER PRIMARY KEY, X TEXT); INSERT INTO T VALUES (1, 'a');"
cat > fachadapter.yaml <<YAML
server:
  listen: 127.0.0.1:0
connectors:
  search_path: [$build/lib/fachadapter/connectors]
security:
  tls: {cert_file: server.pem, key_file: server.key, client_ca_file: ca.pem, client_auth: request}
  policy:
    - {principals: ["*"], entities: ["*"], operations: [describe]}
sources:
  s: {connector: odbc, settings: {connection_string: "Driver=SQLite3;Database=$work/register.db"}}
entities:
  T: {source: s, table: T}
YAML
"$build/bin/fachadapterd" --config fachadapter.yaml > daemon.log 2>&1 &
daemon_pid=$!
for _ in $(seq 1 150); do
  grep -q "serving" daemon.log && break
  sleep 0.2
done
addr=$(grep -o '127\.0\.0\.1:[0-9]*' daemon.log | head -1)
[ -n "$addr" ] || { cat daemon.log >&2; exit 1; }
{
  version=$(dpkg-query -W -f='${Version}' testssl.sh 2>/dev/null || echo unknown)
  echo "# testssl $version (Debian package testssl.sh) against fachadapterd ($addr), $(date -u +%Y-%m-%d)"
  echo "# produced by scripts/testssl-daemon.sh (throw-away self-signed CA: chain-of-trust and validity findings are expected)"
  testssl --quiet --color 0 --warnings off "$addr" || true
} > "$out"
echo "testssl-daemon: report in $out"
