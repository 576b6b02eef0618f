#!/usr/bin/env bash
# Token auth with real clients: quayd serve --config (Quay key names), users,
# robots and app tokens created with the quayd CLI while the server runs;
# skopeo with --creds / --src-creds / --dest-creds as a user, a robot and an
# app token; podman login/push/pull; a read-only robot's push fails cleanly;
# anonymous pull of a public repository works and of a private one fails;
# wrong passwords are refused and then throttled (429); tokens survive a
# restart (signing keys live in the database); no secret reaches a log line.
#
# usage: auth_roundtrip.sh PATH_TO_QUAYD

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
is_quayd || skip "auth_roundtrip.sh tests quayd's token auth"
has_users || skip "this quayd has no users"
need_tool jq
skopeo_setup
# Every skopeo call below says which credentials it uses.
E2E_WRITE_AUTH_FILE=0
echo '{}' >"$REGISTRY_AUTH_FILE"

IMAGES=$WORK/images
"$PYTHON" "$E2E_DIR/make_images.py" "$IMAGES" >"$WORK/images.json"
IMG_MANIFEST=$(jq -r .image.manifest "$WORK/images.json")

# --- configuration ----------------------------------------------------------------
new_data_dir
PORT=$(free_port)
CONFIG=$WORK/config.yaml
DB_SECRET=db-secret-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')
cat >"$CONFIG" <<EOF
# Quay's keys
SERVER_HOSTNAME: 127.0.0.1:$PORT
FEATURE_ANONYMOUS_ACCESS: true
CREATE_PRIVATE_REPO_ON_PUSH: true
SUPER_USERS: []
REGISTRY_JWT_TOKEN_LIFETIME: 1h
DATABASE_SECRET_KEY: $DB_SECRET
FEATURE_MAILING: not-used-by-quayd
# quayd's own
listen: 127.0.0.1:$PORT
login_failure_limit: 5
EOF
# An invalid value stops quayd with a message naming the key.
printf 'FEATURE_ANONYMOUS_ACCESS: perhaps\n' >"$WORK/bad.yaml"
rc=0
"$QUAYD" serve --config "$WORK/bad.yaml" --data-dir "$WORK/unused" >"$WORK/bad.out" 2>&1 || rc=$?
[[ $rc == 2 ]] || fail "quayd serve with an invalid config exited $rc, expected 2"
grep -q 'FEATURE_ANONYMOUS_ACCESS' "$WORK/bad.out" ||
    fail "the invalid-config message does not name the key: $(cat "$WORK/bad.out")"

QUAYD_ARGS=(--config "$CONFIG" --listen "127.0.0.1:$PORT")
quayd_start
[[ $QUAYD_PORT == "$PORT" ]] || fail "quayd listens on $QUAYD_PORT, the config says $PORT"
grep -q 'unknown configuration key' "$E2E_SERVER_ERR" && grep -q 'FEATURE_MAILING' "$E2E_SERVER_ERR" ||
    fail "no warning for the unknown key FEATURE_MAILING"
grep -q 'not-used-by-quayd' "$WORK"/server.*.err && fail "a config value reached the log"

USER=$E2E_USER
PASS=$E2E_PASSWORD
REPO=e2e/authimg

# /v2/ challenges anonymous clients.
E2E_AUTH=0 req GET "$BASE_URL/v2/"
expect_code 401 "anonymous GET /v2/"
[[ $(resp_header WWW-Authenticate) == "Bearer realm=\"http://127.0.0.1:$PORT/v2/auth\",service=\"127.0.0.1:$PORT\"" ]] ||
    fail "GET /v2/: WWW-Authenticate is '$(resp_header WWW-Authenticate)'"

# --- a user: skopeo --dest-creds / --creds / --src-creds ---------------------------
sk_copy --dest-creds "$USER:$PASS" --digestfile "$WORK/d.user" oci:"$IMAGES/image":latest "docker://$REG/$REPO:v1"
[[ $(cat "$WORK/d.user") == "$IMG_MANIFEST" ]] || fail "push as $USER: digest $(cat "$WORK/d.user")"
sk inspect --raw --tls-verify=false --creds "$USER:$PASS" "docker://$REG/$REPO:v1"
[[ sha256:$(sha256_of "$WORK/skopeo.out") == "$IMG_MANIFEST" ]] || fail "inspect as $USER: wrong manifest"
sk_copy --src-creds "$USER:$PASS" "docker://$REG/$REPO:v1" oci:"$WORK/pulled-user":v1
sk_fails inspect --raw --tls-verify=false --creds "$USER:wrong-password" "docker://$REG/$REPO:v1"
grep -qi 'unauthorized\|401\|invalid username' "$WORK/skopeo.err" ||
    fail "a wrong password: unexpected error: $(cat "$WORK/skopeo.err")"

# --- a robot with write permission, made while the server runs -----------------------
"$QUAYD" robot add e2e+ci --data-dir "$DATA_DIR" >"$WORK/robot.out" 2>"$WORK/robot.err" ||
    fail "quayd robot add failed: $(cat "$WORK/robot.err")"
ROBOT_TOKEN=$(head -n1 "$WORK/robot.out")
[[ ${#ROBOT_TOKEN} -ge 32 ]] || fail "quayd robot add printed '$ROBOT_TOKEN'"
# A fresh robot has no access at all.
sk_fails copy --retry-times 0 --dest-tls-verify=false --dest-creds "e2e+ci:$ROBOT_TOKEN" \
    oci:"$IMAGES/image":latest "docker://$REG/$REPO:robot"
"$QUAYD" repo grant "$REPO" robot:e2e+ci write --data-dir "$DATA_DIR" 2>"$WORK/grant.err" ||
    fail "quayd repo grant failed: $(cat "$WORK/grant.err")"
sk_copy --dest-creds "e2e+ci:$ROBOT_TOKEN" oci:"$IMAGES/image":latest "docker://$REG/$REPO:robot"
sk_copy --src-creds "e2e+ci:$ROBOT_TOKEN" "docker://$REG/$REPO:robot" oci:"$WORK/pulled-robot":v1

# --- an app-specific token ------------------------------------------------------------
"$QUAYD" token add "$USER" --title e2e --data-dir "$DATA_DIR" >"$WORK/token.out" 2>"$WORK/token.err" ||
    fail "quayd token add failed: $(cat "$WORK/token.err")"
APP_TOKEN=$(head -n1 "$WORK/token.out")
sk_copy --dest-creds "$USER:$APP_TOKEN" oci:"$IMAGES/image":latest "docker://$REG/$REPO:apptoken"
sk_copy --src-creds "\$app:$APP_TOKEN" "docker://$REG/$REPO:apptoken" oci:"$WORK/pulled-app":v1

# --- a read-only robot: pull works, push fails cleanly and changes nothing ---------------
"$QUAYD" robot add e2e+reader --data-dir "$DATA_DIR" >"$WORK/reader.out" 2>/dev/null ||
    fail "quayd robot add e2e+reader failed"
READER_TOKEN=$(head -n1 "$WORK/reader.out")
"$QUAYD" repo grant "$REPO" robot:e2e+reader read --data-dir "$DATA_DIR" 2>/dev/null ||
    fail "quayd repo grant read failed"
sk inspect --raw --tls-verify=false --creds "e2e+reader:$READER_TOKEN" "docker://$REG/$REPO:v1"
sk_fails copy --retry-times 0 --dest-tls-verify=false --dest-creds "e2e+reader:$READER_TOKEN" \
    oci:"$IMAGES/image":latest "docker://$REG/$REPO:denied"
grep -qi 'unauthorized\|denied\|authentication required' "$WORK/skopeo.err" ||
    fail "read-only push: unexpected error: $(cat "$WORK/skopeo.err")"
sk list-tags --tls-verify=false --creds "$USER:$PASS" "docker://$REG/$REPO"
[[ $(jq -c '.Tags | sort' "$WORK/skopeo.out") == '["apptoken","robot","v1"]' ]] ||
    fail "tags after the denied push: $(jq -c .Tags "$WORK/skopeo.out")"

# --- another user: no access to e2e's private repository, no push into e2e/ ---------------
printf 'bob-%s\n' "$PASS" | "$QUAYD" user add bob --data-dir "$DATA_DIR" 2>"$WORK/bob.err" ||
    fail "quayd user add bob (while serving) failed: $(cat "$WORK/bob.err")"
sk_fails inspect --raw --tls-verify=false --creds "bob:bob-$PASS" "docker://$REG/$REPO:v1"
sk_fails copy --retry-times 0 --dest-tls-verify=false --dest-creds "bob:bob-$PASS" \
    oci:"$IMAGES/image":latest "docker://$REG/e2e/bobs:v1"
sk_copy --dest-creds "bob:bob-$PASS" oci:"$IMAGES/image":latest "docker://$REG/bob/own:v1"

# --- anonymous pull: private fails, public works; anonymous push never -------------------
sk_fails inspect --raw --tls-verify=false --no-creds "docker://$REG/$REPO:v1"
sk_fails inspect --raw --tls-verify=false --no-creds "docker://$REG/e2e/does-not-exist:v1"
"$QUAYD" repo visibility "$REPO" public --data-dir "$DATA_DIR" 2>"$WORK/vis.err" ||
    fail "quayd repo visibility failed: $(cat "$WORK/vis.err")"
sk inspect --raw --tls-verify=false --no-creds "docker://$REG/$REPO:v1"
[[ sha256:$(sha256_of "$WORK/skopeo.out") == "$IMG_MANIFEST" ]] || fail "anonymous inspect: wrong manifest"
sk_copy --src-no-creds "docker://$REG/$REPO:v1" oci:"$WORK/pulled-anon":v1
E2E_AUTH=0 req GET "$BASE_URL/v2/$REPO/manifests/v1" -H "Accept: $MANIFEST_ACCEPT"
expect_code 200 "anonymous GET of a public manifest without a token"
sk_fails copy --retry-times 0 --dest-tls-verify=false --dest-no-creds \
    oci:"$IMAGES/image":latest "docker://$REG/$REPO:anonymous"
for d in pulled-user pulled-robot pulled-app pulled-anon; do
    [[ $(jq -r '.manifests[0].digest' "$WORK/$d/index.json") == "$IMG_MANIFEST" ]] ||
        fail "$d: pulled manifest $(jq -r '.manifests[0].digest' "$WORK/$d/index.json")"
done

# --- podman login / push / pull ---------------------------------------------------------
PROOT=$WORK/podman
mkdir -p "$PROOT/tmp"
echo '{}' >"$PROOT/auth.json"
P=(podman --root "$PROOT/root" --runroot "$PROOT/runroot" --storage-driver vfs
    --cgroup-manager cgroupfs --events-backend file --tmpdir "$PROOT/tmp")
if command -v podman >/dev/null 2>&1 && "${P[@]}" images >/dev/null 2>&1; then
    pm() {
        log "podman $*"
        REGISTRY_AUTH_FILE=$PROOT/auth.json "${P[@]}" "$@" >"$WORK/podman.out" 2>"$WORK/podman.err" || {
            cat "$WORK/podman.out" "$WORK/podman.err" >&2
            fail "podman $* failed"
        }
    }
    echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$PROOT/policy.json"
    pm pull --signature-policy "$PROOT/policy.json" oci:"$IMAGES/image":latest
    printf '%s\n' "$PASS" | pm login --tls-verify=false -u "$USER" --password-stdin "$REG"
    pm push --tls-verify=false --format oci "$(jq -r .image.config "$WORK/images.json" | cut -d: -f2)" \
        "docker://$REG/e2e/podman-auth:v1"
    pm rmi --all --force
    pm pull --tls-verify=false --signature-policy "$PROOT/policy.json" "docker://$REG/e2e/podman-auth:v1"
    pm logout "$REG"
    if REGISTRY_AUTH_FILE=$PROOT/auth.json "${P[@]}" pull --tls-verify=false \
        "docker://$REG/e2e/podman-auth:v1" >/dev/null 2>&1; then
        fail "podman pulled a private repository after logout"
    fi
else
    log "podman cannot run here: its part is skipped"
fi

# --- tokens survive a restart (same SERVER_HOSTNAME, keys in the database) ---------------
TOKEN=$(command curl -s -u "$USER:$PASS" "$BASE_URL/v2/auth?service=$REG&scope=repository:$REPO:pull" | jq -r .token)
[[ -n $TOKEN && $TOKEN != null ]] || fail "no token from /v2/auth"
quayd_restart
[[ $QUAYD_PORT == "$PORT" ]] || fail "quayd came back on $QUAYD_PORT, not $PORT"
E2E_AUTH=0 req GET "$BASE_URL/v2/e2e/authimg/manifests/v1" -H "Authorization: Bearer $TOKEN" -H "Accept: $MANIFEST_ACCEPT"
expect_code 200 "a token issued before the restart"
E2E_AUTH=0 req GET "$BASE_URL/v2/bob/own/manifests/v1" -H "Authorization: Bearer $TOKEN"
expect_code 401 "a token used on a repository it does not cover"
E2E_AUTH=0 req GET "$BASE_URL/v2/e2e/authimg/manifests/v1" -H "Authorization: Bearer ${TOKEN%?}x"
expect_code 401 "a tampered token"

# --- bad input and the failed-login back-off ---------------------------------------------
E2E_AUTH=0 req GET "$BASE_URL/v2/auth?service=$REG&scope=repository:e2e/x:steal" -u "$USER:$PASS"
expect_code 400 "a malformed scope"
E2E_AUTH=0 req GET "$BASE_URL/v2/auth?service=$REG" -H 'Authorization: Basic %%%'
expect_code 401 "a malformed Basic header"
E2E_AUTH=0 req GET "$BASE_URL/v2/auth?service=$REG"
expect_code 401 "no credentials and no scope"
for i in 1 2 3 4 5; do
    E2E_AUTH=0 req GET "$BASE_URL/v2/auth?service=$REG&scope=repository:bob/own:pull" -u "bob:guess-$i"
    expect_code 401 "wrong password #$i"
done
E2E_AUTH=0 req GET "$BASE_URL/v2/auth?service=$REG&scope=repository:bob/own:pull" -u "bob:bob-$PASS"
expect_code 429 "a login after 5 failures"
[[ $(resp_header Retry-After) =~ ^[0-9]+$ ]] || fail "429 without Retry-After"
# Other users are not affected.
E2E_AUTH=0 req GET "$BASE_URL/v2/auth?service=$REG&scope=repository:$REPO:pull" -u "$USER:$PASS"
expect_code 200 "another user's login during bob's back-off"

# --- audit rows (pull_repo / push_repo) -------------------------------------------------
# The appender journals them and indexes them into quay-audit.db; a clean stop
# indexes what is left and removes the journal.
quayd_stop
kinds=$(sqlite3 "$DATA_DIR/quay-audit.db" "SELECT DISTINCT kind FROM audit_log ORDER BY kind" |
    grep -E '^(push_repo|pull_repo)$' | tr '\n' ' ')
[[ $kinds == "pull_repo push_repo " ]] || fail "quay-audit.db has kinds '$kinds', expected pull_repo and push_repo"
leftover=$(find "$DATA_DIR/quay-audit-journal" -name '*.log' | wc -l)
[[ $leftover == 0 ]] || fail "$leftover audit journal segments left after a clean stop"

# --- no secret in any log line -----------------------------------------------------------
for secret in "$PASS" "$ROBOT_TOKEN" "$READER_TOKEN" "$APP_TOKEN" "$TOKEN" "bob-$PASS" guess-1 "$DB_SECRET"; do
    if grep -qF -- "$secret" "$WORK"/server.*.err "$WORK"/server.*.out; then
        fail "a secret (${secret:0:6}...) appears in the server log"
    fi
done
grep -qi 'authorization' "$WORK"/server.*.err && fail "an Authorization header reached the server log"
log "auth round trip ok"
