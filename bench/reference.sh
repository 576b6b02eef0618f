#!/usr/bin/env bash
# Starts Debian's docker-registry (distribution 2.8) with filesystem storage in a
# temporary directory on 127.0.0.1, runs bench/run.sh against it, and stops it.
#
#   bench/reference.sh [run.sh options, e.g. --rounds 3 --out results.txt]
#
# BENCH_TMP chooses where the data goes (default $TMPDIR or /tmp; use a real disk).
# KEEP_DATA=1 keeps the directory afterwards.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir=$(bench_tmpdir reference)
port=$(free_port)
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && stop_server "$SERVER_PID"
  [[ "${KEEP_DATA:-0}" == 1 ]] || rm -rf "$dir"
}
trap cleanup EXIT
start_reference "$dir" "$port"
log "docker-registry $(docker-registry --version 2>/dev/null | awk '{print $3}') pid $SERVER_PID on 127.0.0.1:$port, data in $dir"
"$BENCH_DIR/run.sh" --url "http://127.0.0.1:$port" --pid "$SERVER_PID" --name docker-registry "$@"
