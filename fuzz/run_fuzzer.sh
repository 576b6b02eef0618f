#!/usr/bin/env bash
# Runs one libFuzzer target for a fixed number of inputs, starting from its
# committed seed corpus (read only: new inputs go to a scratch folder), and
# fails on the first crash, sanitizer report, leak or timeout. A failing
# input is saved as <artifacts>/<crash|leak|timeout>-<sha1>; reproduce it
# with `FUZZER <that file>` (docs/fuzzing.md).
#   run_fuzzer.sh FUZZER SEED_DIR RUNS ARTIFACT_DIR [libFuzzer flags...]
set -euo pipefail
fuzzer=$1 seeds=$2 runs=$3 artifacts=$4
shift 4
mkdir -p "$artifacts"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# -seed: the same inputs on every run, so a CI failure reproduces.
# libFuzzer fails with 77 by default, which Meson reads as SKIP.
"$fuzzer" -runs="$runs" -seed=1 -error_exitcode=1 -timeout_exitcode=1 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$@" "$scratch" "$seeds"
