#!/usr/bin/env bash
# skopeo round trip: push generated OCI images to quayd (as OCI, as Docker
# schema 2, and a multi-arch index with --all), pull them back, and check that
# manifests and blobs are byte-identical; then restart quayd on the same data
# dir and check everything again.
#
# usage: skopeo_roundtrip.sh PATH_TO_QUAYD

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
skopeo_setup
need_tool jq

IMAGES=$WORK/images
"$PYTHON" "$E2E_DIR/make_images.py" "$IMAGES" >"$WORK/images.json"
jqs() { jq -r "$1" "$WORK/images.json"; }
IMG_MANIFEST=$(jqs .image.manifest)
IMG_CONFIG=$(jqs .image.config)
mapfile -t IMG_LAYERS < <(jqs '.image.layers[]')
IDX_DIGEST=$(jqs .index.index)
IDX_AMD64=$(jqs .index.manifests.amd64)
IDX_ARM64=$(jqs .index.manifests.arm64)
mapfile -t IDX_ARM64_LAYERS < <(jqs '.index.layers.arm64[]')

MT_OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
MT_OCI_INDEX=application/vnd.oci.image.index.v1+json
MT_DOCKER_MANIFEST=application/vnd.docker.distribution.manifest.v2+json

# compare_layout_blobs SRC_LAYOUT OUT_LAYOUT: same set of blob files, same bytes.
compare_layout_blobs() {
    local src=$1/blobs/sha256 out=$2/blobs/sha256 f name
    for f in "$src"/*; do
        name=${f##*/}
        [[ -f $out/$name ]] || fail "pulled layout $2 lacks blob sha256:$name"
        cmp -s "$f" "$out/$name" || fail "pulled blob sha256:$name in $2 differs from the pushed one"
    done
    for f in "$out"/*; do
        name=${f##*/}
        [[ -f $src/$name ]] || fail "pulled layout $2 has unexpected blob sha256:$name"
        [[ $(sha256_of "$f") == "$name" ]] || fail "pulled blob $f does not hash to its name"
    done
}

# layout_top_digest OUT_LAYOUT: digest of the first manifest in index.json.
layout_top_digest() { jq -r '.manifests[0].digest' "$1/index.json"; }

# check_manifest REPO REF EXPECTED_DIGEST EXPECTED_MEDIA_TYPE
check_manifest() {
    local repo=$1 ref=$2 want=$3 mt=$4 sep=: hdr body got code
    [[ $ref == sha256:* ]] && sep=@
    sk inspect --raw --tls-verify=false "docker://$REG/$repo$sep$ref"
    got=$(sha256_of "$WORK/skopeo.out")
    [[ sha256:$got == "$want" ]] ||
        fail "skopeo inspect --raw docker://$REG/$repo$sep$ref: expected manifest $want, got sha256:$got"

    hdr=$WORK/hdr body=$WORK/body
    code=$(curl -s -D "$hdr" -o "$body" -w '%{http_code}' -H "Accept: $MANIFEST_ACCEPT" \
        "$BASE_URL/v2/$repo/manifests/$ref")
    [[ $code == 200 ]] || fail "GET /v2/$repo/manifests/$ref: expected 200, got $code ($(head -c 300 "$body"))"
    [[ sha256:$(sha256_of "$body") == "$want" ]] ||
        fail "GET /v2/$repo/manifests/$ref: body hashes to sha256:$(sha256_of "$body"), expected $want"
    got=$(header_value "$hdr" Docker-Content-Digest)
    [[ $got == "$want" ]] || fail "GET /v2/$repo/manifests/$ref: Docker-Content-Digest '$got', expected $want"
    got=$(header_value "$hdr" Content-Type)
    [[ ${got%%;*} == "$mt" ]] || fail "GET /v2/$repo/manifests/$ref: Content-Type '$got', expected $mt"

    code=$(curl -s -I -D "$hdr" -o /dev/null -w '%{http_code}' -H "Accept: $MANIFEST_ACCEPT" \
        "$BASE_URL/v2/$repo/manifests/$ref")
    [[ $code == 200 ]] || fail "HEAD /v2/$repo/manifests/$ref: expected 200, got $code"
    got=$(header_value "$hdr" Docker-Content-Digest)
    [[ $got == "$want" ]] || fail "HEAD /v2/$repo/manifests/$ref: Docker-Content-Digest '$got', expected $want"
    got=$(header_value "$hdr" Content-Length)
    [[ $got == "$(stat -c %s "$body")" ]] ||
        fail "HEAD /v2/$repo/manifests/$ref: Content-Length '$got', expected $(stat -c %s "$body")"
}

# check_blob REPO DIGEST: GET and HEAD return the bytes of the source blob.
check_blob() {
    local repo=$1 digest=$2 src=$IMAGES/image/blobs/sha256/${2#sha256:} hdr=$WORK/hdr body=$WORK/body code got
    [[ -f $src ]] || src=$IMAGES/index/blobs/sha256/${2#sha256:}
    code=$(curl -s -L -o "$body" -w '%{http_code}' "$BASE_URL/v2/$repo/blobs/$digest")
    [[ $code == 200 ]] || fail "GET /v2/$repo/blobs/$digest: expected 200, got $code"
    cmp -s "$body" "$src" || fail "GET /v2/$repo/blobs/$digest: body differs from the pushed blob"
    code=$(curl -s -I -D "$hdr" -o /dev/null -w '%{http_code}' "$BASE_URL/v2/$repo/blobs/$digest")
    [[ $code == 200 || $code == 307 ]] || fail "HEAD /v2/$repo/blobs/$digest: expected 200, got $code"
    if [[ $code == 200 ]]; then
        got=$(header_value "$hdr" Content-Length)
        [[ $got == "$(stat -c %s "$src")" ]] ||
            fail "HEAD /v2/$repo/blobs/$digest: Content-Length '$got', expected $(stat -c %s "$src")"
        got=$(header_value "$hdr" Docker-Content-Digest)
        [[ $got == "$digest" ]] || fail "HEAD /v2/$repo/blobs/$digest: Docker-Content-Digest '$got', expected $digest"
    fi
}

# --- push ---------------------------------------------------------------------
quayd_start

sk_copy --digestfile "$WORK/d.oci" oci:"$IMAGES/image":latest "docker://$REG/e2e/image:v1"
[[ $(cat "$WORK/d.oci") == "$IMG_MANIFEST" ]] ||
    fail "push as OCI: skopeo reports manifest $(cat "$WORK/d.oci"), expected the unmodified $IMG_MANIFEST"

sk_copy --format v2s2 --digestfile "$WORK/d.v2s2" oci:"$IMAGES/image":latest "docker://$REG/e2e/image-docker:v1"
V2S2_MANIFEST=$(cat "$WORK/d.v2s2")
[[ $V2S2_MANIFEST == sha256:* && $V2S2_MANIFEST != "$IMG_MANIFEST" ]] ||
    fail "push as v2s2: unexpected manifest digest '$V2S2_MANIFEST'"

sk_copy --all --digestfile "$WORK/d.index" oci:"$IMAGES/index":latest "docker://$REG/e2e/multi:v1"
[[ $(cat "$WORK/d.index") == "$IDX_DIGEST" ]] ||
    fail "push --all: skopeo reports index $(cat "$WORK/d.index"), expected $IDX_DIGEST"

# Registry to registry: a second tag on an existing manifest (all blobs known).
sk_copy "docker://$REG/e2e/image:v1" "docker://$REG/e2e/image:v2"

# --- verify (run before and after a restart) ------------------------------------
verify_all() {
    local phase=$1 out=$WORK/pull.$1
    log "verify ($phase) against $REG"
    mkdir -p "$out"

    check_manifest e2e/image v1 "$IMG_MANIFEST" "$MT_OCI_MANIFEST"
    check_manifest e2e/image v2 "$IMG_MANIFEST" "$MT_OCI_MANIFEST"
    check_manifest e2e/image "$IMG_MANIFEST" "$IMG_MANIFEST" "$MT_OCI_MANIFEST"
    check_manifest e2e/image-docker v1 "$V2S2_MANIFEST" "$MT_DOCKER_MANIFEST"
    check_manifest e2e/multi v1 "$IDX_DIGEST" "$MT_OCI_INDEX"
    check_manifest e2e/multi "$IDX_AMD64" "$IDX_AMD64" "$MT_OCI_MANIFEST"
    check_manifest e2e/multi "$IDX_ARM64" "$IDX_ARM64" "$MT_OCI_MANIFEST"

    local d
    for d in "$IMG_CONFIG" "${IMG_LAYERS[@]}"; do
        check_blob e2e/image "$d"
        check_blob e2e/image-docker "$d"
    done
    for d in "${IDX_ARM64_LAYERS[@]}"; do
        check_blob e2e/multi "$d"
    done

    # Misses are 404, not 500 or an empty 200.
    local missing=sha256:0000000000000000000000000000000000000000000000000000000000000000 code
    code=$(http_status GET "$BASE_URL/v2/e2e/image/blobs/$missing")
    [[ $code == 404 ]] || fail "GET unknown blob: expected 404, got $code"
    code=$(http_status GET "$BASE_URL/v2/e2e/image/manifests/no-such-tag" -H "Accept: $MANIFEST_ACCEPT")
    [[ $code == 404 ]] || fail "GET unknown tag: expected 404, got $code"
    code=$(http_status GET "$BASE_URL/v2/e2e/no-such-repo/manifests/v1" -H "Accept: $MANIFEST_ACCEPT")
    [[ $code == 404 ]] || fail "GET manifest of unknown repo: expected 404, got $code"

    # Tag listing (skopeo inspect needs it too).
    req GET "$BASE_URL/v2/e2e/image/tags/list"
    expect_code 200 "GET /v2/e2e/image/tags/list"
    [[ $(jq -c '[.name, (.tags | sort)]' "$RESP_BODY") == '["e2e/image",["v1","v2"]]' ]] ||
        fail "GET /v2/e2e/image/tags/list: expected name e2e/image and tags v1, v2; got $(head -c 300 "$RESP_BODY")"

    # skopeo inspect (parsed, not raw) and list-tags.
    sk inspect --tls-verify=false "docker://$REG/e2e/image:v1"
    [[ $(jq -r .Digest "$WORK/skopeo.out") == "$IMG_MANIFEST" ]] || fail "skopeo inspect: wrong Digest: $(cat "$WORK/skopeo.out")"
    [[ $(jq -r .Architecture "$WORK/skopeo.out") == amd64 ]] || fail "skopeo inspect: wrong Architecture"
    [[ $(jq -c .Layers "$WORK/skopeo.out") == "$(printf '%s\n' "${IMG_LAYERS[@]}" | jq -Rcs 'split("\n")[:-1]')" ]] ||
        fail "skopeo inspect: wrong Layers: $(jq -c .Layers "$WORK/skopeo.out")"
    sk inspect --tls-verify=false "docker://$REG/e2e/image-docker:v1"
    [[ $(jq -r .Digest "$WORK/skopeo.out") == "$V2S2_MANIFEST" ]] || fail "skopeo inspect (v2s2): wrong Digest"
    sk --override-arch arm64 inspect --tls-verify=false "docker://$REG/e2e/multi:v1"
    [[ $(jq -r .Architecture "$WORK/skopeo.out") == arm64 ]] || fail "skopeo inspect (index, arm64): wrong Architecture"
    [[ $(jq -c .Layers "$WORK/skopeo.out") == "$(printf '%s\n' "${IDX_ARM64_LAYERS[@]}" | jq -Rcs 'split("\n")[:-1]')" ]] ||
        fail "skopeo inspect (index, arm64): wrong Layers: $(jq -c .Layers "$WORK/skopeo.out")"
    sk list-tags --tls-verify=false "docker://$REG/e2e/image"
    [[ $(jq -c '.Tags | sort' "$WORK/skopeo.out") == '["v1","v2"]' ]] ||
        fail "skopeo list-tags e2e/image: expected [v1, v2], got $(jq -c .Tags "$WORK/skopeo.out")"

    # Pull back into fresh layouts: byte-identical manifests and blobs.
    sk_copy "docker://$REG/e2e/image:v1" oci:"$out/image":v1
    [[ $(layout_top_digest "$out/image") == "$IMG_MANIFEST" ]] || fail "pulled OCI image has manifest $(layout_top_digest "$out/image")"
    compare_layout_blobs "$IMAGES/image" "$out/image"

    sk_copy "docker://$REG/e2e/image@$IMG_MANIFEST" oci:"$out/image-by-digest":v1
    compare_layout_blobs "$IMAGES/image" "$out/image-by-digest"

    sk_copy --all "docker://$REG/e2e/multi:v1" oci:"$out/multi":v1
    [[ $(layout_top_digest "$out/multi") == "$IDX_DIGEST" ]] || fail "pulled index has digest $(layout_top_digest "$out/multi")"
    compare_layout_blobs "$IMAGES/index" "$out/multi"

    # A Docker schema 2 manifest cannot be stored in an OCI layout unchanged,
    # so check its exact bytes through dir:, then its layers through oci:.
    sk_copy "docker://$REG/e2e/image-docker:v1" dir:"$out/docker-dir"
    [[ sha256:$(sha256_of "$out/docker-dir/manifest.json") == "$V2S2_MANIFEST" ]] ||
        fail "pulled v2s2 manifest differs from the pushed one"
    for d in "${IMG_LAYERS[@]}"; do
        cmp -s "$out/docker-dir/${d#sha256:}" "$IMAGES/image/blobs/sha256/${d#sha256:}" ||
            fail "pulled v2s2 layer $d differs from the pushed one"
    done
    sk_copy "docker://$REG/e2e/image-docker:v1" oci:"$out/docker-oci":v1
    for d in "${IMG_LAYERS[@]}"; do
        cmp -s "$out/docker-oci/blobs/sha256/${d#sha256:}" "$IMAGES/image/blobs/sha256/${d#sha256:}" ||
            fail "v2s2 image pulled to oci: has a different layer $d"
    done
    log "verify ($phase) ok"
}

verify_all first
quayd_restart
verify_all after-restart
quayd_stop
