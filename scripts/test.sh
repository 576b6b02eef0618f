#!/usr/bin/env bash
# One command: install what is missing (build and test tools), build ./build
# with warnings as errors, and run every test suite (unit, storage, http,
# e2e); then the builds CI makes besides it (scripts/extra_builds.sh: fuzz
# targets, ASan/UBSan, release, shared, libquay as a subproject).
#   scripts/test.sh                  everything (what .ci/run runs)
#   scripts/test.sh --suite unit     only `meson test` in ./build, with these arguments
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
if (($#)); then
  exec meson test -C build --print-errorlogs "$@"
fi
start=$SECONDS
meson test -C build --print-errorlogs
echo "== build: tests: $((SECONDS - start)) s"
scripts/extra_builds.sh
