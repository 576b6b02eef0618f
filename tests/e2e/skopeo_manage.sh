#!/usr/bin/env bash
# Content discovery and management with real clients: skopeo list-tags (exact
# tag set) and skopeo delete (then inspect fails); with curl and jq the tag
# list and catalog paging (Link headers), an OCI 1.1 referrers round trip (an
# artifact whose subject is a pushed image: OCI-Subject on push, found by
# GET /v2/<name>/referrers/<digest>, ?artifactType= filter), DELETE of a tag
# and of a blob, a cross-repository mount and its fall-back; the state again
# after a restart; `quayd gc` (dry run and real, while serving) and the
# periodic collector of `quayd serve --gc-interval`.
#
# usage: skopeo_manage.sh PATH_TO_QUAYD

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
skopeo_setup
need_tool jq

IMAGES=$WORK/images
"$PYTHON" "$E2E_DIR/make_images.py" "$IMAGES" >"$WORK/images.json"
IMG_MANIFEST=$(jq -r .image.manifest "$WORK/images.json")
mapfile -t IMG_LAYERS < <(jq -r '.image.layers[]' "$WORK/images.json")
IMG_MANIFEST_SIZE=$(stat -c %s "$IMAGES/image/blobs/sha256/${IMG_MANIFEST#sha256:}")

MT_OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
MT_OCI_INDEX=application/vnd.oci.image.index.v1+json
REPO=e2e/manage

# expect_tags REPO JSON_ARRAY: skopeo list-tags gives exactly these tags, in
# this (lexical) order, and so does GET tags/list.
expect_tags() {
    local repo=$1 want=$2 got
    sk list-tags --tls-verify=false "docker://$REG/$repo"
    got=$(jq -c .Tags "$WORK/skopeo.out")
    [[ $got == "$want" ]] || fail "skopeo list-tags $repo: expected $want, got $got"
    req GET "$BASE_URL/v2/$repo/tags/list"
    expect_code 200 "GET /v2/$repo/tags/list"
    got=$(jq -c '[.name, .tags]' "$RESP_BODY")
    [[ $got == "[\"$repo\",$want]" ]] || fail "GET /v2/$repo/tags/list: expected name $repo and tags $want, got $got"
}

# follow_pages PATH KEY: GETs PATH and every rel="next" Link after it; prints
# the concatenated KEY arrays as one compact JSON array.
follow_pages() {
    local path=$1 key=$2 pages=0 link all='[]'
    while :; do
        req GET "$BASE_URL$path"
        expect_code 200 "GET $path"
        all=$(jq -c --argjson acc "$all" --arg k "$key" '$acc + .[$k]' "$RESP_BODY")
        pages=$((pages + 1))
        [[ $pages -lt 50 ]] || fail "GET $path: more than 50 pages"
        link=$(resp_header Link)
        [[ -n $link ]] || break
        [[ $link =~ ^\<(/v2/[^>]+)\>\;\ rel=\"next\"$ ]] || fail "GET $path: malformed Link header '$link'"
        path=${BASH_REMATCH[1]}
    done
    printf '%s\n' "$all"
}

# --- push ------------------------------------------------------------------------
quayd_start

sk_copy oci:"$IMAGES/image":latest "docker://$REG/$REPO:v1"
sk_copy "docker://$REG/$REPO:v1" "docker://$REG/$REPO:v2"
sk_copy --format v2s2 --digestfile "$WORK/d.v2s2" oci:"$IMAGES/image":latest "docker://$REG/$REPO:docker"
V2S2_MANIFEST=$(cat "$WORK/d.v2s2")
[[ $V2S2_MANIFEST != "$IMG_MANIFEST" ]] || fail "the v2s2 push did not make a second manifest"
sk_copy --all oci:"$IMAGES/index":latest "docker://$REG/e2e/multi:v1"

# --- tag list: skopeo, then paging by hand -----------------------------------------
expect_tags "$REPO" '["docker","v1","v2"]'

req GET "$BASE_URL/v2/$REPO/tags/list?n=2"
expect_code 200 "GET tags/list?n=2"
[[ $(jq -c .tags "$RESP_BODY") == '["docker","v1"]' ]] || fail "tags/list?n=2: got $(cat "$RESP_BODY")"
[[ $(resp_header Link) == "</v2/$REPO/tags/list?n=2&last=v1>; rel=\"next\"" ]] ||
    fail "tags/list?n=2: Link header '$(resp_header Link)'"
[[ $(follow_pages "/v2/$REPO/tags/list?n=1" tags) == '["docker","v1","v2"]' ]] ||
    fail "following tags/list?n=1 pages did not give docker, v1, v2"
req GET "$BASE_URL/v2/$REPO/tags/list?n=0"
expect_code 200 "GET tags/list?n=0"
[[ $(jq -c .tags "$RESP_BODY") == '[]' && -z $(resp_header Link) ]] || fail "tags/list?n=0: got $(cat "$RESP_BODY")"
req GET "$BASE_URL/v2/$REPO/tags/list?n=many"
expect_code 400 "GET tags/list?n=many"
req GET "$BASE_URL/v2/e2e/no-such-repo/tags/list"
expect_code 404 "GET tags/list of an unknown repository"
[[ $(jq -r '.errors[0].code' "$RESP_BODY") == NAME_UNKNOWN ]] || fail "tags/list of an unknown repository: $(cat "$RESP_BODY")"

# --- referrers: an artifact whose subject is the pushed image --------------------------
ART=$WORK/artifact
mkdir -p "$ART"
printf '{}' >"$ART/empty.json"
printf '{"spdxVersion":"SPDX-2.3","name":"e2e"}' >"$ART/sbom.json"
push_blob_mono "$REPO" "$ART/empty.json"
push_blob_mono "$REPO" "$ART/sbom.json"
jq -cn --arg subject "$IMG_MANIFEST" --argjson subject_size "$IMG_MANIFEST_SIZE" \
    --arg empty "sha256:$(sha256_of "$ART/empty.json")" \
    --arg sbom "sha256:$(sha256_of "$ART/sbom.json")" --argjson sbom_size "$(stat -c %s "$ART/sbom.json")" '{
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        artifactType: "application/spdx+json",
        config: {mediaType: "application/vnd.oci.empty.v1+json", digest: $empty, size: 2},
        layers: [{mediaType: "application/spdx+json", digest: $sbom, size: $sbom_size}],
        subject: {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $subject, size: $subject_size},
        annotations: {"org.opencontainers.image.created": "2024-05-06T07:08:09Z"}
    }' >"$ART/manifest.json"
SBOM_MANIFEST=sha256:$(sha256_of "$ART/manifest.json")
put_manifest "$REPO" "$SBOM_MANIFEST" "$ART/manifest.json" "$MT_OCI_MANIFEST"
[[ $(resp_header OCI-Subject) == "$IMG_MANIFEST" ]] ||
    fail "PUT artifact manifest: OCI-Subject '$(resp_header OCI-Subject)', expected $IMG_MANIFEST"

check_referrers() {
    req GET "$BASE_URL/v2/$REPO/referrers/$IMG_MANIFEST"
    expect_code 200 "GET /v2/$REPO/referrers/$IMG_MANIFEST"
    [[ $(resp_header Content-Type) == "$MT_OCI_INDEX" ]] || fail "referrers: Content-Type '$(resp_header Content-Type)'"
    [[ -z $(resp_header OCI-Filters-Applied) ]] || fail "referrers without a filter: OCI-Filters-Applied is set"
    jq -e --arg d "$SBOM_MANIFEST" --argjson size "$(stat -c %s "$ART/manifest.json")" '
        .schemaVersion == 2 and .mediaType == "application/vnd.oci.image.index.v1+json" and
        (.manifests | length) == 1 and
        (.manifests[0] | .digest == $d and .size == $size and
            .mediaType == "application/vnd.oci.image.manifest.v1+json" and
            .artifactType == "application/spdx+json" and
            .annotations["org.opencontainers.image.created"] == "2024-05-06T07:08:09Z")' \
        "$RESP_BODY" >/dev/null || fail "referrers of $IMG_MANIFEST: unexpected index $(cat "$RESP_BODY")"

    req GET "$BASE_URL/v2/$REPO/referrers/$IMG_MANIFEST?artifactType=application%2Fspdx%2Bjson"
    expect_code 200 "GET referrers?artifactType=application/spdx+json"
    [[ $(resp_header OCI-Filters-Applied) == artifactType ]] || fail "referrers with a filter: OCI-Filters-Applied '$(resp_header OCI-Filters-Applied)'"
    [[ $(jq -c '[.manifests[].digest]' "$RESP_BODY") == "[\"$SBOM_MANIFEST\"]" ]] ||
        fail "referrers filtered on application/spdx+json: $(cat "$RESP_BODY")"
    req GET "$BASE_URL/v2/$REPO/referrers/$IMG_MANIFEST?artifactType=application%2Fvnd.example.none"
    expect_code 200 "GET referrers?artifactType=application/vnd.example.none"
    [[ $(jq -c .manifests "$RESP_BODY") == '[]' ]] || fail "referrers filtered on an absent type: $(cat "$RESP_BODY")"

    req GET "$BASE_URL/v2/$REPO/referrers/$V2S2_MANIFEST"
    expect_code 200 "GET referrers of a manifest nothing refers to"
    [[ $(jq -c .manifests "$RESP_BODY") == '[]' ]] || fail "referrers of $V2S2_MANIFEST: $(cat "$RESP_BODY")"
    req GET "$BASE_URL/v2/$REPO/referrers/sha256:nothex"
    expect_code 400 "GET referrers of a malformed digest"
}
check_referrers

# --- catalog ------------------------------------------------------------------------
check_catalog() {
    local all paged
    req GET "$BASE_URL/v2/_catalog"
    expect_code 200 "GET /v2/_catalog"
    all=$(jq -c .repositories "$RESP_BODY")
    jq -e '.repositories == (.repositories | sort) and
           (.repositories | index("e2e/manage")) != null and (.repositories | index("e2e/multi")) != null' \
        "$RESP_BODY" >/dev/null || fail "GET /v2/_catalog: expected a sorted list with e2e/manage and e2e/multi, got $all"
    paged=$(follow_pages "/v2/_catalog?n=1" repositories)
    [[ $paged == "$all" ]] || fail "catalog paged by 1 gives $paged, unpaged $all"
    req GET "$BASE_URL/v2/_catalog?n=1"
    [[ $(resp_header Link) == "</v2/_catalog?n=1&last=$(jq -r '.repositories[0]' "$RESP_BODY")>; rel=\"next\"" ]] ||
        fail "GET /v2/_catalog?n=1: Link header '$(resp_header Link)'"
}
check_catalog

# --- cross-repository mount --------------------------------------------------------------
req POST "$BASE_URL/v2/e2e/mounted/blobs/uploads/?mount=${IMG_LAYERS[0]}&from=$REPO"
expect_code 201 "POST mount ${IMG_LAYERS[0]} from $REPO"
[[ $(resp_header Location) == "/v2/e2e/mounted/blobs/${IMG_LAYERS[0]}" ]] || fail "mount: Location '$(resp_header Location)'"
[[ $(resp_header Docker-Content-Digest) == "${IMG_LAYERS[0]}" ]] || fail "mount: Docker-Content-Digest '$(resp_header Docker-Content-Digest)'"
check_blob_get e2e/mounted "${IMG_LAYERS[0]}" "$IMAGES/image/blobs/sha256/${IMG_LAYERS[0]#sha256:}"
req POST "$BASE_URL/v2/e2e/mounted/blobs/uploads/?mount=${IMG_LAYERS[1]}&from=e2e/no-such-repo"
expect_code 202 "POST mount from an unknown repository (falls back to an upload session)"
[[ -n $(resp_header Docker-Upload-UUID) ]] || fail "mount fall-back: no Docker-Upload-UUID"

# Registry to registry into a new repository (skopeo may mount its blobs).
sk_copy "docker://$REG/$REPO:v1" "docker://$REG/e2e/copied:v1"

# --- delete -------------------------------------------------------------------------------
# A tag (OCI 1.1 DELETE by tag): the manifest stays under its other tag.
req DELETE "$BASE_URL/v2/$REPO/manifests/v2"
expect_code 202 "DELETE /v2/$REPO/manifests/v2"
expect_tags "$REPO" '["docker","v1"]'
sk inspect --raw --tls-verify=false "docker://$REG/$REPO:v1"
sk_fails inspect --raw --tls-verify=false "docker://$REG/$REPO:v2"

# skopeo delete resolves the tag and deletes the manifest by digest.
sk delete --tls-verify=false "docker://$REG/$REPO:docker"
sk_fails inspect --raw --tls-verify=false "docker://$REG/$REPO:docker"
sk_fails inspect --raw --tls-verify=false "docker://$REG/$REPO@$V2S2_MANIFEST"
expect_tags "$REPO" '["v1"]'
req GET "$BASE_URL/v2/$REPO/manifests/$V2S2_MANIFEST" -H "Accept: $MANIFEST_ACCEPT"
expect_code 404 "GET a deleted manifest by digest"
[[ $(jq -r '.errors[0].code' "$RESP_BODY") == MANIFEST_UNKNOWN ]] || fail "GET a deleted manifest: $(cat "$RESP_BODY")"
req DELETE "$BASE_URL/v2/$REPO/manifests/$V2S2_MANIFEST"
expect_code 404 "DELETE an already deleted manifest"

# A blob: unlinked from this repository only.
printf 'a blob that will be deleted' >"$WORK/doomed.bin"
DOOMED=sha256:$(sha256_of "$WORK/doomed.bin")
push_blob_mono "$REPO" "$WORK/doomed.bin"
push_blob_mono e2e/mounted "$WORK/doomed.bin"
req DELETE "$BASE_URL/v2/$REPO/blobs/$DOOMED"
expect_code 202 "DELETE /v2/$REPO/blobs/$DOOMED"
req HEAD "$BASE_URL/v2/$REPO/blobs/$DOOMED"
expect_code 404 "HEAD a deleted blob"
req GET "$BASE_URL/v2/$REPO/blobs/$DOOMED"
expect_code 404 "GET a deleted blob"
[[ $(jq -r '.errors[0].code' "$RESP_BODY") == BLOB_UNKNOWN ]] || fail "GET a deleted blob: $(cat "$RESP_BODY")"
check_blob_get e2e/mounted "$DOOMED" "$WORK/doomed.bin"

# The image by digest, with skopeo: every tag on it goes.
sk delete --tls-verify=false "docker://$REG/$REPO@$IMG_MANIFEST"
sk_fails inspect --raw --tls-verify=false "docker://$REG/$REPO:v1"
sk_fails inspect --raw --tls-verify=false "docker://$REG/$REPO@$IMG_MANIFEST"
expect_tags "$REPO" '[]'
# Other repositories are untouched.
sk inspect --raw --tls-verify=false "docker://$REG/e2e/copied:v1"
[[ sha256:$(sha256_of "$WORK/skopeo.out") == "$IMG_MANIFEST" ]] || fail "e2e/copied:v1 changed after deleting $REPO's image"

# --- after a restart ---------------------------------------------------------------------
verify_after_restart() {
    expect_tags "$REPO" '[]'
    expect_tags e2e/copied '["v1"]'
    expect_tags e2e/multi '["v1"]'
    sk_fails inspect --raw --tls-verify=false "docker://$REG/$REPO:docker"
    req HEAD "$BASE_URL/v2/$REPO/blobs/$DOOMED"
    expect_code 404 "HEAD a deleted blob after a restart"
    check_blob_get e2e/mounted "${IMG_LAYERS[0]}" "$IMAGES/image/blobs/sha256/${IMG_LAYERS[0]#sha256:}"
    check_catalog
    sk_copy "docker://$REG/e2e/copied:v1" oci:"$WORK/pulled":v1
}
quayd_restart
verify_after_restart

# --- garbage collection ---------------------------------------------------------------------
GC_LINE='^dry_run=(true|false) manifests_deleted=[0-9]+ tags_expired=[0-9]+ blobs_unlinked=[0-9]+ blobs_deleted=[0-9]+ bytes_freed=[0-9]+ uploads_expired=[0-9]+$'
# run_gc ARGS...: quayd gc on the live data dir (GC runs online, next to the
# server). While the library has no GC it fails with Unsupported: noted, not failed.
run_gc() {
    local rc=0
    "$QUAYD" gc --data-dir "$DATA_DIR" "$@" >"$WORK/gc.out" 2>"$WORK/gc.err" || rc=$?
    if [[ $rc -ne 0 ]] && grep -q 'Unsupported' "$WORK/gc.err"; then
        log "note: quayd gc $*: the library does not implement GC yet ($(head -c 200 "$WORK/gc.err"))"
        return 0
    fi
    [[ $rc -eq 0 ]] || fail "quayd gc $* exited $rc: $(head -c 400 "$WORK/gc.err")"
    [[ $(wc -l <"$WORK/gc.out") -eq 1 ]] && grep -Eq "$GC_LINE" "$WORK/gc.out" ||
        fail "quayd gc $*: expected one report line, got: $(head -c 400 "$WORK/gc.out")"
    log "quayd gc $*: $(cat "$WORK/gc.out")"
}
if is_quayd; then
    run_gc --dry-run
    grep -q '^dry_run=true' "$WORK/gc.out" || [[ ! -s $WORK/gc.out ]] || fail "quayd gc --dry-run did not report dry_run=true"
    run_gc
    # Inside the protection windows nothing live (nor recently deleted) goes.
    verify_after_restart

    rc=0
    "$QUAYD" gc --data-dir "$WORK/no-such-dir" >/dev/null 2>"$WORK/gc.err" || rc=$?
    [[ $rc -eq 1 ]] || fail "quayd gc on a missing folder: expected exit 1, got $rc"
    [[ ! -e $WORK/no-such-dir ]] || fail "quayd gc created the missing data folder"

    # The periodic collector: it runs (logged with component=gc) and does not
    # hold up a clean shutdown.
    quayd_stop
    QUAYD_ARGS=(--gc-interval 1 --log-level debug)
    quayd_start "$DATA_DIR"
    for ((i = 0; i < 100; i++)); do
        grep -q 'component=gc' "$E2E_SERVER_ERR" && break
        sleep 0.1
    done
    grep -q 'component=gc' "$E2E_SERVER_ERR" || fail "quayd serve --gc-interval 1 logged no gc line within 10 s"
    grep 'component=gc' "$E2E_SERVER_ERR" | grep -q 'level=error' && fail "periodic gc failed: $(grep 'component=gc' "$E2E_SERVER_ERR" | head -3)"
    log "periodic gc: $(grep -m1 'component=gc' "$E2E_SERVER_ERR" | cut -c1-300)"
    expect_tags e2e/copied '["v1"]'
    QUAYD_ARGS=()
fi
quayd_stop
