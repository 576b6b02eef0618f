#!/usr/bin/env python3
"""kill -9 at random instants of chunked and monolithic pushes (issue 11).

Starts quayd on a fresh data dir, then repeats CRASH_TRIALS times (default
100): two client threads push blobs with random patterns (monolithic
POST ?digest=, POST then PUT with the body, chunked PATCHes then PUT with or
without a last chunk, content already stored elsewhere) and image manifests
referencing them; quayd is killed with SIGKILL at a random instant and
restarted on the same data dir; then every acknowledgement is checked:

  * a session whose POST or PATCH was answered 202 (and whose PUT was not
    answered 201) either still exists, with GET on its URL reporting at least
    the acknowledged Range, and a PATCH from there plus a PUT completes it
    with the right digest, or its blob was committed (the PUT got through
    before the kill) and reads back;
  * every blob answered 201 reads back with its digest (the ones of this
    trial and a sample of older ones; all of them after the last trial);
  * every manifest answered 201 reads back by tag with its digest.

Any violation is a loss; the test prints every one and fails. Only the
standard library is used.

usage: crash_trials.py PATH_TO_QUAYD
environment:
  CRASH_TRIALS       number of kill -9 trials (default 100)
  CRASH_TRIALS_SEED  random seed (default: random; printed, to replay a run)
  CRASH_TRIALS_FSYNC 0 runs quayd with --no-fsync (default 1: fsync on)
  E2E_KEEP=1         keep the work dir (data dir, server logs)
Exit status: 0 pass, 1 a loss or another failure.
"""

import base64
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar"
USER = "crash"
REPOS = ["crash/trials-a", "crash/trials-b"]


def log(msg):
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    print(f"[{name} {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """quayd serve on a fixed port and data dir (the port stays, so bearer
    tokens and upload URLs stay valid across restarts)."""

    def __init__(self, quayd, work, fsync, data=None):
        self.quayd = quayd
        self.work = work
        self.data = data or os.path.join(work, "data")
        self.port = free_port()
        self.fsync = fsync
        self.proc = None
        self.starts = 0
        self.password = base64.b16encode(os.urandom(9)).decode().lower()
        add = subprocess.run([quayd, "user", "add", USER, "--data-dir", self.data],
                             input=self.password + "\n", text=True, capture_output=True)
        if add.returncode != 0:
            raise SystemExit(f"FAIL: quayd user add: {add.stderr.strip()}")

    def start(self):
        self.starts += 1
        out = os.path.join(self.work, f"server.{self.starts}.log")
        args = [self.quayd, "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir",
                self.data, "--gc-interval", "0", "--log-level", "warn", "--no-pull-audit"]
        if not self.fsync:
            args.append("--no-fsync")
        # A port in TIME_WAIT or the previous process not yet reaped: retry.
        for _ in range(50):
            with open(out, "w") as f:
                self.proc = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                    c.request("GET", "/v2/")
                    status = c.getresponse().status
                    c.close()
                    if status in (200, 401):
                        return
                except OSError:
                    pass
                time.sleep(0.02)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                raise SystemExit(f"FAIL: quayd did not answer GET /v2/ within 30 s ({out})")
            with open(out) as f:
                text = f.read()
            if "in use" not in text and "bind" not in text:
                raise SystemExit(f"FAIL: quayd exited at start ({self.proc.returncode}):\n{text}")
            time.sleep(0.1)
        raise SystemExit("FAIL: quayd could not bind its port again")

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc:
            self.proc.wait()

    def last_log(self):
        path = os.path.join(self.work, f"server.{self.starts}.log")
        try:
            with open(path) as f:
                return f.read()[-3000:]
        except OSError:
            return ""


class Client:
    """One keep-alive connection with Docker token auth (one bearer token per
    repository, asked for pull,push,delete)."""

    tokens = {}
    tokens_lock = threading.Lock()

    def __init__(self, server):
        self.server = server
        self.conn = None

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def raw(self, method, path, body=None, headers=None, timeout=20):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=timeout)
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            resp = self.conn.getresponse()
            data = resp.read()
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        except BaseException:
            self.close()
            raise

    def token(self, repo, challenge=None):
        with Client.tokens_lock:
            if repo in Client.tokens and challenge is None:
                return Client.tokens[repo]
        m = dict(re.findall(r'(\w+)="([^"]*)"', challenge or ""))
        service = m.get("service", f"127.0.0.1:{self.server.port}")
        query = urllib.parse.urlencode({"service": service,
                                        "scope": f"repository:{repo}:pull,push,delete"})
        basic = base64.b64encode(f"{USER}:{self.server.password}".encode()).decode()
        c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=20)
        try:
            c.request("GET", "/v2/auth?" + query, headers={"Authorization": "Basic " + basic})
            r = c.getresponse()
            body = r.read()
        finally:
            c.close()
        if r.status != 200:
            raise SystemExit(f"FAIL: token for {repo}: HTTP {r.status} {body[:200]!r}")
        tok = json.loads(body)["token"]
        with Client.tokens_lock:
            Client.tokens[repo] = tok
        return tok

    def request(self, method, path, body=None, headers=None):
        repo = re.match(r"^/v2/(.+?)/(blobs|manifests|tags)/", path).group(1)
        h = dict(headers or {})
        h["Authorization"] = "Bearer " + self.token(repo)
        status, hdrs, data = self.raw(method, path, body, h)
        if status == 401:
            h["Authorization"] = "Bearer " + self.token(repo, hdrs.get("www-authenticate", ""))
            status, hdrs, data = self.raw(method, path, body, h)
        return status, hdrs, data


def upload_path(location):
    """An upload URL's path and query (Location may be absolute)."""
    u = urllib.parse.urlsplit(location)
    return u.path + ("?" + u.query if u.query else "")


def with_digest(path, digest):
    return path + ("&" if "?" in path else "?") + "digest=" + urllib.parse.quote(digest)


def range_end(hdrs):
    """Range: 0-<last> -> the offset after it (0-0 is an empty session here:
    the workload never acknowledges a 1-byte session)."""
    m = re.match(r"^(?:bytes=)?0-(\d+)$", hdrs.get("range", ""))
    if not m:
        return None
    last = int(m.group(1))
    return 0 if last == 0 else last + 1


class Ledger:
    """What the server acknowledged, shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sessions = {}   # upload path -> {"repo", "data", "acked", "digest"}
        self.blobs = {}      # (repo, digest) -> size, answered 201
        self.manifests = {}  # (repo, tag) -> (digest, bytes), answered 201
        self.new_blobs = set()
        self.pool = []       # contents already pushed, to push again elsewhere

    def session_acked(self, path, repo, data, acked):
        with self.lock:
            self.sessions[path] = {"repo": repo, "data": data, "acked": acked,
                                   "digest": sha256(data)}

    def blob_committed(self, repo, data, session_path=None):
        with self.lock:
            if session_path:
                self.sessions.pop(session_path, None)
            key = (repo, sha256(data))
            self.blobs[key] = len(data)
            self.new_blobs.add(key)
            if len(self.pool) < 64:
                self.pool.append(data)


class Pusher(threading.Thread):
    """Pushes until stopped or until the server dies under it."""

    def __init__(self, server, ledger, repo, rng, stop):
        super().__init__(daemon=True)
        self.client = Client(server)
        self.ledger, self.repo, self.rng, self.stop = ledger, repo, rng, stop
        self.error = None

    def run(self):
        try:
            while not self.stop.is_set():
                self.push_image()
        except (OSError, http.client.HTTPException):
            pass  # the kill
        except BaseException as e:  # an unexpected answer: reported by the trial
            self.error = e
        finally:
            self.client.close()

    def expect(self, want, method, path, body=None, headers=None):
        status, hdrs, data = self.client.request(method, path, body, headers)
        if status != want:
            raise AssertionError(f"{method} {path}: expected {want}, got {status}: {data[:200]!r}")
        return hdrs

    def content(self):
        rng = self.rng
        if self.ledger.pool and rng.random() < 0.15:
            return rng.choice(self.ledger.pool)  # already a blob (elsewhere or here)
        size = rng.choice([rng.randint(600, 4096), rng.randint(4096, 65536),
                           rng.randint(65536, 600000)])
        return os.urandom(size)

    def push_blob(self, data):
        rng, repo = self.rng, self.repo
        digest = sha256(data)
        pattern = rng.choice(["monolithic", "post-put", "chunked", "chunked", "chunked-last"])
        ct = {"Content-Type": "application/octet-stream"}
        if pattern == "monolithic":
            self.expect(201, "POST", f"/v2/{repo}/blobs/uploads/?digest={digest}", data, ct)
            self.ledger.blob_committed(repo, data)
            return digest
        hdrs = self.expect(202, "POST", f"/v2/{repo}/blobs/uploads/")
        path = upload_path(hdrs["location"])
        self.ledger.session_acked(path, repo, data, 0)
        offset = 0
        end = len(data)
        if pattern == "chunked-last":
            end = rng.randint(len(data) // 2, len(data) - 1)
        while pattern.startswith("chunked") and offset < end:
            n = min(end - offset, rng.randint(512, max(512, len(data) // 2)))
            hdrs = self.expect(202, "PATCH", path, data[offset:offset + n],
                               dict(ct, **{"Content-Range": f"{offset}-{offset + n - 1}"}))
            offset += n
            got = range_end(hdrs)
            if got != offset:
                raise AssertionError(f"PATCH answered Range {hdrs.get('range')}, expected {offset}")
            path = upload_path(hdrs["location"])
            self.ledger.session_acked(path, repo, data, offset)
        self.expect(201, "PUT", with_digest(path, digest), data[offset:], ct)
        self.ledger.blob_committed(repo, data, path)
        return digest

    def push_image(self):
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "nonce": self.rng.random()}).encode()
        layer = self.content()
        for blob in (config, layer):
            self.push_blob(blob)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": MT_MANIFEST,
            "config": {"mediaType": MT_CONFIG, "digest": sha256(config), "size": len(config)},
            "layers": [{"mediaType": MT_LAYER, "digest": sha256(layer), "size": len(layer)}],
        }, separators=(",", ":")).encode()
        tag = "t" + hashlib.sha256(manifest).hexdigest()[:12]
        self.expect(201, "PUT", f"/v2/{self.repo}/manifests/{tag}", manifest,
                    {"Content-Type": MT_MANIFEST})
        with self.ledger.lock:
            self.ledger.manifests[(self.repo, tag)] = (sha256(manifest), manifest)


class Checker:
    def __init__(self, server, ledger):
        self.client = Client(server)
        self.ledger = ledger
        self.losses = []

    def loss(self, trial, what):
        self.losses.append(f"trial {trial}: {what}")
        log(f"LOSS trial {trial}: {what}")

    def blob_reads_back(self, repo, digest):
        status, hdrs, data = self.client.request("GET", f"/v2/{repo}/blobs/{digest}")
        return status == 200 and sha256(data) == digest

    def sessions(self, trial, stats):
        """Every acknowledged session resumes, or its blob was committed."""
        with self.ledger.lock:
            sessions = dict(self.ledger.sessions)
        for path, s in sessions.items():
            repo, data, acked, digest = s["repo"], s["data"], s["acked"], s["digest"]
            status, hdrs, _ = self.client.request("GET", path)
            if status == 404:
                if self.blob_reads_back(repo, digest):
                    stats["committed"] += 1
                    self.ledger.blob_committed(repo, data, path)
                else:
                    self.loss(trial, f"session {path} ({acked} of {len(data)} bytes acknowledged)"
                                     " is gone and its blob was not committed")
                    with self.ledger.lock:  # reported once
                        self.ledger.sessions.pop(path, None)
                continue
            offset = range_end(hdrs) if status == 204 else None
            if offset is None or offset < acked or offset > len(data):
                self.loss(trial, f"session {path}: GET answered {status} Range "
                                 f"{hdrs.get('range')!r}, {acked} bytes were acknowledged")
                with self.ledger.lock:
                    self.ledger.sessions.pop(path, None)
                continue
            stats["resumed"] += 1
            s_path = path
            path = upload_path(hdrs.get("location", path))
            if offset < len(data):
                st, hdrs, body = self.client.request(
                    "PATCH", path, data[offset:],
                    {"Content-Type": "application/octet-stream",
                     "Content-Range": f"{offset}-{len(data) - 1}"})
                if st != 202:
                    self.loss(trial, f"resuming {path} at {offset}: PATCH answered {st} {body[:200]!r}")
                    with self.ledger.lock:
                        self.ledger.sessions.pop(s_path, None)
                    continue
                path = upload_path(hdrs.get("location", path))
            st, _, body = self.client.request("PUT", with_digest(path, digest), b"")
            if st != 201:
                self.loss(trial, f"finishing {path}: PUT answered {st} {body[:200]!r}")
                with self.ledger.lock:
                    self.ledger.sessions.pop(s_path, None)
                continue
            self.ledger.blob_committed(repo, data, s_path)
            if not self.blob_reads_back(repo, digest):
                self.loss(trial, f"resumed blob {digest} of {path} does not read back")

    def blobs(self, trial, rng, everything=False):
        with self.ledger.lock:
            keys = set(self.ledger.new_blobs)
            self.ledger.new_blobs.clear()
            older = list(self.ledger.blobs)
        if everything:
            keys = set(older)
        else:
            keys.update(rng.sample(older, min(4, len(older))))
        for repo, digest in sorted(keys):
            if not self.blob_reads_back(repo, digest):
                self.loss(trial, f"acknowledged blob {digest} in {repo} does not read back")

    def manifests(self, trial):
        with self.ledger.lock:
            items = list(self.ledger.manifests.items())
        for (repo, tag), (digest, body) in items:
            st, hdrs, data = self.client.request(
                "GET", f"/v2/{repo}/manifests/{tag}", headers={"Accept": MT_MANIFEST})
            if st != 200 or data != body or hdrs.get("docker-content-digest") != digest:
                self.loss(trial, f"acknowledged manifest {repo}:{tag} ({digest}) reads back "
                                 f"as {st} {hdrs.get('docker-content-digest')}")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    quayd = os.path.abspath(sys.argv[1])
    trials = int(os.environ.get("CRASH_TRIALS", "100"))
    seed = int(os.environ.get("CRASH_TRIALS_SEED", str(random.randrange(1 << 30))))
    fsync = os.environ.get("CRASH_TRIALS_FSYNC", "1") != "0"
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="quay-crash-trials.")
    log(f"{trials} trials, seed {seed} (CRASH_TRIALS_SEED), fsync {fsync}, work dir {work}")
    started = time.monotonic()
    server = Server(quayd, work, fsync)
    ledger = Ledger()
    checker = None
    ok = False
    try:
        server.start()
        checker = Checker(server, ledger)
        for repo in REPOS:  # tokens outlive restarts (signing keys are in the database)
            checker.client.token(repo)
        stats = {"resumed": 0, "committed": 0}
        for trial in range(1, trials + 1):
            stop = threading.Event()
            pushers = [Pusher(server, ledger, repo, random.Random(rng.random()), stop)
                       for repo in REPOS[:rng.choice([1, 2])]]
            for p in pushers:
                p.start()
            time.sleep(rng.uniform(0.02, 0.5))
            stop.set()
            server.kill9()
            for p in pushers:
                p.join(30)
                if p.is_alive():
                    raise SystemExit(f"FAIL: trial {trial}: a client thread hung after the kill")
                if p.error:
                    raise SystemExit(f"FAIL: trial {trial}: unexpected answer before the kill: "
                                     f"{p.error}\n{server.last_log()}")
            server.start()
            checker.client.close()
            checker.sessions(trial, stats)
            checker.blobs(trial, rng)
            if trial % 10 == 0 or trial == trials:
                checker.manifests(trial)
                log(f"trial {trial}/{trials}: {len(ledger.blobs)} blobs, {len(ledger.manifests)} "
                    f"manifests, sessions resumed {stats['resumed']}, found committed "
                    f"{stats['committed']}, losses {len(checker.losses)}")
        checker.blobs(trials, rng, everything=True)
        checker.manifests(trials)
        # Content addressing holds on disk too: every blob file, recorded or
        # not (a kill between the link and the row leaves one), hashes to its
        # name, so no resumed session ever wrote through a shared file.
        checked = 0
        for top, _, names in os.walk(os.path.join(server.data, "blobs", "sha256")):
            for name in names:
                with open(os.path.join(top, name), "rb") as f:
                    if hashlib.sha256(f.read()).hexdigest() != name:
                        checker.loss(trials, f"blob file {top}/{name} does not hash to its name")
                checked += 1
        log(f"{checked} blob files hash to their names")
        elapsed = time.monotonic() - started
        if checker.losses:
            log(f"FAIL: {len(checker.losses)} losses in {trials} trials ({elapsed:.0f} s, "
                f"seed {seed}):")
            for line in checker.losses:
                print("  " + line, file=sys.stderr)
            return 1
        log(f"PASS: {trials} trials in {elapsed:.0f} s: {len(ledger.blobs)} blobs and "
            f"{len(ledger.manifests)} manifests read back, {stats['resumed']} sessions resumed "
            f"after a kill, {stats['committed']} found committed")
        ok = True
        return 0
    finally:
        server.kill9()
        if os.environ.get("E2E_KEEP") == "1" or not ok:
            log(f"keeping {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
