#!/usr/bin/env bash
# The builds besides ./build that CI makes (scripts/test.sh runs them all
# after the test suites), each in its own folder so they never disturb ./build:
#   fuzz      build-fuzz      clang + libFuzzer + ASan/UBSan: `meson test --suite fuzz`
#                             (fuzz_runs inputs per target; docs/fuzzing.md)
#   asan      build-asan      ASan + UBSan (no recovery: a report fails the test):
#                             the unit, storage and http suites
#   release   build-release   --buildtype=release: library + quayd, as packagers build
#   shared    build-shared    -Ddefault_library=shared: libquay.so + quayd, which must
#                             run against only what QUAY_EXPORT exports
#   consumer  (scratch)       libquay as another project's Meson subproject
#                             (tests/consumer/run.sh), static and shared
# Every build has -Dwerror=true. Each step prints its time.
#   scripts/extra_builds.sh              all of them
#   scripts/extra_builds.sh asan fuzz    some
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${QUAY_BUILD_JOBS:-$(nproc)}
steps=("$@")
((${#steps[@]})) || steps=(fuzz asan release shared consumer)

# Configures DIR once with ARGS; later runs reuse it (meson reconfigures
# itself when meson.build changes).
configure() {
  local dir=$1
  shift
  [[ -f $dir/build.ninja ]] || meson setup "$dir" -Dwerror=true "$@"
}

clangxx() {
  local c
  for c in clang++-14 clang++; do
    command -v "$c" >/dev/null && { echo "$c"; return; }
  done
  echo "clang++ not found (scripts/setup.sh --tests installs it)" >&2
  return 1
}

no_recover=-fno-sanitize-recover=all

fuzz() {
  CXX=$(clangxx) configure build-fuzz -Dfuzzing=true -Dhost=disabled -Dtests=disabled \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dcpp_args=$no_recover -Dcpp_link_args=$no_recover
  ninja -C build-fuzz -j"$jobs" fuzzers
  meson test -C build-fuzz --no-rebuild --suite fuzz --print-errorlogs
}

asan() {
  # GCC 12's -Wmaybe-uninitialized misfires under the sanitizers' extra
  # instrumentation (std::regex's std::function state in lib/registry, which
  # the plain and release builds compile clean); GCC's manual warns that
  # sanitizers make that warning unreliable. Every other warning stays an
  # error here.
  configure build-asan -Db_sanitize=address,undefined \
    "-Dcpp_args=['$no_recover','-Wno-maybe-uninitialized']" -Dcpp_link_args=$no_recover
  ninja -C build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    meson test -C build-asan --no-rebuild --print-errorlogs --timeout-multiplier 3 \
    --suite unit --suite storage --suite http
}

release() {
  configure build-release --buildtype=release -Dtests=disabled
  ninja -C build-release -j"$jobs"
  build-release/host/quayd --version
}

shared() {
  configure build-shared -Ddefault_library=shared -Dtests=disabled
  ninja -C build-shared -j"$jobs"
  build-shared/host/quayd --version
}

consumer() {
  tests/consumer/run.sh
  tests/consumer/run.sh -Ddefault_library=shared
}

for step in "${steps[@]}"; do
  case $step in
    fuzz | asan | release | shared | consumer) ;;
    *) echo "unknown step '$step' (fuzz asan release shared consumer)" >&2; exit 2 ;;
  esac
  echo "== $step"
  start=$SECONDS
  "$step"
  echo "== $step: $((SECONDS - start)) s"
done
