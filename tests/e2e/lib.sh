# Shared helpers for the end-to-end and crash tests. Source it, then call
# `e2e_init "$@"`; the first script argument is the quayd binary.
#
# Exit codes follow Meson: 0 pass, 77 skip (a tool cannot run on this
# machine), anything else is a failure.
#
# Environment:
#   E2E_REGISTRY_CMD  dev convenience: path of Debian's `docker-registry`; when
#                     set, the tests run against it instead of quayd (checks
#                     that depend on quayd's data-dir layout are skipped).
#   E2E_KEEP=1        keep the temp work dir (data dirs, server logs) at exit.
#   E2E_STRICT=1      a missing client tool is a failure instead of a skip.
#   E2E_PYTHON        python3 interpreter (meson passes the one it found).
#
# After quayd_start: QUAYD_PID, QUAYD_PORT, REG (host:port) and BASE_URL
# (http://host:port) describe the running server; DATA_DIR its data dir.
# QUAYD_ARGS (an array, empty by default) is appended to `quayd serve`.
#
# Token auth: quayd serves /v2 with Docker token auth. quayd_start creates the
# users E2E_USERS (one per namespace the tests push to, password
# E2E_PASSWORD) in a new data dir before serving, writes their credentials to
# $REGISTRY_AUTH_FILE (what `podman login` writes) after skopeo_setup, and
# curl is wrapped so a raw request to /v2/... carries a bearer
# token for its repository (fetched from /v2/auth once per server and
# repository, then cached). E2E_AUTH=0 makes curl anonymous again.

set -Eeuo pipefail
# A command failing under set -e would otherwise end the test without a word.
trap 'printf "\nFAIL: command failed (status %s) at %s:%s: %s\n" "$?" "${BASH_SOURCE[0]##*/}" "$LINENO" "$BASH_COMMAND" >&2' ERR

# shellcheck disable=SC2034 # used by the scripts that source this file
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=${E2E_PYTHON:-python3}

QUAYD=""
QUAYD_PID=""
QUAYD_PORT=""
REG=""
BASE_URL=""
DATA_DIR=""
WORK=""
E2E_MODE=quayd          # or docker-registry
E2E_SERVER_SEQ=0
E2E_SERVER_LOG=""
E2E_SERVER_ERR=""
E2E_BG_PIDS=()
QUAYD_ARGS=()
E2E_USERS=(e2e crash)
E2E_USER=e2e
E2E_PASSWORD=""
E2E_AUTH=1
E2E_HAS_USERS=0       # set by e2e_init: this quayd has `quayd user`
E2E_WRITE_AUTH_FILE=0 # set by skopeo_setup

log() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

fail() {
    trap - ERR
    printf '\nFAIL: %s\n' "$*" >&2
    exit 1
}

skip() {
    trap - ERR
    printf 'SKIP: %s\n' "$*" >&2
    exit 77
}

# need_tool NAME [apt package]: skip (or fail under E2E_STRICT=1) when missing.
need_tool() {
    local tool=$1 pkg=${2:-$1}
    if ! command -v "$tool" >/dev/null 2>&1; then
        if [[ ${E2E_STRICT:-0} == 1 ]]; then
            fail "required tool '$tool' is not installed (apt-get install $pkg)"
        fi
        skip "required tool '$tool' is not installed (apt-get install $pkg)"
    fi
}

is_quayd() { [[ $E2E_MODE == quayd ]]; }

e2e_init() {
    need_tool curl
    need_tool sha256sum coreutils
    if [[ -n ${E2E_REGISTRY_CMD:-} ]]; then
        E2E_MODE=docker-registry
        QUAYD=$E2E_REGISTRY_CMD
        [[ -x $QUAYD ]] || fail "E2E_REGISTRY_CMD=$QUAYD is not executable"
        log "dev mode: running against $QUAYD instead of quayd"
    else
        [[ $# -ge 1 && -n $1 ]] || fail "usage: $0 PATH_TO_QUAYD"
        QUAYD=$1
        [[ -x $QUAYD && ! -d $QUAYD ]] || fail "quayd binary '$QUAYD' is not executable"
        [[ $QUAYD == /* ]] || QUAYD=$PWD/$QUAYD
    fi
    # Lower-case name: podman derives an image name from an oci: path.
    local i
    for ((i = 0; i < 20; i++)); do
        WORK=${TMPDIR:-/tmp}/quay-e2e.$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
        mkdir -m 700 "$WORK" 2>/dev/null && break
        WORK=""
    done
    [[ -n $WORK ]] || fail "cannot create a work dir under ${TMPDIR:-/tmp}"
    E2E_PASSWORD=e2e-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')
    if is_quayd && "$QUAYD" --help 2>/dev/null | grep -q '^  user '; then
        E2E_HAS_USERS=1
    fi
    trap e2e_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    log "work dir $WORK"
}

e2e_cleanup() {
    local rc=$?
    trap - ERR
    set +e
    local p
    for p in "${E2E_BG_PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null
    done
    if [[ -n $QUAYD_PID ]]; then
        kill -KILL "$QUAYD_PID" 2>/dev/null
        wait "$QUAYD_PID" 2>/dev/null
    fi
    if [[ $rc -ne 0 && $rc -ne 77 ]]; then
        server_logs_tail
    fi
    if [[ -n $WORK ]]; then
        if [[ ${E2E_KEEP:-0} == 1 ]]; then
            log "keeping $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
    if [[ $rc -eq 0 ]]; then
        printf 'PASS: %s\n' "$(basename "$0")" >&2
    fi
    exit "$rc"
}

server_logs_tail() {
    local f
    for f in "$E2E_SERVER_LOG" "$E2E_SERVER_ERR"; do
        [[ -n $f && -s $f ]] || continue
        printf -- '--- last lines of %s ---\n' "$f" >&2
        tail -n 40 "$f" | cut -c1-400 >&2
    done
}

# Track a background job so it is killed at exit.
track_bg() { E2E_BG_PIDS+=("$1"); }

new_data_dir() {
    DATA_DIR=$(mktemp -d "$WORK/data.XXXX")
}

free_port() {
    "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# quayd_start [DATA_DIR]: start the server (new temp data dir if none given and
# none current) and wait until GET /v2/ answers 200.
quayd_start() {
    if [[ $# -ge 1 ]]; then
        DATA_DIR=$1
    elif [[ -z $DATA_DIR ]]; then
        new_data_dir
    fi
    [[ -z $QUAYD_PID ]] || fail "quayd_start: a server is already running (pid $QUAYD_PID)"
    E2E_SERVER_SEQ=$((E2E_SERVER_SEQ + 1))
    E2E_SERVER_LOG=$WORK/server.$E2E_SERVER_SEQ.out
    E2E_SERVER_ERR=$WORK/server.$E2E_SERVER_SEQ.err
    : >"$E2E_SERVER_LOG"

    if is_quayd; then
        e2e_bootstrap_users
        "$QUAYD" serve --listen 127.0.0.1:0 --data-dir "$DATA_DIR" "${QUAYD_ARGS[@]}" \
            >"$E2E_SERVER_LOG" 2>"$E2E_SERVER_ERR" </dev/null &
        QUAYD_PID=$!
        QUAYD_PORT=""
        local i line
        for ((i = 0; i < 300; i++)); do
            line=$(grep -m1 -oE 'listening on 127\.0\.0\.1:[0-9]+' "$E2E_SERVER_LOG" || true)
            if [[ -n $line ]]; then
                QUAYD_PORT=${line##*:}
                break
            fi
            if ! kill -0 "$QUAYD_PID" 2>/dev/null; then
                local rc=0
                wait "$QUAYD_PID" || rc=$?
                QUAYD_PID=""
                fail "quayd exited (status $rc) before printing 'listening on 127.0.0.1:PORT'"
            fi
            sleep 0.1
        done
        [[ -n $QUAYD_PORT ]] || fail "quayd did not print 'listening on 127.0.0.1:PORT' on stdout within 30 s"
    else
        QUAYD_PORT=$(free_port)
        local cfg=$WORK/registry.$E2E_SERVER_SEQ.yml
        cat >"$cfg" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $DATA_DIR
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$QUAYD_PORT
  secret: quay-e2e-fixed-secret
EOF
        # The reference registry maps REGISTRY_* variables onto its config;
        # REGISTRY_AUTH_FILE (a containers-auth setting) would break it.
        env -u REGISTRY_AUTH_FILE "$QUAYD" serve "$cfg" >"$E2E_SERVER_LOG" 2>"$E2E_SERVER_ERR" </dev/null &
        QUAYD_PID=$!
    fi
    REG=127.0.0.1:$QUAYD_PORT
    BASE_URL=http://$REG
    wait_ready
    e2e_write_auth_file
    log "server up on $REG (pid $QUAYD_PID, data $DATA_DIR)"
}

wait_ready() {
    local i code
    for ((i = 0; i < 300; i++)); do
        code=$(command curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE_URL/v2/" || true)
        # 401: up, and asking for credentials (token auth).
        [[ $code == 200 || $code == 401 ]] && return 0
        if ! kill -0 "$QUAYD_PID" 2>/dev/null; then
            local rc=0
            wait "$QUAYD_PID" || rc=$?
            QUAYD_PID=""
            fail "server exited (status $rc) before GET /v2/ answered 200"
        fi
        sleep 0.1
    done
    fail "GET $BASE_URL/v2/ did not answer 200 or 401 within 30 s (last: $code)"
}

# --- token auth -------------------------------------------------------------------

# True when this quayd has users (and so token auth).
has_users() { [[ $E2E_HAS_USERS == 1 ]]; }

# e2e_bootstrap_users: `quayd user add` for each of E2E_USERS, once per data
# dir, before the server starts (the password goes on stdin).
e2e_bootstrap_users() {
    has_users || return 0
    local marker=$WORK/users.${DATA_DIR##*/} u
    [[ -e $marker ]] && return 0
    for u in "${E2E_USERS[@]}"; do
        printf '%s\n' "$E2E_PASSWORD" | "$QUAYD" user add "$u" --data-dir "$DATA_DIR" \
            >/dev/null 2>"$WORK/user-add.err" ||
            fail "quayd user add $u --data-dir $DATA_DIR failed: $(cat "$WORK/user-add.err")"
    done
    : >"$marker"
}

# user_for_repo NAME: the bootstrap user owning NAME's namespace (E2E_USER
# for any other namespace).
user_for_repo() {
    local ns=${1%%/*} u
    for u in "${E2E_USERS[@]}"; do
        [[ $u == "$ns" ]] && { printf '%s' "$u"; return; }
    done
    printf '%s' "$E2E_USER"
}

# e2e_write_auth_file: the credentials for REG in $REGISTRY_AUTH_FILE (the
# containers-auth.json format `podman login` writes), after skopeo_setup.
# Every bootstrap user has the same password; the file names E2E_USER.
e2e_write_auth_file() {
    has_users || return 0
    [[ $E2E_WRITE_AUTH_FILE == 1 && -n ${REGISTRY_AUTH_FILE:-} ]] || return 0
    local auth
    auth=$(printf '%s:%s' "$E2E_USER" "$E2E_PASSWORD" | base64 -w0)
    printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REG" "$auth" >"$REGISTRY_AUTH_FILE"
}

# e2e_token USER SCOPE...: a bearer token for USER and the scopes, from
# /v2/auth (cached per server, data dir and request; files, so subshells share
# the cache).
e2e_token() {
    local user=$1
    shift
    local dir=$WORK/tokens/$QUAYD_PORT.${DATA_DIR##*/} key f q="" s
    key=$(printf '%s ' "$user" "$@" | sha256sum | cut -c1-16)
    f=$dir/$key
    if [[ ! -s $f ]]; then
        mkdir -p "$dir"
        for s in "$@"; do q+="&scope=$s"; done
        command curl -s --max-time 30 -u "$user:$E2E_PASSWORD" "$BASE_URL/v2/auth?service=$REG$q" |
            "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["token"])' >"$f.$$" 2>/dev/null &&
            mv "$f.$$" "$f" || { rm -f "$f.$$"; return 1; }
    fi
    cat "$f"
}

# curl, with a bearer token for the repository a /v2 URL names (pull for
# GET/HEAD outside upload sessions; pull, push and delete otherwise, plus pull
# on a mount's from=), or a sign-in token for the API root and the catalog. Asking push
# for a read would create a missing repository (push-to-create).
curl() {
    if [[ $E2E_AUTH != 1 || -z $REG ]] || ! has_users; then
        command curl "$@"
        return
    fi
    local a path="" repo="" scopes=() token method=GET next_is_method=0
    for a in "$@"; do
        if ((next_is_method)); then
            method=$a
            next_is_method=0
            continue
        fi
        case $a in
        "http://$REG"/v2/*) path=${a#"http://$REG"} ;;
        -X | --request) next_is_method=1 ;;
        -X?*) method=${a#-X} ;;
        -I | --head) method=HEAD ;;
        -T | --upload-file | --data-binary | -d | --data) [[ $method != GET ]] || method=POST ;;
        esac
    done
    if [[ -z $path || $path == /v2/auth* ]]; then
        command curl "$@"
        return
    fi
    if [[ ${path%%\?*} =~ ^/v2/(.+)/(blobs|manifests|tags|referrers)/ ]]; then
        repo=${BASH_REMATCH[1]}
        if [[ ($method == GET || $method == HEAD) && $path != */blobs/uploads* ]]; then
            scopes+=("repository:$repo:pull")
        else
            scopes+=("repository:$repo:pull,push,delete")
        fi
        if [[ $path =~ [?\&]from=([^\&]+) ]]; then
            scopes+=("repository:${BASH_REMATCH[1]}:pull")
        fi
    fi
    if token=$(e2e_token "$(user_for_repo "$repo")" "${scopes[@]}"); then
        command curl -H "Authorization: Bearer $token" "$@"
    else
        command curl "$@"
    fi
}

# quayd_stop: SIGTERM and wait for a clean exit (status 0, or 143 = killed by
# the TERM signal after cleanup).
quayd_stop() {
    [[ -n $QUAYD_PID ]] || fail "quayd_stop: no server running"
    local pid=$QUAYD_PID i rc=0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        QUAYD_PID=""
        fail "server did not exit within 30 s of SIGTERM"
    fi
    wait "$pid" || rc=$?
    QUAYD_PID=""
    if [[ $rc -ne 0 && $rc -ne 143 ]]; then
        if is_quayd; then
            fail "quayd exited with status $rc after SIGTERM (expected a clean shutdown, 0)"
        fi
        log "note: reference server exited with status $rc after SIGTERM"
    fi
    log "server stopped cleanly (status $rc)"
}

# quayd_kill9: SIGKILL, no chance to clean up.
quayd_kill9() {
    [[ -n $QUAYD_PID ]] || fail "quayd_kill9: no server running"
    kill -KILL "$QUAYD_PID" 2>/dev/null || true
    wait "$QUAYD_PID" 2>/dev/null || true
    QUAYD_PID=""
    log "server killed with SIGKILL"
}

# quayd_restart: clean stop, then start again on the same data dir. The port
# changes (ephemeral): re-read REG/BASE_URL afterwards.
quayd_restart() {
    quayd_stop
    quayd_start "$DATA_DIR"
}

# quayd_crash_restart: SIGKILL, then start again on the same data dir.
quayd_crash_restart() {
    quayd_kill9
    quayd_start "$DATA_DIR"
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# http_status METHOD URL [curl args...]: print the HTTP status code only.
http_status() {
    local method=$1 url=$2
    shift 2
    curl -s -o /dev/null -w '%{http_code}' -X "$method" "$@" "$url"
}

# header_value FILE NAME: value of a response header from a `curl -D` dump
# (last response in the dump, case-insensitive name, CR stripped).
header_value() {
    tr -d '\r' <"$1" | awk -v n="$(tr '[:upper:]' '[:lower:]' <<<"$2")" '
        /^HTTP\// { v = "" }
        { i = index($0, ":"); if (i > 0 && tolower(substr($0, 1, i - 1)) == n) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v) } }
        END { print v }'
}

# absolute_url LOCATION: resolve a Location header against BASE_URL.
absolute_url() {
    case $1 in
    http://* | https://*) printf '%s' "$1" ;;
    /*) printf '%s%s' "$BASE_URL" "$1" ;;
    *) fail "unexpected relative Location header: $1" ;;
    esac
}

# with_query URL KEY=VALUE: append a query parameter.
with_query() {
    case $1 in
    *\?*) printf '%s&%s' "$1" "$2" ;;
    *) printf '%s?%s' "$1" "$2" ;;
    esac
}

# OCI + Docker manifest media types, for Accept headers.
MANIFEST_ACCEPT='application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json'

# check_blob_files DIR: every regular file under DIR/blobs whose name is 64 hex
# characters must hash to that name (content-addressed store never holds a
# partial or wrong blob). Prints the number checked.
check_blob_files() {
    local root=$1/blobs n=0 bad=0 f name got
    if [[ ! -d $root ]]; then
        echo 0
        return 0
    fi
    while IFS= read -r -d '' f; do
        name=${f##*/}
        [[ $name =~ ^[0-9a-f]{64}$ ]] || continue
        got=$(sha256_of "$f")
        n=$((n + 1))
        if [[ $got != "$name" ]]; then
            printf 'blob file %s has sha256 %s (size %s)\n' "$f" "$got" "$(stat -c %s "$f")" >&2
            bad=$((bad + 1))
        fi
    done < <(find "$root" -type f -print0)
    [[ $bad -eq 0 ]] || fail "$bad blob file(s) under $root do not match the digest in their name"
    echo "$n"
}

# --- raw registry requests (crash tests) ---------------------------------------

# req METHOD URL [curl args...]: one request; sets RESP_CODE ("000" when the
# connection failed), RESP_HDR and RESP_BODY (files, overwritten per call).
RESP_CODE=""
RESP_HDR=""
RESP_BODY=""
req() {
    local method=$1 url=$2
    shift 2
    RESP_HDR=$WORK/resp.hdr
    RESP_BODY=$WORK/resp.body
    local how=(-X "$method")
    [[ $method == HEAD ]] && how=(-I)
    RESP_CODE=$(curl -s -D "$RESP_HDR" -o "$RESP_BODY" -w '%{http_code}' -H 'Expect:' \
        "${how[@]}" "$@" "$url") || true
    [[ -n $RESP_CODE ]] || RESP_CODE=000
}

# expect_code WANT WHAT: fail unless the last req answered WANT.
expect_code() {
    [[ $RESP_CODE == "$1" ]] && return 0
    fail "$2: expected HTTP $1, got $RESP_CODE; body: $(head -c 400 "$RESP_BODY" 2>/dev/null)"
}

resp_header() { header_value "$RESP_HDR" "$1"; }

# start_upload REPO: POST an upload session; sets UPLOAD_URL (absolute).
UPLOAD_URL=""
start_upload() {
    req POST "$BASE_URL/v2/$1/blobs/uploads/"
    expect_code 202 "POST /v2/$1/blobs/uploads/"
    local loc
    loc=$(resp_header Location)
    [[ -n $loc ]] || fail "POST /v2/$1/blobs/uploads/: 202 without a Location header"
    UPLOAD_URL=$(absolute_url "$loc")
}

# push_blob_session REPO FILE: POST session, PUT ?digest= with the whole body.
push_blob_session() {
    local repo=$1 file=$2 digest
    digest=sha256:$(sha256_of "$file")
    start_upload "$repo"
    req PUT "$(with_query "$UPLOAD_URL" "digest=$digest")" \
        -H 'Content-Type: application/octet-stream' -T "$file"
    expect_code 201 "PUT <upload>?digest=$digest ($(stat -c %s "$file") bytes) to $repo"
    local got
    got=$(resp_header Docker-Content-Digest)
    [[ -z $got || $got == "$digest" ]] || fail "PUT upload to $repo: Docker-Content-Digest '$got', expected $digest"
}

# push_blob_mono REPO FILE: single POST ?digest= with the body (201). The
# reference registry does not implement this optional form and answers 202;
# in dev mode fall back to finishing that session with a PUT.
push_blob_mono() {
    local repo=$1 file=$2 digest
    digest=sha256:$(sha256_of "$file")
    req POST "$BASE_URL/v2/$repo/blobs/uploads/?digest=$digest" \
        -H 'Content-Type: application/octet-stream' --data-binary "@$file"
    if [[ $RESP_CODE == 202 ]] && ! is_quayd; then
        UPLOAD_URL=$(absolute_url "$(resp_header Location)")
        req PUT "$(with_query "$UPLOAD_URL" "digest=$digest")" \
            -H 'Content-Type: application/octet-stream' -T "$file"
    fi
    expect_code 201 "POST /v2/$repo/blobs/uploads/?digest=$digest with a $(stat -c %s "$file")-byte body"
}

# check_blob_get REPO DIGEST FILE: GET returns 200 and exactly FILE's bytes.
check_blob_get() {
    local repo=$1 digest=$2 file=$3
    req GET "$BASE_URL/v2/$repo/blobs/$digest" -L
    expect_code 200 "GET /v2/$repo/blobs/$digest"
    cmp -s "$RESP_BODY" "$file" ||
        fail "GET /v2/$repo/blobs/$digest: $(stat -c %s "$RESP_BODY") bytes hashing to sha256:$(sha256_of "$RESP_BODY"), expected the pushed $(stat -c %s "$file") bytes"
}

# put_manifest REPO REF FILE MEDIA_TYPE: PUT a manifest, expect 201.
put_manifest() {
    local repo=$1 ref=$2 file=$3 mt=$4 digest got
    digest=sha256:$(sha256_of "$file")
    req PUT "$BASE_URL/v2/$repo/manifests/$ref" -H "Content-Type: $mt" --data-binary "@$file"
    expect_code 201 "PUT /v2/$repo/manifests/$ref"
    got=$(resp_header Docker-Content-Digest)
    [[ $got == "$digest" ]] || fail "PUT /v2/$repo/manifests/$ref: Docker-Content-Digest '$got', expected $digest"
}

# check_manifest_get REPO REF FILE: GET returns 200 and exactly FILE's bytes.
check_manifest_get() {
    local repo=$1 ref=$2 file=$3 got
    req GET "$BASE_URL/v2/$repo/manifests/$ref" -H "Accept: $MANIFEST_ACCEPT"
    expect_code 200 "GET /v2/$repo/manifests/$ref"
    cmp -s "$RESP_BODY" "$file" || fail "GET /v2/$repo/manifests/$ref: body differs from the pushed manifest"
    got=$(resp_header Docker-Content-Digest)
    [[ $got == "sha256:$(sha256_of "$file")" ]] ||
        fail "GET /v2/$repo/manifests/$ref: Docker-Content-Digest '$got', expected sha256:$(sha256_of "$file")"
}

# --- skopeo ---------------------------------------------------------------------

# skopeo_setup: a policy that accepts anything, and an empty registries.conf
# and auth file so the host's configuration stays out. Then `sk ARGS...` runs
# skopeo (output in $WORK/skopeo.out, failure fails the test), `sk_fails`
# expects it to fail, `sk_copy` copies without TLS.
skopeo_setup() {
    need_tool skopeo
    SK_POLICY=$WORK/policy.json
    echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$SK_POLICY"
    SK_REGISTRIES_CONF=$WORK/registries.conf
    : >"$SK_REGISTRIES_CONF"
    echo '{}' >"$WORK/auth.json"
    export REGISTRY_AUTH_FILE=$WORK/auth.json
    export CONTAINERS_REGISTRIES_CONF=$SK_REGISTRIES_CONF
    # quayd_start writes the bootstrap user's credentials there.
    E2E_WRITE_AUTH_FILE=1
    [[ -z $REG ]] || e2e_write_auth_file
}

sk() {
    log "skopeo $*"
    skopeo --policy "$SK_POLICY" --registries-conf "$SK_REGISTRIES_CONF" "$@" \
        >"$WORK/skopeo.out" 2>"$WORK/skopeo.err" || {
        cat "$WORK/skopeo.out" "$WORK/skopeo.err" >&2
        fail "skopeo $* failed"
    }
}

sk_fails() {
    log "skopeo $* (must fail)"
    if skopeo --policy "$SK_POLICY" --registries-conf "$SK_REGISTRIES_CONF" "$@" \
        >"$WORK/skopeo.out" 2>"$WORK/skopeo.err"; then
        fail "skopeo $* succeeded; expected it to fail. Output: $(head -c 300 "$WORK/skopeo.out")"
    fi
}

sk_copy() { sk copy --retry-times 0 --src-tls-verify=false --dest-tls-verify=false "$@"; }
