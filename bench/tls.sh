#!/usr/bin/env bash
# The cost of TLS in quayd: the same two cases against one quayd over plain
# HTTP and one over TLS (certificate from a CA made here with openssl), in
# one run, interleaved, with the server's CPU per request from /proc:
#   blob_get_small  wrk, 4 KiB blob GETs on keep-alive connections (requests/s)
#   blob_get_large  curl, a 256 MiB blob GET, 3 times (MiB/s)
#   push_large      curl, three 256 MiB monolithic pushes (POST ?digest=), each
#                   of new bytes (MiB/s)
#   push_1m         curl, 32 monolithic 1 MiB pushes of new bytes on one
#                   keep-alive connection (pushes/s)
# Both quayd run with --no-fsync, so the push cases measure what TLS adds to
# receiving and hashing, not the disk.
# Usage: bench/tls.sh QUAYD [--seconds N] [--connections N]
# Prints one key=value line per case and transport.
set -euo pipefail
quayd=${1:?usage: bench/tls.sh QUAYD}
shift
seconds=10
connections=16
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for tool in wrk curl openssl; do
  command -v "$tool" >/dev/null || { echo "bench/tls.sh needs $tool" >&2; exit 2; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout "$work/ca.key" -out "$work/ca.crt" -subj "/CN=bench CA" \
  -addext basicConstraints=critical,CA:TRUE 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/server.key" \
  -out "$work/server.csr" -subj "/CN=127.0.0.1" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$work/ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
  -CAcreateserial -days 2 -out "$work/server.crt" -extfile "$work/ext" 2>/dev/null

head -c 4096 /dev/urandom >"$work/small"
head -c $((256 << 20)) /dev/urandom >"$work/large"
small_digest=sha256:$(sha256sum "$work/small" | cut -d' ' -f1)
large_digest=sha256:$(sha256sum "$work/large" | cut -d' ' -f1)

# start NAME [CONFIG LINES]: a quayd on a free port; sets PORT_<NAME>, PID_<NAME>.
start() {
  local name=$1 config=$work/$1.yaml
  printf 'password_hash_cost: minimum\nFEATURE_ANONYMOUS_ACCESS: true\n%s' "${2:-}" >"$config"
  printf 'bench-password\n' | "$quayd" user add bench --data-dir "$work/$name" --config "$config" \
    >/dev/null
  "$quayd" serve --config "$config" --data-dir "$work/$name" --listen 127.0.0.1:0 --no-fsync \
    --gc-interval 0 --no-pull-audit --log-level warn >"$work/$name.out" 2>"$work/$name.log" &
  pids+=($!)
  printf -v "PID_$name" %s "$!"
  local i
  for i in $(seq 100); do
    if grep -q "listening on" "$work/$name.out"; then break; fi
    sleep 0.1
  done
  printf -v "PORT_$name" %s "$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/$name.out")"
}
start plain
start tls "tls_cert_file: $work/server.crt
tls_key_file: $work/server.key
"

# seed URL: pushes both blobs and a public repository's manifest, prints a token.
curl_tls=(--cacert "$work/ca.crt")
seed() {
  local base=$1 token manifest
  token=$(curl -fsS "${curl_tls[@]}" -u bench:bench-password \
    "$base/v2/auth?service=127.0.0.1&scope=repository:bench/tls:push,pull" |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  for blob in small large; do
    local digest_var=${blob}_digest
    curl -fsS "${curl_tls[@]}" -o /dev/null -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/octet-stream' --data-binary "@$work/$blob" \
      "$base/v2/bench/tls/blobs/uploads/?digest=${!digest_var}"
  done
  echo "$token"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# measure NAME BASE TOKEN: prints the two cases' lines for one transport.
measure() {
  local name=$1 base=$2 token=$3 pid_var=PID_$1 before after out rps
  before=$(cpu_ticks "${!pid_var}")
  cat >"$work/get.lua" <<EOF
wrk.headers["Authorization"] = "Bearer $token"
EOF
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" -s "$work/get.lua" \
    "$base/v2/bench/tls/blobs/$small_digest")
  after=$(cpu_ticks "${!pid_var}")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  local requests
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  awk -v n="$name" -v r="$rps" -v q="$requests" -v t=$((after - before)) -v hz="$hz" 'BEGIN {
    printf "case=blob_get_small transport=%s rps=%.0f cpu_us_per_req=%.1f\n", n, r, t / hz * 1e6 / q }'
  before=$(cpu_ticks "${!pid_var}")
  local start end
  start=$(date +%s.%N)
  for _ in 1 2 3; do
    curl -fsS "${curl_tls[@]}" -o /dev/null -H "Authorization: Bearer $token" \
      "$base/v2/bench/tls/blobs/$large_digest"
  done
  end=$(date +%s.%N)
  after=$(cpu_ticks "${!pid_var}")
  awk -v n="$name" -v s="$start" -v e="$end" -v t=$((after - before)) -v hz="$hz" 'BEGIN {
    printf "case=blob_get_large transport=%s mib_s=%.0f cpu_ms_per_mib=%.3f\n", n, 768 / (e - s),
      t / hz * 1000 / 768 }'
}

# fresh_blob FILE BYTES: FILE gets BYTES bytes no earlier call produced (a
# unique 32-byte head, then the random large file's bytes); prints its digest.
fresh_count=0
fresh_blob() {
  fresh_count=$((fresh_count + 1))
  { printf '%-31s\n' "fresh $fresh_count $$"; head -c $(($2 - 32)) "$work/large"; } >"$1"
  echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

# measure_push NAME BASE TOKEN: prints the two push cases' lines.
measure_push() {
  local name=$1 base=$2 token=$3 pid_var=PID_$1 before after start end i digest args=()
  local hdr=(-H "Authorization: Bearer $token" -H 'Content-Type: application/octet-stream' -H 'Expect:')
  local digests=()
  for i in 1 2 3; do digests+=("$(fresh_blob "$work/push$i" $((256 << 20)))"); done
  before=$(cpu_ticks "${!pid_var}")
  start=$(date +%s.%N)
  for i in 1 2 3; do
    curl -fsS "${curl_tls[@]}" -o /dev/null "${hdr[@]}" --data-binary "@$work/push$i" \
      "$base/v2/bench/tls/blobs/uploads/?digest=${digests[i - 1]}"
  done
  end=$(date +%s.%N)
  after=$(cpu_ticks "${!pid_var}")
  awk -v n="$name" -v s="$start" -v e="$end" -v t=$((after - before)) -v hz="$hz" 'BEGIN {
    printf "case=push_large transport=%s mib_s=%.0f cpu_ms_per_mib=%.3f\n", n, 768 / (e - s),
      t / hz * 1000 / 768 }'
  for i in $(seq 32); do
    digest=$(fresh_blob "$work/small$i" $((1 << 20)))
    # --next: each push its own body and URL, all on one connection.
    ((i > 1)) && args+=(--next)
    args+=(-fsS "${curl_tls[@]}" "${hdr[@]}" -o /dev/null --data-binary "@$work/small$i"
      "$base/v2/bench/tls/blobs/uploads/?digest=$digest")
  done
  before=$(cpu_ticks "${!pid_var}")
  start=$(date +%s.%N)
  curl "${args[@]}"
  end=$(date +%s.%N)
  after=$(cpu_ticks "${!pid_var}")
  awk -v n="$name" -v s="$start" -v e="$end" -v t=$((after - before)) -v hz="$hz" 'BEGIN {
    printf "case=push_1m transport=%s ops_s=%.0f cpu_ms_per_push=%.3f\n", n, 32 / (e - s),
      t / hz * 1000 / 32 }'
}

plain_base=http://127.0.0.1:$PORT_plain
tls_base=https://127.0.0.1:$PORT_tls
plain_token=$(seed "$plain_base")
tls_token=$(seed "$tls_base")
for round in 1 2; do
  measure plain "$plain_base" "$plain_token"
  measure tls "$tls_base" "$tls_token"
  measure_push plain "$plain_base" "$plain_token"
  measure_push tls "$tls_base" "$tls_token"
done
