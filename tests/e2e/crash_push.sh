#!/usr/bin/env bash
# Crash durability: kill -9 quayd around pushes and check that after a restart
# nothing partial is visible and everything acknowledged (201) is intact.
#   (a) kill during a slow 64 MiB PUT: the blob is absent, no blob file holds
#       wrong bytes, and a fresh push of the same blob then works.
#   (b) kill right after a monolithic POST ?digest= answered 201: blob intact.
#   (c) kill right after a manifest PUT answered 201: manifest intact by tag
#       and by digest, and its blobs too.
#   (d) kill during a burst of concurrent pushes: SQLite integrity_check is
#       ok and every blob and manifest acknowledged before the kill is intact.
#
# usage: crash_push.sh PATH_TO_QUAYD

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
need_tool jq

MT_OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json

# blob_store_check PHASE: the content-addressed store never holds wrong bytes.
# For quayd the check must not be vacuous once blobs were pushed.
blob_store_check() {
    local n
    n=$(check_blob_files "$DATA_DIR")
    log "$1: $n blob file(s) under $DATA_DIR/blobs hash to their names"
    if is_quayd && [[ ${2:-} == nonempty && $n -eq 0 ]]; then
        fail "$1: no file named by a sha256 hex digest under $DATA_DIR/blobs although blobs were pushed (blob layout changed?)"
    fi
}

# sqlite_integrity DB WHAT: PRAGMA integrity_check must say ok.
sqlite_integrity() {
    local db=$1 what=$2 out
    if ! is_quayd; then
        log "$what: integrity_check skipped (reference registry has no SQLite db)"
        return 0
    fi
    if ! command -v sqlite3 >/dev/null 2>&1; then
        log "$what: integrity_check skipped: sqlite3 CLI not installed (apt-get install sqlite3)"
        return 0
    fi
    [[ -f $db ]] || fail "$what: $db does not exist"
    out=$(sqlite3 "$db" 'PRAGMA integrity_check;' 2>&1) || fail "$what: sqlite3 $db failed: $out"
    [[ $out == ok ]] || fail "$what: PRAGMA integrity_check on $db says: $out"
    log "$what: PRAGMA integrity_check ok"
}

IMAGES=$WORK/images
"$PYTHON" "$E2E_DIR/make_images.py" "$IMAGES" >"$WORK/images.json"
IMG_MANIFEST=$(jq -r .image.manifest "$WORK/images.json")
IMG_CONFIG=$(jq -r .image.config "$WORK/images.json")
mapfile -t IMG_LAYERS < <(jq -r '.image.layers[]' "$WORK/images.json")
img_blob() { printf '%s' "$IMAGES/image/blobs/sha256/${1#sha256:}"; }

quayd_start

# --- (a) kill -9 in the middle of a slow 64 MiB PUT ------------------------------
log "(a) kill -9 during a slow 64 MiB upload"
BIG=$WORK/big.bin
head -c $((64 * 1024 * 1024)) /dev/urandom >"$BIG"
BIG_DIGEST=sha256:$(sha256_of "$BIG")

start_upload crash/a
curl -s -o "$WORK/slow.body" -w '%{http_code}' -X PUT -H 'Expect:' \
    -H 'Content-Type: application/octet-stream' --limit-rate 4M -T "$BIG" \
    "$(with_query "$UPLOAD_URL" "digest=$BIG_DIGEST")" >"$WORK/slow.code" 2>/dev/null &
SLOW_PID=$!
track_bg "$SLOW_PID"
sleep 3
kill -0 "$SLOW_PID" 2>/dev/null ||
    fail "(a) the rate-limited PUT finished before the kill (status $(cat "$WORK/slow.code")); the test did not crash mid-transfer"
quayd_kill9
wait "$SLOW_PID" 2>/dev/null || true
[[ $(cat "$WORK/slow.code") != 201 ]] || fail "(a) the interrupted PUT reported 201"

quayd_start "$DATA_DIR"
req HEAD "$BASE_URL/v2/crash/a/blobs/$BIG_DIGEST"
expect_code 404 "(a) HEAD of the blob whose upload was killed mid-transfer"
req GET "$BASE_URL/v2/crash/a/blobs/$BIG_DIGEST"
expect_code 404 "(a) GET of the blob whose upload was killed mid-transfer"
blob_store_check "(a) after crash"

push_blob_session crash/a "$BIG"
req HEAD "$BASE_URL/v2/crash/a/blobs/$BIG_DIGEST"
expect_code 200 "(a) HEAD after the successful re-push"
[[ $(resp_header Content-Length) == $((64 * 1024 * 1024)) ]] ||
    fail "(a) HEAD after re-push: Content-Length '$(resp_header Content-Length)', expected $((64 * 1024 * 1024))"
req GET "$BASE_URL/v2/crash/a/blobs/$BIG_DIGEST" -L
expect_code 200 "(a) GET after the successful re-push"
[[ sha256:$(sha256_of "$RESP_BODY") == "$BIG_DIGEST" ]] ||
    fail "(a) GET after re-push: body hashes to sha256:$(sha256_of "$RESP_BODY"), expected $BIG_DIGEST"
blob_store_check "(a) after re-push" nonempty
if is_quayd && [[ -r /proc/$QUAYD_PID/status ]]; then
    HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$QUAYD_PID/status")
    log "(a) quayd peak RSS after a 64 MiB upload and download: $((HWM_KB / 1024)) MiB"
    if [[ ${E2E_STRICT_MEMORY:-0} == 1 && $HWM_KB -gt $((48 * 1024)) ]]; then
        fail "(a) quayd peak RSS $((HWM_KB / 1024)) MiB: a 64 MiB blob seems to be held in memory (DESIGN: bodies stream)"
    fi
fi

# --- (b) kill -9 right after a monolithic POST answered 201 ------------------------
log "(b) kill -9 right after a monolithic blob push"
MONO=$WORK/mono.bin
head -c $((4 * 1024 * 1024 + 123)) /dev/urandom >"$MONO"
MONO_DIGEST=sha256:$(sha256_of "$MONO")
push_blob_mono crash/b "$MONO"
quayd_crash_restart
check_blob_get crash/b "$MONO_DIGEST" "$MONO"
blob_store_check "(b) after crash" nonempty

# --- (c) kill -9 right after a manifest PUT answered 201 ---------------------------
log "(c) kill -9 right after a manifest push"
push_blob_mono crash/c "$(img_blob "$IMG_CONFIG")"
for d in "${IMG_LAYERS[@]}"; do
    push_blob_session crash/c "$(img_blob "$d")"
done
MANIFEST_FILE=$(img_blob "$IMG_MANIFEST")
put_manifest crash/c v1 "$MANIFEST_FILE" "$MT_OCI_MANIFEST"
quayd_crash_restart
check_manifest_get crash/c v1 "$MANIFEST_FILE"
check_manifest_get crash/c "$IMG_MANIFEST" "$MANIFEST_FILE"
for d in "$IMG_CONFIG" "${IMG_LAYERS[@]}"; do
    check_blob_get crash/c "$d" "$(img_blob "$d")"
done
blob_store_check "(c) after crash" nonempty

# --- (d) kill -9 during a burst of concurrent pushes -------------------------------
log "(d) kill -9 during a burst of concurrent pushes"
BURST=$WORK/burst
mkdir -p "$BURST"
WORKERS=6

# burst_worker ID: push blobs (alternating session and monolithic uploads) and
# a manifest for each, until a request fails. Acknowledged pushes go to
# ID.blobs / ID.manifests; the first non-success to ID.stop.
burst_worker() {
    local id=$1 repo=crash/burst$1 i f d m code url ack_b=$BURST/$1.blobs ack_m=$BURST/$1.manifests
    : >"$ack_b"
    : >"$ack_m"
    stop() { echo "$1 -> $2" >"$BURST/$id.stop"; }
    request() { # METHOD URL [args]: prints status and sets LOC
        curl -s -D "$BURST/$id.hdr" -o "$BURST/$id.body" -w '%{http_code}' -H 'Expect:' -X "$@" || true
    }
    code=$(request POST "$BASE_URL/v2/$repo/blobs/uploads/?digest=$IMG_CONFIG" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$(img_blob "$IMG_CONFIG")")
    if [[ $code == 202 ]]; then # reference registry: finish the session
        url=$(absolute_url "$(header_value "$BURST/$id.hdr" Location)")
        code=$(request PUT "$(with_query "$url" "digest=$IMG_CONFIG")" \
            -H 'Content-Type: application/octet-stream' --data-binary "@$(img_blob "$IMG_CONFIG")")
    fi
    [[ $code == 201 ]] || { stop "push config" "$code"; return; }
    for ((i = 0; ; i++)); do
        f=$BURST/$id.$i.bin
        head -c $(((i % 4 + 1) * 200 * 1024 + id)) /dev/urandom >"$f"
        d=sha256:$(sha256_of "$f")
        if ((i % 2 == 0)); then
            code=$(request POST "$BASE_URL/v2/$repo/blobs/uploads/")
            [[ $code == 202 ]] || { stop "POST upload" "$code"; return; }
            url=$(absolute_url "$(header_value "$BURST/$id.hdr" Location)")
            head -c 100000 "$f" >"$f.chunk"
            code=$(request PATCH "$url" -H 'Content-Type: application/octet-stream' \
                -H 'Content-Range: 0-99999' --data-binary "@$f.chunk")
            [[ $code == 202 ]] || { stop "PATCH chunk" "$code"; return; }
            url=$(absolute_url "$(header_value "$BURST/$id.hdr" Location)")
            tail -c +100001 "$f" >"$f.rest"
            code=$(request PUT "$(with_query "$url" "digest=$d")" \
                -H 'Content-Type: application/octet-stream' --data-binary "@$f.rest")
        else
            code=$(request POST "$BASE_URL/v2/$repo/blobs/uploads/?digest=$d" \
                -H 'Content-Type: application/octet-stream' --data-binary "@$f")
            if [[ $code == 202 ]]; then
                url=$(absolute_url "$(header_value "$BURST/$id.hdr" Location)")
                code=$(request PUT "$(with_query "$url" "digest=$d")" \
                    -H 'Content-Type: application/octet-stream' --data-binary "@$f")
            fi
        fi
        [[ $code == 201 ]] || { stop "push blob $i" "$code"; return; }
        echo "$repo $d $f" >>"$ack_b"
        m=$BURST/$id.$i.manifest.json
        printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}],"annotations":{"worker":"%s","n":"%s"}}' \
            "$MT_OCI_MANIFEST" "$IMG_CONFIG" "$(stat -c %s "$(img_blob "$IMG_CONFIG")")" \
            "$d" "$(stat -c %s "$f")" "$id" "$i" >"$m"
        code=$(request PUT "$BASE_URL/v2/$repo/manifests/t$i" \
            -H "Content-Type: $MT_OCI_MANIFEST" --data-binary "@$m")
        [[ $code == 201 ]] || { stop "PUT manifest t$i" "$code"; return; }
        echo "$repo t$i $m" >>"$ack_m"
    done
}

for ((w = 1; w <= WORKERS; w++)); do
    burst_worker "$w" &
    track_bg $!
    WORKER_PIDS+=($!)
done
# Let every worker get some pushes acknowledged, then kill mid-burst.
for ((t = 0; t < 300; t++)); do
    acked=$(cat "$BURST"/*.manifests 2>/dev/null | wc -l)
    [[ $acked -ge $((WORKERS * 3)) ]] && break
    if ls "$BURST"/*.stop >/dev/null 2>&1; then break; fi
    sleep 0.1
done
if ls "$BURST"/*.stop >/dev/null 2>&1; then
    first_stop=$(find "$BURST" -name '*.stop' | sort | head -1)
    fail "(d) a push failed before the kill, under concurrency: worker ${first_stop##*/}: $(cat "$first_stop"); response body: $(head -c 400 "${first_stop%.stop}.body")"
fi
sleep 0.3
quayd_kill9
for p in "${WORKER_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
# After the kill, requests may only fail at the connection level (000).
for s in "$BURST"/*.stop; do
    [[ -f $s ]] || continue
    grep -q -- '-> 000$' "$s" || fail "(d) worker ${s##*/}: $(cat "$s") (expected a connection failure only)"
done
ACKED_BLOBS=$(cat "$BURST"/*.blobs | wc -l)
ACKED_MANIFESTS=$(cat "$BURST"/*.manifests | wc -l)
log "(d) $ACKED_BLOBS blob and $ACKED_MANIFESTS manifest pushes acknowledged before the kill"
[[ $ACKED_MANIFESTS -gt 0 ]] || fail "(d) no manifest push was acknowledged before the kill"

# The database as the crash left it (copied with its WAL, checked offline).
if is_quayd; then
    mkdir -p "$WORK/dbcopy"
    cp "$DATA_DIR"/quay.db* "$WORK/dbcopy/" 2>/dev/null || fail "(d) $DATA_DIR/quay.db not found"
    sqlite_integrity "$WORK/dbcopy/quay.db" "(d) crashed database"
fi

quayd_start "$DATA_DIR"
while read -r repo digest file; do
    check_blob_get "$repo" "$digest" "$file"
done < <(cat "$BURST"/*.blobs)
while read -r repo tag file; do
    check_manifest_get "$repo" "$tag" "$file"
done < <(cat "$BURST"/*.manifests)
blob_store_check "(d) after crash" nonempty

# Still fully usable: the earlier results are intact and a new push works.
check_blob_get crash/b "$MONO_DIGEST" "$MONO"
check_manifest_get crash/c v1 "$MANIFEST_FILE"
push_blob_mono crash/after "$MONO"
check_blob_get crash/after "$MONO_DIGEST" "$MONO"

quayd_stop
sqlite_integrity "$DATA_DIR/quay.db" "(d) database after a clean shutdown"
