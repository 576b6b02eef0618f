#!/usr/bin/env bash
# What issue 13's storage policies cost on the hot path: the /v2 suite of
# bench/run.sh (GET manifest, HEAD blob, tags/list, catalog, 1 MiB push,
# manifest PUT, large and chunked push, pull) against three quayd from the
# same binary, in one run, rounds interleaved:
#   off       the default configuration: no policy feature switched on
#   policies  FEATURE_QUOTA_MANAGEMENT, FEATURE_IMMUTABLE_TAGS and
#             FEATURE_AUTO_PRUNE on, and the bench organization under all of
#             them: a 1 TiB quota with Warning 80 % and Reject 100 % limits
#             (every blob link runs the usage triggers and the Reject test,
#             every upload start the Reject read), a namespace auto-prune
#             policy (keep 1,000,000 tags, applied every 5 s by serve's
#             background thread), a namespace immutability policy (pattern
#             ^release-, matching no bench tag: every tagged push evaluates it)
#   hooks     as policies, plus a repo_push webhook on every pushed
#             repository, delivered to a local receiver (one queue row and one
#             delivery per tagged push)
# Prints a table: each case's best round per server, its rate, the server's
# CPU per operation, and the difference from off. The bench user is
# "benchuser", an owner of the organization "bench" on every server.
#
#   bench/policies.sh path/to/quayd [--rounds N] [--out FILE] [--quick]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 ]] || fail "usage: $0 QUAYD_BINARY [--rounds N] [--out FILE] [--quick]"
quayd=$(realpath "$1"); shift
rounds=2 out="" extra=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quick) extra+=(--quick); shift ;;
    *) fail "unknown option $1" ;;
  esac
done
out=${out:-$(mktemp "${TMPDIR:-/tmp}/quay-bench-policies.XXXXXX")}
command -v curl >/dev/null || fail "bench/policies.sh needs curl"
command -v jq >/dev/null || fail "bench/policies.sh needs jq"

export QUAY_BENCH_USER=benchuser
QUAY_BENCH_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
export QUAY_BENCH_PASSWORD

dirs=() pids=() hook_pid=""
cleanup() {
  local p
  for p in "${pids[@]}"; do stop_server "$p"; done
  [[ -n "$hook_pid" ]] && kill "$hook_pid" 2>/dev/null
  if [[ "${KEEP_DATA:-0}" != 1 ]]; then rm -rf "${dirs[@]}"; fi
}
trap cleanup EXIT

# off: the bench user and organization made by the CLI, nothing else.
off_dir=$(bench_tmpdir policies-off); dirs+=("$off_dir")
PORT_off=$(free_port)
mkdir -p "$off_dir/data"
printf '%s\n' "$QUAY_BENCH_PASSWORD" |
  "$quayd" user add benchuser --data-dir "$off_dir/data" >/dev/null
"$quayd" org add bench --owner benchuser --data-dir "$off_dir/data" >/dev/null
launch_quayd "$quayd" "$off_dir" "$PORT_off" "$off_dir/server.log" --log-level warn
PID_off=$SERVER_PID
pids+=("$PID_off")

# The webhook receiver: answers every POST 200 and counts them.
hook_port=$(free_port)
hook_count=$off_dir/hooks
/usr/bin/python3 - "$hook_port" "$hook_count" <<'PY' &
import http.server, sys
count_file = sys.argv[2]
count = 0
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
        count += 1
        with open(count_file, "w") as f: f.write(str(count))
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
hook_pid=$!

org=/organization/bench
# api NAME METHOD PATH [JSON]: one /api/v1 call to server NAME; fails the run
# on any non-2xx answer.
api() {
  local port_var=PORT_$1 token_var=TOKEN_$1
  local args=(-fsS -X "$2" -H "Authorization: Bearer ${!token_var}")
  [[ $# -ge 4 ]] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  curl "${args[@]}" "http://127.0.0.1:${!port_var}/api/v1$3" || fail "$2 $3 failed"
}

# start_on NAME HOOKS: a quayd whose user is made through user/initialize
# (so that this script gets an API token), with the features and policies
# on; with HOOKS=1 also the webhooks. Sets PORT_<NAME>, PID_<NAME>,
# TOKEN_<NAME>.
start_on() {
  local name=$1 hooks=$2 dir port token quota_id repo
  dir=$(bench_tmpdir "policies-$name"); dirs+=("$dir")
  port=$(free_port)
  mkdir -p "$dir/data"
  printf '%s\n' 'FEATURE_USER_INITIALIZE: true' 'SUPER_USERS: [benchuser]' \
    'FEATURE_SUPERUSERS_FULL_ACCESS: true' 'FEATURE_QUOTA_MANAGEMENT: true' \
    'FEATURE_EDIT_QUOTA: true' 'FEATURE_IMMUTABLE_TAGS: true' 'FEATURE_AUTO_PRUNE: true' \
    'auto_prune_interval: 5s' >"$dir/config.yaml"
  launch_quayd "$quayd" "$dir" "$port" "$dir/server.log" --config "$dir/config.yaml" \
    --log-level warn
  pids+=("$SERVER_PID")
  printf -v "PID_$name" %s "$SERVER_PID"
  printf -v "PORT_$name" %s "$port"
  token=$(curl -fsS -X POST "http://127.0.0.1:$port/api/v1/user/initialize" \
    -H 'Content-Type: application/json' \
    -d "{\"username\":\"benchuser\",\"password\":\"$QUAY_BENCH_PASSWORD\",\"email\":\"bench@example.com\",\"access_token\":true}" |
    jq -r .access_token)
  [[ -n "$token" && "$token" != null ]] || fail "user/initialize gave no token"
  printf -v "TOKEN_$name" %s "$token"
  api "$name" POST /organization/ '{"name":"bench","email":"bench-org@example.com"}' >/dev/null
  api "$name" POST "$org/quota" '{"limit":"1 TiB"}' >/dev/null
  quota_id=$(api "$name" GET "$org/quota" | jq -r '.[0].id')
  api "$name" POST "$org/quota/$quota_id/limit" '{"type":"Reject","threshold_percent":100}' >/dev/null
  api "$name" POST "$org/quota/$quota_id/limit" '{"type":"Warning","threshold_percent":80}' >/dev/null
  api "$name" POST "$org/autoprunepolicy/" '{"method":"number_of_tags","value":1000000}' >/dev/null
  api "$name" POST "$org/immutabilitypolicy/" \
    '{"tagPattern":"^release-.*","tagPatternMatches":true}' >/dev/null
  ((hooks)) || return 0
  for repo in app tags push1m manifests pushlarge chunked pull; do
    api "$name" POST /repository \
      "{\"namespace\":\"bench\",\"repository\":\"$repo\",\"visibility\":\"private\",\"description\":\"\"}" >/dev/null
    api "$name" POST "/repository/bench/$repo/notification/" \
      "{\"event\":\"repo_push\",\"method\":\"webhook\",\"config\":{\"url\":\"http://127.0.0.1:$hook_port/\"},\"eventConfig\":{},\"title\":\"bench\"}" >/dev/null
  done
}
start_on policies 0
start_on hooks 1
log "off :$PORT_off; policies :$PORT_policies; hooks :$PORT_hooks; receiver :$hook_port; results in $out"

settle() { sync; sleep 2; }
for ((r = 1; r <= rounds; r++)); do
  for name in off policies hooks; do
    settle
    port_var=PORT_$name pid_var=PID_$name
    "$BENCH_DIR/run.sh" --url "http://127.0.0.1:${!port_var}" --pid "${!pid_var}" --name "$name" \
      --round-offset $((r - 1)) --skip-big --skip-gc --no-table --out "$out" "${extra[@]}"
  done
done
sleep 2
used=$(api policies GET "$org" | jq -r '.quota_report.quota_bytes')

echo
echo "quayd: $quayd; machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "policies: $used bytes counted in bench's quota; hooks: $(cat "$hook_count" 2>/dev/null || echo 0) webhooks delivered"
echo
awk '
function field(line, key,    n, i, parts) {
  n = split(line, parts, " ")
  for (i = 1; i <= n; i++) if (index(parts[i], key "=") == 1) return substr(parts[i], length(key) + 2)
  return ""
}
function primary(c) {
  if (c == "manifest_get" || c == "head_blob" || c == "tags_list" || c == "catalog") return "rps"
  if (c == "push_1m" || c == "manifest_put") return "ops_s"
  if (c == "push_large" || c == "chunked" || c == "pull_large") return "mb_s"
  return ""
}
function per_op(s, c, k) { return cpu[s, c] * ((k == "mb_s") ? 1e3 : 1e6) / best[s, c] }
{
  s = field($0, "server"); c = field($0, "case"); k = primary(c)
  if (k == "" || field($0, "failed") == "1") next
  v = field($0, k) + 0
  if (!((s, c) in best) || v > best[s, c]) { best[s, c] = v; cpu[s, c] = field($0, "server_cpu") + 0 }
  if (!(c in seen)) { seen[c] = 1; order[++n] = c; unit[c] = k }
}
END {
  print "| case | unit | off | policies | hooks | server CPU per op: off | policies | hooks |"
  print "|---|---|---|---|---|---|---|---|"
  for (i = 1; i <= n; i++) {
    c = order[i]; k = unit[c]
    if (!(("off", c) in best) || !(("policies", c) in best) || !(("hooks", c) in best)) continue
    u = (k == "mb_s") ? "ms/MB" : "us"
    a = per_op("off", c, k); b = per_op("policies", c, k); h = per_op("hooks", c, k)
    printf "| %s | %s | %.0f | %.0f | %.0f | %.1f %s | %.1f %s (%+.0f %%) | %.1f %s (%+.0f %%) |\n",
      c, k, best["off", c], best["policies", c], best["hooks", c], a, u, b, u, (b / a - 1) * 100,
      h, u, (h / a - 1) * 100
  }
}' "$out"
log "raw results: $out"
