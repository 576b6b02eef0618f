#!/usr/bin/env bash
# What issue 13's storage policies cost on the hot path: the /v2 suite of
# bench/run.sh (GET manifest, HEAD blob, tags/list, catalog, 1 MiB push,
# manifest PUT, large and chunked push, pull) against two quayd from the same
# binary, in one run, rounds interleaved:
#   off  the default configuration: no policy feature switched on
#   on   FEATURE_QUOTA_MANAGEMENT, FEATURE_IMMUTABLE_TAGS, FEATURE_AUTO_PRUNE
#        on, and the bench organization under all of them: a 1 TiB quota with
#        Warning 80 % and Reject 100 % limits (every blob link runs the usage
#        triggers and the Reject test, every upload start the Reject read), a
#        namespace auto-prune policy (keep 1,000,000 tags, applied every 5 s
#        by serve's background thread), a namespace immutability policy
#        (pattern ^release-, matching no bench tag: every tagged push
#        evaluates it), and a repo_push webhook on every pushed
#        repository, delivered to a local receiver (one queue row and one
#        delivery per tagged push)
# Prints a table: each case's best round per server, its rate, the server's
# CPU per operation, and the difference. The bench user is "benchuser", an
# owner of the organization "bench" on both servers.
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

off_dir=$(bench_tmpdir policies-off); on_dir=$(bench_tmpdir policies-on)
off_pid="" on_pid="" hook_pid=""
cleanup() {
  [[ -n "$off_pid" ]] && stop_server "$off_pid"
  [[ -n "$on_pid" ]] && stop_server "$on_pid"
  [[ -n "$hook_pid" ]] && kill "$hook_pid" 2>/dev/null
  if [[ "${KEEP_DATA:-0}" != 1 ]]; then rm -rf "$off_dir" "$on_dir"; fi
}
trap cleanup EXIT

# off: the bench user and organization made by the CLI, nothing else.
off_port=$(free_port)
mkdir -p "$off_dir/data"
printf '%s\n' "$QUAY_BENCH_PASSWORD" |
  "$quayd" user add benchuser --data-dir "$off_dir/data" >/dev/null
"$quayd" org add bench --owner benchuser --data-dir "$off_dir/data" >/dev/null
launch_quayd "$quayd" "$off_dir" "$off_port" "$off_dir/server.log" --log-level warn
off_pid=$SERVER_PID

# The webhook receiver: answers every POST 200 and counts them.
hook_port=$(free_port)
/usr/bin/python3 - "$hook_port" "$on_dir/hooks" <<'EOF' &
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
EOF
hook_pid=$!

# on: the same user, made through user/initialize so that the bench gets an
# API token; then the features and the policies.
on_port=$(free_port)
mkdir -p "$on_dir/data"
cat >"$on_dir/config.yaml" <<EOF
FEATURE_USER_INITIALIZE: true
SUPER_USERS: [benchuser]
FEATURE_SUPERUSERS_FULL_ACCESS: true
FEATURE_QUOTA_MANAGEMENT: true
FEATURE_EDIT_QUOTA: true
FEATURE_IMMUTABLE_TAGS: true
FEATURE_AUTO_PRUNE: true
auto_prune_interval: 5s
EOF
launch_quayd "$quayd" "$on_dir" "$on_port" "$on_dir/server.log" --config "$on_dir/config.yaml" \
  --log-level warn
on_pid=$SERVER_PID
api_url=http://127.0.0.1:$on_port/api/v1
token=$(curl -fsS -X POST "$api_url/user/initialize" -H 'Content-Type: application/json' \
  -d "{\"username\":\"benchuser\",\"password\":\"$QUAY_BENCH_PASSWORD\",\"email\":\"bench@example.com\",\"access_token\":true}" |
  jq -r .access_token)
[[ -n "$token" && "$token" != null ]] || fail "user/initialize gave no token"
# api METHOD PATH [JSON]: fails the run on any non-2xx answer.
api() {
  local args=(-fsS -X "$1" -H "Authorization: Bearer $token")
  [[ $# -ge 3 ]] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  curl "${args[@]}" "$api_url$2" || fail "$1 $2 failed"
}
api POST /organization/ '{"name":"bench","email":"bench-org@example.com"}' >/dev/null
org=/organization/bench
api POST "$org/quota" '{"limit":"1 TiB"}' >/dev/null
quota_id=$(api GET "$org/quota" | jq -r '.[0].id')
api POST "$org/quota/$quota_id/limit" '{"type":"Reject","threshold_percent":100}' >/dev/null
api POST "$org/quota/$quota_id/limit" '{"type":"Warning","threshold_percent":80}' >/dev/null
api POST "$org/autoprunepolicy/" '{"method":"number_of_tags","value":1000000}' >/dev/null
api POST "$org/immutabilitypolicy/" '{"tagPattern":"^release-.*","tagPatternMatches":true}' >/dev/null
for repo in app tags push1m manifests pushlarge chunked pull; do
  api POST /repository "{\"namespace\":\"bench\",\"repository\":\"$repo\",\"visibility\":\"private\",\"description\":\"\"}" >/dev/null
  api POST "/repository/bench/$repo/notification/" \
    "{\"event\":\"repo_push\",\"method\":\"webhook\",\"config\":{\"url\":\"http://127.0.0.1:$hook_port/\"},\"eventConfig\":{},\"title\":\"bench\"}" >/dev/null
done
log "off: pid $off_pid :$off_port; on: pid $on_pid :$on_port; webhook receiver :$hook_port; results in $out"

settle() { sync; sleep 2; }
for ((r = 1; r <= rounds; r++)); do
  settle
  "$BENCH_DIR/run.sh" --url "http://127.0.0.1:$off_port" --pid "$off_pid" --name off \
    --round-offset $((r - 1)) --skip-big --skip-gc --no-table --out "$out" "${extra[@]}"
  settle
  "$BENCH_DIR/run.sh" --url "http://127.0.0.1:$on_port" --pid "$on_pid" --name on \
    --round-offset $((r - 1)) --skip-big --skip-gc --no-table --out "$out" "${extra[@]}"
done
sleep 2
limits=$(api GET "$org/quota/$quota_id/limit" | jq -r 'map(.type) | join(",")')
used=$(api GET "$org" | jq -r '.quota_report.quota_bytes')

echo
echo "quayd: $quayd; machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "on: quota limits [$limits], $used bytes counted; webhooks delivered: $(cat "$on_dir/hooks" 2>/dev/null || echo 0)"
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
{
  s = field($0, "server"); c = field($0, "case"); k = primary(c)
  if (k == "" || field($0, "failed") == "1") next
  v = field($0, k) + 0
  if (!((s, c) in best) || v > best[s, c]) { best[s, c] = v; cpu[s, c] = field($0, "server_cpu") + 0 }
  if (!(c in seen)) { seen[c] = 1; order[++n] = c; unit[c] = k }
}
END {
  print "| case | unit | off | on | on/off | server CPU per op, off | on | difference |"
  print "|---|---|---|---|---|---|---|---|"
  for (i = 1; i <= n; i++) {
    c = order[i]; k = unit[c]
    if (!(("off", c) in best) || !(("on", c) in best)) continue
    scale = (k == "mb_s") ? 1e3 : 1e6; u = (k == "mb_s") ? "ms/MB" : "us"
    a = cpu["off", c] * scale / best["off", c]; b = cpu["on", c] * scale / best["on", c]
    printf "| %s | %s | %.0f | %.0f | %.2f | %.1f %s | %.1f %s | %+.0f %% |\n", c, k,
      best["off", c], best["on", c], best["on", c] / best["off", c], a, u, b, u, (b / a - 1) * 100
  }
}' "$out"
log "raw results: $out"
