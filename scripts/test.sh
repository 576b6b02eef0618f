#!/usr/bin/env bash
# One command: install what is missing (build and test tools), build, and run
# every test suite (unit, storage, http, e2e). Extra arguments go to
# `meson test`, e.g. scripts/test.sh --suite unit
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
meson test -C build --print-errorlogs "$@"
