#!/usr/bin/env bash
# The REST cases (Quay's /api/v1; quayd only: docker-registry has no such API).
# Starts a quayd of its own on a fresh data folder with FEATURE_USER_INITIALIZE,
# initializes the user "bench" with an OAuth access token (POST
# /api/v1/user/initialize), pushes three small images over /v2, stops quayd and
# seeds, with sqlite3, one transaction each:
#   REST_TAGS        live tags in bench/tags (default 100000), all on its manifest
#   REST_REPOS       repositories bench/r-00000... (default 10000) in quay.db
#   REST_AUDIT_ROWS  audit rows of bench/logs in quay-audit.db (default 1000000),
#                    spread over the last REST_AUDIT_ROWS/1000 seconds
# then starts quayd again on that folder and measures, each for LOAD_SECONDS (5)
# after a 1 s warm-up, closed loop on REST_CONNECTIONS (16) keep-alive
# connections with the access token:
#   rest_repo_get   GET /api/v1/repository/bench/app
#   rest_tag_page   GET /api/v1/repository/bench/tags/tag/?limit=100&page=1&onlyActiveTags=true
#   rest_repo_list  GET /api/v1/repository?namespace=bench          (first page)
#   rest_logs       GET /api/v1/repository/bench/logs/logs           (first page)
# and, with PUSH_CLIENTS (8) clients for LOAD_SECONDS:
#   rest_tag_put    PUT /api/v1/repository/bench/tagput/tag/p<client> {manifest_digest}
#                   (each client moves its tag between two manifests)
#   manifest_put    PUT /v2/bench/manifests/manifests/<tag> (distinct manifests), beside it
# Each result line carries server_cpu (CPUs the server used, from
# /proc/PID/stat utime+stime) and other_cpu; the table divides server_cpu by the
# rate: server CPU per request.
#
#   bench/rest.sh path/to/quayd [--out FILE]
#
# Environment: LOAD_SECONDS, REST_CONNECTIONS, PUSH_CLIENTS, REST_TAGS,
# REST_REPOS, REST_AUDIT_ROWS, QUAYD_ARGS (default --log-level warn),
# BENCH_TMP (where the data goes), KEEP_DATA=1, QUAY_BENCH, QUIET_BUSY /
# QUIET_MAX_WAIT (as run.sh: wait for a quiet machine before each case),
# REST_PERF=DIR (perf record the server during each GET case into DIR/CASE.data).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 ]] || fail "usage: $0 QUAYD_BINARY [--out FILE]"
binary=$(realpath "$1"); shift
out=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    *) fail "unknown option $1" ;;
  esac
done
for tool in curl jq sqlite3; do
  command -v "$tool" >/dev/null || fail "$tool is needed (apt-get install $tool)"
done
[[ -x "$binary" ]] || fail "quayd binary $binary is not executable"

load_seconds=${LOAD_SECONDS:-5}
connections=${REST_CONNECTIONS:-16}
push_clients=${PUSH_CLIENTS:-8}
n_tags=${REST_TAGS:-100000}
n_repos=${REST_REPOS:-10000}
n_audit=${REST_AUDIT_ROWS:-1000000}
quayd_args=${QUAYD_ARGS---log-level warn}

bench=$(find_quay_bench)
raw=${out:-$(mktemp "${TMPDIR:-/tmp}/quay-bench-rest.XXXXXX")}
dir=$(bench_tmpdir rest)
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && stop_server "$SERVER_PID"
  [[ "${KEEP_DATA:-0}" == 1 ]] || rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$dir/data"
cat >"$dir/config.yaml" <<'EOF'
FEATURE_USER_INITIALIZE: true
password_hash_cost: minimum
EOF

record() {
  local line
  line=$(cat)
  [[ -n "$line" ]] || return 0
  printf 'server=quayd round=1 %s\n' "$line" | tee -a "$raw" >/dev/null
}

# The same quiet-machine wait as run.sh (QUIET_MAX_WAIT seconds at most).
wait_quiet() {
  local max=${QUIET_MAX_WAIT:-60} limit=${QUIET_BUSY:-0.25} waited=0 busy u n s i w q sq st b1 t1
  [[ $max -gt 0 ]] || return 0
  while :; do
    read -r _ u n s i w q sq st _ </proc/stat
    b1=$((u + n + s + q + sq + st)); t1=$((b1 + i + w))
    sleep 1
    read -r _ u n s i w q sq st _ </proc/stat
    busy=$(awk -v b=$((u + n + s + q + sq + st - b1)) -v t=$((u + n + s + i + w + q + sq + st - t1)) \
      'BEGIN { printf "%.2f", (t > 0 ? b / t : 0) }')
    awk -v b="$busy" -v l="$limit" 'BEGIN { exit !(b < l) }' && return 0
    if [[ $waited -ge $max ]]; then log "machine still ${busy} busy after ${waited}s; running anyway"; return 0; fi
    [[ $waited -eq 0 ]] && log "machine ${busy} busy (other processes); waiting up to ${max}s"
    sleep 4; waited=$((waited + 5))
  done
}

start() {
  port=$(free_port)
  url="http://127.0.0.1:$port"
  # shellcheck disable=SC2086
  launch_quayd "$binary" "$dir" "$port" "$dir/server.log" --config "$dir/config.yaml" $quayd_args
}

# --- the user, its token, three small images ------------------------------------------
start
export QUAY_BENCH_USER=bench
QUAY_BENCH_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
export QUAY_BENCH_PASSWORD
QUAY_BENCH_API_TOKEN=$(jq -nc --arg p "$QUAY_BENCH_PASSWORD" \
    '{username: "bench", password: $p, email: "bench@example.com", access_token: true}' |
  curl -sf -X POST -H 'Content-Type: application/json' --data-binary @- "$url/api/v1/user/initialize" |
  jq -r .access_token) || fail "POST /api/v1/user/initialize failed (FEATURE_USER_INITIALIZE on an empty folder)"
[[ -n "$QUAY_BENCH_API_TOKEN" && "$QUAY_BENCH_API_TOKEN" != null ]] || fail "user/initialize gave no access_token"
export QUAY_BENCH_API_TOKEN
for repo in bench/app bench/tags bench/logs; do
  "$bench" seed --url "$url" --repo "$repo" --tag seed >/dev/null || fail "seeding $repo failed"
done
stop_server "$SERVER_PID"; SERVER_PID=""

# --- bulk rows, straight into the databases ----------------------------------------------
now_us=$(( $(date +%s) * 1000000 ))
timed() {  # timed LABEL SQLITE-ARGS...: runs sqlite3, records the seconds it took
  local label=$1 t0 t1
  shift
  t0=$(date +%s.%N)
  sqlite3 "$@" >/dev/null || fail "seeding $label failed"
  t1=$(date +%s.%N)
  awk -v l="$label" -v a="$t0" -v b="$t1" 'BEGIN { printf "case=seed_%s seconds=%.2f\n", l, b - a }' | record
  log "seeded $label in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
}
timed tags "$dir/data/quay.db" <<SQL
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $n_tags)
INSERT INTO tag(repository_id, name, manifest_id, start_at, end_at)
  SELECT t.repository_id, printf('t%06d', i), t.manifest_id, $now_us - i, NULL
  FROM n, (SELECT tag.repository_id, tag.manifest_id FROM tag JOIN repository r ON r.id = tag.repository_id
           WHERE r.name = 'bench/tags' AND tag.name = 'seed' AND tag.end_at IS NULL) t;
COMMIT;
SQL
timed repos "$dir/data/quay.db" <<SQL
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $n_repos)
INSERT INTO repository(name, created_at) SELECT printf('bench/r-%05d', i), $now_us FROM n;
INSERT INTO repository_settings(repository_id, visibility, description)
  SELECT id, 'private', 'seeded' FROM repository WHERE name LIKE 'bench/r-%';
COMMIT;
SQL
timed audit "$dir/data/quay-audit.db" <<SQL
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $n_audit)
INSERT INTO audit_log(kind, namespace_name, repository, performer_kind, performer, ip, request_id,
                      metadata, created_at)
  SELECT CASE i % 4 WHEN 0 THEN 'push_repo' ELSE 'pull_repo' END, 'bench', 'bench/logs', 'user',
         'bench', '127.0.0.1', printf('%016x', i),
         '{"repo":"logs","namespace":"bench","tag":"seed"}', $now_us - ($n_audit - i) * 1000
  FROM n;
COMMIT;
SQL

# --- serve the seeded folder; check that each case's page is what it should be -----------
start
log "quayd pid $SERVER_PID on $url, data in $dir, raw results in $raw"
api() { curl -sf -H "Authorization: Bearer $QUAY_BENCH_API_TOKEN" "$url$1"; }
tag_page='/api/v1/repository/bench/tags/tag/?limit=100&page=1&onlyActiveTags=true'
# load NAME PATH JQ-FILTER: the page must satisfy the filter (else the case is
# recorded as failed, with the HTTP status, and not run), then the load.
load() {
  local code
  code=$(curl -s -o "$dir/page.json" -w '%{http_code}' -H "Authorization: Bearer $QUAY_BENCH_API_TOKEN" "$url$2")
  if [[ $code != 200 ]] || ! jq -e "$3" "$dir/page.json" >/dev/null 2>&1; then
    log "$1: GET $2 answered HTTP $code, not a page satisfying '$3'; case not run"
    printf 'case=%s failed=1 http=%s\n' "$1" "$code" | record
    return 0
  fi
  log "$1: GET $2 ($(stat -c %s "$dir/page.json") bytes), $connections connections, ${load_seconds}s"
  wait_quiet
  local perf_pid=""
  if [[ -n "${REST_PERF:-}" ]]; then  # a CPU profile of the server during the case
    mkdir -p "$REST_PERF"
    perf record -F 999 -g -p "$SERVER_PID" -o "$REST_PERF/$1.data" -- sleep "$((load_seconds + 1))" \
      >/dev/null 2>&1 &
    perf_pid=$!
  fi
  "$bench" load --url "$url" --name "$1" --method GET --path "$2" --connections "$connections" \
    --duration "$load_seconds" --pid "$SERVER_PID" | record || log "case $1 had errors or non-2xx answers"
  [[ -z "$perf_pid" ]] || wait "$perf_pid" || true
}
load rest_repo_get /api/v1/repository/bench/app '.name == "app" and .namespace == "bench"'
load rest_tag_page "$tag_page" '(.tags | length) == 100 and .has_additional == true'
load rest_repo_list '/api/v1/repository?namespace=bench' '(.repositories | length) == 100 and has("next_page")'
load rest_logs /api/v1/repository/bench/logs/logs '(.logs | length) == 20 and has("next_page")'
log "rest_tag_put: $push_clients clients, ${load_seconds}s"
wait_quiet
result=$("$bench" tagput --url "$url" --name rest_tag_put --repo bench/tagput \
  --concurrency "$push_clients" --duration "$load_seconds" --pid "$SERVER_PID") || true
[[ -n "$result" ]] || { log "case rest_tag_put failed"; result="case=rest_tag_put failed=1"; }
echo "$result" | record
log "manifest_put: $push_clients clients, ${load_seconds}s"
wait_quiet
"$bench" manifests --url "$url" --name manifest_put --repo bench/manifests \
  --concurrency "$push_clients" --duration "$load_seconds" --pid "$SERVER_PID" | record ||
  log "case manifest_put had errors"

printf '\n| Case | Rate | p50 / p99 / max ms | Server CPU | Server CPU per op | Other CPU | Errors |\n'
printf '|---|---|---|---|---|---|---|\n'
awk '
  function f(k,   i) { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
  f("case") ~ /^seed_/ { seeds = seeds sprintf(" %s %ss;", substr(f("case"), 6), f("seconds")); next }
  f("failed") == "1" {
    printf "| %s | FAILED%s | | | | | |\n", f("case"), f("http") == "" ? "" : " (HTTP " f("http") ")"; next
  }
  {
    rate = f("rps"); unit = "req/s"
    if (rate == "") { rate = f("ops_s"); unit = "ops/s" }
    cpu = f("server_cpu")
    per = (rate + 0 > 0 && cpu + 0 >= 0) ? sprintf("%.0f us", cpu * 1e6 / rate) : "n/a"
    printf "| %s | %s %s | %s / %s / %s | %s | %s | %s | %d |\n", f("case"), rate, unit,
      f("p50_ms"), f("p99_ms"), f("max_ms"), cpu, per, f("other_cpu"), f("errors") + f("non_2xx")
  }
  END { if (seeds != "") printf "\nsqlite3 seeding (one transaction each):%s\n", seeds }' "$raw"
[[ -n "$out" ]] || log "raw results: $raw"
