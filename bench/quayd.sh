#!/usr/bin/env bash
# Starts quayd with a fresh data directory on 127.0.0.1, runs bench/run.sh against
# it, and stops it.
#
#   bench/quayd.sh path/to/quayd [run.sh options, e.g. --rounds 3 --out results.txt]
#
# quayd is started as `quayd serve --listen 127.0.0.1:PORT --data-dir DIR $QUAYD_ARGS`.
# The GC case runs too (run.sh --gc-quayd), on a quayd of its own; --skip-gc skips it.
# BENCH_TMP chooses where the data goes (default $TMPDIR or /tmp; use a real disk:
# quayd fsyncs every blob). KEEP_DATA=1 keeps the directory afterwards.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 ]] || fail "usage: $0 QUAYD_BINARY [run.sh options]"
binary=$(realpath "$1"); shift
dir=$(bench_tmpdir quayd)
port=$(free_port)
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && stop_server "$SERVER_PID"
  [[ "${KEEP_DATA:-0}" == 1 ]] || rm -rf "$dir"
}
trap cleanup EXIT
start_quayd "$binary" "$dir" "$port"
log "quayd pid $SERVER_PID on 127.0.0.1:$port, data in $dir"
"$BENCH_DIR/run.sh" --url "http://127.0.0.1:$port" --pid "$SERVER_PID" --name quayd \
  --gc-quayd "$binary" "$@"
