#!/usr/bin/env bash
# Benchmarks quayd against docker-registry in one session on one machine and prints
# the side-by-side table (with ratios and libquay's targets) used in
# docs/performance.md.
#
#   bench/compare.sh path/to/quayd [--rounds N] [--out results.txt] [--quick]
#
# Both servers run at once, each with its own data directory; the suite alternates
# between them round by round (reference, quayd, reference, quayd, ...) so that
# disturbance from other processes hits both alike, and the report keeps each
# case's best round. The 2 GiB RSS case runs once per server, first, while the
# servers are fresh. The GC case (quayd only; docker-registry has offline GC only)
# runs once at the end, on a quayd of its own (run.sh --gc-quayd).
# Without a quayd binary ("-" instead of a path), only the reference is measured and
# the quayd column reads "pending".
# Both servers run with their access logs off (docker-registry: log level error,
# accesslog disabled; quayd: --log-level warn, unless QUAYD_ARGS says otherwise),
# so that neither pays for a log line per request the other does not write.
# A last step measures GET manifest on a quayd with --no-pull-audit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 ]] || fail "usage: $0 QUAYD_BINARY|- [--rounds N] [--out FILE] [--quick]"
quayd=$1; shift
rounds=3 out="" extra=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quick) extra+=(--quick); shift ;;
    *) fail "unknown option $1" ;;
  esac
done
out=${out:-$(mktemp "${TMPDIR:-/tmp}/quay-bench-compare.XXXXXX")}
export QUAYD_ARGS=${QUAYD_ARGS---log-level warn}

ref_dir=$(bench_tmpdir reference); ref_port=$(free_port)
start_reference "$ref_dir" "$ref_port"; ref_pid=$SERVER_PID
q_dir="" q_pid="" na_dir=""
cleanup() {
  stop_server "$ref_pid"
  [[ -n "$q_pid" ]] && stop_server "$q_pid"
  if [[ "${KEEP_DATA:-0}" != 1 ]]; then rm -rf "$ref_dir" ${q_dir:+"$q_dir"} ${na_dir:+"$na_dir"}; fi
}
trap cleanup EXIT
if [[ "$quayd" != "-" ]]; then
  q_dir=$(bench_tmpdir quayd); q_port=$(free_port)
  start_quayd "$(realpath "$quayd")" "$q_dir" "$q_port"; q_pid=$SERVER_PID
fi
log "docker-registry pid $ref_pid :$ref_port; quayd pid ${q_pid:-none} :${q_port:-}; results in $out"

# Each server gets a clean writeback state: docker-registry does not fsync, and its
# dirty pages would otherwise be flushed while quayd (which does) is measured.
settle() { sync; sleep 2; }

# The 2 GiB case runs first, on freshly started servers, so that "idle" RSS is the
# RSS of a server that has not served anything yet.
settle
"$BENCH_DIR/run.sh" --url "http://127.0.0.1:$ref_port" --pid "$ref_pid" --name docker-registry \
  --only-big --no-table --out "$out" "${extra[@]}"
if [[ -n "$q_pid" ]]; then
  settle
  "$BENCH_DIR/run.sh" --url "http://127.0.0.1:$q_port" --pid "$q_pid" --name quayd \
    --only-big --no-table --out "$out" "${extra[@]}"
fi
for ((r = 1; r <= rounds; r++)); do
  settle
  "$BENCH_DIR/run.sh" --url "http://127.0.0.1:$ref_port" --pid "$ref_pid" --name docker-registry \
    --round-offset $((r - 1)) --skip-big --no-table --out "$out" "${extra[@]}"
  if [[ -n "$q_pid" ]]; then
    settle
    "$BENCH_DIR/run.sh" --url "http://127.0.0.1:$q_port" --pid "$q_pid" --name quayd \
      --round-offset $((r - 1)) --skip-big --no-table --out "$out" "${extra[@]}"
  fi
done
if [[ -n "$q_pid" ]]; then
  settle
  "$BENCH_DIR/run.sh" --url "http://127.0.0.1:$q_port" --name quayd --only-gc \
    --gc-quayd "$(realpath "$quayd")" --no-table --out "$out" "${extra[@]}"
fi

# Pull audit off: the same GET manifest load on a second quayd started with
# --no-pull-audit, to show what recording pull_repo rows costs (issue 4).
if [[ -n "$q_pid" ]]; then
  stop_server "$q_pid"; q_pid=""
  na_dir=$(bench_tmpdir quayd-noaudit); na_port=$(free_port)
  QUAYD_ARGS="${QUAYD_ARGS:-} --no-pull-audit" start_quayd "$(realpath "$quayd")" "$na_dir" "$na_port"
  q_pid=$SERVER_PID
  "$(find_quay_bench)" seed --url "http://127.0.0.1:$na_port" --repo bench/app --tag bench >/dev/null
  for ((r = 1; r <= rounds; r++)); do
    settle
    result=$("$(find_quay_bench)" load --url "http://127.0.0.1:$na_port" --name manifest_get_no_audit \
      --method GET --path /v2/bench/app/manifests/bench \
      --accept "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" \
      --connections "${LOAD_CONNECTIONS:-64}" --duration "${LOAD_SECONDS:-10}" --pid "$q_pid")
    printf 'server=quayd round=%s %s\n' "$r" "$result" >>"$out"
  done
fi

echo
echo "quayd: ${quayd} (QUAYD_ARGS='${QUAYD_ARGS:-}'); docker-registry: $(docker-registry --version 2>/dev/null | awk '{print $3}'); data under ${BENCH_TMP:-${TMPDIR:-/tmp}}"
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(free -g | awk '/Mem:/{print $2}') GiB RAM"
echo
awk -v servers="docker-registry,quayd" -f "$BENCH_DIR/report.awk" "$out"
log "raw results: $out"
