#!/usr/bin/env bash
# Installs a Fachadapter build tree into a temporary prefix and builds a consumer project
# against it, out of tree, the way a user of the installed package would:
#  1. `cmake --install BUILD_DIR --prefix TMP`, then checks the installed layout;
#  2. configures consumer/ with -DCMAKE_PREFIX_PATH=TMP (find_package(Fachadapter)), builds its
#     own connector plugin with the installed fachadapter_add_connector(), a program on
#     fachadapter::adapter that loads that plugin, and one with the connector linked statically;
#     runs both and compares their output;
#  3. runs the installed fachadapterd --check-config on the consumer's config, finding the
#     consumer's plugin through $FACHADAPTER_CONNECTOR_PATH and, after `cmake --install` of the
#     consumer puts it into Fachadapter_CONNECTOR_DIR, beside the built-in plugins;
#  4. compiles a program with nothing but `pkg-config --cflags --libs fachadapter` and runs it.
# Everything lives in one temporary folder, removed at exit.
#
# Usage: install_consumer_test.sh BUILD_DIR CONSUMER_SOURCE_DIR LIBDIR CMAKE CXX [CXXFLAGS]
#   CONSUMER_SOURCE_DIR  tests/e2e/consumer of the source tree the build was made from
#   LIBDIR    the build's CMAKE_INSTALL_LIBDIR (e.g. lib)
#   CXXFLAGS  extra compile and link flags for the consumer (sanitizers of a sanitized build)
set -euo pipefail

if [[ $# -lt 5 || $# -gt 6 ]]; then
  echo "usage: $0 BUILD_DIR CONSUMER_SOURCE_DIR LIBDIR CMAKE CXX [CXXFLAGS]" >&2
  exit 2
fi
build_dir=$1
consumer_src=$2
libdir=$3
cmake=$4
cxx=$5
extra_flags=${6:-}
source_dir=$(cd "$consumer_src/../../.." && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/fachadapter-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Compares a command's output with the expected text, showing both on a mismatch.
expect_output() {
  local name=$1 expected=$2 actual=$3
  if [[ "$actual" != "$expected" ]]; then
    echo "--- expected output of $name" >&2
    echo "$expected" >&2
    echo "--- actual output of $name" >&2
    echo "$actual" >&2
    fail "$name printed something else than expected"
  fi
  echo "ok: $name"
}

# A program must find its libraries through its own RPATH, not through the environment.
unset LD_LIBRARY_PATH

echo "== cmake --install $build_dir --prefix $prefix"
"$cmake" --install "$build_dir" --prefix "$prefix" >"$work/install.log" ||
  { cat "$work/install.log" >&2; fail "cmake --install failed"; }

echo "== installed layout"
# Every public header of the source tree (libadapter/include; internal ones live in src/).
public_headers=$(cd "$source_dir/libadapter/include" && find fachadapter -name '*.h' | sort)
[[ -n "$public_headers" ]] || fail "no public headers found in $source_dir/libadapter/include"
for f in $public_headers; do
  [[ -f "$prefix/include/$f" ]] || fail "public header not installed: include/$f"
done
for f in \
    bin/fachadapterd bin/fachadapter \
    include/fachadapter/connector/abi.h include/fachadapter/connector/sdk.h \
    include/fachadapter/v1/value.pb.h include/fachadapter/v1/error.pb.h \
    include/fachadapter/v1/adapter.pb.h include/fachadapter/v1/adapter.grpc.pb.h \
    include/fachadapter/connector/v1/connector.pb.h \
    share/fachadapter/proto/fachadapter/v1/value.proto \
    share/fachadapter/proto/fachadapter/v1/error.proto \
    share/fachadapter/proto/fachadapter/v1/adapter.proto \
    share/fachadapter/proto/fachadapter/connector/v1/connector.proto \
    "$libdir/libfachadapter.so" "$libdir/libfachadapter_proto.so" \
    "$libdir/cmake/Fachadapter/FachadapterConfig.cmake" \
    "$libdir/cmake/Fachadapter/FachadapterConfigVersion.cmake" \
    "$libdir/cmake/Fachadapter/FachadapterTargets.cmake" \
    "$libdir/cmake/Fachadapter/FachadapterHelpers.cmake" \
    "$libdir/pkgconfig/fachadapter.pc"; do
  [[ -e "$prefix/$f" ]] || fail "not installed: $f"
done
compgen -G "$prefix/$libdir/cmake/Fachadapter/FachadapterTargets-*.cmake" >/dev/null ||
  fail "not installed: $libdir/cmake/Fachadapter/FachadapterTargets-<config>.cmake"
# Every connector plugin the build made is installed, and nothing else (no test plugins).
built_plugins=$(cd "$build_dir/$libdir/fachadapter/connectors" 2>/dev/null && ls -- *.so 2>/dev/null | sort || true)
installed_plugins=$(cd "$prefix/$libdir/fachadapter/connectors" 2>/dev/null && ls -- *.so 2>/dev/null | sort || true)
expect_output "installed connector plugins" "$built_plugins" "$installed_plugins"
# Internal headers stay private.
internal=$(cd "$prefix/include" && find . -name '*_internal.h')
[[ -z "$internal" ]] || fail "internal headers installed: $internal"
# Installed programs and plugins find their libraries by RPATH.
for f in "$prefix/bin/fachadapterd" "$prefix/bin/fachadapter" "$prefix/$libdir/libfachadapter.so" \
         "$prefix/$libdir"/fachadapter/connectors/*.so; do
  [[ -e "$f" ]] || continue
  if ldd "$f" | grep -q 'not found'; then
    ldd "$f" >&2
    fail "$f does not find all its libraries"
  fi
  if ldd "$f" | grep -E 'libfachadapter(_proto)?\.so' | grep -vq -- "$prefix/"; then
    ldd "$f" >&2
    fail "$f resolves a Fachadapter library outside the install prefix"
  fi
done
expect_output "fachadapterd --version" "fachadapterd 0.1.0" "$("$prefix/bin/fachadapterd" --version)"
echo "ok: layout"

echo "== consumer project (CMake package)"
consumer_build=$work/consumer-build
cmake_args=(-S "$consumer_src" -B "$consumer_build" -G Ninja
            -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [[ -n "$extra_flags" ]]; then
  cmake_args+=(-DCMAKE_CXX_FLAGS="$extra_flags" -DCMAKE_EXE_LINKER_FLAGS="$extra_flags"
               -DCMAKE_MODULE_LINKER_FLAGS="$extra_flags")
fi
"$cmake" "${cmake_args[@]}" >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log" >&2; fail "configuring the consumer failed"; }
grep -q "Fachadapter_DIR:PATH=$prefix/" "$consumer_build/CMakeCache.txt" ||
  fail "the consumer did not find Fachadapter in $prefix"
"$cmake" --build "$consumer_build" --parallel 2 >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; fail "building the consumer failed"; }
plugin=$consumer_build/fachadapter_connector_consumer_demo.so
[[ -f "$plugin" ]] || fail "the consumer's plugin was not built at $plugin"

expect_output "consumer" "entities in config: 1
plugin: consumer_demo 1.0.0
record: [5] [Gruss 5]
record: [4] [Gruss 4]
record: [3] [Gruss 3]" "$("$consumer_build/consumer" "$consumer_src/consumer.yaml" "$plugin")"
expect_output "consumer_static" "static connector: consumer_demo 1.0.0 consumer_demo (static)" \
  "$("$consumer_build/consumer_static")"

echo "== installed fachadapterd --check-config with the consumer's plugin"
check_config=("$prefix/bin/fachadapterd" --check-config --config "$consumer_src/consumer.yaml")
check_ok="$consumer_src/consumer.yaml: OK (1 sources, 1 entities)"
# From the consumer's build folder, named in $FACHADAPTER_CONNECTOR_PATH...
expect_output "fachadapterd --check-config (FACHADAPTER_CONNECTOR_PATH)" "$check_ok" \
  "$(FACHADAPTER_CONNECTOR_PATH="$consumer_build" "${check_config[@]}")"
# ...and, once the consumer installs it into Fachadapter_CONNECTOR_DIR, from there.
# (Checked first, so that a wrong Fachadapter_CONNECTOR_DIR never writes outside $work.)
grep -q "$prefix/$libdir/fachadapter/connectors" "$consumer_build/cmake_install.cmake" ||
  fail "Fachadapter_CONNECTOR_DIR does not name $prefix/$libdir/fachadapter/connectors"
"$cmake" --install "$consumer_build" >"$work/consumer-install.log" ||
  { cat "$work/consumer-install.log" >&2; fail "installing the consumer's plugin failed"; }
[[ -f "$prefix/$libdir/fachadapter/connectors/fachadapter_connector_consumer_demo.so" ]] ||
  fail "the consumer's plugin was not installed into Fachadapter_CONNECTOR_DIR"
unset FACHADAPTER_CONNECTOR_PATH
expect_output "fachadapterd --check-config (installed plugin)" "$check_ok" "$("${check_config[@]}")"

echo "== pkg-config"
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pc_libdir=$(pkg-config --variable=libdir fachadapter)
[[ "$pc_libdir" == "$prefix/$libdir" ]] || fail "fachadapter.pc has libdir=$pc_libdir, expected $prefix/$libdir"
[[ "$(pkg-config --modversion fachadapter)" == "0.1.0" ]] || fail "fachadapter.pc has the wrong version"
# shellcheck disable=SC2046,SC2086  # pkg-config output and the flags are word lists
"$cxx" -std=c++20 $extra_flags -o "$work/pkgconfig_probe" "$consumer_src/pkgconfig_probe.cc" \
  $(pkg-config --cflags --libs fachadapter) -Wl,-rpath,"$pc_libdir" 2>"$work/pc.log" ||
  { cat "$work/pc.log" >&2; fail "compiling with pkg-config flags failed"; }
expect_output "pkgconfig_probe" "pkg-config probe: 1 entity, 1234.50" "$("$work/pkgconfig_probe")"

echo "PASS"
