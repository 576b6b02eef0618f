#!/usr/bin/env bash
# The REST API (/api/v1) driven the way a deployment script drives it, with
# curl and jq only, against a quayd started on an empty folder with
# FEATURE_USER_INITIALIZE: the first user is initialized with an access token
# (POST /api/v1/user/initialize), which then creates an organization, a team,
# a robot and a repository and grants the robot write on it; skopeo pushes an
# image as the robot; the tag list, a retag (PUT .../tag/TAG), deleting a tag
# and restoring it go through the API (each cross-checked on /v2 as the
# robot), and the repository's logs hold every kind of event that happened.
# Every API step checks the HTTP status and a field of the JSON answer.
#
# usage: api_script.sh PATH_TO_QUAYD
# Exit 77 (skip) only when skopeo is missing; a missing curl or jq is a
# failure.

for tool in curl jq; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        printf '\nFAIL: required tool %s is not installed (apt-get install %s)\n' "$tool" "$tool" >&2
        exit 1
    fi
done

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
is_quayd || fail "api_script.sh tests quayd's /api/v1; E2E_REGISTRY_CMD has none"
skopeo_setup

# No bootstrap users: user/initialize needs an empty database, and the
# robot's credentials are given to skopeo on the command line.
E2E_USERS=()
E2E_WRITE_AUTH_FILE=0

CONFIG=$WORK/config.yaml
cat >"$CONFIG" <<'EOF'
FEATURE_USER_INITIALIZE: true
password_hash_cost: minimum
SUPER_USERS: [admin]
EOF
QUAYD_ARGS=(--config "$CONFIG")
quayd_start

IMAGES=$WORK/images
"$PYTHON" "$E2E_DIR/make_images.py" "$IMAGES" >"$WORK/images.json"
DIGEST=$(jq -r .image.manifest "$WORK/images.json")
[[ $DIGEST == sha256:* ]] || fail "make_images.py gave no manifest digest: $(cat "$WORK/images.json")"

# --- helpers -------------------------------------------------------------------------

TOKEN=""   # the initialized user's OAuth access token, once known
CODE=""    # HTTP status of the last api call
BODY=$WORK/api.body

# api METHOD PATH [JSON_BODY]: one /api/v1 request (bearer TOKEN when set);
# sets CODE, the answer in $BODY.
api() {
    local method=$1 path=$2 args=(-s -o "$BODY" -w '%{http_code}' --max-time 30 -X "$1")
    [[ -n $TOKEN ]] && args+=(-H "Authorization: Bearer $TOKEN")
    [[ $# -ge 3 ]] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
    CODE=$(command curl "${args[@]}" "$BASE_URL$path") || CODE=000
    log "$method $path -> $CODE"
}

# expect WANT_STATUS JQ_FILTER WHAT: the last answer had status WANT_STATUS and
# a JSON body for which JQ_FILTER is true.
expect() {
    local want=$1 filter=$2 what=$3
    [[ $CODE == "$want" ]] ||
        fail "$what: expected HTTP $want, got $CODE; body: $(head -c 600 "$BODY" 2>/dev/null)"
    jq -e "$filter" "$BODY" >/dev/null 2>&1 ||
        fail "$what: HTTP $CODE, but the JSON answer does not satisfy '$filter': $(head -c 600 "$BODY")"
}

# expect_empty WANT_STATUS WHAT: the last answer had status WANT_STATUS and no body.
expect_empty() {
    [[ $CODE == "$1" ]] || fail "$2: expected HTTP $1, got $CODE; body: $(head -c 600 "$BODY")"
    [[ ! -s $BODY ]] || fail "$2: HTTP $CODE with a body: $(head -c 600 "$BODY")"
}

# v2_tags: the tag names of acme/app on /v2 (tags/list with the robot's pull
# token), sorted, space separated.
v2_tags() {
    local token code
    token=$(command curl -s --max-time 30 -u "acme+bot:$ROBOT_TOKEN" \
        "$BASE_URL/v2/auth?service=$REG&scope=repository:acme/app:pull" | jq -r .token)
    [[ -n $token && $token != null ]] || fail "/v2/auth gave the robot no token"
    code=$(command curl -s -o "$WORK/v2tags.json" -w '%{http_code}' --max-time 30 \
        -H "Authorization: Bearer $token" "$BASE_URL/v2/acme/app/tags/list")
    [[ $code == 200 ]] || fail "GET /v2/acme/app/tags/list as the robot: HTTP $code"
    jq -r '(.tags // []) | sort | join(" ")' "$WORK/v2tags.json"
}

# v2_digest TAG: the manifest digest TAG points to on /v2 (HEAD, robot token).
v2_digest() {
    local token
    token=$(command curl -s --max-time 30 -u "acme+bot:$ROBOT_TOKEN" \
        "$BASE_URL/v2/auth?service=$REG&scope=repository:acme/app:pull" | jq -r .token)
    command curl -s -I --max-time 30 -H "Authorization: Bearer $token" -H "Accept: $MANIFEST_ACCEPT" \
        -D "$WORK/v2head.hdr" -o /dev/null "$BASE_URL/v2/acme/app/manifests/$1" || true
    header_value "$WORK/v2head.hdr" Docker-Content-Digest
}

# --- the first user -------------------------------------------------------------------

ADMIN_PASSWORD=api-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')
api POST /api/v1/user/initialize \
    "$(jq -nc --arg p "$ADMIN_PASSWORD" '{username: "admin", password: $p, email: "admin@example.com", access_token: true}')"
expect 200 '.username == "admin" and (.access_token | type == "string" and length > 0)' \
    "POST /api/v1/user/initialize"
TOKEN=$(jq -r .access_token "$BODY")

api GET /api/v1/user/
expect 200 '.username == "admin"' "GET /api/v1/user/ with the access token"

# A second initialize is refused: the database is no longer empty.
saved=$TOKEN TOKEN=""
api POST /api/v1/user/initialize '{"username": "other", "password": "other-password-1", "email": "o@example.com", "access_token": true}'
[[ $CODE == 400 ]] || fail "a second POST /api/v1/user/initialize: expected 400, got $CODE ($(head -c 300 "$BODY"))"
jq -e 'has("access_token") | not' "$BODY" >/dev/null || fail "a second initialize returned an access token"
TOKEN=$saved

# --- organization, team, robot, repository, permission -----------------------------------

api POST /api/v1/organization/ '{"name": "acme", "email": "acme@example.com"}'
expect 201 '. == "Created"' "POST /api/v1/organization/"
api GET /api/v1/organization/acme
expect 200 '.name == "acme"' "GET /api/v1/organization/acme"

api PUT /api/v1/organization/acme/team/ci '{"role": "member"}'
expect 200 '.name == "ci" and .role == "member"' "PUT /api/v1/organization/acme/team/ci"

api PUT /api/v1/organization/acme/robots/bot '{"description": "CI pusher"}'
expect 201 '.name == "acme+bot" and (.token | type == "string" and length > 0)' \
    "PUT /api/v1/organization/acme/robots/bot"
ROBOT_TOKEN=$(jq -r .token "$BODY")

api POST /api/v1/repository \
    '{"namespace": "acme", "repository": "app", "visibility": "private", "description": "the app"}'
expect 201 '.namespace == "acme" and .name == "app"' "POST /api/v1/repository"
api GET /api/v1/repository/acme/app
expect 200 '.name == "app" and .namespace == "acme" and .is_public == false and .description == "the app"' \
    "GET /api/v1/repository/acme/app"

api PUT /api/v1/repository/acme/app/permissions/user/acme+bot '{"role": "write"}'
expect 200 '.name == "acme+bot" and .role == "write" and .is_robot == true' \
    "PUT /api/v1/repository/acme/app/permissions/user/acme+bot"
api GET /api/v1/repository/acme/app/permissions/user/
expect 200 '.permissions["acme+bot"].role == "write"' "GET /api/v1/repository/acme/app/permissions/user/"

# --- push as the robot ---------------------------------------------------------------------

sk_copy --dest-creds "acme+bot:$ROBOT_TOKEN" "oci:$IMAGES/image:latest" "docker://$REG/acme/app:v1"
[[ $(v2_tags) == v1 ]] || fail "after the robot's push /v2 lists tags '$(v2_tags)', expected v1"
[[ $(v2_digest v1) == "$DIGEST" ]] || fail "acme/app:v1 is $(v2_digest v1) on /v2, expected $DIGEST"

# --- tags through the API ------------------------------------------------------------------

api GET '/api/v1/repository/acme/app/tag/?onlyActiveTags=true'
expect 200 "(.tags | map(.name)) == [\"v1\"] and .tags[0].manifest_digest == \"$DIGEST\" and .has_additional == false" \
    "GET /api/v1/repository/acme/app/tag/?onlyActiveTags=true"

api PUT /api/v1/repository/acme/app/tag/v2 "{\"manifest_digest\": \"$DIGEST\"}"
expect 201 '. == "Updated"' "PUT /api/v1/repository/acme/app/tag/v2"
[[ $(v2_tags) == "v1 v2" ]] || fail "after PUT tag/v2 /v2 lists tags '$(v2_tags)', expected 'v1 v2'"
[[ $(v2_digest v2) == "$DIGEST" ]] || fail "acme/app:v2 is $(v2_digest v2) on /v2, expected $DIGEST"
api GET '/api/v1/repository/acme/app/tag/?onlyActiveTags=true'
expect 200 "(.tags | map(.name) | sort) == [\"v1\", \"v2\"] and all(.tags[]; .manifest_digest == \"$DIGEST\")" \
    "GET .../tag/ after the retag"

api DELETE /api/v1/repository/acme/app/tag/v1
expect_empty 204 "DELETE /api/v1/repository/acme/app/tag/v1"
[[ $(v2_tags) == v2 ]] || fail "after DELETE tag/v1 /v2 lists tags '$(v2_tags)', expected v2"
api GET '/api/v1/repository/acme/app/tag/?onlyActiveTags=true'
expect 200 '(.tags | map(.name)) == ["v2"]' "GET .../tag/?onlyActiveTags=true after the delete"
api GET '/api/v1/repository/acme/app/tag/?specificTag=v1'
expect 200 "any(.tags[]; .name == \"v1\" and .manifest_digest == \"$DIGEST\" and has(\"end_ts\"))" \
    "GET .../tag/?specificTag=v1 (history) after the delete"
api DELETE /api/v1/repository/acme/app/tag/v1
expect 404 '.status == 404' "DELETE of the deleted tag v1"

api POST /api/v1/repository/acme/app/tag/v1/restore "{\"manifest_digest\": \"$DIGEST\"}"
expect 200 'type == "object"' "POST /api/v1/repository/acme/app/tag/v1/restore"
[[ $(v2_tags) == "v1 v2" ]] || fail "after restoring v1 /v2 lists tags '$(v2_tags)', expected 'v1 v2'"
[[ $(v2_digest v1) == "$DIGEST" ]] || fail "restored acme/app:v1 is $(v2_digest v1) on /v2, expected $DIGEST"
api GET '/api/v1/repository/acme/app/tag/?onlyActiveTags=true'
expect 200 '(.tags | map(.name) | sort) == ["v1", "v2"]' "GET .../tag/?onlyActiveTags=true after the restore"

# --- the logs ------------------------------------------------------------------------------

# log_kinds: every kind on every page of acme/app's logs (Quay pages with
# next_page), one a line, in $WORK/kinds.
log_kinds() {
    local path=/api/v1/repository/acme/app/logs page next
    : >"$WORK/kinds"
    for ((page = 0; page < 50; page++)); do
        api GET "$path"
        expect 200 '.logs | type == "array"' "GET $path"
        jq -r '.logs[].kind' "$BODY" >>"$WORK/kinds"
        next=$(jq -r '.next_page // empty' "$BODY")
        [[ -n $next ]] || break
        path="/api/v1/repository/acme/app/logs?next_page=$next"
    done
}

# missing_kinds: the expected kinds $WORK/kinds lacks.
missing_kinds() {
    local kind
    for kind in create_repo change_repo_permission push_repo delete_tag revert_tag; do
        grep -qx "$kind" "$WORK/kinds" || printf '%s ' "$kind"
    done
    grep -qxE 'create_tag|move_tag' "$WORK/kinds" || printf 'create_tag|move_tag '
}

# Pushes (push_repo) reach the logs asynchronously: quayd journals them and an
# idle-priority thread copies the journal into quay-audit.db, within moments
# on a machine with a free CPU. Wait up to 30 s (a busy CI machine), then
# require every kind, the push included, without restarting quayd.
for ((i = 0; i < 60; i++)); do
    log_kinds
    [[ -z $(missing_kinds) ]] && break
    sleep 0.5
done
kinds=$(sort -u "$WORK/kinds" | tr '\n' ' ')
log "logged kinds: $kinds"
[[ -z $(missing_kinds) ]] || fail "the logs of acme/app lack: $(missing_kinds)(kinds: $kinds)"
api GET /api/v1/repository/acme/app/logs
expect 200 'any(.logs[]; .kind == "push_repo" and .performer.name == "acme+bot")' \
    "GET .../logs: the push is the robot's"
expect 200 'any(.logs[]; .kind == "create_repo" and .performer.name == "admin")' \
    "GET .../logs: the repository was created by admin"

# --- no secret in the server's log ---------------------------------------------------------
for secret in "$ADMIN_PASSWORD" "$TOKEN" "$ROBOT_TOKEN"; do
    if grep -qF -- "$secret" "$WORK"/server.*.out "$WORK"/server.*.err; then
        fail "a secret (${secret:0:6}...) appears in the server log"
    fi
done

quayd_stop
log "REST API script ok"
