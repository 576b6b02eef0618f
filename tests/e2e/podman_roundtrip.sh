#!/usr/bin/env bash
# podman round trip: load a generated OCI image into a private podman store,
# log in (token auth: podman login against the bootstrap user), push it to
# quayd (OCI and Docker schema 2), delete it locally, pull it back and check
# the image id (config digest) and layer diff ids are unchanged.
# Skips (77) when podman cannot run in this sandbox.
#
# usage: podman_roundtrip.sh PATH_TO_QUAYD

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
need_tool podman
need_tool jq

IMAGES=$WORK/images
"$PYTHON" "$E2E_DIR/make_images.py" "$IMAGES" >"$WORK/images.json"
IMG_CONFIG=$(jq -r .image.config "$WORK/images.json")
IMAGE_ID=${IMG_CONFIG#sha256:}

# A private store and config, so the host's images and settings play no part.
PROOT=$WORK/podman
mkdir -p "$PROOT/tmp"
: >"$PROOT/registries.conf"
echo '{}' >"$PROOT/auth.json"
cat >"$PROOT/policy.json" <<'EOF'
{"default": [{"type": "insecureAcceptAnything"}]}
EOF
export CONTAINERS_REGISTRIES_CONF=$PROOT/registries.conf
export REGISTRY_AUTH_FILE=$PROOT/auth.json
P=(podman --root "$PROOT/root" --runroot "$PROOT/runroot" --storage-driver vfs
    --cgroup-manager cgroupfs --events-backend file --tmpdir "$PROOT/tmp")

pm() {
    log "podman $*"
    "${P[@]}" "$@" >"$WORK/podman.out" 2>"$WORK/podman.err" || {
        cat "$WORK/podman.out" "$WORK/podman.err" >&2
        fail "podman $* failed"
    }
}

if ! "${P[@]}" images >"$WORK/podman.out" 2>"$WORK/podman.err"; then
    skip "podman cannot run here: $(tr '\n' ' ' <"$WORK/podman.err" | head -c 600)"
fi

# image_ids: full ids of all local images, one per line.
image_ids() { "${P[@]}" images -q --no-trunc | sed 's/^sha256://' | sort -u; }

# diff_ids REF: the image's layer diff ids as one JSON line.
diff_ids() { "${P[@]}" image inspect "$1" | jq -c '.[0].RootFS.Layers'; }

pm pull --signature-policy "$PROOT/policy.json" oci:"$IMAGES/image":latest
[[ $(image_ids) == "$IMAGE_ID" ]] || fail "podman pull oci: produced image id(s) '$(image_ids)', expected $IMAGE_ID"
WANT_DIFF_IDS=$(diff_ids "$IMAGE_ID")

# pm_login: podman login to the running server (its port changes on restart).
pm_login() {
    has_users || return 0
    log "podman login $REG as $E2E_USER"
    printf '%s\n' "$E2E_PASSWORD" |
        "${P[@]}" login --tls-verify=false -u "$E2E_USER" --password-stdin "$REG" \
            >"$WORK/podman.out" 2>"$WORK/podman.err" ||
        fail "podman login failed: $(cat "$WORK/podman.out" "$WORK/podman.err")"
    grep -q "\"$REG\"" "$REGISTRY_AUTH_FILE" || fail "podman login did not write $REGISTRY_AUTH_FILE"
}

quayd_start
pm_login

pm push --tls-verify=false --digestfile "$WORK/d.oci" --format oci "$IMAGE_ID" "docker://$REG/e2e/podman:v1"
pm push --tls-verify=false --digestfile "$WORK/d.v2s2" --format v2s2 "$IMAGE_ID" "docker://$REG/e2e/podman-docker:v1"

# The registry answers with the digest podman computed for what it pushed.
check_pushed_digest() {
    local repo=$1 want=$2 hdr=$WORK/hdr code got
    code=$(curl -s -I -D "$hdr" -o /dev/null -w '%{http_code}' -H "Accept: $MANIFEST_ACCEPT" \
        "$BASE_URL/v2/$repo/manifests/v1")
    [[ $code == 200 ]] || fail "HEAD /v2/$repo/manifests/v1: expected 200, got $code"
    got=$(header_value "$hdr" Docker-Content-Digest)
    [[ $got == "$want" ]] || fail "HEAD /v2/$repo/manifests/v1: Docker-Content-Digest '$got', podman pushed $want"
}
check_pushed_digest e2e/podman "$(cat "$WORK/d.oci")"
check_pushed_digest e2e/podman-docker "$(cat "$WORK/d.v2s2")"

# pull_back REF: remove every local image, pull REF, compare id and diff ids.
pull_back() {
    pm rmi --all --force
    [[ -z $(image_ids) ]] || fail "local images remain after rmi --all: $(image_ids)"
    pm pull --tls-verify=false --signature-policy "$PROOT/policy.json" "$1"
    [[ $(image_ids) == "$IMAGE_ID" ]] || fail "podman pull $1: image id(s) '$(image_ids)', expected $IMAGE_ID"
    [[ $(diff_ids "$IMAGE_ID") == "$WANT_DIFF_IDS" ]] ||
        fail "podman pull $1: layer diff ids $(diff_ids "$IMAGE_ID"), expected $WANT_DIFF_IDS"
}

pull_back "docker://$REG/e2e/podman:v1"
pull_back "docker://$REG/e2e/podman-docker:v1"
pull_back "docker://$REG/e2e/podman@$(cat "$WORK/d.oci")"

quayd_restart
pm_login
pull_back "docker://$REG/e2e/podman:v1"
pull_back "docker://$REG/e2e/podman-docker@$(cat "$WORK/d.v2s2")"
quayd_stop
