#!/usr/bin/env bash
# Passes all tests: installs what is missing, builds with warnings as errors, runs every test
# through CTest, then builds and runs them again with AddressSanitizer and
# UndefinedBehaviorSanitizer. Exit status 0 only if every run passed. PostgreSQL and MariaDB
# run on loopback meanwhile (scripts/test-servers.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
jobs=$(nproc)

# Throwaway PostgreSQL and MariaDB servers on loopback for the ODBC connector's conformance
# tests (found through FACHADAPTER_TEST_PG_DSN / FACHADAPTER_TEST_MARIADB_DSN), stopped on exit.
eval "$(scripts/test-servers.sh start)"
trap 'scripts/test-servers.sh stop "$FACHADAPTER_TEST_SERVERS_DIR"' EXIT
if [ -z "${FACHADAPTER_TEST_PG_DSN:-}" ] || [ -z "${FACHADAPTER_TEST_MARIADB_DSN:-}" ]; then
  echo "test.sh: the PostgreSQL and MariaDB test servers did not start (see above)" >&2
  exit 1
fi

echo "== build (RelWithDebInfo, -Werror) =="
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFACHADAPTER_WERROR=ON
cmake --build build -j "$jobs"
echo "== tests =="
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== build (AddressSanitizer + UndefinedBehaviorSanitizer) =="
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFACHADAPTER_SANITIZE=address,undefined -DFACHADAPTER_BUILD_BENCH=OFF
cmake --build build-asan -j "$jobs"
echo "== tests under sanitizers =="
# Leak checking stays on. The connector plugins stay mapped until exit (see
# connector_loader.cc), which LeakSanitizer does not count as a leak.
ASAN_OPTIONS=abort_on_error=1:detect_stack_use_after_return=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE no_sanitizer
