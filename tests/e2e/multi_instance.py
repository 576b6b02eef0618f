#!/usr/bin/env python3
"""Several stateless quayd instances behave as one registry.

What it proves: three `quayd serve` processes, each with a data folder of its
own but sharing one PostgreSQL database (DB_URI) and one S3 bucket on a Ceph
RADOS Gateway (DISTRIBUTED_STORAGE_CONFIG, RadosGWStorage), behind nginx as a
round-robin balancer, are one registry for real clients:

  a. skopeo and podman push and pull through the balancer (credentials per
     command, a robot, podman login); every pulled blob is a pushed one, and
     the balancer spread the requests over all three instances;
  b. one chunked upload whose POST, PATCHes and PUT each go straight to a
     different instance's own port (relative Location URLs, chunks of 5 MiB,
     the S3 driver's part size), read back through every instance;
  c. a token issued by any instance is accepted by every other one;
  d. a permission granted with `quayd repo grant` and revoked through one
     instance's REST API applies on the other instances within a second;
  e. `quayd gc` (windows 0) run in a loop beside concurrent pushes loses no
     acknowledged image, and does collect a deleted tag and moved tags;
  f. an instance killed with SIGKILL in the middle of a 64 MiB PATCH streamed
     through the balancer loses nothing acknowledged, its upload session
     resumes on another instance, the client's fresh retry through the
     balancer succeeds, and the instance serves again after a restart;
  g. every instance is ready (/readyz), quayd caused no SQL error in the
     shared database's log, no blob sits in a data folder, no secret in a log.

How: everything runs on 127.0.0.1 on free ports, in one temporary folder:
PostgreSQL 15 (initdb -A trust, as `nobody` when root), three quayd, nginx
(one upstream with a shared zone, HTTP/1.1 keep-alive, unbuffered bodies).
The Ceph gateway comes from the caller:

  tests/storage/rgw/rgw_gateway.py run -- python3 tests/e2e/multi_instance.py QUAYD

Each step prints PASS/FAIL lines. Exit 0 when all pass, 1 on any failure,
77 (SKIP) when a needed program is missing (E2E_STRICT=1: a failure).
E2E_KEEP=1 keeps the temporary folder; MULTI_INSTANCE_STEPS=a,c runs only
those steps (development).
"""

import base64
import hashlib
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

SKIP = 77
PG_BIN = "/usr/lib/postgresql/15/bin"
NGINX = "/usr/sbin/nginx"
MIB = 1024 * 1024
CHUNK = 5 * MIB  # the S3 driver's multipart part size
INSTANCES = 3
OWNER, READER = "alice", "bob"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar"
ACCEPT = ", ".join([MT_MANIFEST, MT_INDEX,
                    "application/vnd.docker.distribution.manifest.v2+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json"])
HERE = os.path.dirname(os.path.abspath(__file__))
STRICT = os.environ.get("E2E_STRICT") == "1"
T0 = time.monotonic()


class StepFailed(Exception):
    """A step cannot go on (its FAIL line is already printed)."""


class Skip(Exception):
    pass


# --- reporting -------------------------------------------------------------------

FAILURES = []


def log(msg):
    print("[multi %6.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


def check(ok, what):
    print(("PASS: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        FAILURES.append(what)
    return ok


def require(ok, what):
    if not check(ok, what):
        raise StepFailed(what)


def need_program(path, what):
    """A missing program is a SKIP (E2E_STRICT=1: a failure)."""
    found = shutil.which(path)
    if not found:
        if STRICT:
            print("FAIL: required program %s (%s) is not installed" % (path, what))
            sys.exit(1)
        raise Skip("required program %s (%s) is not installed" % (path, what))
    return found


def tail(path, lines=30, skip=None):
    """The last lines of a log, without those `skip` matches."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return
    if skip:
        text = [l for l in text if not skip.search(l)]
    print("--- last lines of %s ---" % path)
    for line in text[-lines:]:
        print(line[:400])


# quayd's lines for answered requests below 500: they would crowd out the rest.
ROUTINE_REQUEST = re.compile(r"component=http msg=request .* status=[1-4]\d\d ")


# --- processes -------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Everything the test starts, each in a process group of its own, so
    that cleanup reaches children too (nginx workers, PostgreSQL backends)."""

    def __init__(self):
        self.running = []  # (name, Popen, gentle stop signal)

    def start(self, name, argv, out, err, stop_signal=signal.SIGKILL, **kw):
        with open(out, "ab") as o, open(err, "ab") as e:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=o, stderr=e,
                                 start_new_session=True, **kw)
        self.running.append((name, p, stop_signal))
        return p

    def kill(self, p, sig=signal.SIGKILL, wait=10):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)
        self.running = [r for r in self.running if r[1] is not p]

    def stop_all(self):
        for name, p, sig in reversed(list(self.running)):
            try:
                self.kill(p, sig, wait=10)
            except Exception as e:  # keep stopping the others
                print("cleanup: stopping %s failed: %s" % (name, e))


def run(argv, timeout=60, input_text=None, **kw):
    """A short command; its output is returned, a failure raises."""
    p = subprocess.run(argv, input=input_text, capture_output=True, text=True, timeout=timeout,
                       **kw)
    if p.returncode != 0:
        raise RuntimeError("%s exited %d: %s %s" % (" ".join(argv[:4]), p.returncode,
                                                    p.stdout[-800:], p.stderr[-800:]))
    return p.stdout


def wait_until(what, predicate, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except (OSError, http.client.HTTPException):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


# --- HTTP ------------------------------------------------------------------------


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        return self.headers.get(name.lower(), "")


def call(addr, method, path, headers=None, body=None, timeout=60):
    """One request on a fresh connection to addr ("host:port")."""
    host, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def granted(token, repo):
    """The actions a registry token grants on repo."""
    for entry in jwt_claims(token).get("access", []):
        if entry.get("type") == "repository" and entry.get("name") == repo:
            return set(entry.get("actions", []))
    return set()


def fetch_token(addr, service, user, password, scope):
    q = urllib.parse.urlencode({"service": service, "scope": scope})
    r = call(addr, "GET", "/v2/auth?" + q, {"Authorization": basic(user, password)})
    if r.status != 200:
        raise RuntimeError("GET /v2/auth on %s as %s: %d %s" % (addr, user, r.status, r.body[:200]))
    return json.loads(r.body)["token"]


def random_bytes(size, seed):
    """Incompressible and reproducible: SHA-256 of seed/counter, 32 bytes at a time."""
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block * 512  # 16 KiB per hash: fast enough for 64 MiB
    return bytes(out[:size])


class Image:
    """An OCI image made in memory: config + layers, and its manifest."""

    def __init__(self, layers):
        self.layers = layers
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "rootfs": {"type": "layers",
                                        "diff_ids": [sha256(l) for l in layers]}}).encode()
        self.config = config
        self.manifest = json.dumps({
            "schemaVersion": 2, "mediaType": MT_MANIFEST,
            "config": {"mediaType": MT_CONFIG, "digest": sha256(config), "size": len(config)},
            "layers": [{"mediaType": MT_LAYER, "digest": sha256(l), "size": len(l)}
                       for l in layers]}).encode()
        self.digest = sha256(self.manifest)

    def blobs(self):
        return [self.config] + list(self.layers)


class RegistryError(RuntimeError):
    def __init__(self, what, response):
        super().__init__("%s: %d %s" % (what, response.status, response.body[:300]))
        self.response = response


class Client:
    """A small Distribution API client with token auth (tokens cached per scope)."""

    def __init__(self, addr, service, user, password):
        self.addr, self.service, self.user, self.password = addr, service, user, password
        self.tokens = {}
        self.lock = threading.Lock()

    def token(self, repo, actions="pull,push,delete", token_addr=None):
        key = (repo, actions)
        with self.lock:
            if key not in self.tokens:
                self.tokens[key] = fetch_token(token_addr or self.addr, self.service, self.user,
                                               self.password,
                                               "repository:%s:%s" % (repo, actions))
            return self.tokens[key]

    def req(self, method, path, repo, headers=None, body=None, *, actions="pull,push,delete",
            addr=None, timeout=120):
        h = {"Authorization": "Bearer " + self.token(repo, actions)}
        h.update(headers or {})
        return call(addr or self.addr, method, path, h, body, timeout)

    def push_blob(self, repo, data):
        """POST a session, PUT the bytes with ?digest= (a monolithic upload)."""
        r = self.req("POST", "/v2/%s/blobs/uploads/" % repo, repo, body=b"")
        if r.status != 202:
            raise RegistryError("POST blobs/uploads in %s" % repo, r)
        loc = urllib.parse.urlsplit(r.header("Location"))
        sep = "&" if loc.query else "?"
        path = loc.path + ("?" + loc.query if loc.query else "") + sep + "digest=" + sha256(data)
        r = self.req("PUT", path, repo, {"Content-Type": "application/octet-stream"}, data)
        if r.status != 201:
            raise RegistryError("PUT blob %s in %s" % (sha256(data)[:19], repo), r)

    def push_manifest(self, repo, ref, body, media_type=MT_MANIFEST):
        r = self.req("PUT", "/v2/%s/manifests/%s" % (repo, ref), repo,
                     {"Content-Type": media_type}, body)
        if r.status != 201:
            raise RegistryError("PUT manifest %s:%s" % (repo, ref), r)
        return r.header("Docker-Content-Digest")

    def push_image(self, repo, tag, image):
        for blob in image.blobs():
            self.push_blob(repo, blob)
        return self.push_manifest(repo, tag, image.manifest)

    def verify(self, repo, ref, addr=None):
        """Pulls ref (manifest or index, recursively) and every blob; returns a
        list of problems, empty when everything hashes to its digest."""
        r = self.req("GET", "/v2/%s/manifests/%s" % (repo, ref), repo, {"Accept": ACCEPT},
                     actions="pull", addr=addr)
        if r.status != 200:
            return ["GET manifest %s:%s: %d %s" % (repo, ref, r.status, r.body[:200])]
        problems = []
        if ref.startswith("sha256:") and sha256(r.body) != ref:
            problems.append("manifest %s has digest %s" % (ref, sha256(r.body)))
        doc = json.loads(r.body)
        if "manifests" in doc:
            for child in doc["manifests"]:
                problems += self.verify(repo, child["digest"], addr)
            return problems
        for desc in [doc["config"]] + doc.get("layers", []):
            b = self.req("GET", "/v2/%s/blobs/%s" % (repo, desc["digest"]), repo,
                         actions="pull", addr=addr)
            if b.status != 200:
                problems.append("GET blob %s in %s: %d" % (desc["digest"], repo, b.status))
            elif sha256(b.body) != desc["digest"] or len(b.body) != desc["size"]:
                problems.append("blob %s in %s: %d bytes hashing to %s" % (
                    desc["digest"], repo, len(b.body), sha256(b.body)))
        return problems


# --- the services ----------------------------------------------------------------


def as_nobody():
    """Popen keywords that run a program as `nobody` when we are root
    (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return {}
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


class Postgres:
    def __init__(self, work, procs):
        self.dir = os.path.join(work, "pg")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.procs = procs
        self.log = os.path.join(self.dir, "postgres.log")
        self.db = "quay"
        os.mkdir(self.dir, 0o700)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.dir, nobody.pw_uid, nobody.pw_gid)

    @property
    def uri(self):
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, self.db)

    def start(self):
        run([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-A", "trust", "-U", "postgres",
             "-E", "UTF8", "--locale=C", "--no-sync"], timeout=120, cwd=self.dir, **as_nobody())
        # Durability of a throwaway database is not under test: no fsync.
        argv = [os.path.join(PG_BIN, "postgres"), "-D", self.data, "-p", str(self.port),
                "-k", self.dir, "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300",
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        # SIGINT is PostgreSQL's fast shutdown: no shared memory left behind.
        self.proc = self.procs.start("postgres", argv, self.log, self.log,
                                     stop_signal=signal.SIGINT, cwd=self.dir, **as_nobody())
        isready = [os.path.join(PG_BIN, "pg_isready"), "-q", "-U", "postgres", "-h",
                   "127.0.0.1", "-p", str(self.port)]
        wait_until("PostgreSQL to accept connections",
                   lambda: subprocess.run(isready, timeout=5).returncode == 0, 60, 0.2)
        run([os.path.join(PG_BIN, "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
             "-U", "postgres", self.db])


class Quayd:
    """One `quayd serve` on a fixed port of its own (a restart keeps it, so
    the balancer's upstream stays valid)."""

    def __init__(self, index, binary, config, work, procs):
        self.index, self.binary, self.config, self.procs = index, binary, config, procs
        self.port = free_port()
        self.addr = "127.0.0.1:%d" % self.port
        self.data = os.path.join(work, "data.%d" % index)
        self.work = work
        self.proc = None
        self.starts = 0

    @property
    def err(self):
        return os.path.join(self.work, "quayd.%d.%d.err" % (self.index, self.starts))

    def start(self):
        self.starts += 1
        self.out = os.path.join(self.work, "quayd.%d.%d.out" % (self.index, self.starts))
        argv = [self.binary, "serve", "--config", self.config, "--listen", self.addr,
                "--data-dir", self.data]
        self.proc = self.procs.start("quayd %d" % self.index, argv, self.out, self.err)

    def wait_ready(self, timeout=60):
        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("quayd %d exited with status %s" % (self.index,
                                                                      self.proc.returncode))
            with open(self.out) as f:
                if "listening on" not in f.read():
                    return False
            # 401: serving, and asking for a token (503 while starting).
            # Not /readyz: it is checked on its own (Bed.start).
            return call(self.addr, "GET", "/v2/", timeout=5).status == 401
        wait_until("quayd %d to serve /v2/" % self.index, ready, timeout)

    def kill(self):
        self.procs.kill(self.proc, signal.SIGKILL)


def nginx_config(prefix, port, upstreams):
    servers = "\n".join(
        # One failure takes an instance out for 2 s; then nginx tries it again.
        "    server %s max_fails=1 fail_timeout=2s;" % a for a in upstreams)
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  client_body_temp_path {prefix}/tmp/body;
  proxy_temp_path {prefix}/tmp/proxy;
  fastcgi_temp_path {prefix}/tmp/fastcgi;
  uwsgi_temp_path {prefix}/tmp/uwsgi;
  scgi_temp_path {prefix}/tmp/scgi;
  log_format upstream '$request_method $uri $status upstream=$upstream_addr '
                      'upstream_status=$upstream_status time=$request_time';
  access_log {prefix}/access.log upstream;

  upstream quayd {{
    # A shared zone: every worker sees the same round-robin position and the
    # same failed peers.
    zone quayd 64k;
{servers}
    keepalive 32;
    # Below quayd's 5 s keep-alive timeout, so nginx never reuses a
    # connection quayd is closing (a request lost on a race).
    keepalive_timeout 4s;
  }}

  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 0;
    location / {{
      proxy_pass http://quayd;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # The client's Host, so quayd's token realm and Location headers name
      # the balancer.
      proxy_set_header Host $http_host;
      # Stream blobs both ways: quayd sees a PATCH as it arrives, and nginx
      # holds no 64 MiB body of its own.
      proxy_request_buffering off;
      proxy_buffering off;
      # A dead instance refuses the connection ("error"): try the next one,
      # for POST and PATCH too (nothing reached the dead one, and a request
      # on a cached connection it reset may be retried). A body already
      # streamed is never resent: unbuffered, nginx has no copy.
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 2s;
      proxy_send_timeout 60s;
      proxy_read_timeout 60s;
      # For the test only: which instance answered.
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"""


class Nginx:
    def __init__(self, work, procs, port, upstreams):
        self.prefix = os.path.join(work, "nginx")
        os.makedirs(os.path.join(self.prefix, "tmp"))
        self.port = port
        self.addr = "127.0.0.1:%d" % self.port
        self.conf = os.path.join(self.prefix, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(nginx_config(self.prefix, self.port, upstreams))
        self.procs = procs

    def start(self):
        argv = [NGINX, "-e", os.path.join(self.prefix, "error.log"), "-c", self.conf,
                "-p", self.prefix, "-g", "daemon off;"]
        self.proc = self.procs.start("nginx", argv, os.path.join(self.prefix, "stdout"),
                                     os.path.join(self.prefix, "stderr"))
        wait_until("nginx to answer", lambda: call(self.addr, "GET", "/healthz", timeout=5)
                   .status == 200, 30)

    def access_lines(self):
        with open(os.path.join(self.prefix, "access.log")) as f:
            return f.read().splitlines()


# --- the test bed ----------------------------------------------------------------


class Bed:
    """The running services and what the steps learned (acknowledged pushes)."""

    def __init__(self, quayd_bin, work, procs):
        self.work, self.procs, self.quayd_bin = work, procs, quayd_bin
        self.password = {OWNER: "alice-" + os.urandom(8).hex(),
                         READER: "bob-" + os.urandom(8).hex()}
        self.acknowledged = []  # (repo, reference) that must keep pulling

    def start(self):
        endpoint = os.environ["QUAY_TEST_S3_ENDPOINT"]
        s3 = urllib.parse.urlsplit(endpoint)
        self.pg = Postgres(self.work, self.procs)
        self.pg.start()
        log("PostgreSQL on 127.0.0.1:%d" % self.pg.port)

        self.config = os.path.join(self.work, "config.yaml")
        # The balancer's port goes into the config (SERVER_HOSTNAME: the
        # token realm and service), so it is chosen first.
        lb_port = free_port()
        self.service = "127.0.0.1:%d" % lb_port
        self.write_config(s3)
        self.instances = [Quayd(i + 1, self.quayd_bin, self.config, self.work, self.procs)
                          for i in range(INSTANCES)]
        # All at once, as a deployment rolls them out: the schema migration
        # on the shared database must cope.
        for q in self.instances:
            q.start()
        for q in self.instances:
            q.wait_ready()
        log("quayd instances: %s" % ", ".join(q.addr for q in self.instances))

        self.nginx = Nginx(self.work, self.procs, lb_port, [q.addr for q in self.instances])
        self.nginx.start()
        log("nginx balancer on %s" % self.nginx.addr)

        for user in (OWNER, READER):
            self.quayd_cli(["user", "add", user], input_text=self.password[user] + "\n")
        self.lb = Client(self.nginx.addr, self.service, OWNER, self.password[OWNER])

    def write_config(self, s3):
        q = json.dumps  # a JSON string is a YAML scalar: no quoting surprises
        # A bucket per run: GC deletes what its database does not know, so
        # two runs on one gateway must not share a bucket.
        self.bucket = "quay-multi-" + os.urandom(4).hex()
        env = os.environ
        with open(self.config, "w") as f:
            f.write(f"""DB_URI: {q(self.pg.uri)}
DISTRIBUTED_STORAGE_CONFIG:
  rgw:
    - RadosGWStorage
    - hostname: {q(s3.hostname)}
      port: {s3.port}
      is_secure: false
      access_key: {q(env["QUAY_TEST_S3_ACCESS_KEY"])}
      secret_key: {q(env["QUAY_TEST_S3_SECRET_KEY"])}
      bucket_name: {q(self.bucket)}
      storage_path: /registry
      create_bucket: true
DISTRIBUTED_STORAGE_PREFERENCE: [rgw]
SECRET_KEY: {q(os.urandom(24).hex())}
DATABASE_SECRET_KEY: {q(os.urandom(24).hex())}
SERVER_HOSTNAME: {q(self.service)}
password_hash_cost: minimum
gc_interval: 0
fsync: false
log_level: info
""")

    def quayd_cli(self, args, input_text=None):
        """An admin command on the shared database (through the config's DB_URI)."""
        argv = [self.quayd_bin] + args + ["--config", self.config, "--data-dir",
                                          self.instances[0].data]
        return run(argv, input_text=input_text, timeout=60)

    def client(self, addr, user=OWNER):
        return Client(addr, self.service, user, self.password[user])

    def quayd_logs(self):
        return sorted(os.path.join(self.work, n) for n in os.listdir(self.work)
                      if n.startswith("quayd.") and n.endswith((".err", ".out")))


def dump_logs(work):
    for name in sorted(os.listdir(work)):
        if name.startswith("quayd.") and name.endswith(".err"):
            tail(os.path.join(work, name), 25, ROUTINE_REQUEST)
    tail(os.path.join(work, "nginx", "error.log"), 15)
    tail(os.path.join(work, "pg", "postgres.log"), 15)


# --- scenario a: skopeo and podman ---------------------------------------------------


def layout_blobs(layout):
    d = os.path.join(layout, "blobs", "sha256")
    return {n: os.path.join(d, n) for n in os.listdir(d)}


def same_blobs(pushed, pulled):
    """Every blob of the pulled layout is a pushed one, byte for byte."""
    src, got = layout_blobs(pushed), layout_blobs(pulled)
    bad = [n for n, p in got.items()
           if n not in src or open(p, "rb").read() != open(src[n], "rb").read()]
    return got and not bad


def step_a_clients(bed):
    """skopeo and podman through the balancer."""
    need_program("skopeo", "apt-get install skopeo")
    w = os.path.join(bed.work, "clients")
    os.makedirs(w)
    images = os.path.join(w, "images")
    summary = json.loads(run([sys.executable, os.path.join(HERE, "make_images.py"), images]))
    policy = os.path.join(w, "policy.json")
    with open(policy, "w") as f:
        f.write('{"default": [{"type": "insecureAcceptAnything"}]}')
    regconf = os.path.join(w, "registries.conf")
    open(regconf, "w").close()
    auth = os.path.join(w, "auth.json")
    with open(auth, "w") as f:
        f.write("{}")
    env = dict(os.environ, REGISTRY_AUTH_FILE=auth, CONTAINERS_REGISTRIES_CONF=regconf)
    lb = bed.nginx.addr
    creds = "%s:%s" % (OWNER, bed.password[OWNER])
    access_before = len(bed.nginx.access_lines())

    def skopeo(*args):
        run(["skopeo", "--policy", policy, "--registries-conf", regconf, "copy",
             "--retry-times", "0", "--src-tls-verify=false", "--dest-tls-verify=false"]
            + list(args), timeout=120, env=env)

    skopeo("--dest-creds", creds, "oci:%s/image:latest" % images,
           "docker://%s/alice/skopeo:v1" % lb)
    skopeo("--all", "--dest-creds", creds, "oci:%s/index:latest" % images,
           "docker://%s/alice/multi:v1" % lb)
    check(True, "skopeo pushed an image and a multi-arch index through the balancer")
    for name, layout in (("skopeo", "image"), ("multi", "index")):
        out = os.path.join(w, "pull-" + name)
        all_flag = ["--all"] if layout == "index" else []
        skopeo(*all_flag, "--src-creds", creds, "docker://%s/alice/%s:v1" % (lb, name),
               "oci:%s:v1" % out)
        with open(os.path.join(out, "index.json")) as f:
            digest = json.load(f)["manifests"][0]["digest"]
        want = summary["image"]["manifest"] if layout == "image" else summary["index"]["index"]
        check(digest == want, "skopeo pulled alice/%s:v1 with the pushed digest %s" % (name, want))
        check(same_blobs(os.path.join(images, layout), out),
              "every blob skopeo pulled of alice/%s:v1 is a pushed one, byte for byte" % name)
        bed.acknowledged.append(("alice/%s" % name, "v1"))

    # A robot with write on one repository pushes through the balancer too.
    # (quayd repo grant needs the repository: the owner creates it first.)
    bed.lb.push_image("alice/robot", "seed", Image([b"robot seed"]))
    robot_token = bed.quayd_cli(["robot", "add", "alice+ci"]).strip().split()[-1]
    bed.quayd_cli(["repo", "grant", "alice/robot", "robot:alice+ci", "write"])
    skopeo("--dest-creds", "alice+ci:" + robot_token, "oci:%s/image:latest" % images,
           "docker://%s/alice/robot:v1" % lb)
    check(True, "a robot (quayd robot add, repo grant) pushed alice/robot:v1 through the balancer")
    bed.acknowledged.append(("alice/robot", "v1"))

    used = set(re.findall(r"upstream=(\S+)", "\n".join(bed.nginx.access_lines()[access_before:])))
    used = {a for u in used for a in u.split(",") if a.strip() != "-"}
    check(all(q.addr in {u.strip() for u in used} for q in bed.instances),
          "the balancer spread skopeo's requests over all three instances (%s)" % sorted(used))

    podman_roundtrip(bed, w, images, summary, env)


def podman_roundtrip(bed, w, images, summary, env):
    if not shutil.which("podman"):
        if STRICT:
            check(False, "podman is not installed")
        else:
            print("SKIP: podman is not installed")
        return
    # Short paths: podman refuses a runroot over 50 characters.
    proot = os.path.join(bed.work, "pm")
    os.makedirs(os.path.join(proot, "tmp"))
    p = ["podman", "--root", os.path.join(proot, "root"), "--runroot",
         os.path.join(proot, "run"), "--storage-driver", "vfs", "--cgroup-manager",
         "cgroupfs", "--events-backend", "file", "--tmpdir", os.path.join(proot, "tmp")]
    probe = subprocess.run(p + ["images"], capture_output=True, text=True, env=env, timeout=60)
    if probe.returncode != 0:
        msg = "podman cannot run here: " + probe.stderr[-300:]
        if STRICT:
            check(False, msg)
        else:
            print("SKIP: " + msg)
        return
    lb = bed.nginx.addr
    image_id = summary["image"]["config"].split(":", 1)[1]
    policy = os.path.join(w, "policy.json")
    run(p + ["pull", "--signature-policy", policy, "oci:%s/image:latest" % images], env=env,
        timeout=120)
    run(p + ["login", "--tls-verify=false", "-u", OWNER, "--password-stdin", lb],
        input_text=bed.password[OWNER] + "\n", env=env)
    run(p + ["push", "--tls-verify=false", "--format", "oci", image_id,
             "docker://%s/alice/podman:v1" % lb], env=env, timeout=120)
    check(True, "podman login and push of alice/podman:v1 through the balancer")
    bed.acknowledged.append(("alice/podman", "v1"))
    run(p + ["rmi", "--all", "--force"], env=env, timeout=60)
    run(p + ["pull", "--tls-verify=false", "--signature-policy", policy,
             "docker://%s/alice/podman:v1" % lb], env=env, timeout=120)
    ids = run(p + ["images", "-q", "--no-trunc"], env=env).split()
    check([i.replace("sha256:", "") for i in ids] == [image_id],
          "podman pulled alice/podman:v1 back with the same image id (%s)" % ids)


# --- scenario b: a chunked upload across instances -----------------------------------------


def chunked_upload(bed, repo, data, chunks, order):
    """POST on order[0], one PATCH per chunk on the next instances, the PUT
    ?digest= (carrying the last piece, if any) on the one after; each request
    on an instance's own port, following the relative Location."""
    client = bed.client(bed.instances[0].addr)
    inst = [bed.instances[i - 1] for i in order]
    r = client.req("POST", "/v2/%s/blobs/uploads/" % repo, repo, body=b"", addr=inst[0].addr)
    require(r.status == 202, "POST /v2/%s/blobs/uploads/ on instance %d: 202 (got %d)" % (
        repo, inst[0].index, r.status))
    location = r.header("Location")
    require(location.startswith("/"), "the upload Location is relative: %s" % location)
    offset = 0
    for n, size in enumerate(chunks):
        q = inst[1 + n]
        piece = data[offset:offset + size]
        r = client.req("PATCH", location, repo, {
            "Content-Type": "application/octet-stream",
            "Content-Range": "%d-%d" % (offset, offset + size - 1)}, piece, addr=q.addr)
        offset += size
        require(r.status == 202 and r.header("Range") == "0-%d" % (offset - 1),
                "PATCH bytes %d-%d on instance %d: 202, Range 0-%d (got %d, %r)" % (
                    offset - size, offset - 1, q.index, offset - 1, r.status, r.header("Range")))
        location = r.header("Location") or location
    last = inst[1 + len(chunks)]
    status = client.req("GET", location, repo, addr=last.addr)
    require(status.status == 204 and status.header("Range") == "0-%d" % (offset - 1),
            "GET upload status on instance %d reports the %d bytes written elsewhere" % (
                last.index, offset))
    sep = "&" if "?" in location else "?"
    r = client.req("PUT", location + sep + "digest=" + sha256(data), repo,
                   {"Content-Type": "application/octet-stream"}, data[offset:], addr=last.addr)
    require(r.status == 201 and r.header("Docker-Content-Digest") == sha256(data),
            "PUT ?digest= on instance %d (last %d bytes): 201 with the digest (got %d %s)" % (
                last.index, len(data) - offset, r.status, r.body[:200]))


def step_b_chunked(bed):
    """One upload, each request on another instance."""
    repo = "alice/chunked"
    data = random_bytes(2 * CHUNK + 777_777, "chunked")
    chunked_upload(bed, repo, data, [CHUNK, CHUNK], [1, 2, 3, 1])
    # And a second rotation: three PATCHes (the last one short), an empty PUT.
    data2 = random_bytes(2 * CHUNK + 123_457, "chunked-2")
    chunked_upload(bed, repo, data2, [CHUNK, CHUNK, 123_457], [2, 3, 1, 2, 3])
    for blob in (data, data2):
        for q in bed.instances:
            r = bed.client(q.addr).req("GET", "/v2/%s/blobs/%s" % (repo, sha256(blob)), repo,
                                       actions="pull")
            check(r.status == 200 and r.body == blob and
                  r.header("Docker-Content-Digest") == sha256(blob),
                  "GET blob %s (%d bytes) on instance %d: the same bytes and digest" % (
                      sha256(blob)[:19], len(blob), q.index))
    # A manifest over the two blobs, so that they stay referenced (step e's GC).
    image = Image([data, data2])
    on_2 = bed.client(bed.instances[1].addr)
    on_2.push_blob(repo, image.config)
    on_2.push_manifest(repo, "v1", image.manifest)
    bed.acknowledged.append((repo, "v1"))


# --- scenario c: tokens ------------------------------------------------------------------


def step_c_tokens(bed):
    """A token from one instance works on every other."""
    repo = "alice/tokens"
    bed.client(bed.instances[0].addr).push_image(repo, "v1", Image([b"tokens"]))
    bed.acknowledged.append((repo, "v1"))
    for issuer in bed.instances:
        token = fetch_token(issuer.addr, bed.service, OWNER, bed.password[OWNER],
                            "repository:%s:pull,push" % repo)
        check(granted(token, repo) >= {"pull", "push"},
              "instance %d issues a token granting pull,push on %s" % (issuer.index, repo))
        for q in bed.instances:
            r = call(q.addr, "GET", "/v2/%s/tags/list" % repo, {"Authorization": "Bearer " + token})
            check(r.status == 200 and json.loads(r.body).get("tags") == ["v1"],
                  "instance %d accepts instance %d's token: GET tags/list 200 (got %d)" % (
                      q.index, issuer.index, r.status))


# --- scenario d: permissions -----------------------------------------------------------


def bob_can_pull(bed, q, repo, tag="v1"):
    """(the fresh token's pull grant, the manifest GET status) as bob on q."""
    token = fetch_token(q.addr, bed.service, READER, bed.password[READER],
                        "repository:%s:pull" % repo)
    r = call(q.addr, "GET", "/v2/%s/manifests/%s" % (repo, tag),
             {"Authorization": "Bearer " + token, "Accept": ACCEPT})
    return "pull" in granted(token, repo), r.status, token


def wait_for_pull(bed, repo, instances, allowed, limit=1.0):
    """Waits until bob's pull on each instance is allowed (a fresh token with
    pull, manifest GET 200) or denied (no pull in a fresh token, GET refused).
    Returns (seconds taken or None after `limit`, the instances still not so)."""
    def settled(q):
        grant, status, _ = bob_can_pull(bed, q, repo)
        return (grant and status == 200) if allowed else (not grant and status != 200)

    start = time.monotonic()
    pending = list(instances)
    while True:
        pending = [q for q in pending if not settled(q)]
        if not pending:
            return time.monotonic() - start, []
        if time.monotonic() - start > limit:
            return None, pending
        time.sleep(0.05)


def api_session(addr, user, password):
    """Signs in through the REST API: (cookie header, CSRF token)."""
    r = call(addr, "POST", "/api/v1/signin", {"Content-Type": "application/json"},
             json.dumps({"username": user, "password": password}).encode())
    require(r.status == 200, "POST /api/v1/signin as %s on %s: 200 (got %d %s)" % (
        user, addr, r.status, r.body[:200]))
    cookie = r.header("Set-Cookie").split(";", 1)[0]
    csrf = r.header("X-Next-CSRF-Token")
    require(cookie.startswith("quay_session=") and csrf, "signin gives a session and a CSRF token")
    return cookie, csrf


def step_d_permissions(bed):
    """Grant and revoke apply on the other instances within a second."""
    repo = "alice/shared"
    image = Image([random_bytes(200_000, "shared")])
    bed.lb.push_image(repo, "v1", image)
    bed.acknowledged.append((repo, "v1"))
    i1, i2, i3 = bed.instances
    # Every instance looks first, so a cached "no access" would have to be
    # forgotten too.
    for q in bed.instances:
        g, s, _ = bob_can_pull(bed, q, repo)
        check(not g and s in (401, 403, 404),
              "before the grant bob gets no pull on instance %d (grant %s, GET %d)" % (
                  q.index, g, s))

    bed.quayd_cli(["repo", "grant", repo, "user:" + READER, "read"])
    took, pending = wait_for_pull(bed, repo, bed.instances, allowed=True)
    check(took is not None, "quayd repo grant read: bob pulls on every instance within 1 s (%s)" % (
        "%.2f s" % took if took is not None else "not yet on %s" % [q.index for q in pending]))
    _, _, old_token = bob_can_pull(bed, i2, repo)

    cookie, csrf = api_session(i1.addr, OWNER, bed.password[OWNER])
    r = call(i1.addr, "DELETE", "/api/v1/repository/%s/permissions/user/%s" % (repo, READER),
             {"Cookie": cookie, "X-CSRF-Token": csrf})
    require(r.status in (200, 204), "DELETE /api/v1/repository/%s/permissions/user/%s on "
            "instance 1: %d" % (repo, READER, r.status))
    took, pending = wait_for_pull(bed, repo, [i2, i3], allowed=False)
    check(took is not None, "revoked on instance 1: bob's fresh token lacks pull and his manifest "
          "GET fails on instances 2 and 3 within 1 s (%s)" % (
              "%.2f s" % took if took is not None else "still allowed on %s" % [
                  q.index for q in pending]))
    # Quay's registry tokens carry their grant until they expire; what does an
    # old one do here? Reported, not judged.
    for q in (i2, i3):
        r = call(q.addr, "GET", "/v2/%s/manifests/v1" % repo,
                 {"Authorization": "Bearer " + old_token, "Accept": ACCEPT})
        log("info: bob's token issued before the revoke, GET manifest on instance %d: %d "
            "(Quay honours such a token until it expires)" % (q.index, r.status))

    # The REST API of another instance sees the change too.
    cookie3, _ = api_session(i3.addr, OWNER, bed.password[OWNER])
    r = call(i3.addr, "GET", "/api/v1/repository/%s/permissions/user/" % repo, {"Cookie": cookie3})
    perms = json.loads(r.body).get("permissions", {}) if r.status == 200 else None
    check(perms is not None and READER not in perms,
          "instance 3's REST API lists no permission for bob any more (%d %s)" % (
              r.status, sorted(perms) if perms is not None else r.body[:200]))


# --- scenario e: GC beside pushes -----------------------------------------------------------


class GcLoop(threading.Thread):
    """`quayd gc` with both windows 0, again and again, until stopped."""

    def __init__(self, bed):
        super().__init__(daemon=True)
        self.bed = bed
        self.stop = threading.Event()
        self.runs = []  # (exit status, output)
        # A folder of its own, as on another machine (must exist: quayd gc
        # refuses a mistyped path).
        self.data = os.path.join(bed.work, "data.gc")
        os.makedirs(self.data, exist_ok=True)

    def once(self):
        argv = [self.bed.quayd_bin, "gc", "--config", self.bed.config, "--data-dir", self.data,
                "--protection-window", "0", "--tag-recovery-window", "0"]
        try:
            started = time.monotonic()
            p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
            self.runs.append((p.returncode, (p.stdout + p.stderr).strip()))
            with open(os.path.join(self.bed.work, "gc-runs.log"), "a") as f:
                f.write("%.2fs rc=%d %s\n" % (time.monotonic() - started, p.returncode,
                                              self.runs[-1][1]))
        except subprocess.TimeoutExpired:
            self.runs.append((-1, "quayd gc did not finish within 60 s"))

    def run(self):
        while not self.stop.is_set():
            self.once()


def counts(line):
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def pusher(bed, n, rounds, acked, notes, base):
    """Pushes rounds images into alice/gc-N (tag vI) and moves tag `scratch`
    each round (the image it left becomes garbage)."""
    client = Client(bed.nginx.addr, bed.service, OWNER, bed.password[OWNER])
    repo = "alice/gc-%d" % n
    for i in range(rounds):
        for tag in ("v%d" % i, "scratch"):
            image = Image([base, random_bytes(300_000, "gc-%d-%d-%s" % (n, i, tag))])
            # Up to 20 tries: with windows 0 a try is refused almost half the
            # time (below), and 6 would fail a run in five.
            for attempt in range(20):
                try:
                    client.push_image(repo, tag, image)
                    acked.append((repo, tag, image))
                    break
                except RegistryError as e:
                    # With --protection-window 0 a blob uploaded a moment ago
                    # but not yet in a manifest is garbage: the manifest is
                    # then refused (not acknowledged), and the client pushes
                    # again. Anything else is a failure.
                    if e.response.status == 400 and b"BLOB_UNKNOWN" in e.response.body:
                        notes.append("%s:%s attempt %d: %s" % (repo, tag, attempt + 1, e))
                        continue
                    notes.append("ERROR %s:%s: %s" % (repo, tag, e))
                    return
                except Exception as e:
                    notes.append("ERROR %s:%s: %r" % (repo, tag, e))
                    return
            else:
                notes.append("ERROR %s:%s: refused 20 times" % (repo, tag))


def step_e_gc(bed):
    """Online GC on the shared database and bucket beside concurrent pushes."""
    lb = bed.lb
    base = random_bytes(1 * MIB, "gc-base")
    lb.push_image("alice/gc-base", "v1", Image([base]))  # keeps `base` referenced
    bed.acknowledged.append(("alice/gc-base", "v1"))
    # Garbage made before the GC: a tag deleted.
    junk = Image([random_bytes(400_000, "gc-junk")])
    lb.push_image("alice/gc-junk", "old", junk)
    r = lb.req("DELETE", "/v2/alice/gc-junk/manifests/old", "alice/gc-junk")
    require(r.status == 202, "DELETE tag alice/gc-junk:old: 202 (got %d)" % r.status)

    gc = GcLoop(bed)
    gc.start()
    acked, notes, threads = [], [], []
    wait_until("the first gc run", lambda: gc.runs, 60)
    for n in range(3):
        t = threading.Thread(target=pusher, args=(bed, n, 5, acked, notes, base), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join(timeout=120)
    gc.stop.set()
    gc.join(timeout=70)
    gc.once()  # one more with nothing in flight: collects the last moved tags
    for note in [n for n in notes if n.startswith("ERROR")] + notes[:2]:
        log("pusher: " + note[:300])
    check(not any(t.is_alive() for t in threads), "the three pushers finished within 120 s")
    check(not [n for n in notes if n.startswith("ERROR")],
          "every push through the balancer was acknowledged (%d images, %d refused manifest "
          "attempts retried)" % (len(acked), len(notes)))
    bad_runs = [(rc, out) for rc, out in gc.runs if rc != 0]
    check(not bad_runs, "%d quayd gc runs beside the pushes, all exit 0%s" % (
        len(gc.runs), "" if not bad_runs else ": " + repr(bad_runs[:3])))
    total = {}
    for _, out in gc.runs:
        for k, v in counts(out).items():
            total[k] = total.get(k, 0) + v
    log("gc totals: %s" % total)

    # Every acknowledged push pulls back completely (the last one per tag).
    final = {}
    for repo, tag, image in acked:
        final[(repo, tag)] = image
    problems = []
    for (repo, tag), image in final.items():
        problems += lb.verify(repo, tag)
        if lb.verify(repo, image.digest):
            problems.append("%s@%s no longer pulls" % (repo, image.digest))
    check(not problems, "all %d acknowledged tags pull back completely after the GC loop%s" % (
        len(final), "" if not problems else ": " + "; ".join(problems[:5])))
    for repo, tag in final:
        bed.acknowledged.append((repo, tag))

    # The garbage is gone: the deleted tag's manifest and layer, and what the
    # moved `scratch` tags pointed at before.
    r = lb.req("GET", "/v2/alice/gc-junk/manifests/" + junk.digest, "alice/gc-junk",
               {"Accept": ACCEPT}, actions="pull")
    b = lb.req("GET", "/v2/alice/gc-junk/blobs/" + sha256(junk.layers[0]), "alice/gc-junk",
               actions="pull")
    check(r.status == 404 and b.status == 404,
          "the deleted tag's manifest and layer are collected (GET %d, %d)" % (r.status, b.status))
    moved = [(repo, image) for repo, tag, image in acked
             if tag == "scratch" and final[(repo, tag)] is not image]
    gone = [1 for repo, image in moved
            if lb.req("GET", "/v2/%s/manifests/%s" % (repo, image.digest), repo,
                      {"Accept": ACCEPT}, actions="pull").status == 404]
    check(moved and len(gone) == len(moved),
          "%d of %d images a moved tag left behind are collected" % (len(gone), len(moved)))
    check(total.get("manifests_deleted", 0) >= 1 + len(moved)
          and total.get("blobs_deleted", 0) >= 1,
          "the gc runs report what they freed (manifests_deleted=%s blobs_deleted=%s)" % (
              total.get("manifests_deleted"), total.get("blobs_deleted")))


# --- scenario f: an instance killed mid-push ------------------------------------------------


def stream_patch(addr, path, token, data, on_progress):
    """A PATCH of data in 1 MiB writes; on_progress(bytes_sent) after each.
    Returns the status, or the exception that ended it."""
    host, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.putrequest("PATCH", path)
        for k, v in (("Authorization", "Bearer " + token),
                     ("Content-Type", "application/octet-stream"),
                     ("Content-Range", "0-%d" % (len(data) - 1)),
                     ("Content-Length", str(len(data)))):
            conn.putheader(k, v)
        conn.endheaders()
        view = memoryview(data)
        for off in range(0, len(data), MIB):
            conn.send(view[off:off + MIB])
            on_progress(off + MIB)
        r = conn.getresponse()
        r.read()
        return r.status, r.getheader("X-Upstream")
    except (OSError, http.client.HTTPException) as e:
        return e, None
    finally:
        conn.close()


def push_big(client, repo, tag, image):
    """The client's retry: the whole image through the balancer, the big
    layer streamed in one PATCH."""
    for blob in image.blobs():
        r = client.req("POST", "/v2/%s/blobs/uploads/" % repo, repo, body=b"")
        if r.status != 202:
            raise RegistryError("POST upload", r)
        loc = r.header("Location")
        status, _ = stream_patch(client.addr, loc, client.token(repo, "pull,push,delete"), blob,
                                 lambda n: None)
        if status != 202:
            raise RuntimeError("PATCH %d bytes: %r" % (len(blob), status))
        r = client.req("PUT", loc + "?digest=" + sha256(blob), repo, body=b"")
        if r.status != 201:
            raise RegistryError("PUT ?digest=", r)
    return client.push_manifest(repo, tag, image.manifest)


def resume_session(bed, repo, location, data, victim):
    """The session the dead instance was writing resumes on a living one from
    the offset it reports (acknowledged bytes only) and commits whole."""
    other = next(q for q in bed.instances if q is not victim)
    client = bed.client(other.addr)
    r = client.req("GET", location, repo)
    m = re.fullmatch(r"0-(\d+)", r.header("Range"))
    # "0-0" is the Distribution API's (ambiguous) way of saying "empty".
    offset = int(m.group(1)) + 1 if m and m.group(1) != "0" else 0
    check(r.status == 204 and offset <= len(data),
          "instance %d reports the dead instance's session: 204, Range %r" % (
              other.index, r.header("Range")))
    if r.status != 204:
        return
    rest = data[offset:]
    r = client.req("PATCH", location, repo, {
        "Content-Type": "application/octet-stream",
        "Content-Range": "%d-%d" % (offset, len(data) - 1)}, rest)
    if r.status == 202:
        r = client.req("PUT", location + "?digest=" + sha256(data), repo, body=b"")
    check(r.status == 201 and r.header("Docker-Content-Digest") == sha256(data),
          "the session resumed on instance %d from byte %d commits the 64 MiB blob (%d %s)" % (
              other.index, offset, r.status, r.body[:200]))


def step_f_kill(bed):
    """SIGKILL an instance while a 64 MiB PATCH streams to it through nginx."""
    lb = bed.lb
    repo = "alice/big"
    big = random_bytes(64 * MIB, "big")
    by_addr = {q.addr: q for q in bed.instances}
    # nginx hands requests to the upstreams in turn (one worker, a shared
    # zone): the one after the POST's is the PATCH's. It is checked below.
    r = lb.req("POST", "/v2/%s/blobs/uploads/" % repo, repo, body=b"")
    require(r.status == 202 and r.header("X-Upstream") in by_addr,
            "POST upload through the balancer: 202 from %s" % r.header("X-Upstream"))
    order = [q.addr for q in bed.instances]
    victim = by_addr[order[(order.index(r.header("X-Upstream")) + 1) % len(order)]]
    killed = []

    def kill_at_24_mib(sent):
        if sent >= 24 * MIB and not killed:
            log("SIGKILL instance %d after %d MiB of the PATCH" % (victim.index, sent // MIB))
            victim.kill()
            killed.append(time.monotonic())

    status, upstream = stream_patch(lb.addr, r.header("Location"),
                                    lb.token(repo, "pull,push,delete"), big, kill_at_24_mib)
    require(killed, "instance %d was killed mid-PATCH" % victim.index)
    check(status != 202, "the PATCH cut off by the kill is not acknowledged (%r, upstream %s)" % (
        status, upstream))
    # nginx writes the access log line after its answer: wait for it.
    patch_lines = []

    def patch_logged():
        patch_lines[:] = [l for l in bed.nginx.access_lines()
                          if l.startswith("PATCH /v2/%s/" % repo)]
        return bool(patch_lines)
    try:
        wait_until("the PATCH's access log line", patch_logged, 5)
    except RuntimeError:
        pass
    check(upstream == victim.addr or (patch_lines and victim.addr in patch_lines[-1]),
          "the balancer had sent the PATCH to instance %d (X-Upstream %s; log: %s)" % (
              victim.index, upstream, patch_lines[-1] if patch_lines else "no line"))

    resume_session(bed, repo, r.header("Location"), big, victim)

    # The client's retry through the balancer: a fresh upload, routed around
    # the dead instance.
    image = Image([big, random_bytes(100_000, "big-small")])
    started = time.monotonic()
    log_mark = len(bed.nginx.access_lines())
    try:
        digest = push_big(bed.lb, repo, "v1", image)
        ok = digest == image.digest
    except Exception as e:
        ok, digest = False, repr(e)
    check(ok, "the retried push of a 64 MiB image through the balancer succeeds in %.1f s (%s)" % (
        time.monotonic() - started, digest))
    # "upstream=A, B": nginx found A refusing and passed the request on.
    passed_on = [l for l in bed.nginx.access_lines()[log_mark:]
                 if "upstream=%s, " % victim.addr in l]
    log("info: %d request(s) of the retry passed on by nginx after instance %d refused them" % (
        len(passed_on), victim.index))
    problems = lb.verify(repo, "v1")
    check(not problems, "alice/big:v1 pulls back, 64 MiB hashing to its digest %s" % (
        "; ".join(problems)))
    problems = []
    for repo_, ref in bed.acknowledged:
        problems += lb.verify(repo_, ref)
    check(not problems, "all %d tags acknowledged before the kill still pull completely%s" % (
        len(bed.acknowledged), "" if not problems else ": " + "; ".join(problems[:5])))
    bed.acknowledged.append((repo, "v1"))

    # Restarted on its port, the instance serves again, alone and behind nginx.
    victim.start()
    victim.wait_ready()
    problems = bed.client(victim.addr).verify(repo, "v1")
    check(not problems, "restarted instance %d serves alice/big:v1, pushed while it was dead %s" % (
        victim.index, "; ".join(problems)))
    # nginx skips a failed server while now - checked <= fail_timeout, in
    # whole seconds of its cached clock, so 2 s can last nearly 3. Ask until
    # the instance is back in the rotation, within a bound well past that.
    started = time.monotonic()
    back = False
    while not back and time.monotonic() - started < 8:
        time.sleep(0.5)
        before = len(bed.nginx.access_lines())
        for _ in range(3):
            call(lb.addr, "GET", "/v2/", timeout=10)
        back = victim.addr in "\n".join(bed.nginx.access_lines()[before:])
    check(back, "the balancer sends requests to restarted instance %d again (after %.1f s)" %
          (victim.index, time.monotonic() - started))


# --- the instances' health ---------------------------------------------------------------


# PostgreSQL's log lines for errors quayd provokes on purpose: a statement
# first prepared with untyped parameters is prepared again with text ones
# (lib/db/postgres_connection.cpp, SQLSTATE 42P18).
EXPECTED_PG_ERRORS = re.compile(r"could not determine data type of parameter")


def step_g_health(bed):
    """What a load balancer's probes and an operator see."""
    for q in bed.instances:
        r = call(q.addr, "GET", "/readyz", timeout=10)
        check(r.status == 200, "instance %d: GET /readyz 200 on PostgreSQL and the gateway (got %d "
              "%s)" % (q.index, r.status, r.body[:160].decode("utf-8", "replace")))
    with open(bed.pg.log, errors="replace") as f:
        lines = f.read().splitlines()
    errors = {}
    for n, line in enumerate(lines):
        m = re.search(r"\] (ERROR|FATAL):\s+(.*)", line)
        if m and not EXPECTED_PG_ERRORS.search(m.group(2)):
            stmt = next((l for l in lines[n + 1:n + 4] if "STATEMENT:" in l), "")
            key = m.group(2)
            errors.setdefault(key, [0, stmt.split("STATEMENT:", 1)[-1].strip()[:240]])[0] += 1
    for what, (count, stmt) in errors.items():
        log("PostgreSQL: %dx %s -- %s" % (count, what, stmt))
    check(not errors, "the shared database logged no SQL error from quayd (%d distinct: %s)" % (
        len(errors), "; ".join(errors)[:400]))
    # The bytes live in the bucket; a data folder holds no blob.
    stray = [os.path.join(root, f) for q in bed.instances
             for root, _, files in os.walk(os.path.join(q.data, "blobs")) for f in files]
    check(not stray, "no blob file in any instance's data folder (%s)" % stray[:3])
    secrets = [os.environ["QUAY_TEST_S3_SECRET_KEY"], bed.password[OWNER], bed.password[READER]]
    leaked = [path for path in bed.quayd_logs()
              if any(sec in open(path, errors="replace").read() for sec in secrets)]
    check(not leaked, "no S3 secret key or password in any quayd log (%s)" % leaked)


# --- main ------------------------------------------------------------------------------


STEPS = [
    ("a", "skopeo and podman push/pull through the balancer", step_a_clients),
    ("b", "chunked upload, each request on a different instance", step_b_chunked),
    ("c", "a token from one instance is valid on the others", step_c_tokens),
    ("d", "a revoked permission applies on every instance within 1 s", step_d_permissions),
    ("e", "online GC beside concurrent pushes loses nothing", step_e_gc),
    ("f", "an instance killed mid-push; retry through the balancer", step_f_kill),
    ("g", "readiness, the shared database's log, the data folders", step_g_health),
]


def preflight(quayd):
    if not os.environ.get("QUAY_TEST_S3_ENDPOINT"):
        if STRICT:
            print("FAIL: no Ceph gateway (run through tests/storage/rgw/rgw_gateway.py run --)")
            sys.exit(1)
        raise Skip("no Ceph gateway: run through tests/storage/rgw/rgw_gateway.py run --")
    for path, what in ((NGINX, "apt-get install nginx"),
                       (os.path.join(PG_BIN, "initdb"), "apt-get install postgresql-15"),
                       (os.path.join(PG_BIN, "postgres"), "apt-get install postgresql-15"),
                       (os.path.join(PG_BIN, "createdb"), "apt-get install postgresql-15"),
                       (os.path.join(PG_BIN, "pg_isready"), "apt-get install postgresql-15"),
                       ("skopeo", "apt-get install skopeo")):
        need_program(path, what)
    if not (os.path.isfile(quayd) and os.access(quayd, os.X_OK)):
        print("FAIL: quayd binary %r is not executable" % quayd)
        sys.exit(1)


def make_work_dir():
    """Lower-case hex: podman turns an oci: path into an image name, which
    mkdtemp's letters (capitals, "._") could make invalid."""
    for _ in range(20):
        work = os.path.join(tempfile.gettempdir(), "quay-multi-" + os.urandom(6).hex())
        try:
            os.mkdir(work, 0o700)
        except FileExistsError:
            continue
        # Traversable, not listable: PostgreSQL runs as nobody under it.
        os.chmod(work, 0o711)
        return work
    raise RuntimeError("cannot create a work folder in " + tempfile.gettempdir())


def main():
    if len(sys.argv) != 2:
        print("usage: %s PATH_TO_QUAYD (run through rgw_gateway.py run --)" % sys.argv[0])
        return 2
    quayd = os.path.abspath(sys.argv[1])
    try:
        preflight(quayd)
    except Skip as e:
        print("SKIP: %s" % e)
        return SKIP
    work = make_work_dir()
    procs = Processes()
    bed = Bed(quayd, work, procs)
    # A TERM from meson's timeout still cleans up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        log("work dir %s" % work)
        try:
            bed.start()
        except Exception as e:
            check(False, "the test bed starts (PostgreSQL, 3 quayd, nginx): %s" % e)
            dump_logs(work)
            return 1
        only = os.environ.get("MULTI_INSTANCE_STEPS", "")
        for key, title, fn in STEPS:
            if only and key not in only.split(","):
                continue
            started = time.monotonic()
            print("\n=== step %s: %s" % (key, title), flush=True)
            try:
                fn(bed)
            except StepFailed:
                pass
            except Skip as e:
                print("SKIP: step %s: %s" % (key, e))
            except Exception as e:
                check(False, "step %s raised %s" % (key, e))
                traceback.print_exc(file=sys.stdout)
            log("step %s took %.1f s" % (key, time.monotonic() - started))
        if FAILURES:
            dump_logs(work)
    finally:
        procs.stop_all()
        if os.environ.get("E2E_KEEP") == "1":
            log("keeping %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("\n%s: multi_instance.py, %d failure(s), %.0f s" % (
        "FAIL" if FAILURES else "PASS", len(FAILURES), time.monotonic() - T0))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
