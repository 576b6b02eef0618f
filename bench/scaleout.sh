#!/usr/bin/env bash
# The scale-out backends side by side, in one run on one machine (issue 14):
#   sqlite   one quayd, SQLite + its data folder (the embedded default)
#   pg       one quayd, PostgreSQL + a Ceph RADOS Gateway (S3)
#   pg3      three quayd on that database and bucket, nginx round-robin in front
# For each: GET manifest by tag (LOAD_CONNECTIONS connections, LOAD_SECONDS),
# 1 MiB pushes (PUSH_CLIENTS clients, PUSH_SECONDS) and a 64 MiB monolithic
# push x LARGE_COUNT, with the CPU each part of the deployment spent per
# operation: quayd (all instances), PostgreSQL, Ceph (monitor, OSD, gateway)
# and nginx, from /proc/PID/stat before and after each case.
#
#   bench/scaleout.sh path/to/quayd [--rounds N] [--quick]
#
# PostgreSQL runs as `nobody` when started by root (it refuses root), with
# fsync on, like the SQLite quayd (which fsyncs); the gateway is the tests'
# single-node Ceph on memstore (tests/storage/rgw/rgw_gateway.py), so its
# figures are those of RAM-backed object storage, not of disks. Its memstore
# holds 2 GiB: one round pushes about 1 GiB into it, so a second round fills
# it and the gateway stalls (quayd then answers 503, nginx 502); measure one
# round per run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 ]] || fail "usage: $0 QUAYD_BINARY [--rounds N] [--quick]"
quayd=$(realpath "$1"); shift
rounds=1 quick=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    *) fail "unknown option $1" ;;
  esac
done
load_seconds=${LOAD_SECONDS:-10} push_seconds=${PUSH_SECONDS:-10}
connections=${LOAD_CONNECTIONS:-64} push_clients=${PUSH_CLIENTS:-8} large_count=${LARGE_COUNT:-4}
((quick)) && { load_seconds=2; push_seconds=2; large_count=1; }
pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
bench=$(find_quay_bench)
root=$(bench_tmpdir scaleout)
chmod 755 "$root"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do stop_server "$p"; done
  [[ -f "$root/nginx.pid" ]] && kill "$(cat "$root/nginx.pid")" 2>/dev/null || true
  [[ -d "$root/pg" ]] && as_pg "$pg_bin/pg_ctl" -D "$root/pg" -m fast -w stop >/dev/null 2>&1 || true
  [[ -d "$root/rgw" ]] && "$REPO_DIR/tests/storage/rgw/rgw_gateway.py" stop "$root/rgw" >/dev/null 2>&1 || true
  [[ "${KEEP_DATA:-0}" == 1 ]] || rm -rf "$root"
}
trap cleanup EXIT

as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u nobody -- "$@"; else "$@"; fi; }

# ---- PostgreSQL ----
pg_port=$(free_port)
mkdir -p "$root/pg"
[[ $(id -u) == 0 ]] && chown nobody "$root/pg"
as_pg "$pg_bin/initdb" -D "$root/pg" -A trust -U postgres >"$root/initdb.log" 2>&1 ||
  { cat "$root/initdb.log" >&2; fail "initdb failed"; }
as_pg "$pg_bin/pg_ctl" -D "$root/pg" -w -l "$root/pg/server.log" \
  -o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$root/pg" \
  start >/dev/null || fail "PostgreSQL did not start"
"$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres quay
db_uri="postgresql://postgres@127.0.0.1:$pg_port/quay"

# ---- the gateway ----
/usr/bin/python3 "$REPO_DIR/tests/storage/rgw/rgw_gateway.py" start "$root/rgw" >"$root/rgw.env" ||
  fail "the Ceph gateway did not start"
# shellcheck disable=SC1091
set -a; source <(grep '^QUAY_TEST_' "$root/rgw.env"); set +a
s3=${QUAY_TEST_S3_ENDPOINT#http://}

secret=$(head -c 32 /dev/urandom | base64 | tr -d '/+=')
cat >"$root/shared.yaml" <<EOF
DB_URI: $db_uri
SECRET_KEY: $secret
DATABASE_SECRET_KEY: $secret
DISTRIBUTED_STORAGE_CONFIG:
  rgw: [RadosGWStorage, {hostname: ${s3%:*}, port: ${s3##*:}, is_secure: false,
        access_key: $QUAY_TEST_S3_ACCESS_KEY, secret_key: '$QUAY_TEST_S3_SECRET_KEY',
        bucket_name: quay-bench, storage_path: /registry, create_bucket: true}]
DISTRIBUTED_STORAGE_PREFERENCE: [rgw]
EOF
chmod 600 "$root/shared.yaml"

export QUAY_BENCH_USER=bench
QUAY_BENCH_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
export QUAY_BENCH_PASSWORD

# serve NAME PORT [ARGS...]: a quayd with data in $root/NAME; appends its pid to pids.
serve() {
  local name=$1 port=$2; shift 2
  mkdir -p "$root/$name"
  launch_quayd "$quayd" "$root/$name" "$port" "$root/$name.log" --log-level warn --gc-interval 0 "$@"
  pids+=("$SERVER_PID")
}

# ---- the three deployments ----
sqlite_port=$(free_port)
mkdir -p "$root/sqlite/data"
printf '%s\n' "$QUAY_BENCH_PASSWORD" | "$quayd" user add bench --data-dir "$root/sqlite/data" >/dev/null
serve sqlite "$sqlite_port"
sqlite_pids=$SERVER_PID

printf '%s\n' "$QUAY_BENCH_PASSWORD" |
  "$quayd" user add bench --config "$root/shared.yaml" --data-dir "$root/admin" >/dev/null
ports=()
for i in 1 2 3; do
  ports+=("$(free_port)")
  serve "pg$i" "${ports[-1]}" --config "$root/shared.yaml"
done
pg_pids=("${pids[@]:1}")

lb_port=$(free_port)
mkdir -p "$root/nginx"
cat >"$root/nginx.conf" <<EOF
$([[ $(id -u) == 0 ]] && echo "user root;")
worker_processes 1;
pid $root/nginx.pid;
error_log $root/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $root/nginx/body;
  proxy_temp_path $root/nginx/proxy;
  upstream quayd {
    zone quayd 64k;
    server 127.0.0.1:${ports[0]}; server 127.0.0.1:${ports[1]}; server 127.0.0.1:${ports[2]};
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$lb_port;
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_http_version 1.1;
    location / {
      proxy_pass http://quayd;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
    }
  }
}
EOF
/usr/sbin/nginx -c "$root/nginx.conf" -p "$root/nginx" || fail "nginx did not start"

# cpu_ticks PID...: user+system clock ticks of the processes.
cpu_ticks() {
  local total=0 p stat
  for p in "$@"; do
    stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    read -r -a f <<<"$stat"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}
# The processes of each part, found by name (they fork workers).
pids_of() { pgrep -d ' ' -f "$1" || true; }

# measure LABEL QUAYD_PIDS URL CASE-ARGS...: runs one quay-bench case, prints a
# result line with the CPU milliseconds per operation of each part.
measure() {
  local label=$1 qpids=$2 url=$3; shift 3
  local pg ceph ng before_q before_pg before_ceph before_ng result
  pg=$(pids_of "postgres.*$root/pg|postgres: ")
  ceph=$(pids_of "ceph-mon|ceph-osd|radosgw")
  ng=$(pids_of "nginx: ")
  # shellcheck disable=SC2086
  { before_q=$(cpu_ticks $qpids); before_pg=$(cpu_ticks $pg); before_ceph=$(cpu_ticks $ceph)
    before_ng=$(cpu_ticks $ng); }
  result=$("$bench" "$@" --url "$url") || result="case=failed"
  pg=$(pids_of "postgres.*$root/pg|postgres: ")
  local hz ops q_ms pg_ms ceph_ms ng_ms
  hz=$(getconf CLK_TCK)
  ops=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$result")
  [[ -z "$ops" || "$ops" == 0 ]] && ops=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$result")
  [[ -z "$ops" || "$ops" == 0 ]] && ops=1
  # shellcheck disable=SC2086
  { q_ms=$(( ($(cpu_ticks $qpids) - before_q) * 1000000 / hz / ops ))
    pg_ms=$(( ($(cpu_ticks $pg) - before_pg) * 1000000 / hz / ops ))
    ceph_ms=$(( ($(cpu_ticks $ceph) - before_ceph) * 1000000 / hz / ops ))
    ng_ms=$(( ($(cpu_ticks $ng) - before_ng) * 1000000 / hz / ops )); }
  echo "deployment=$label $result quayd_cpu_us_op=$q_ms pg_cpu_us_op=$pg_ms ceph_cpu_us_op=$ceph_ms nginx_cpu_us_op=$ng_ms"
}

accept="application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
run_deployment() {
  local label=$1 qpids=$2 url=$3
  "$bench" seed --url "$url" --repo bench/app --tag bench >/dev/null || fail "seeding $label failed"
  measure "$label" "$qpids" "$url" load --name manifest_get --method GET \
    --path /v2/bench/app/manifests/bench --accept "$accept" \
    --connections "$connections" --duration "$load_seconds"
  measure "$label" "$qpids" "$url" push --name push_1m --repo bench/push1m --size 1MiB \
    --concurrency "$push_clients" --duration "$push_seconds"
  measure "$label" "$qpids" "$url" push --name push_64m --repo bench/push64m --size 64MiB \
    --concurrency 1 --count "$large_count"
}

for ((r = 1; r <= rounds; r++)); do
  sync; sleep 2
  run_deployment sqlite "$sqlite_pids" "http://127.0.0.1:$sqlite_port"
  sync; sleep 2
  run_deployment pg "${pg_pids[0]}" "http://127.0.0.1:${ports[0]}"
  sync; sleep 2
  run_deployment pg3 "${pg_pids[*]}" "http://127.0.0.1:$lb_port"
done
echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
