#!/usr/bin/env bash
# Durable pushes against the machine's own limits (issue 15): the four push
# cases against docker-registry and quayd, and in the same run what the machine
# itself can do, so that every case is printed beside its bound.
#
#   bench/pushes.sh path/to/quayd [--rounds N] [--out FILE] [--quick]
#
# Each round measures the limits first (`quay-bench limits` in the servers'
# data file system: SHA-256 on one thread, 256 MiB write + fdatasync, 1 MiB
# files written + fdatasync'd one after another, loopback TCP), then runs the
# cases on docker-registry, then on quayd, with `sync` before each server's turn
# (and, on ext4 without a journal, SETTLE_SECONDS between turns: see cases()).
# Cases:
#   push 256 MiB monolithic, 1 client   POST, then PUT ?digest= with the body (4 blobs)
#   push 256 MiB in 8 MiB PATCHes       POST, 32 PATCHes, PUT ?digest= (2 blobs)
#   push 1 MiB, 1 client                POST + PUT, PUSH_SECONDS (10 s)
#   push 1 MiB, 8 clients               the same from 8 clients
# Bounds: a 256 MiB push can go no faster than the slowest of hashing it,
# writing it durably and receiving it, so its bound is min(SHA-256 rate,
# write+fdatasync rate, loopback rate); a 1 MiB push writes and syncs a file,
# so its bound is the rate of 1 MiB files written + fdatasync'd one after
# another. The table keeps each case's median round.
# quayd runs as the README starts it (fsync on, token auth, pull and push audit
# on) with --log-level warn; docker-registry without auth and without fsync.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 ]] || fail "usage: $0 QUAYD_BINARY [--rounds N] [--out FILE] [--quick]"
quayd=$(realpath "$1"); shift
rounds=3 out="" quick=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    *) fail "unknown option $1" ;;
  esac
done
out=${out:-$(mktemp "${TMPDIR:-/tmp}/quay-bench-pushes.XXXXXX")}
: >"$out"  # a fresh result file: the table is of this run only
bench=$(find_quay_bench)
push_seconds=${PUSH_SECONDS:-10}
large=256MiB large_count=4 chunked_count=2 limit_seconds=3
if ((quick)); then
  push_seconds=2 large=32MiB large_count=2 chunked_count=1 limit_seconds=1
fi
export QUAYD_ARGS=${QUAYD_ARGS---log-level warn}

ref_dir=$(bench_tmpdir pushes-reference); ref_port=$(free_port)
start_reference "$ref_dir" "$ref_port"; ref_pid=$SERVER_PID
q_dir=$(bench_tmpdir pushes-quayd); q_port=$(free_port)
q_pid=""
cleanup() {
  stop_server "$ref_pid"
  [[ -n "$q_pid" ]] && stop_server "$q_pid"
  if [[ "${KEEP_DATA:-0}" != 1 ]]; then rm -rf "$ref_dir" "$q_dir"; fi
  if [[ -n "${limits_dir:-}" ]]; then rm -rf "$limits_dir"; fi
}
trap cleanup EXIT
start_quayd "$quayd" "$q_dir" "$q_port"; q_pid=$SERVER_PID
limits_dir=$(bench_tmpdir pushes-limits)
log "docker-registry :$ref_port, quayd :$q_port, limits in $limits_dir; results in $out"

record() {  # record SERVER ROUND < result line
  local line
  read -r line
  printf 'server=%s round=%s %s\n' "$1" "$2" "$line" >>"$out"
}

# ext4 without a journal skips inodes freed in the last 60 s (360 s while
# their inode table block is dirty) when it allocates one, testing them one
# by one: right after docker-registry has deleted its upload directories,
# quayd's file creates paid for those deletions (`recently_deleted` was a
# fifth of its CPU, 2026-12-03), and the other way round. There each server's
# turn starts SETTLE_SECONDS (90) after the previous turn's last case.
data_fs_journalless() {
  local src name
  src=$(df --output=source "${BENCH_TMP:-${TMPDIR:-/tmp}}" 2>/dev/null | tail -n 1)
  name=${src##*/}
  [[ -r /sys/fs/ext4/$name/journal_task ]] && [[ $(cat "/sys/fs/ext4/$name/journal_task") == "<none>" ]]
}
settle=0
if data_fs_journalless; then settle=${SETTLE_SECONDS:-90}; fi
((quick)) && settle=0
last_turn_end=0

cases() {  # cases SERVER PORT PID ROUND
  local server=$1 port=$2 pid=$3 round=$4 url="http://127.0.0.1:$2"
  local wait=$((last_turn_end + settle - $(date +%s)))
  if ((last_turn_end > 0 && wait > 0)); then
    log "waiting ${wait}s for ext4 (no journal) to stop skipping the inodes just freed"
    sleep "$wait"
  fi
  sync; sleep 1
  log "$server round $round: push $large monolithic x $large_count"
  "$bench" push --url "$url" --name push_large --repo bench/pushlarge --size "$large" \
    --concurrency 1 --count "$large_count" --pid "$pid" | record "$server" "$round"
  sync; sleep 1
  log "$server round $round: push $large in 8 MiB PATCHes x $chunked_count"
  "$bench" chunked --url "$url" --name chunked --repo bench/chunked --size "$large" \
    --chunk 8MiB --count "$chunked_count" --pid "$pid" | record "$server" "$round"
  sync; sleep 1
  log "$server round $round: push 1 MiB, 1 client, ${push_seconds}s"
  "$bench" push --url "$url" --name push_1m_1 --repo bench/push1 --size 1MiB \
    --concurrency 1 --duration "$push_seconds" --pid "$pid" | record "$server" "$round"
  sync; sleep 1
  log "$server round $round: push 1 MiB, 8 clients, ${push_seconds}s"
  "$bench" push --url "$url" --name push_1m_8 --repo bench/push8 --size 1MiB \
    --concurrency 8 --duration "$push_seconds" --pid "$pid" | record "$server" "$round"
  last_turn_end=$(date +%s)
}

for ((r = 1; r <= rounds; r++)); do
  log "round $r: machine limits"
  # --files truncate: the limits' thousands of files are emptied, not deleted,
  # until the run ends (quay-bench.cpp, discard_file: fresh deletions slow
  # every later create on ext4 without a journal).
  "$bench" limits --dir "$limits_dir" --size "$large" --small 1MiB --clients 8 \
    --seconds "$limit_seconds" --files truncate | record machine "$r"
  cases docker-registry "$ref_port" "$ref_pid" "$r"
  cases quayd "$q_port" "$q_pid" "$r"
done

echo
echo "quayd: $quayd (QUAYD_ARGS='${QUAYD_ARGS:-}'); docker-registry $(docker-registry --version 2>/dev/null | awk '{print $3}'); data under ${BENCH_TMP:-${TMPDIR:-/tmp}} ($(df -T "${BENCH_TMP:-${TMPDIR:-/tmp}}" | awk 'NR==2{print $2" on "$1}'))"
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), SHA-NI: $(grep -qm1 sha_ni /proc/cpuinfo && echo yes || echo no); $rounds rounds, medians"
echo
awk -v large="$large" -f - "$out" <<'AWK'
function field(line, key,   re, m) {
  re = "(^| )" key "=[^ ]*"
  if (match(line, re)) { m = substr(line, RSTART, RLENGTH); sub(/^ /, "", m); sub(/^[^=]*=/, "", m); return m }
  return ""
}
function median(list,   n, a, i, j, t) {
  n = split(list, a, " ")
  if (n == 0) return ""
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(key, v) { if (v != "") vals[key] = vals[key] (vals[key] == "" ? "" : " ") v }
{
  server = field($0, "server"); c = field($0, "case")
  if (c == "limits") {
    add("sha", field($0, "sha256_mb_s")); add("wsync", field($0, "write_sync_mb_s"))
    add("wre", field($0, "write_rewrite_mb_s")); add("wbuf", field($0, "write_buffered_mb_s"))
    add("wdir", field($0, "write_direct_mb_s"))
    add("sre", field($0, "small_rewrite_ops_s")); add("sbuf", field($0, "small_buffered_ops_s"))
    add("sdir", field($0, "small_direct_ops_s"))
    add("small", field($0, "small_sync_ops_s")); add("smallpar", field($0, "small_sync_par_ops_s"))
    add("loop", field($0, "loopback_mb_s"))
    next
  }
  v = (c ~ /^push_1m/) ? field($0, "ops_s") : field($0, "mb_s")
  add(server "/" c, v)
  cpu = field($0, "server_cpu")
  if (cpu != "" && v + 0 > 0) {
    # server CPU per MiB (large cases) or per push (1 MiB cases), in ms
    add(server "/" c "/cpu", cpu * 1000 / v)
  }
}
END {
  sha = median(vals["sha"]); ws = median(vals["wsync"]); lo = median(vals["loop"])
  small = median(vals["small"]); smallpar = median(vals["smallpar"])
  bound = sha; what = "SHA-256"
  if (ws + 0 < bound + 0) { bound = ws; what = "write+fdatasync" }
  if (lo + 0 < bound + 0) { bound = lo; what = "loopback" }
  printf "Machine limits (medians): SHA-256 %.0f MiB/s on one thread; %s write + fdatasync %.0f MiB/s (best of: rewrite %.0f, buffered into new pages %.0f, O_DIRECT %.0f); loopback TCP %.0f MiB/s; 1 MiB files written + fdatasync'd %.0f/s one after another (rewrite %.0f, buffered %.0f, O_DIRECT %.0f; %.0f/s from 8 threads)\n\n", sha, large, ws, median(vals["wre"]), median(vals["wbuf"]), median(vals["wdir"]), lo, small, median(vals["sre"]), median(vals["sbuf"]), median(vals["sdir"]), smallpar
  print "| Case | docker-registry | quayd | quayd server CPU | Bound (measured in this run) | quayd / bound | Target |"
  print "|---|---|---|---|---|---|---|"
  split("push_large chunked push_1m_1 push_1m_8", names, " ")
  label["push_large"] = "push " large " monolithic, 1 client"
  label["chunked"] = "push " large " in 8 MiB PATCHes"
  label["push_1m_1"] = "push 1 MiB, 1 client"
  label["push_1m_8"] = "push 1 MiB, 8 clients"
  target["push_large"] = 0.85; target["chunked"] = 0.75; target["push_1m_1"] = 0.60; target["push_1m_8"] = 0.80
  for (i = 1; i <= 4; i++) {
    c = names[i]; ref = median(vals["docker-registry/" c]); q = median(vals["quayd/" c]); cpu = median(vals["quayd/" c "/cpu"])
    if (c ~ /^push_1m/) {
      unit = "ops/s"; b = small; bw = "1 MiB write+fdatasync " sprintf("%.0f/s", small); cpuu = "ms/push"
    } else {
      unit = "MiB/s"; b = bound; bw = what " " sprintf("%.0f MiB/s", bound); cpuu = "ms/MiB"
    }
    frac = (b + 0 > 0) ? q / b : 0
    printf "| %s | %.1f %s | %.1f %s | %.2f %s | %s | %.0f %% | >= %.0f %% %s |\n", label[c], ref, unit, q, unit, cpu, cpuu, bw, frac * 100, target[c] * 100, (frac >= target[c] ? "met" : "**missed**")
  }
}
AWK
log "raw results: $out"
