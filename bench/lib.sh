# Shared helpers for the benchmark scripts; sourced, not run.
# shellcheck shell=bash

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)

log() { printf '[bench] %s\n' "$*" >&2; }
fail() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

# Prints the path of a quay-bench binary: $QUAY_BENCH, the Meson build's, or one
# compiled here with g++ into a cache directory outside the source tree.
find_quay_bench() {
  if [[ -n "${QUAY_BENCH:-}" ]]; then
    [[ -x "$QUAY_BENCH" ]] || fail "QUAY_BENCH=$QUAY_BENCH is not executable"
    echo "$QUAY_BENCH"; return
  fi
  local built
  for built in "$REPO_DIR/build/bench/quay-bench" "$REPO_DIR/builddir/bench/quay-bench"; do
    if [[ -x "$built" && "$built" -nt "$BENCH_DIR/quay-bench.cpp" ]]; then
      echo "$built"; return
    fi
  done
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/quay-bench"
  local bin="$cache/quay-bench"
  if [[ ! -x "$bin" || "$BENCH_DIR/quay-bench.cpp" -nt "$bin" ]]; then
    mkdir -p "$cache"
    log "compiling quay-bench into $bin"
    # shellcheck disable=SC2046
    "${CXX:-g++}" -std=c++20 -O2 -Wall -Wextra -Werror \
      $(pkg-config --cflags cpp-httplib libcrypto) "$BENCH_DIR/quay-bench.cpp" -o "$bin.tmp" \
      $(pkg-config --libs cpp-httplib libcrypto) -pthread || fail "cannot compile quay-bench"
    mv "$bin.tmp" "$bin"
  fi
  echo "$bin"
}

# Prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 20000))
    if ! ss -Hltn "sport = :$port" | grep -q .; then echo "$port"; return; fi
  done
  fail "no free port found"
}

# wait_for_http URL PID: waits until URL answers any HTTP status, or PID dies.
wait_for_http() {
  local url=$1 pid=$2
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$url")" != "000" ]]; then return 0; fi
    sleep 0.05
  done
  return 1
}

# stop_server PID: SIGTERM, then SIGKILL after 10 s.
stop_server() {
  local pid=$1
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# Where server data goes: a real disk by default (fsync must cost what it costs).
bench_tmpdir() {
  mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/quay-bench.$1.XXXXXX"
}

# start_reference DIR PORT: starts docker-registry with filesystem storage in DIR;
# sets SERVER_PID.
start_reference() {
  local dir=$1 port=$2
  command -v "${DOCKER_REGISTRY:-docker-registry}" >/dev/null ||
    fail "docker-registry not found (Debian package docker-registry)"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  cache:
    blobdescriptor: inmemory
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
  "${DOCKER_REGISTRY:-docker-registry}" serve "$dir/config.yml" >"$dir/server.log" 2>&1 &
  SERVER_PID=$!
  wait_for_http "http://127.0.0.1:$port/v2/" "$SERVER_PID" ||
    { cat "$dir/server.log" >&2; fail "docker-registry did not start"; }
}

# start_quayd BINARY DIR PORT: starts quayd with its data in DIR; sets SERVER_PID.
# quayd uses Docker token auth, so a user "bench" (which owns the bench/ namespace)
# is created first with a random password, and QUAY_BENCH_USER/QUAY_BENCH_PASSWORD
# are exported for quay-bench, which fetches a token when /v2/ asks for one.
start_quayd() {
  local binary=$1 dir=$2 port=$3
  [[ -x "$binary" ]] || fail "quayd binary $binary is not executable"
  mkdir -p "$dir/data"
  if "$binary" --help 2>&1 | grep -q '^  user '; then
    export QUAY_BENCH_USER=bench
    QUAY_BENCH_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    export QUAY_BENCH_PASSWORD
    printf '%s\n' "$QUAY_BENCH_PASSWORD" |
      "$binary" user add "$QUAY_BENCH_USER" --data-dir "$dir/data" >"$dir/user-add.log" 2>&1 ||
      { cat "$dir/user-add.log" >&2; fail "quayd user add failed"; }
  fi
  # shellcheck disable=SC2086
  launch_quayd "$binary" "$dir" "$port" "$dir/server.log" ${QUAYD_ARGS:-}
}

# launch_quayd BINARY DIR PORT LOG [SERVE-ARGS...]: starts quayd serve on the data
# in DIR (users already there), logging to LOG; sets SERVER_PID. Later arguments
# win over earlier ones.
launch_quayd() {
  local binary=$1 dir=$2 port=$3 logfile=$4
  shift 4
  "$binary" serve --listen "127.0.0.1:$port" --data-dir "$dir/data" "$@" >"$logfile" 2>&1 &
  SERVER_PID=$!
  wait_for_http "http://127.0.0.1:$port/v2/" "$SERVER_PID" ||
    { tail -n 50 "$logfile" >&2; fail "quayd did not start"; }
  # quayd binds its port first and answers 503 until startup ends (/readyz
  # turns 200); a binary without /readyz answers 404 there.
  local code
  for _ in $(seq 1 600); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")
    [[ $code == 200 || $code == 404 ]] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  tail -n 50 "$logfile" >&2
  fail "quayd did not become ready"
}
