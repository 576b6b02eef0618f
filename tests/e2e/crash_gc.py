#!/usr/bin/env python3
"""Workload and probes for crash_gc.sh (garbage collection killed with SIGKILL).

usage:
  crash_gc.py push BASE_URL OUT_JSON COUNT KEEP_EVERY
      Pushes COUNT small images (unique config and layer, one layer shared by
      all) to repositories gc/r0..gc/r3, each under a tag, over parallel
      keep-alive connections; then deletes the tag of every image except
      every KEEP_EVERY-th. Writes what it did to OUT_JSON.
  crash_gc.py kill-gc DB WHEN -- QUAYD_GC_COMMAND...
      Runs the `quayd gc` command and SIGKILLs it as soon as the database
      shows it inside phase WHEN ("manifests": manifest rows going, or
      "blobs": blob rows going). Exit 0 after a kill, 3 when gc finished
      first (the kill point was never seen), 1 on other errors.
  crash_gc.py check-store DB DATA_DIR
      Every blob row has its file and every blob file has its row.
  crash_gc.py verify BASE_URL PUSHED_JSON
      Every kept image pulls completely by tag and by digest (manifest bytes
      and every blob, hashed); every image whose tag was deleted is gone.

Requests carry Docker token auth when the server asks for it (credentials
in $CRASH_GC_CREDENTIALS, user:password). Only the standard library is used.
"""

import base64
import hashlib
import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar"
REPOS = ["gc/r0", "gc/r1", "gc/r2", "gc/r3"]
THREADS = 8
SHARED_LAYER = b"layer shared by every image\n" * 20


def repository_of(path):
    """/v2/<name>/(blobs|manifests)/... -> <name> (None for other paths)."""
    m = re.match(r"^/v2/(.+?)/(blobs|manifests)/", path)
    return m.group(1) if m else None


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def parse_challenge(header):
    """Bearer realm="...",service="...",scope="..." -> dict (None if not Bearer)."""
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    out = {}
    for part in re.findall(r'(\w+)="([^"]*)"', rest):
        out[part[0]] = part[1]
    return out


class Client:
    """One keep-alive HTTP connection (reconnects when the server closes it).

    Speaks Docker token auth: a 401 challenge is answered by fetching a token
    from the realm with the Basic credentials in $CRASH_GC_CREDENTIALS
    (user:password; anonymous when unset) and retrying with it. One token per
    repository, covering every action asked for so far."""

    def __init__(self, base_url: str):
        u = urllib.parse.urlsplit(base_url)
        self.host, self.port = u.hostname, u.port
        self.conn = None
        creds = os.environ.get("CRASH_GC_CREDENTIALS", "")
        self.basic = ("Basic " + base64.b64encode(creds.encode()).decode()) if creds else None
        self.tokens = {}   # repository -> token
        self.actions = {}  # repository -> set of actions requested

    def raw(self, method, path, body=None, headers=None, host=None, port=None):
        if host is not None:  # the token realm may be elsewhere
            conn = http.client.HTTPConnection(host, port, timeout=60)
            try:
                conn.request(method, path, body=body, headers=headers or {})
                resp = conn.getresponse()
                return resp.status, dict(resp.getheaders()), resp.read()
            finally:
                conn.close()
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                return resp.status, dict(resp.getheaders()), data
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def fetch_token(self, challenge):
        scope = challenge.get("scope", "")
        kind, _, rest = scope.partition(":")
        repo, _, actions = rest.rpartition(":")
        if kind != "repository" or not repo:
            raise SystemExit(f"unexpected auth challenge scope {scope!r}")
        wanted = self.actions.setdefault(repo, set())
        wanted.update(a for a in actions.split(",") if a)
        query = urllib.parse.urlencode({
            "service": challenge.get("service", ""),
            "scope": f"repository:{repo}:{','.join(sorted(wanted))}",
        })
        realm = urllib.parse.urlsplit(challenge["realm"])
        headers = {"Authorization": self.basic} if self.basic else {}
        status, _, data = self.raw("GET", f"{realm.path}?{query}", None, headers,
                                   realm.hostname, realm.port)
        if status != 200:
            raise SystemExit(f"token request for {repo} answered {status}: {data[:200]!r}")
        reply = json.loads(data)
        self.tokens[repo] = reply.get("token") or reply.get("access_token")

    def request(self, method, path, body=None, headers=None):
        repo = repository_of(path)
        for _ in range(3):
            h = dict(headers or {})
            if repo in self.tokens:
                h["Authorization"] = "Bearer " + self.tokens[repo]
            status, hdrs, data = self.raw(method, path, body, h)
            challenge = None
            for k, v in hdrs.items():
                if k.lower() == "www-authenticate":
                    challenge = parse_challenge(v)
            if status != 401 or challenge is None or "realm" not in challenge:
                return status, hdrs, data
            self.fetch_token(challenge)
        return status, hdrs, data

    def expect(self, want, method, path, body=None, headers=None):
        status, hdrs, data = self.request(method, path, body, headers)
        if status != want:
            raise SystemExit(
                f"{method} {path}: expected HTTP {want}, got {status}: {data[:300]!r}")
        return hdrs, data

    def push_blob(self, repo, data):
        digest = sha256(data)
        self.expect(201, "POST", f"/v2/{repo}/blobs/uploads/?digest={digest}", data,
                    {"Content-Type": "application/octet-stream"})
        return digest


def image(i: int):
    config = json.dumps({"architecture": "amd64", "os": "linux", "image": i}).encode()
    layer = f"unique layer of image {i}\n".encode() * (1 + i % 7)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, "digest": sha256(config), "size": len(config)},
        "layers": [
            {"mediaType": MT_LAYER, "digest": sha256(SHARED_LAYER), "size": len(SHARED_LAYER)},
            {"mediaType": MT_LAYER, "digest": sha256(layer), "size": len(layer)},
        ],
    }, separators=(",", ":")).encode()
    return config, layer, manifest


def cmd_push(base_url, out_json, count, keep_every):
    count, keep_every = int(count), int(keep_every)
    records = [None] * count
    errors = []

    def worker(k):
        c = Client(base_url)
        try:
            for repo in REPOS:  # the shared layer in every repository
                c.push_blob(repo, SHARED_LAYER)
            for i in range(k, count, THREADS):
                repo = REPOS[i % len(REPOS)]
                config, layer, manifest = image(i)
                c.push_blob(repo, config)
                c.push_blob(repo, layer)
                tag = f"t{i}"
                c.expect(201, "PUT", f"/v2/{repo}/manifests/{tag}", manifest,
                         {"Content-Type": MT_MANIFEST})
                keep = i % keep_every == 0
                if not keep:
                    c.expect(202, "DELETE", f"/v2/{repo}/manifests/{tag}")
                records[i] = {
                    "repo": repo, "tag": tag, "keep": keep, "manifest": sha256(manifest),
                    "blobs": [sha256(config), sha256(SHARED_LAYER), sha256(layer)],
                    "unique": [sha256(config), sha256(layer)],
                }
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(f"worker {k}: {e}")

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit("; ".join(errors[:3]))
    with open(out_json, "w") as f:
        json.dump({"images": records, "shared": sha256(SHARED_LAYER)}, f)
    kept = sum(1 for r in records if r["keep"])
    print(f"pushed {count} images ({kept} keep their tag) in "
          f"{time.monotonic() - started:.1f} s", file=sys.stderr)


def counts(db):
    row = db.execute("SELECT (SELECT COUNT(*) FROM manifest), (SELECT COUNT(*) FROM blob)")
    return row.fetchone()


def cmd_kill_gc(db_path, when, *command):
    if command and command[0] == "--":
        command = command[1:]
    db = sqlite3.connect(db_path, timeout=30)
    manifests0, blobs0 = counts(db)
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = None
    while proc.poll() is None:
        try:
            manifests, blobs = counts(db)
        except sqlite3.OperationalError:
            continue  # busy for a moment; ask again
        if (when == "manifests" and manifests < manifests0) or \
           (when == "blobs" and blobs < blobs0):
            os.kill(proc.pid, signal.SIGKILL)
            seen = (manifests, blobs)
            break
    proc.wait()
    if seen is None:
        print(f"gc exited ({proc.returncode}) before it was seen deleting {when}: "
              f"{proc.stderr.read().decode()[:300]}", file=sys.stderr)
        sys.exit(3)
    manifests, blobs = counts(db)
    print(f"killed gc while deleting {when}: manifests {manifests0} -> {manifests}, "
          f"blobs {blobs0} -> {blobs}", file=sys.stderr)
    if proc.returncode != -signal.SIGKILL:
        sys.exit(f"gc exited with {proc.returncode}, not by SIGKILL")


def blob_files(data_dir):
    root = os.path.join(data_dir, "blobs")
    found = set()
    for algorithm in os.listdir(root) if os.path.isdir(root) else []:
        for prefix in os.listdir(os.path.join(root, algorithm)):
            for name in os.listdir(os.path.join(root, algorithm, prefix)):
                found.add(f"{algorithm}:{name}")
    return found


def cmd_check_store(db_path, data_dir):
    db = sqlite3.connect(db_path, timeout=30)
    rows = {d for (d,) in db.execute("SELECT digest FROM blob")}
    files = blob_files(data_dir)
    missing = rows - files
    orphans = files - rows
    if missing:
        sys.exit(f"{len(missing)} blob row(s) without a file, e.g. {sorted(missing)[0]}")
    if orphans:
        sys.exit(f"{len(orphans)} blob file(s) without a row, e.g. {sorted(orphans)[0]}")
    print(f"{len(rows)} blob rows, each with its file, no file without a row",
          file=sys.stderr)


def cmd_verify(base_url, pushed_json):
    with open(pushed_json) as f:
        pushed = json.load(f)
    c = Client(base_url)
    accept = {"Accept": MT_MANIFEST}
    kept = gone = 0
    for r in pushed["images"]:
        repo = r["repo"]
        if not r["keep"]:
            status, _, _ = c.request("GET", f"/v2/{repo}/manifests/{r['manifest']}", None, accept)
            if status != 404:
                sys.exit(f"{repo}@{r['manifest']} (tag deleted) answers {status}, expected 404")
            for d in r["unique"]:
                status, _, _ = c.request("HEAD", f"/v2/{repo}/blobs/{d}")
                if status != 404:
                    sys.exit(f"{repo} blob {d} of a collected image answers {status}")
            gone += 1
            continue
        for ref in (r["tag"], r["manifest"]):
            _, body = c.expect(200, "GET", f"/v2/{repo}/manifests/{ref}", None, accept)
            if sha256(body) != r["manifest"]:
                sys.exit(f"{repo}:{ref}: manifest bytes hash to {sha256(body)}")
        manifest = json.loads(body)
        descriptors = [manifest["config"]] + manifest["layers"]
        if [d["digest"] for d in descriptors] != r["blobs"]:
            sys.exit(f"{repo}:{r['tag']}: unexpected manifest content")
        for d in descriptors:
            _, data = c.expect(200, "GET", f"/v2/{repo}/blobs/{d['digest']}")
            if len(data) != d["size"] or sha256(data) != d["digest"]:
                sys.exit(f"{repo} blob {d['digest']}: {len(data)} bytes hashing to {sha256(data)}")
        kept += 1
    print(f"{kept} kept images pull completely; {gone} collected images are gone",
          file=sys.stderr)


def main():
    commands = {"push": cmd_push, "kill-gc": cmd_kill_gc, "check-store": cmd_check_store,
                "verify": cmd_verify}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
