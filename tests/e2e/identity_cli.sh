#!/usr/bin/env bash
# The identity settings and admin commands through the quayd binary, with
# curl only (no container client): `quayd org add` and `quayd org team
# add|role|member` run while `quayd serve` uses the same folder, and /v2/auth
# honours them at once (audit rows written); CREATE_NAMESPACE_ON_PUSH lets a
# user's push create an organization; DATABASE_SECRET_KEY encrypts the stored
# private signing keys (no PEM in quay.db), a wrong one stops quayd with a
# message naming the key, and no secret reaches a log line.
#
# usage: identity_cli.sh PATH_TO_QUAYD

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
is_quayd || skip "identity_cli.sh tests quayd's own commands"
has_users || skip "this quayd has no users"

E2E_USERS=(alice bob)
new_data_dir
SECRET=e2e-db-secret-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')
CONFIG=$WORK/config.yaml
cat >"$CONFIG" <<EOF
CREATE_NAMESPACE_ON_PUSH: true
DATABASE_SECRET_KEY: $SECRET
EOF

# actions USER REPO ACTIONS: what a /v2/auth token for USER grants on REPO
# ("pull,push", or "" when nothing).
actions() {
    local user=$1 repo=$2 wanted=$3
    command curl -s --max-time 30 -u "$user:$E2E_PASSWORD" \
        "$BASE_URL/v2/auth?service=$REG&scope=repository:$repo:$wanted" >"$WORK/token.json"
    "$PYTHON" - "$WORK/token.json" "$repo" <<'PY'
import base64, json, sys
token = json.load(open(sys.argv[1]))["token"]
claims = token.split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
granted = [a["actions"] for a in claims.get("access", []) if a["name"] == sys.argv[2]]
print(",".join(granted[0] if granted else []))
PY
}

# expect_actions USER REPO ACTIONS WANT
expect_actions() {
    local got
    got=$(actions "$1" "$2" "$3")
    [[ $got == "$4" ]] || fail "$1 asking $3 on $2 was granted '$got', expected '$4'"
}

# admin ARGS...: a quayd admin command on the served folder; its stderr in
# $WORK/admin.err. Returns its exit status.
admin() {
    "$QUAYD" "$@" --data-dir "$DATA_DIR" --config "$CONFIG" >"$WORK/admin.out" 2>"$WORK/admin.err"
}

QUAYD_ARGS=(--config "$CONFIG")
quayd_start

# --- CREATE_NAMESPACE_ON_PUSH ---------------------------------------------------------
expect_actions alice neworg/app pull,push pull,push
expect_actions bob neworg/bobs push ""  # alice's org now; bob has no role in it
admin org team add neworg devs || fail "org team add on a pushed namespace: $(cat "$WORK/admin.err")"

# --- org and team commands while the server runs ---------------------------------------
admin org add acme --owner alice --email acme@example.com ||
    fail "quayd org add failed: $(cat "$WORK/admin.err")"
grep -q 'created organization acme' "$WORK/admin.err" || fail "org add said: $(cat "$WORK/admin.err")"
rc=0
admin org add acme --owner alice || rc=$?
[[ $rc == 1 ]] || fail "a second org add acme exited $rc, expected 1"
rc=0
admin org add other || rc=$?
[[ $rc == 2 ]] || fail "org add without --owner exited $rc, expected 2 (usage)"
grep -q -- '--owner' "$WORK/admin.err" || fail "org add without --owner: $(cat "$WORK/admin.err")"

expect_actions alice acme/app pull,push pull,push  # the owner
expect_actions bob acme/tool push ""
admin org team add acme builders --role creator --description "CI builders" ||
    fail "quayd org team add failed: $(cat "$WORK/admin.err")"
admin org team member acme builders bob || fail "quayd org team member failed: $(cat "$WORK/admin.err")"
expect_actions bob acme/tool push push  # creators create repositories
admin org team role acme builders member || fail "quayd org team role failed: $(cat "$WORK/admin.err")"
expect_actions bob acme/other push ""
rc=0
admin org team member acme builders nobody || rc=$?
[[ $rc == 1 ]] || fail "adding an unknown member exited $rc, expected 1"
"$QUAYD" --help | grep -q 'team member ORG TEAM' || fail "--help does not list org team member"

# --- the stored keys and the audit rows --------------------------------------------------
[[ ! -e $DATA_DIR/database_secret_key ]] ||
    fail "a database_secret_key file was created although DATABASE_SECRET_KEY is set"
quayd_stop
if command -v sqlite3 >/dev/null 2>&1; then
    keys=$(sqlite3 "$DATA_DIR/quay.db" "SELECT count(*) FROM signing_key")
    [[ $keys -ge 1 ]] || fail "no signing key stored"
    sealed=$(sqlite3 "$DATA_DIR/quay.db" "SELECT count(*) FROM signing_key WHERE private_key_pem LIKE 'qenc1.%'")
    [[ $sealed == "$keys" ]] || fail "$sealed of $keys stored private keys are encrypted"
    sqlite3 "$DATA_DIR/quay.db" "SELECT private_key_pem FROM signing_key" | grep -q 'PRIVATE KEY' &&
        fail "a private key PEM is stored in clear"
    kinds=$(sqlite3 "$DATA_DIR/quay.db" \
        "SELECT kind FROM audit_log WHERE namespace_name = 'acme' AND kind LIKE 'org_%' ORDER BY id" | tr '\n' ' ')
    [[ $kinds == "org_create org_create_team org_add_team_member org_set_team_role " ]] ||
        fail "acme's audit rows are '$kinds'"
    creator=$(sqlite3 "$DATA_DIR/quay.db" \
        "SELECT performer FROM audit_log WHERE kind = 'org_create' AND namespace_name = 'neworg'")
    [[ $creator == alice ]] || fail "neworg's org_create row names '$creator', expected alice"
else
    log "sqlite3 is not installed: the stored-key and audit checks are skipped"
fi

# --- a wrong DATABASE_SECRET_KEY stops quayd with a clear message ------------------------
WRONG=wrong-secret-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')
sed "s/^DATABASE_SECRET_KEY: .*/DATABASE_SECRET_KEY: $WRONG/" "$CONFIG" >"$WORK/wrong.yaml"
rc=0
timeout 60 "$QUAYD" serve --config "$WORK/wrong.yaml" --data-dir "$DATA_DIR" --listen 127.0.0.1:0 \
    >"$WORK/wrong.out" 2>"$WORK/wrong.err" </dev/null || rc=$?
[[ $rc == 1 ]] || fail "quayd serve with a wrong DATABASE_SECRET_KEY exited $rc, expected 1"
grep -q 'DATABASE_SECRET_KEY' "$WORK/wrong.err" ||
    fail "the wrong-secret error does not name DATABASE_SECRET_KEY: $(cat "$WORK/wrong.err")"
grep -q 'listening on' "$WORK/wrong.out" && fail "quayd served with a wrong DATABASE_SECRET_KEY"

# --- the right one works again: tokens are signed with the stored key ---------------------
quayd_start "$DATA_DIR"
expect_actions alice acme/app pull pull

# --- no secret in any log line -----------------------------------------------------------
for secret in "$SECRET" "$WRONG" "$E2E_PASSWORD"; do
    if grep -qF -- "$secret" "$WORK"/server.*.err "$WORK"/server.*.out "$WORK/wrong.err" "$WORK/wrong.out" \
        "$WORK/admin.err"; then
        fail "a secret (${secret:0:6}...) appears in a log"
    fi
done
log "identity commands and settings ok"
