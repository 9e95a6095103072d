#!/usr/bin/env bash
# Installs what Fachadapter needs to build, test and run on Debian 12, from Debian's packages
# only. Idempotent: packages already installed are left alone. Needs root (or sudo).
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config git
  # libraries
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libyaml-cpp-dev unixodbc-dev libxml2-dev libboost-dev
  # tcmalloc for fachadapterd (its drivers and gRPC allocate on many threads)
  libgoogle-perftools-dev
  # ODBC drivers and tools for the examples and tests
  unixodbc odbcinst libsqliteodbc sqlite3 libsqlite3-dev
  # database servers and their ODBC drivers for the ODBC connector's tests (scripts/test-servers.sh)
  postgresql odbc-postgresql mariadb-server mariadb-client odbc-mariadb
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev libxml2-utils
  # TLS tests (test certificates, s_client) and the TLS report (scripts/testssl-daemon.sh)
  openssl testssl.sh
  # Python client example (stock grpcio) and the example data generator
  python3 python3-grpcio python3-grpc-tools python3-protobuf python3-yaml
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
