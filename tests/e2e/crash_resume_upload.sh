#!/usr/bin/env bash
# Resumable uploads survive kill -9 (DESIGN.md: "Upload sessions are
# resumable: their state (offset, hash state) survives a restart").
#   1. PATCH a first 1 MiB chunk (202, Range 0-1048575), kill -9, restart:
#      GET on the session answers 204 with the same Range.
#   2. PATCH the rest slowly and kill -9 mid-transfer, restart: the session
#      reports an offset that still covers the first chunk; resume from that
#      offset, PUT ?digest= answers 201 and the blob reads back identical
#      (so the stored hash state matches the stored bytes).
#
# usage: crash_resume_upload.sh PATH_TO_QUAYD

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"

REPO=crash/resume
CHUNK=$((1024 * 1024))
BLOB=$WORK/blob.bin
head -c $((24 * 1024 * 1024 + 7)) /dev/urandom >"$BLOB"
SIZE=$(stat -c %s "$BLOB")
DIGEST=sha256:$(sha256_of "$BLOB")

# on_current_server URL: the same path and query on the running server.
on_current_server() {
    local rest=${1#http://}
    printf '%s/%s' "$BASE_URL" "${rest#*/}"
}

# session_status WHAT: GET the upload session; sets UPLOAD_URL (from Location
# when given) and OFFSET (one past the last stored byte).
OFFSET=0
session_status() {
    req GET "$UPLOAD_URL"
    expect_code 204 "$1: GET upload session $UPLOAD_URL"
    local range loc
    range=$(resp_header Range)
    [[ $range =~ ^(bytes=)?0-([0-9]+)$ ]] || fail "$1: GET upload session: Range header '$range', expected 0-<last>"
    OFFSET=$((BASH_REMATCH[2] + 1))
    loc=$(resp_header Location)
    [[ -z $loc ]] || UPLOAD_URL=$(absolute_url "$loc")
}

# patch_range FROM TO_EXCL WHAT [curl args]: PATCH bytes [FROM, TO_EXCL).
patch_range() {
    local from=$1 to=$2 what=$3
    shift 3
    dd if="$BLOB" of="$WORK/chunk" bs=1M iflag=skip_bytes,count_bytes \
        skip="$from" count=$((to - from)) status=none
    req PATCH "$UPLOAD_URL" -H 'Content-Type: application/octet-stream' \
        -H "Content-Range: $from-$((to - 1))" --data-binary "@$WORK/chunk" "$@"
    expect_code 202 "$what: PATCH bytes $from-$((to - 1))"
    UPLOAD_URL=$(absolute_url "$(resp_header Location)")
}

quayd_start
start_upload "$REPO"
patch_range 0 "$CHUNK" "first chunk"
range=$(resp_header Range)
[[ $range =~ ^(bytes=)?0-$((CHUNK - 1))$ ]] || fail "first chunk: PATCH answered Range '$range', expected 0-$((CHUNK - 1))"

# 1. crash after an acknowledged chunk.
quayd_crash_restart
UPLOAD_URL=$(on_current_server "$UPLOAD_URL")
session_status "after crash 1"
[[ $OFFSET -eq $CHUNK ]] || fail "after crash 1: session offset $OFFSET, expected $CHUNK (the acknowledged chunk)"

# 2. crash in the middle of a slow PATCH of the rest.
tail -c +$((CHUNK + 1)) "$BLOB" >"$WORK/rest"
curl -s -o /dev/null -w '%{http_code}' -X PATCH -H 'Expect:' --limit-rate 2M \
    -H 'Content-Type: application/octet-stream' -H "Content-Range: $CHUNK-$((SIZE - 1))" \
    -T "$WORK/rest" "$UPLOAD_URL" >"$WORK/slow.code" 2>/dev/null &
SLOW_PID=$!
track_bg "$SLOW_PID"
sleep 3
kill -0 "$SLOW_PID" 2>/dev/null || fail "the rate-limited PATCH finished before the kill (status $(cat "$WORK/slow.code"))"
quayd_kill9
wait "$SLOW_PID" 2>/dev/null || true

quayd_start "$DATA_DIR"
UPLOAD_URL=$(on_current_server "$UPLOAD_URL")
session_status "after crash 2"
log "after crash 2: session resumes at offset $OFFSET of $SIZE"
[[ $OFFSET -ge $CHUNK && $OFFSET -le $SIZE ]] ||
    fail "after crash 2: session offset $OFFSET, expected between $CHUNK and $SIZE"

if [[ $OFFSET -lt $SIZE ]]; then
    patch_range "$OFFSET" "$SIZE" "resume"
fi
req PUT "$(with_query "$UPLOAD_URL" "digest=$DIGEST")" -H 'Content-Type: application/octet-stream'
expect_code 201 "PUT ?digest=$DIGEST closing the resumed session"
check_blob_get "$REPO" "$DIGEST" "$BLOB"
n=$(check_blob_files "$DATA_DIR")
log "$n blob file(s) hash to their names"
quayd_stop
