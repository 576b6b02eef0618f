#!/usr/bin/env python3
"""Operations end to end (issue 13) against a real quayd process:
- `quayd config validate`: every problem by key, exit codes; QUAYD_* variables;
- the health routes, including "alive but not ready" while startup waits for
  the database (another process holds its write lock);
- /metrics on its own listener, parsed with Prometheus' own parser
  (python3-prometheus-client): families, labels without repository names,
  counters that move with the traffic, the open-uploads gauge.

Usage: operations.py QUAYD_BINARY   (exit 0 pass, 1 fail, 77 skip)
Run with Debian's /usr/bin/python3 (it has prometheus_client).
"""
import base64
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print("SKIP: python3-prometheus-client is not installed")
    sys.exit(77)

QUAYD = sys.argv[1]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def call(method, url, body=None, headers=None, timeout=10):
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        headers.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def start(work, config, env_extra=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    log = open(os.path.join(work, "server.log"), "a")
    proc = subprocess.Popen(
        [QUAYD, "serve", "--config", config, "--data-dir", os.path.join(work, "data"),
         "--listen", "127.0.0.1:0", "--no-fsync", "--gc-interval", "0"],
        stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    return proc


def wait_line(proc):
    line = proc.stdout.readline()
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    return int(m.group(1)) if m else None


def log_port(work, pattern, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(os.path.join(work, "server.log")) as f:
            found = re.findall(pattern, f.read())
        if found:
            return int(found[-1])
        time.sleep(0.05)
    return None


def validate(work):
    bad = os.path.join(work, "bad.yaml")
    with open(bad, "w") as f:
        f.write("threads: 0\nFEATURE_ANONYMOUS_ACCESS: maybe\nSECRET_KEY: short-s3cr3t\n"
                "NOT_A_KEY: 1\n")
    r = subprocess.run([QUAYD, "config", "validate", bad], capture_output=True, text=True)
    check(r.returncode == 1, "config validate: a bad file exits 1")
    for key in ("threads", "FEATURE_ANONYMOUS_ACCESS", "SECRET_KEY"):
        check(("error: %s:" % key) in r.stderr, "config validate names " + key)
    check("NOT_A_KEY" in r.stderr and "warning" in r.stderr, "unknown keys are warnings")
    check("s3cr3t" not in r.stderr + r.stdout, "no value is printed")

    good = os.path.join(work, "good.yaml")
    with open(good, "w") as f:
        f.write("threads: 8\n")
    r = subprocess.run([QUAYD, "config", "validate", good], capture_output=True, text=True)
    check(r.returncode == 0 and "valid" in r.stdout and "sha256:" in r.stdout,
          "config validate: a good file exits 0 with its digest")
    env = dict(os.environ, QUAYD_GC_INTERVAL="soon")
    r = subprocess.run([QUAYD, "config", "validate", good], capture_output=True, text=True,
                       env=env)
    check(r.returncode == 1 and "gc_interval" in r.stderr,
          "config validate: a bad QUAYD_ variable is a problem by key")


def scrape(port):
    st, headers, body = call("GET", "http://127.0.0.1:%d/metrics" % port)
    check(st == 200 and headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
          "GET /metrics answers the text format")
    families = {f.name: f for f in text_string_to_metric_families(body)}
    return families, body


def sample_value(families, family, name, **labels):
    f = families.get(family)
    if f is None:
        return None
    for s in f.samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


def main():
    work = tempfile.mkdtemp(prefix="quayd-ops-")
    servers = []
    try:
        validate(work)

        config = os.path.join(work, "config.yaml")
        with open(config, "w") as f:
            f.write("FEATURE_USER_INITIALIZE: true\npassword_hash_cost: minimum\n"
                    "metrics_listen: 127.0.0.1:0\n")
        proc = start(work, config)
        servers.append(proc)
        port = wait_line(proc)
        check(port is not None, "quayd starts")
        if port is None:
            return 1
        base = "http://127.0.0.1:%d" % port
        metrics_port = log_port(work, r"metrics listening\" address=127\.0\.0\.1:(\d+)")
        check(metrics_port is not None, "the metrics listener is logged")
        with open(os.path.join(work, "server.log")) as f:
            check(re.search(r"configuration loaded\".*digest=sha256:[0-9a-f]{64}", f.read())
                  is not None, "the configuration digest is logged at start")

        # Health on a running server.
        st, _, body = call("GET", base + "/healthz")
        check(st == 200, "/healthz 200")
        st, _, body = call("GET", base + "/readyz")
        check(st == 200 and json.loads(body)["ready"], "/readyz 200 once started")
        st, _, body = call("GET", base + "/health/instance")
        services = json.loads(body)["data"]["services"]
        check(st == 200 and all(services.values()), "/health/instance: every service true")

        # Traffic: a user, a token, an upload left open.
        st, _, body = call("POST", base + "/api/v1/user/initialize",
                           {"username": "alice", "password": "alice-password",
                            "email": "alice@example.com"})
        check(st == 200, "initialize the first user")
        basic = base64.b64encode(b"alice:alice-password").decode()
        st, _, body = call("GET", base + "/v2/auth?service=127.0.0.1&scope=repository:alice/"
                           "secret-project:push,pull", headers={"Authorization": "Basic " + basic})
        check(st == 200, "registry token issued")
        bearer = {"Authorization": "Bearer " + json.loads(body)["token"]}
        families, _ = scrape(metrics_port)
        before = sample_value(families, "quayd_upload_sessions_open",
                              "quayd_upload_sessions_open")
        st, headers, _ = call("POST", base + "/v2/alice/secret-project/blobs/uploads/", b"",
                              headers=bearer)
        check(st == 202, "an upload session opened")
        for _ in range(3):
            call("GET", base + "/v2/alice/secret-project/tags/list", headers=bearer)

        families, text = scrape(metrics_port)
        for name in ("quayd_http_requests", "quayd_http_request_duration_seconds",
                     "quayd_http_request_bytes", "quayd_http_response_bytes", "quayd_gc_runs",
                     "quayd_gc_freed_bytes", "quayd_upload_sessions_open",
                     "quayd_storage_blob_bytes", "quayd_audit_backlog_bytes",
                     "quayd_database_writer_wait_seconds", "quayd_build_info",
                     "quayd_data_filesystem_free_bytes"):
            check(name in families, "metric family " + name)
        after = sample_value(families, "quayd_upload_sessions_open", "quayd_upload_sessions_open")
        check(before is not None and after == before + 1, "uploads open counts the new session")
        check((sample_value(families, "quayd_http_requests", "quayd_http_requests_total",
                            method="GET", status="404") or 0) >= 3 or
              (sample_value(families, "quayd_http_requests", "quayd_http_requests_total",
                            method="GET", status="200") or 0) >= 3,
              "requests are counted by route, method and status")
        check(sample_value(families, "quayd_http_requests", "quayd_http_requests_total",
                           route="startUpload", method="POST", status="202") is not None or
              any(s.labels.get("method") == "POST" and s.labels.get("status") == "202"
                  for s in families["quayd_http_requests"].samples),
              "the upload POST is counted with its status")
        check("secret-project" not in text and "alice" not in text,
              "no repository or user name in any label")
        buckets = [s for s in families["quayd_http_request_duration_seconds"].samples
                   if s.name.endswith("_bucket")]
        by_route = {}
        for s in buckets:
            by_route.setdefault(s.labels["route"], []).append(s.value)
        check(bool(by_route) and all(v == sorted(v) for v in by_route.values()),
              "histogram buckets are cumulative")
        check(sample_value(families, "quayd_build_info", "quayd_build_info") == 1,
              "build info")
        st, _, _ = call("GET", base + "/metrics")
        check(st != 200, "with metrics_listen, /metrics is not on the main listener")

        # Another process holds the database's write lock: health still
        # answers at once (reads go on in WAL mode, so the instance stays
        # ready); a fully locked database is the startup case below.
        locker = sqlite3.connect(os.path.join(work, "data", "quay.db"), timeout=5,
                                 isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
        time.sleep(1.1)  # past the reuse of the last probe's result
        started = time.time()
        st, _, body = call("GET", base + "/readyz", timeout=5)
        took = time.time() - started
        check(st == 200 and took < 2, "write lock held elsewhere: /readyz answers in %.2f s" % took)
        st, _, _ = call("GET", base + "/healthz", timeout=5)
        check(st == 200, "write lock held elsewhere: /healthz 200")
        locker.execute("ROLLBACK")
        locker.close()

        proc.terminate()
        proc.wait(timeout=30)
        servers.remove(proc)

        # Startup: another process holds the database's write lock, so the
        # registry cannot open yet. The port already answers: alive, not ready.
        db = sqlite3.connect(os.path.join(work, "data", "quay.db"), timeout=5,
                             isolation_level=None)
        # WAL readers ignore an ordinary write lock; exclusive locking mode
        # keeps every other connection out, reads included.
        db.execute("PRAGMA locking_mode=EXCLUSIVE")
        db.execute("BEGIN EXCLUSIVE")
        proc = start(work, config)
        servers.append(proc)
        seen_starting = False
        deadline = time.time() + 8
        while time.time() < deadline and proc.poll() is None:
            try:
                st_alive, _, _ = call("GET", base_for(work, proc) + "/healthz", timeout=2)
                st_ready, _, ready_body = call("GET", base_for(work, proc) + "/readyz", timeout=2)
                st_v2, v2_headers, _ = call("GET", base_for(work, proc) + "/v2/", timeout=2)
                seen_starting = (st_alive == 200 and st_ready == 503 and st_v2 == 503 and
                                 not json.loads(ready_body)["checks"]["started"])
                break
            except (OSError, ValueError):
                time.sleep(0.05)
        check(seen_starting, "while starting: /healthz 200, /readyz and /v2 503")
        db.execute("COMMIT")
        db.close()
        port = wait_line(proc)
        check(port is not None, "startup finishes once the lock is released")
        if port is not None:
            st, _, _ = call("GET", "http://127.0.0.1:%d/readyz" % port)
            check(st == 200, "ready after startup, on the same port")
        return 1 if failures else 0
    finally:
        for p in servers:
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


def base_for(work, proc):
    # The port is printed only once startup ends; the listener is bound at
    # once, and its address logged as "starting" with the port.
    port = log_port(work, r"starting address=127\.0\.0\.1:(\d+)", timeout=5)
    if port is None:
        raise OSError("no starting line")
    return "http://127.0.0.1:%d" % port


if __name__ == "__main__":
    rc = main()
    if failures:
        print("%d check(s) failed" % len(failures))
    sys.exit(rc)
