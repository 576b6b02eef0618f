#!/usr/bin/env bash
# quayd with its blobs in a Ceph RADOS Gateway (DISTRIBUTED_STORAGE_CONFIG,
# RadosGWStorage): skopeo pushes an image and a multi-arch index, pulls them
# back byte-identical, and again after a restart; no blob lands in the data
# folder. Run by tests/storage/rgw/rgw_gateway.py, which starts the gateway
# and sets QUAY_TEST_S3_*.
#
# usage: rgw_gateway.py run -- bash s3_roundtrip.sh PATH_TO_QUAYD

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init "$@"
[[ -n ${QUAY_TEST_S3_ENDPOINT:-} ]] || skip "no gateway (run through rgw_gateway.py run)"
skopeo_setup
need_tool jq

hostport=${QUAY_TEST_S3_ENDPOINT#http://}
export QUAYD_DISTRIBUTED_STORAGE_CONFIG="{rgw: [RadosGWStorage, {hostname: ${hostport%:*}, \
port: ${hostport##*:}, is_secure: false, access_key: $QUAY_TEST_S3_ACCESS_KEY, \
secret_key: '$QUAY_TEST_S3_SECRET_KEY', bucket_name: quay-e2e, storage_path: /registry, \
create_bucket: true}]}"
export QUAYD_DISTRIBUTED_STORAGE_PREFERENCE='[rgw]'

IMAGES=$WORK/images
"$PYTHON" "$E2E_DIR/make_images.py" "$IMAGES" >"$WORK/images.json"
IMG_MANIFEST=$(jq -r .image.manifest "$WORK/images.json")
IDX_DIGEST=$(jq -r .index.index "$WORK/images.json")

# same_blobs SRC_LAYOUT OUT_LAYOUT: every blob pulled is one pushed, byte for byte.
same_blobs() {
    local f name n=0
    for f in "$2"/blobs/sha256/*; do
        name=${f##*/}
        [[ -f $1/blobs/sha256/$name ]] || fail "pulled layout $2 has unexpected blob sha256:$name"
        cmp -s "$f" "$1/blobs/sha256/$name" || fail "pulled blob sha256:$name differs from the pushed one"
        n=$((n + 1))
    done
    ((n > 0)) || fail "pulled layout $2 has no blobs"
}

pull_and_compare() {
    local out=$WORK/pull.$1
    rm -rf "$out"
    mkdir -p "$out"
    sk_copy "docker://$REG/e2e/image:v1" oci:"$out/image":v1
    [[ $(jq -r '.manifests[0].digest' "$out/image/index.json") == "$IMG_MANIFEST" ]] ||
        fail "pulled image manifest differs from $IMG_MANIFEST"
    same_blobs "$IMAGES/image" "$out/image"
    sk_copy --all "docker://$REG/e2e/multi:v1" oci:"$out/multi":v1
    [[ $(jq -r '.manifests[0].digest' "$out/multi/index.json") == "$IDX_DIGEST" ]] ||
        fail "pulled index differs from $IDX_DIGEST"
    same_blobs "$IMAGES/index" "$out/multi"
}

quayd_start
sk_copy oci:"$IMAGES/image":latest "docker://$REG/e2e/image:v1"
sk_copy --all oci:"$IMAGES/index":latest "docker://$REG/e2e/multi:v1"
pull_and_compare first

# The bytes are in the bucket, not in the data folder.
if [[ -d $DATA_DIR/blobs ]] && [[ -n $(find "$DATA_DIR/blobs" -type f) ]]; then
    fail "blob files in $DATA_DIR/blobs although storage is the gateway"
fi
grep -q "$QUAY_TEST_S3_SECRET_KEY" "$E2E_SERVER_LOG" "$E2E_SERVER_ERR" &&
    fail "the S3 secret key reached quayd's log"

quayd_restart
pull_and_compare after-restart

# blob_redirects: blob GETs answer 307 to a presigned gateway URL, which the
# client fetches itself; skopeo's pull still gets every byte.
export QUAYD_BLOB_REDIRECTS=true
quayd_restart
layer=$(jq -r '.layers[0].digest' "$IMAGES/image/blobs/sha256/${IMG_MANIFEST#sha256:}")
req GET "$BASE_URL/v2/e2e/image/blobs/$layer"
expect_code 307 "blob GET with blob_redirects"
location=$(resp_header Location)
[[ $location == "$QUAY_TEST_S3_ENDPOINT/"*X-Amz-Signature=* ]] ||
    fail "the redirect does not name a presigned gateway URL: $location"
[[ $(resp_header Docker-Content-Digest) == "$layer" ]] || fail "redirect without the blob's digest"
command curl -sf -o "$WORK/redirected.blob" "$location" || fail "the presigned URL does not serve"
cmp -s "$WORK/redirected.blob" "$IMAGES/image/blobs/sha256/${layer#sha256:}" ||
    fail "the presigned URL served other bytes"
command curl -s -o /dev/null -w '%{http_code}' "${location%%X-Amz-Signature=*}X-Amz-Signature=0" |
    grep -q '^403$' || fail "a presigned URL with a wrong signature was served"
pull_and_compare redirected
unset QUAYD_BLOB_REDIRECTS
log "image and index round-tripped through quayd on the RADOS Gateway (streamed and redirected)"
