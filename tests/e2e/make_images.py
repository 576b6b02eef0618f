#!/usr/bin/env python3
"""Build deterministic OCI image layouts for the end-to-end tests, offline.

usage: make_images.py OUT_DIR

Writes two OCI image layouts (https://github.com/opencontainers/image-spec,
image-layout.md) under OUT_DIR, both tagged `latest` through the
org.opencontainers.image.ref.name annotation:

  OUT_DIR/image   one linux/amd64 image manifest: a config with proper
                  rootfs.diff_ids and three gzip layers of distinct content
                  (the third about 3 MiB of incompressible bytes, so uploads
                  are not trivially small).
  OUT_DIR/index   an image index with two platform manifests, linux/amd64 and
                  linux/arm64/v8, each with its own config and two layers
                  (one layer shared between the two platforms).

The same inputs always give the same bytes (fixed mtimes, owners, gzip header),
so digests are stable across runs. Prints a JSON summary on stdout:
{"image": {"manifest": DIGEST, "config": DIGEST, "layers": [...]},
 "index": {"index": DIGEST, "manifests": {"amd64": DIGEST, "arm64": DIGEST}}}
"""

import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"
FIXED_MTIME = 1700000000  # 2023-11-14T22:13:20Z
CREATED = "2023-11-14T22:13:20Z"


def stream_bytes(seed: str, size: int) -> bytes:
    """Deterministic incompressible bytes: SHA-256 in counter mode."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}/{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def text_bytes(seed: str, lines: int) -> bytes:
    """Deterministic compressible text."""
    return "".join(
        f"{seed} line {i} {hashlib.sha256(f'{seed}{i}'.encode()).hexdigest()[:16]}\n"
        for i in range(lines)
    ).encode()


def make_tar(entries) -> bytes:
    """entries: list of (path, bytes or None for a directory, mode)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data, mode in entries:
            info = tarfile.TarInfo(path)
            info.mtime = FIXED_MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mode = mode
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as gz:
        gz.write(data)
    return buf.getvalue()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


class Layout:
    """An OCI image layout directory being written."""

    def __init__(self, root: str):
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(root, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)

    def put(self, data: bytes, media_type: str) -> dict:
        digest = sha256(data)
        path = os.path.join(self.root, "blobs", "sha256", digest.split(":", 1)[1])
        with open(path, "wb") as f:
            f.write(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def write_index(self, descriptors) -> None:
        index = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": descriptors}
        with open(os.path.join(self.root, "index.json"), "wb") as f:
            f.write(json.dumps(index, indent=2).encode())


def build_image(layout: Layout, arch: str, variant, layer_tars) -> dict:
    """Store layers, config and manifest; return the manifest descriptor + ids."""
    layer_descs = []
    diff_ids = []
    history = []
    for name, tar in layer_tars:
        diff_ids.append(sha256(tar))
        layer_descs.append(layout.put(gzip_bytes(tar), MT_LAYER_GZIP))
        history.append({"created": CREATED, "created_by": f"make_images.py: {name}"})
    config = {
        "created": CREATED,
        "architecture": arch,
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["/bin/sh"],
            "Labels": {"org.example.quay-e2e": arch},
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    if variant:
        config["variant"] = variant
    config_desc = layout.put(canonical_json(config), MT_CONFIG)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": config_desc,
        "layers": layer_descs,
        "annotations": {"org.opencontainers.image.title": f"quay-e2e-{arch}"},
    }
    manifest_desc = layout.put(json.dumps(manifest, indent=3).encode(), MT_MANIFEST)
    platform = {"architecture": arch, "os": "linux"}
    if variant:
        platform["variant"] = variant
    manifest_desc["platform"] = platform
    return {
        "descriptor": manifest_desc,
        "config": config_desc["digest"],
        "layers": [d["digest"] for d in layer_descs],
    }


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]

    # (a) one image, three layers.
    image = Layout(os.path.join(out, "image"))
    layers = [
        ("base", make_tar([
            ("etc", None, 0o755),
            ("etc/os-release", b'NAME="quay-e2e"\nID=quaye2e\n', 0o644),
            ("etc/motd", text_bytes("motd", 200), 0o644),
            ("bin", None, 0o755),
        ])),
        ("data", make_tar([
            ("srv", None, 0o755),
            ("srv/data.txt", text_bytes("data", 20000), 0o644),
            ("srv/small.bin", stream_bytes("small", 4096), 0o600),
        ])),
        ("blob", make_tar([
            ("opt", None, 0o755),
            ("opt/random.bin", stream_bytes("random", 3 * 1024 * 1024 + 17), 0o644),
        ])),
    ]
    built = build_image(image, "amd64", None, layers)
    desc = dict(built["descriptor"])
    desc.pop("platform")
    desc["annotations"] = {REF_NAME: "latest"}
    image.write_index([desc])

    # (b) multi-arch index.
    index = Layout(os.path.join(out, "index"))
    shared = ("shared", make_tar([
        ("usr", None, 0o755),
        ("usr/share", None, 0o755),
        ("usr/share/shared.txt", text_bytes("shared", 3000), 0o644),
    ]))
    per_arch = {}
    manifests = []
    for arch, variant in (("amd64", None), ("arm64", "v8")):
        own = (f"{arch}-bin", make_tar([
            ("bin", None, 0o755),
            (f"bin/hello-{arch}", stream_bytes(f"hello-{arch}", 200 * 1024), 0o755),
        ]))
        b = build_image(index, arch, variant, [shared, own])
        per_arch[arch] = b
        manifests.append(b["descriptor"])
    index_doc = {
        "schemaVersion": 2,
        "mediaType": MT_INDEX,
        "manifests": manifests,
        "annotations": {"org.opencontainers.image.description": "quay-e2e multi-arch"},
    }
    index_desc = index.put(json.dumps(index_doc, indent=2).encode(), MT_INDEX)
    top = dict(index_desc)
    top["annotations"] = {REF_NAME: "latest"}
    index.write_index([top])

    summary = {
        "image": {
            "manifest": built["descriptor"]["digest"],
            "config": built["config"],
            "layers": built["layers"],
        },
        "index": {
            "index": index_desc["digest"],
            "manifests": {a: b["descriptor"]["digest"] for a, b in per_arch.items()},
            "configs": {a: b["config"] for a, b in per_arch.items()},
            "layers": {a: b["layers"] for a, b in per_arch.items()},
        },
    }
    json.dump(summary, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
