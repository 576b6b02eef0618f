#!/usr/bin/env bash
# Builds tests/consumer against this checkout as its subprojects/libquay, in a
# scratch folder, then proves what an embedder gets: the library alone (no
# quayd, no libquay tests, no yaml-cpp), a consumer program that runs, and an
# uninstalled pkg-config file that points at the public headers.
#   tests/consumer/run.sh [MESON_SETUP_ARGS...]   e.g. -Ddefault_library=shared
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$root/tests/consumer/meson.build" "$root/tests/consumer/consumer.cpp" "$work/"
mkdir "$work/subprojects"
ln -s "$root" "$work/subprojects/libquay"

cd "$work"
meson setup build -Dforce_fallback_for=quay "$@" >setup.log || { cat setup.log; exit 1; }
targets=$(ninja -C build -t targets all)
for unwanted in quayd yaml-cpp http_server_test public_api_test quay-bench; do
  if grep -q "$unwanted" <<<"$targets"; then
    echo "consumer: libquay as a subproject still builds $unwanted" >&2
    exit 1
  fi
done
ninja -C build >build.log || { cat build.log; exit 1; }
meson test -C build --print-errorlogs

# The uninstalled pkg-config file: Cflags name libquay's include/ (headers
# are included as <quay/...>), not lib/.
pc_dir=build/meson-uninstalled
cflags=$(PKG_CONFIG_PATH=$pc_dir pkg-config --cflags quay)
if ! grep -q -- "-I$root/include\b\|-I${work}/subprojects/libquay/include\b" <<<"$cflags"; then
  echo "consumer: quay-uninstalled.pc Cflags do not name the public headers: $cflags" >&2
  exit 1
fi
if grep -q -- "-I[^ ]*/lib\b" <<<"$cflags"; then
  echo "consumer: quay-uninstalled.pc puts libquay's internal lib/ on the include path: $cflags" >&2
  exit 1
fi
echo "consumer: OK (library only; pkg-config Cflags: $cflags)"
