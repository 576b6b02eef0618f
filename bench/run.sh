#!/usr/bin/env bash
# Runs every benchmark case against one registry that speaks the OCI Distribution
# v2 API over plain HTTP (no auth, or Docker token auth with QUAY_BENCH_USER and
# QUAY_BENCH_PASSWORD), and prints a markdown table.
#
#   bench/run.sh --url http://127.0.0.1:5000 --pid SERVER_PID [options]
#
# Options:
#   --url URL        registry base URL (required)
#   --pid PID        server process id, for RSS sampling (optional; RSS columns blank)
#   --name NAME      label for this server in the results (default: server)
#   --rounds N       run the whole suite N times; the report keeps each case's best
#                    round, which filters out disturbance from other processes
#                    (default 1)
#   --round-offset K number rounds from K+1 (used by compare.sh to interleave servers)
#   --out FILE       append raw results (one key=value line per case) to FILE
#   --skip-big       skip the 2 GiB push+pull RSS case
#   --only-big       run only the 2 GiB case
#   --gc-quayd BIN   also run the GC case (quayd only): start a quayd of its own from
#                    BIN, push GC_MANIFESTS untagged manifests, restart it with both
#                    GC windows at 0 and --gc-interval GC_INTERVAL, and GET a manifest
#                    on LOAD_CONNECTIONS connections while it collects them (its
#                    "collected garbage" log line gives the duration; it logs at info)
#   --skip-gc        do not run the GC case even with --gc-quayd
#   --only-gc        run only the GC case (needs --gc-quayd)
#   --quick          short durations and small sizes, for smoke-testing the harness
#   --no-table       do not print the table (compare.sh prints its own)
# Cases per round: GET manifest, HEAD blob, tags/list of TAG_COUNT tags, catalog of
# CATALOG_REPOS repositories (one page, n=1000), 1 MiB blob push, manifest PUT,
# large and chunked push, pull. tags/list and catalog seed their tags and
# repositories in the first round only; later rounds reuse them.
# Environment: LOAD_SECONDS (10), PUSH_SECONDS (10), PUSH_CLIENTS (8, also the
# manifest PUT clients), LOAD_CONNECTIONS (64), BIG_SIZE (2GiB), TAG_COUNT (2000),
# CATALOG_REPOS (500), GC_MANIFESTS (10000; 2000 with --quick), GC_INTERVAL (4 s),
# QUAY_BENCH (path to a quay-bench binary), WRK_CHECK=1 (also time GET manifest
# with wrk, as a cross-check of quay-bench's load generator), QUIET_BUSY (0.25) and
# QUIET_MAX_WAIT (60 s): see wait_quiet below; QUAY_BENCH_USER/QUAY_BENCH_PASSWORD
# for registries with Docker token auth; QUAYD_ARGS for the GC case's quayd.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

url="" pid="" name="server" rounds=1 offset=0 out="" skip_big=0 only_big=0 quick=0 table=1
gc_quayd="" skip_gc=0 only_gc=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --url) url=$2; shift 2 ;;
    --pid) pid=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --round-offset) offset=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --skip-big) skip_big=1; shift ;;
    --only-big) only_big=1; shift ;;
    --gc-quayd) gc_quayd=$2; shift 2 ;;
    --skip-gc) skip_gc=1; shift ;;
    --only-gc) only_gc=1; shift ;;
    --quick) quick=1; shift ;;
    --no-table) table=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown option $1" ;;
  esac
done
[[ -n "$url" ]] || fail "--url is required"
url=${url%/}
[[ $only_gc == 0 || -n "$gc_quayd" ]] || fail "--only-gc needs --gc-quayd"
if [[ -n "$gc_quayd" ]]; then
  [[ -x "$gc_quayd" ]] || fail "--gc-quayd $gc_quayd is not executable"
  gc_quayd=$(realpath "$gc_quayd")
fi

load_seconds=${LOAD_SECONDS:-10}
push_seconds=${PUSH_SECONDS:-10}
push_clients=${PUSH_CLIENTS:-8}
connections=${LOAD_CONNECTIONS:-64}
big_size=${BIG_SIZE:-2GiB}
large_size=256MiB large_count=4 chunked_size=64MiB chunked_count=4 pull_count=8
tag_count=${TAG_COUNT:-2000}
catalog_repos=${CATALOG_REPOS:-500}
gc_manifests=${GC_MANIFESTS:-10000}
gc_interval=${GC_INTERVAL:-4}
if [[ $quick == 1 ]]; then
  load_seconds=2 push_seconds=2 big_size=${BIG_SIZE:-256MiB}
  large_size=32MiB large_count=2 chunked_size=16MiB chunked_count=2 pull_count=2
  gc_manifests=${GC_MANIFESTS:-2000}
fi

bench=$(find_quay_bench)
raw=${out:-$(mktemp "${TMPDIR:-/tmp}/quay-bench-results.XXXXXX")}
pid_args=()
[[ -n "$pid" ]] && pid_args=(--pid "$pid")

case $(curl -s -o /dev/null -w '%{http_code}' "$url/v2/") in
  200|401) ;;  # 401: token auth; quay-bench logs in with QUAY_BENCH_USER/PASSWORD
  *) fail "$url/v2/ answers neither 200 nor 401" ;;
esac

# record ROUND CASE-OUTPUT: prefixes a quay-bench result line with server and round.
record() {
  local round=$1 line
  line=$(cat)
  [[ -n "$line" ]] || return 0
  printf 'server=%s round=%s %s\n' "$name" "$round" "$line" | tee -a "$raw" >/dev/null
}

# Prints the fraction of the machine's CPU time that was busy over the next second.
machine_busy() {
  local u n s i w q sq st busy1 total1
  read -r _ u n s i w q sq st _ </proc/stat
  busy1=$((u + n + s + q + sq + st)); total1=$((busy1 + i + w))
  sleep 1
  read -r _ u n s i w q sq st _ </proc/stat
  awk -v b=$((u + n + s + q + sq + st - busy1)) -v t=$((u + n + s + i + w + q + sq + st - total1)) \
    'BEGIN { printf "%.2f", (t > 0 ? b / t : 0) }'
}

# On a shared machine a case should not start in the middle of someone's build:
# wait up to QUIET_MAX_WAIT seconds (default 60; 0 disables) until the machine is
# less than QUIET_BUSY busy (default 0.25, a fraction of all CPUs) while the server
# under test is idle. Each result line also reports other processes' CPU during
# the case (other_cpu, in CPUs), so disturbance that starts later is visible.
wait_quiet() {
  local max=${QUIET_MAX_WAIT:-60} limit=${QUIET_BUSY:-0.25} waited=0 busy
  [[ $max -gt 0 ]] || return 0
  while :; do
    busy=$(machine_busy)
    awk -v b="$busy" -v l="$limit" 'BEGIN { exit !(b < l) }' && return 0
    if [[ $waited -ge $max ]]; then
      log "machine still ${busy} busy after ${waited}s; running anyway"
      return 0
    fi
    [[ $waited -eq 0 ]] && log "machine ${busy} busy (other processes); waiting up to ${max}s"
    sleep 4; waited=$((waited + 5))
  done
}

# run_case ROUND ARGS...: runs quay-bench, records its result line; a failing case
# is recorded as errors so that the table shows it instead of aborting the suite.
run_case() {
  local round=$1; shift
  local result status=0
  wait_quiet
  result=$("$bench" "$@") || status=$?
  if [[ -z "$result" ]]; then
    local case_name="unknown" i j
    for ((i = 1; i <= $#; i++)); do
      [[ "${!i}" == "--name" ]] && { j=$((i + 1)); case_name=${!j}; }
    done
    result="case=$case_name failed=1 exit=$status"
    log "case $case_name failed (exit $status)"
  fi
  echo "$result" | record "$round"
}

run_round() {
  local round=$1
  log "$name round $round: seeding bench/app:bench"
  local seed layer
  seed=$("$bench" seed --url "$url" --repo bench/app --tag bench) || fail "seeding failed"
  echo "$seed" | record "$round"
  layer=$(sed -n 's/.* layer=\([^ ]*\).*/\1/p' <<<"$seed")
  local accept="application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"

  log "$name round $round: GET manifest by tag, $connections connections, ${load_seconds}s"
  run_case "$round" load --url "$url" --name manifest_get --method GET \
    --path /v2/bench/app/manifests/bench --accept "$accept" \
    --connections "$connections" --duration "$load_seconds" "${pid_args[@]}"
  if [[ "${WRK_CHECK:-0}" == 1 ]] && command -v wrk >/dev/null; then
    # Cross-check of the manifest figure with wrk (not used in the table).
    log "$name round $round: wrk cross-check of GET manifest"
    wrk -t2 -c"$connections" -d"${load_seconds}s" --latency -s "$BENCH_DIR/wrk/manifest.lua" \
        "$url/v2/bench/app/manifests/bench" | awk '
      function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
      /^ *50%/ { p50 = ms($2) } /^ *99%/ { p99 = ms($2) } /^Requests\/sec:/ { rps = $2 }
      /Non-2xx/ { bad = $NF } /Socket errors/ { err = $0 }
      END { printf "case=manifest_get_wrk rps=%.0f p50_ms=%.2f p99_ms=%.2f non_2xx=%d\n", rps, p50, p99, bad }' |
      record "$round"
  fi
  log "$name round $round: HEAD blob, $connections connections, ${load_seconds}s"
  run_case "$round" load --url "$url" --name head_blob --method HEAD \
    --path "/v2/bench/app/blobs/$layer" --connections "$connections" \
    --duration "$load_seconds" "${pid_args[@]}"
  log "$name round $round: tags/list of $tag_count tags, $connections connections, ${load_seconds}s"
  run_case "$round" tags --url "$url" --name tags_list --repo bench/tags --count "$tag_count" \
    --connections "$connections" --duration "$load_seconds" "${pid_args[@]}"
  log "$name round $round: catalog of $catalog_repos repositories, $connections connections, ${load_seconds}s"
  run_case "$round" catalog --url "$url" --name catalog --prefix bench/cat- \
    --count "$catalog_repos" --page 1000 --connections "$connections" \
    --duration "$load_seconds" "${pid_args[@]}"
  log "$name round $round: monolithic push 1 MiB, $push_clients clients, ${push_seconds}s"
  run_case "$round" push --url "$url" --name push_1m --repo bench/push1m --size 1MiB \
    --concurrency "$push_clients" --duration "$push_seconds" "${pid_args[@]}"
  log "$name round $round: manifest PUT, $push_clients clients, ${push_seconds}s"
  run_case "$round" manifests --url "$url" --name manifest_put --repo bench/manifests \
    --concurrency "$push_clients" --duration "$push_seconds" "${pid_args[@]}"
  log "$name round $round: monolithic push $large_size x $large_count"
  run_case "$round" push --url "$url" --name push_large --repo bench/pushlarge \
    --size "$large_size" --concurrency 1 --count "$large_count" "${pid_args[@]}"
  log "$name round $round: chunked push $chunked_size in 8 MiB PATCHes x $chunked_count"
  run_case "$round" chunked --url "$url" --name chunked --repo bench/chunked \
    --size "$chunked_size" --chunk 8MiB --count "$chunked_count" "${pid_args[@]}"
  log "$name round $round: pull $large_size x $pull_count"
  run_case "$round" pull --url "$url" --name pull_large --repo bench/pull \
    --size "$large_size" --count "$pull_count" "${pid_args[@]}"
}

# The GC case (quayd only: docker-registry collects garbage offline only). A quayd
# of its own, on a fresh data folder and with GC off, gets a tagged manifest to GET
# and $gc_manifests distinct manifests pushed by digest and never tagged. It is
# then restarted with --protection-window 0 and --tag-recovery-window 0, which make
# those manifests garbage at once, and --gc-interval $gc_interval, so that its
# first collection starts that long after the restart, while quay-bench gcload
# GETs the tagged manifest on $connections connections. gcload waits for the
# "collected garbage" log line with manifests_deleted >= $gc_manifests and takes
# the collection's duration (duration_ms) and end (ts) from it.
run_gc_case() {
  local round=$1 result status=0
  local accept="application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
  log "$name: GC of $gc_manifests dead manifests under GET load, $connections connections (own quayd)"
  result=$(
    set -e  # bash clears it in command substitutions
    dir=$(bench_tmpdir gc) port=$(free_port) SERVER_PID=""
    # shellcheck disable=SC2064
    trap '[[ -n "$SERVER_PID" ]] && stop_server "$SERVER_PID"; [[ "${KEEP_DATA:-0}" == 1 ]] || rm -rf "'"$dir"'"' EXIT
    QUAYD_ARGS="${QUAYD_ARGS:-} --gc-interval 0" start_quayd "$gc_quayd" "$dir" "$port"
    gc_url="http://127.0.0.1:$port"
    "$bench" seed --url "$gc_url" --repo bench/gc --tag live --layer-size 4KiB >/dev/null
    log "$name: pushing $gc_manifests untagged manifests"
    "$bench" manifests --url "$gc_url" --name gc_seed --repo bench/gc --count "$gc_manifests" \
      --by-digest --no-warmup --concurrency 8 | record "$round"
    stop_server "$SERVER_PID"; SERVER_PID=""
    wait_quiet
    port=$(free_port) gc_url="http://127.0.0.1:$port"
    # shellcheck disable=SC2086
    launch_quayd "$gc_quayd" "$dir" "$port" "$dir/gc.log" ${QUAYD_ARGS:-} --log-level info \
      --gc-interval "$gc_interval" --protection-window 0 --tag-recovery-window 0
    log "$name: quayd restarted (pid $SERVER_PID); first collection in ${gc_interval}s"
    "$bench" gcload --url "$gc_url" --name gc --path /v2/bench/gc/manifests/live \
      --accept "$accept" --connections "$connections" --log "$dir/gc.log" \
      --min-deleted "$gc_manifests" --timeout $((gc_interval + 600)) --pid "$SERVER_PID"
  ) || status=$?
  if [[ -z "$result" ]]; then
    result="case=gc failed=1 exit=$status"
    log "case gc failed (exit $status)"
  fi
  echo "$result" | record "$round"
}

sampler=""
if [[ -n "$pid" ]]; then
  "$bench" rss --pid "$pid" --interval-ms 20 >"$raw.rss.$$" &
  sampler=$!
fi

printf 'server=%s round=0 case=machine nproc=%s loadavg=%s start=%s size_large=%s size_big=%s size_chunked=%s\n' \
  "$name" "$(nproc)" "$(cut -d' ' -f1 /proc/loadavg)" "$(date -u +%FT%TZ)" "$large_size" \
  "$big_size" "$chunked_size" >>"$raw"

if [[ $only_big == 0 && $only_gc == 0 ]]; then
  for ((r = offset + 1; r <= offset + rounds; r++)); do run_round "$r"; done
fi
if [[ -n "$gc_quayd" && $skip_gc == 0 && $only_big == 0 ]]; then
  run_gc_case "$((offset + 1))"
fi
if [[ $skip_big == 0 && $only_gc == 0 ]]; then
  log "$name: $big_size blob streamed up and down, sampling server RSS"
  run_case "$((offset + 1))" big --url "$url" --name big --repo bench/big --size "$big_size" \
    --verify "${pid_args[@]}"
fi

if [[ -n "$sampler" ]]; then
  kill -TERM "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  sed 's/case=rss/case=rss_run/' "$raw.rss.$$" | record "$((offset + 1))"
  rm -f "$raw.rss.$$"
fi
printf 'server=%s round=0 case=machine_end loadavg=%s end=%s\n' "$name" \
  "$(cut -d' ' -f1 /proc/loadavg)" "$(date -u +%FT%TZ)" >>"$raw"

if [[ $table == 1 ]]; then
  awk -v servers="$name" -f "$BENCH_DIR/report.awk" "$raw"
  [[ -n "$out" ]] || log "raw results: $raw"
fi
