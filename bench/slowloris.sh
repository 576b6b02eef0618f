#!/usr/bin/env bash
# The slow-connection measurement of issue 11 (docs/performance.md, "Slow
# connections"), in one run, interleaving two quayd binaries round by round:
#
#   bench/slowloris.sh NEW_QUAYD [OLD_QUAYD]
#
# Per round and binary, on a fresh quayd (token auth, --log-level warn) with a
# small image pushed (quay-bench seed):
#   hot path   wrk -c16 GET manifest by tag; quay-bench HEAD blob on 16
#              connections; server CPU per request from /proc/PID/stat
#   pull       wrk -c16 alternating GET manifest and GET config blob (one
#              pull = both), without attack
#   attacked   the same while bench/slowloris.py holds ATTACK_CONNECTIONS
#              slow connections (from ATTACK_SOURCES; the cap is lifted with
#              --max-connections-per-address 0 where the binary has it)
# Then once, on NEW_QUAYD with the default cap: the same attack from one
# address, to show how many connections the cap lets it hold.
#
# Environment: ROUNDS (3), SECONDS_PER_CASE (10), CONNECTIONS (16),
# ATTACK_CONNECTIONS (5000), ATTACK_SOURCES (127.0.0.2-127.0.0.21),
# ATTACK_INTERVAL (10 s between header lines), CASES ("hot pull cap": any
# of hot, pull (with the attacked pull), cap), OUT (raw lines; default a
# temp file). Needs wrk, python3, curl. Prints key=value lines.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 ]] || fail "usage: $0 NEW_QUAYD [OLD_QUAYD]"
binaries=("$(realpath "$1")")
names=(new)
if [[ $# -ge 2 ]]; then binaries=("$(realpath "$2")" "${binaries[0]}"); names=(old new); fi
command -v wrk >/dev/null || fail "wrk not found (Debian package wrk)"
rounds=${ROUNDS:-3}
seconds=${SECONDS_PER_CASE:-10}
connections=${CONNECTIONS:-16}
attack_connections=${ATTACK_CONNECTIONS:-5000}
attack_sources=${ATTACK_SOURCES:-127.0.0.2-127.0.0.21}
attack_interval=${ATTACK_INTERVAL:-10}
cases=" ${CASES:-hot pull cap} "
out=${OUT:-$(mktemp "${TMPDIR:-/tmp}/slowloris-results.XXXXXX")}
bench=$(find_quay_bench)
export QUAYD_ARGS="--log-level warn"
# Listening ports below the ephemeral range: the attack's thousands of client
# sockets take ports from it, and a listener cannot bind one of those.
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 12000))
    if ! ss -Htan "sport = :$port" | grep -q .; then echo "$port"; return; fi
  done
  fail "no free port found"
}

SERVER_PID="" ATTACK_PID="" dir=""
cleanup() {
  [[ -n "$ATTACK_PID" ]] && kill "$ATTACK_PID" 2>/dev/null && wait "$ATTACK_PID" 2>/dev/null
  [[ -n "$SERVER_PID" ]] && stop_server "$SERVER_PID"
  [[ -n "$dir" ]] && rm -rf "$dir"
  return 0
}
trap cleanup EXIT

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
threads_of() { awk '/^Threads:/ { print $2 }' "/proc/$1/status"; }

# token URL: a pull token for bench/app from the realm in /v2/'s challenge.
token() {
  local url=$1 challenge realm service
  challenge=$(curl -s -D - -o /dev/null "$url/v2/" | tr -d '\r' | grep -i '^www-authenticate:')
  realm=$(sed -n 's/.*realm="\([^"]*\)".*/\1/p' <<<"$challenge")
  service=$(sed -n 's/.*service="\([^"]*\)".*/\1/p' <<<"$challenge")
  curl -s -u "$QUAY_BENCH_USER:$QUAY_BENCH_PASSWORD" \
    "$realm?service=$service&scope=repository:bench/app:pull" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

# wrk_case NAME URL [PULL_ONLY]: one wrk run; prints a result line.
wrk_case() {
  local name=$1 url=$2 only=${3:-} before after output
  before=$(cpu_ticks "$SERVER_PID")
  output=$(PULL_ONLY=$only wrk -t2 -c"$connections" -d"${seconds}s" -s "$BENCH_DIR/wrk/pull.lua" \
    "$url/v2/" 2>&1)
  after=$(cpu_ticks "$SERVER_PID")
  awk -v name="$name" -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" \
    -v threads="$(threads_of "$SERVER_PID")" '
    /^Requests\/sec:/ { rps = $2 } /Non-2xx/ { bad = $NF }
    /requests in/ { total = $1 }
    /Socket errors/ { gsub(/,/, ""); errors = $4 + $6 + $8 + $10 }
    END {
      cpu_us = total > 0 ? ticks / hz * 1e6 / total : 0
      printf "case=%s rps=%.0f non_2xx=%d socket_errors=%d server_cpu_us_per_req=%.1f server_threads=%s\n",
        name, rps, bad, errors, cpu_us, threads
    }' <<<"$output"
}

record() { sed "s/^/binary=$1 round=$2 /" | tee -a "$out"; }

run_binary() {
  local name=$1 binary=$2 round=$3 port url seed layer config cap_args=()
  dir=$(bench_tmpdir slowloris)
  port=$(free_port)
  url="http://127.0.0.1:$port"
  "$binary" --help 2>&1 | grep -q -- '--max-connections-per-address' &&
    cap_args=(--max-connections-per-address 0)
  QUAYD_ARGS="--log-level warn ${cap_args[*]}" start_quayd "$binary" "$dir" "$port"
  seed=$("$bench" seed --url "$url" --repo bench/app --tag bench)
  layer=$(sed -n 's/.* layer=\([^ ]*\).*/\1/p' <<<"$seed")
  config=$(sed -n 's/.* config=\([^ ]*\).*/\1/p' <<<"$seed")
  BEARER=$(token "$url")
  export BEARER PULL_PATH_MANIFEST=/v2/bench/app/manifests/bench
  export PULL_PATH_BLOB="/v2/bench/app/blobs/$config"

  if [[ $cases == *" hot "* ]]; then
    log "$name round $round: hot path"
    wrk_case manifest_get "$url" manifest | record "$name" "$round"
    local before after line
    before=$(cpu_ticks "$SERVER_PID")
    line=$("$bench" load --url "$url" --name head_blob --method HEAD \
      --path "/v2/bench/app/blobs/$layer" --connections "$connections" --duration "$seconds" \
      2>/dev/null | sed 's/ rss_idle.*//')
    after=$(cpu_ticks "$SERVER_PID")
    # quay-bench counts the measured window only (after its warm-up): the CPU
    # per request is over every request it sent, so a little high.
    awk -v line="$line" -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN {
      n = split(line, f, " "); ok = 0
      for (i = 1; i <= n; i++) if (f[i] ~ /^ok=/) { split(f[i], kv, "="); ok = kv[2] }
      # (a variable first: in a printf argument list, mawk reads ">" as a redirection)
      per = 0; if (ok > 0) per = t / hz * 1e6 / ok
      printf "%s server_cpu_us_per_req=%.1f\n", line, per }' |
      record "$name" "$round"
  fi
  if [[ $cases == *" pull "* ]]; then
    log "$name round $round: pulls without attack"
    wrk_case pull "$url" | record "$name" "$round"

    log "$name round $round: $attack_connections slow connections from $attack_sources"
    local ready="$dir/attack.status"
    python3 "$BENCH_DIR/slowloris.py" --url "$url" --connections "$attack_connections" \
      --sources "$attack_sources" --interval "$attack_interval" --report 1 \
      --ready-file "$ready" >"$dir/attack.out" 2>"$dir/attack.err" &
    ATTACK_PID=$!
    # Until the attack holds what it asked for (or 30 s: the old server never lets it).
    for _ in $(seq 1 30); do
      sleep 1
      [[ -f "$ready" ]] && awk -v want="$attack_connections" \
        '{ for (i = 1; i <= NF; i++) if ($i ~ /^open=/) { split($i, kv, "="); exit !(kv[2] >= want) } }' \
        "$ready" && break
    done
    echo "case=attack_before_pull $(cat "$ready" 2>/dev/null)" | record "$name" "$round"
    wrk_case pull_attacked "$url" | record "$name" "$round"
    kill "$ATTACK_PID"; wait "$ATTACK_PID" 2>/dev/null || true; ATTACK_PID=""
    sed 's/^case=slowloris/case=attack_end/' "$dir/attack.out" | record "$name" "$round"
  fi
  stop_server "$SERVER_PID"; SERVER_PID=""
  rm -rf "$dir"; dir=""
}

for ((round = 1; round <= rounds; round++)); do
  for i in "${!binaries[@]}"; do run_binary "${names[$i]}" "${binaries[$i]}" "$round"; done
done

[[ $cases == *" cap "* ]] || { log "raw results in $out"; exit 0; }
# The default cap against one address.
new=${binaries[${#binaries[@]} - 1]}
dir=$(bench_tmpdir slowloris)
port=$(free_port)
start_quayd "$new" "$dir" "$port"
log "default cap: $attack_connections slow connections from 127.0.0.1"
python3 "$BENCH_DIR/slowloris.py" --url "http://127.0.0.1:$port" \
  --connections "$attack_connections" --interval "$attack_interval" --reopen 5 --duration 15 \
  --report 5 2>/dev/null | sed 's/^case=slowloris/case=default_cap_one_address/' |
  record new cap
log "raw results in $out"
