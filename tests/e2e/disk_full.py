#!/usr/bin/env python3
"""quayd on a full disk (issue 11): clear errors, nothing half-written, and
pushes work again once space is freed, without a restart.

The data dir lives on a small tmpfs the test mounts itself (root only; the
test exits 77, SKIP, when it cannot mount). With a filler file taking every
free byte:

  1. a PATCH answers 507 with an OCI error body; the session stays at its
     acknowledged offset (GET reports it) and its upload file is cut back to
     that offset at once, not at the next resume;
  2. a single-request upload (POST ?digest= with a body) answers 507 and
     leaves no upload file and no blob file behind;
  3. a manifest push answers 201 or 507 (never another error) and what is
     stored keeps reading back: blobs, manifests, tag lists, tokens;
  4. DELETE on an upload session works (204) although the database cannot
     grow, and frees its file;
  5. `PRAGMA integrity_check` of quay.db is ok.
Then the filler goes and, on the same server: the interrupted session
resumes from its offset and completes, and a new image pushes and reads
back. Finally, with the disk full again, `quayd gc` frees an unreferenced
image's layer.

usage: disk_full.py PATH_TO_QUAYD
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash_trials import (MT_CONFIG, MT_LAYER, MT_MANIFEST, Client, Server,  # noqa: E402
                          log, sha256, upload_path, with_digest)

REPO = "crash/full"
FS_SIZE = "24m"


class Failed(Exception):
    pass


FAILURES = []


def check(cond, what):
    """Records a failed check and goes on, so one run shows every problem."""
    if cond:
        log(f"ok: {what}")
    else:
        FAILURES.append(what)
        log(f"FAILED: {what}")


def oci_error(body):
    """The first OCI error's code and message, or (None, raw text)."""
    try:
        e = json.loads(body)["errors"][0]
        return e["code"], e["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None, body[:200]


def expect_full(status, body, what):
    code, message = oci_error(body)
    check(status == 507 and code == "UNAVAILABLE" and "space" in message,
          f"{what}: 507 UNAVAILABLE with a message about space "
          f"(got {status} {code} {message!r})")


def fill(path, leave=0):
    """Writes `path` until the filesystem refuses another byte, then gives
    `leave` bytes back (so that a request gets part of its body written
    before it meets the full disk)."""
    with open(path, "wb", buffering=0) as f:
        for size in (1 << 20, 1 << 16, 4096, 512, 1):
            block = b"\0" * size
            try:
                while True:
                    f.write(block)
            except OSError:
                pass
        if leave:
            f.truncate(max(0, f.tell() - leave))


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


class Pusher:
    def __init__(self, client):
        self.c = client

    def req(self, method, path, body=None, headers=None):
        return self.c.request(method, path, body, headers)

    def blob(self, data):
        digest = sha256(data)
        st, _, body = self.req("POST", f"/v2/{REPO}/blobs/uploads/?digest={digest}", data,
                               {"Content-Type": "application/octet-stream"})
        if st != 201:
            raise Failed(f"push blob {digest}: {st} {body[:200]!r}")
        return digest

    def image(self, tag, layer, layer_pushed=False):
        config = json.dumps({"architecture": "amd64", "os": "linux", "tag": tag}).encode()
        self.blob(config)
        if not layer_pushed:
            self.blob(layer)
        manifest = self.manifest(config, layer)
        st, _, body = self.req("PUT", f"/v2/{REPO}/manifests/{tag}", manifest,
                               {"Content-Type": MT_MANIFEST})
        if st != 201:
            raise Failed(f"push manifest {tag}: {st} {body[:200]!r}")
        return sha256(manifest), manifest

    @staticmethod
    def manifest(config, layer):
        return json.dumps({
            "schemaVersion": 2, "mediaType": MT_MANIFEST,
            "config": {"mediaType": MT_CONFIG, "digest": sha256(config), "size": len(config)},
            "layers": [{"mediaType": MT_LAYER, "digest": sha256(layer), "size": len(layer)}],
        }, separators=(",", ":")).encode()

    def start(self):
        st, hdrs, body = self.req("POST", f"/v2/{REPO}/blobs/uploads/")
        if st != 202:
            raise Failed(f"start upload: {st} {body[:200]!r}")
        return upload_path(hdrs["location"])

    def patch(self, path, data, offset):
        return self.req("PATCH", path, data, {
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{offset}-{offset + len(data) - 1}"})

    def reads_back(self, digest):
        st, _, data = self.req("GET", f"/v2/{REPO}/blobs/{digest}")
        return st == 200 and sha256(data) == digest

    def manifest_reads_back(self, tag, digest):
        st, hdrs, _ = self.req("GET", f"/v2/{REPO}/manifests/{tag}",
                               headers={"Accept": MT_MANIFEST})
        return st == 200 and hdrs.get("docker-content-digest") == digest


def run(quayd, work, mnt):
    data_dir = os.path.join(mnt, "data")
    uploads = os.path.join(data_dir, "uploads")
    filler = os.path.join(mnt, "filler")
    server = Server(quayd, work, True, data=data_dir)
    server.start()
    try:
        p = Pusher(Client(server))
        # Before the disk fills: one image, a session with an acknowledged
        # chunk, a second session to cancel later, and an image whose tag is
        # deleted (its layer is garbage for the last step).
        layer_a = os.urandom(300 * 1024)
        manifest_a, _ = p.image("a", layer_a)
        session = p.start()
        session_id = session.rsplit("/", 1)[-1].split("?")[0]
        blob_s = os.urandom(3 << 20)
        acked = 64 * 1024
        st, _, body = p.patch(session, blob_s[:acked], 0)
        check(st == 202, f"first chunk acknowledged ({st})")
        doomed = p.start()
        doomed_id = doomed.rsplit("/", 1)[-1].split("?")[0]
        st, _, _ = p.patch(doomed, os.urandom(256 * 1024), 0)
        check(st == 202, "chunk of the session to cancel acknowledged")
        garbage_layer = os.urandom(2 << 20)
        manifest_g, _ = p.image("g", garbage_layer)
        st, _, _ = p.req("DELETE", f"/v2/{REPO}/manifests/{manifest_g}")
        check(st == 202, "image g deleted (its layer is garbage now)")
        garbage_file = os.path.join(data_dir, "blobs", "sha256",
                                    sha256(garbage_layer)[7:9], sha256(garbage_layer)[7:])
        check(os.path.exists(garbage_file), "image g's layer is on disk")

        fill(filler, leave=256 * 1024)
        log(f"disk nearly full: {free_bytes(mnt)} bytes free")

        # 1. A chunk that cannot be written.
        st, _, body = p.patch(session, blob_s[acked:], acked)
        expect_full(st, body, "PATCH on a full disk")
        st, hdrs, _ = p.req("GET", session)
        check(st == 204 and hdrs.get("range") == f"0-{acked - 1}",
              f"session still at its acknowledged offset (GET: {st} Range {hdrs.get('range')})")
        size = os.path.getsize(os.path.join(uploads, session_id))
        check(size == acked, f"its upload file is cut back to {acked} bytes at once ({size})")

        # 2. A single-request upload.
        before = sorted(os.listdir(uploads))
        mono = os.urandom(1 << 20)
        st, _, body = p.req("POST", f"/v2/{REPO}/blobs/uploads/?digest={sha256(mono)}", mono,
                            {"Content-Type": "application/octet-stream"})
        expect_full(st, body, "POST ?digest= with a body on a full disk")
        after = sorted(os.listdir(uploads))
        check(after == before, f"no upload file left behind ({before} -> {after})")
        mono_file = os.path.join(data_dir, "blobs", "sha256", sha256(mono)[7:9], sha256(mono)[7:])
        check(not os.path.exists(mono_file), "no blob file left behind")

        # 3. Reads go on; a manifest push is refused clearly or succeeds.
        # From here the disk is full to the last byte.
        filler2 = filler + "2"
        fill(filler2)
        log(f"disk full: {free_bytes(mnt)} bytes free")
        check(p.reads_back(sha256(layer_a)), "a stored blob reads back")
        check(p.manifest_reads_back("a", manifest_a), "a stored manifest reads back by tag")
        st, _, body = p.req("GET", f"/v2/{REPO}/tags/list")
        check(st == 200 and "a" in json.loads(body)["tags"], "the tag list reads")
        # Health answers on a full disk: alive, not ready, and says why.
        st, _, body = p.c.raw("GET", "/healthz")
        check(st == 200, f"/healthz on a full disk ({st})")
        st, _, body = p.c.raw("GET", "/readyz")
        try:
            checks = json.loads(body).get("checks", {})
        except ValueError:
            checks = {}
        check(st == 503 and checks.get("disk_space") is False,
              f"/readyz on a full disk: 503, disk_space false ({st} {body[:200]})")
        st, _, body = p.req("PUT", f"/v2/{REPO}/manifests/reuse",
                            Pusher.manifest(json.dumps({"architecture": "amd64", "os": "linux",
                                                        "tag": "a"}).encode(), layer_a),
                            {"Content-Type": MT_MANIFEST})
        code, message = oci_error(body)
        check(st == 201 or (st == 507 and code == "UNAVAILABLE"),
              f"manifest push on a full disk: 201 or 507 ({st} {code} {message!r})")

        # 4. Cancel works although the database cannot grow.
        st, _, body = p.req("DELETE", doomed)
        check(st == 204, f"DELETE of an upload session on a full disk ({st} {body[:200]!r})")
        check(not os.path.exists(os.path.join(uploads, doomed_id)), "its upload file is gone")
        st, _, _ = p.req("GET", doomed)
        check(st == 404, f"the cancelled session is gone ({st})")

        # 5. The database is intact.
        db = sqlite3.connect(f"file:{os.path.join(data_dir, 'quay.db')}?mode=ro", uri=True)
        result = db.execute("PRAGMA integrity_check").fetchall()
        db.close()
        check(result == [("ok",)], f"quay.db integrity_check ok ({result})")

        # Space again: the same server resumes and pushes.
        os.unlink(filler)
        os.unlink(filler2)
        log(f"fillers removed: {free_bytes(mnt)} bytes free")
        st, hdrs, body = p.patch(session, blob_s[acked:], acked)
        check(st == 202, f"the interrupted session resumes from {acked} ({st} {body[:200]!r})")
        st, _, body = p.req("PUT", with_digest(upload_path(hdrs["location"]), sha256(blob_s)))
        check(st == 201, f"and completes ({st} {body[:200]!r})")
        check(p.reads_back(sha256(blob_s)), "the resumed blob reads back")
        manifest_s, _ = p.image("s", blob_s, layer_pushed=True)  # so that gc keeps it
        manifest_c, _ = p.image("c", os.urandom(500 * 1024))
        check(p.manifest_reads_back("c", manifest_c), "a new image pushes and reads back")
        check(p.manifest_reads_back("a", manifest_a), "the first image still reads back")

        # quayd gc on a full disk frees the garbage layer.
        fill(filler)
        log(f"disk full again: {free_bytes(mnt)} bytes free")
        gc = subprocess.run([quayd, "gc", "--data-dir", data_dir, "--protection-window", "0",
                             "--tag-recovery-window", "0"], capture_output=True, text=True,
                            timeout=120)
        log(f"quayd gc: exit {gc.returncode}: {(gc.stdout + gc.stderr).strip()[-500:]}")
        check(gc.returncode == 0, f"quayd gc on a full disk exits 0 ({gc.returncode})")
        check(not os.path.exists(garbage_file), "quayd gc removed the garbage layer")
        check(free_bytes(mnt) >= len(garbage_layer) // 2, f"space freed ({free_bytes(mnt)} bytes)")
        check(p.manifest_reads_back("a", manifest_a), "image a still reads back after gc")
        check(p.manifest_reads_back("s", manifest_s) and p.reads_back(sha256(blob_s)),
              "the resumed blob's image still reads back after gc")
        os.unlink(filler)
        db = sqlite3.connect(f"file:{os.path.join(data_dir, 'quay.db')}?mode=ro", uri=True)
        result = db.execute("PRAGMA integrity_check").fetchall()
        db.close()
        check(result == [("ok",)], f"quay.db integrity_check ok after gc ({result})")
    finally:
        server.kill9()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    quayd = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="quay-disk-full.")
    mnt = os.path.join(work, "mnt")
    os.mkdir(mnt)
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={FS_SIZE},mode=0700", "tmpfs",
                            mnt], capture_output=True, text=True)
    if mount.returncode != 0:
        print(f"SKIP: cannot mount a {FS_SIZE} tmpfs for the data dir (needs root): "
              f"{mount.stderr.strip()}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
        return 77
    ok = False
    try:
        run(quayd, work, mnt)
        if FAILURES:
            print("\nFAIL: " + "\n      ".join(FAILURES), file=sys.stderr)
            return 1
        ok = True
        log("PASS: disk_full.py")
        return 0
    except Failed as e:
        print(f"\nFAIL: {e}", file=sys.stderr)
        return 1
    finally:
        if not ok:
            for name in sorted(os.listdir(work)):
                if name.startswith("server.") and name.endswith(".log"):
                    with open(os.path.join(work, name)) as f:
                        print(f"--- {name} (tail) ---\n{f.read()[-2000:]}", file=sys.stderr)
        subprocess.run(["umount", mnt], capture_output=True)
        if os.path.ismount(mnt):
            subprocess.run(["umount", "-l", mnt], capture_output=True)
        if os.environ.get("E2E_KEEP") == "1":
            log(f"keeping {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
