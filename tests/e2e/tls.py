#!/usr/bin/env python3
"""TLS in quayd (issue 13) end to end: a CA and server certificates made here
with openssl; quayd serving TLS 1.2+ with them; skopeo and podman pushing and
pulling with certificate verification on; plain HTTP and TLS 1.1 refused;
SIGHUP loading a new certificate for new connections while a connection
opened before keeps working; a broken certificate file on reload keeping the
old certificate.

Usage: tls.py QUAYD_BINARY   (exit 0 pass, 1 fail, 77 skip)
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)

QUAYD = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def make_ca(work):
    ca_key, ca_crt = os.path.join(work, "ca.key"), os.path.join(work, "ca.crt")
    r = run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", ca_key, "-out", ca_crt, "-days", "2", "-subj",
             "/CN=quayd test CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return ca_key, ca_crt


def make_cert(work, name, ca_key, ca_crt, cn):
    key, csr, crt = (os.path.join(work, name + ext) for ext in (".key", ".csr", ".crt"))
    r = run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", key, "-out", csr, "-subj", "/CN=" + cn])
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    ext = os.path.join(work, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    r = run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
             "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext])
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return key, crt


def served_cn(port, ca_crt):
    ctx = ssl.create_default_context(cafile=ca_crt)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            subject = dict(x[0] for x in tls.getpeercert()["subject"])
            return subject.get("commonName"), tls.version()


def wait_log(path, pattern, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(path) as f:
            if re.search(pattern, f.read()):
                return True
        time.sleep(0.05)
    return False


def main():
    if shutil.which("openssl") is None:
        print("SKIP: openssl not found")
        return 77
    work = tempfile.mkdtemp(prefix="quayd-tls-")
    proc = None
    try:
        ca_key, ca_crt = make_ca(work)
        key1, crt1 = make_cert(work, "server1", ca_key, ca_crt, "quayd one")
        key2, crt2 = make_cert(work, "server2", ca_key, ca_crt, "quayd two")
        live_key, live_crt = os.path.join(work, "live.key"), os.path.join(work, "live.crt")
        shutil.copy(key1, live_key)
        shutil.copy(crt1, live_crt)
        config = os.path.join(work, "config.yaml")
        with open(config, "w") as f:
            f.write("FEATURE_USER_INITIALIZE: true\npassword_hash_cost: minimum\n"
                    "tls_cert_file: %s\ntls_key_file: %s\n" % (live_crt, live_key))
        log = os.path.join(work, "server.log")
        proc = subprocess.Popen(
            [QUAYD, "serve", "--config", config, "--data-dir", os.path.join(work, "data"),
             "--listen", "127.0.0.1:0", "--no-fsync", "--gc-interval", "0"],
            stdout=subprocess.PIPE, stderr=open(log, "w"), text=True)
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", proc.stdout.readline())
        check(m is not None, "quayd starts with TLS")
        if m is None:
            return 1
        port = int(m.group(1))
        reg = "127.0.0.1:%d" % port

        cn, version = served_cn(port, ca_crt)
        check(cn == "quayd one" and version in ("TLSv1.2", "TLSv1.3"),
              "the configured certificate is served over %s" % version)

        # Plain HTTP on the TLS port gets no HTTP answer.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            raw.settimeout(5)
            try:
                got = raw.recv(100)
            except (ConnectionResetError, socket.timeout):
                got = b""
        check(not got.startswith(b"HTTP/1.1 200"), "plain HTTP is not served on the TLS port")

        old = ssl.create_default_context(cafile=ca_crt)
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.minimum_version = ssl.TLSVersion.TLSv1
        try:
            old.set_ciphers("DEFAULT:@SECLEVEL=0")
        except ssl.SSLError:
            pass
        refused = False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                with old.wrap_socket(raw, server_hostname="127.0.0.1"):
                    pass
        except (ssl.SSLError, OSError):
            refused = True
        check(refused, "TLS 1.1 is refused")

        ctx = ssl.create_default_context(cafile=ca_crt)
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
        conn.request("POST", "/api/v1/user/initialize",
                     body=json.dumps({"username": "alice", "password": "alice-password",
                                      "email": "alice@example.com"}),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        check(r.status == 200, "the REST API over TLS")
        conn.request("GET", "/v2/")
        r = conn.getresponse()
        challenge = r.getheader("WWW-Authenticate", "")
        r.read()
        check(r.status == 401 and 'realm="https://' in challenge,
              "the token realm is https (%s)" % challenge)

        # Real clients with verification on: the CA in a cert dir.
        certs = os.path.join(work, "certs")
        os.makedirs(certs)
        shutil.copy(ca_crt, os.path.join(certs, "ca.crt"))
        images = os.path.join(work, "images")
        run([sys.executable, os.path.join(HERE, "make_images.py"), images])
        policy = os.path.join(work, "policy.json")
        with open(policy, "w") as f:
            f.write('{"default": [{"type": "insecureAcceptAnything"}]}')
        env = dict(os.environ, CONTAINERS_REGISTRIES_CONF=os.path.join(work, "registries.conf"),
                   REGISTRY_AUTH_FILE=os.path.join(work, "auth.json"))
        open(env["CONTAINERS_REGISTRIES_CONF"], "w").close()
        with open(env["REGISTRY_AUTH_FILE"], "w") as f:
            f.write("{}")
        if shutil.which("skopeo"):
            r = run(["skopeo", "--policy", policy, "copy", "--dest-tls-verify=true",
                     "--dest-cert-dir", certs, "--dest-creds", "alice:alice-password",
                     "oci:%s/image:latest" % images, "docker://%s/alice/tls:v1" % reg], env=env)
            check(r.returncode == 0, "skopeo push with --dest-tls-verify=true " + r.stderr[-300:])
            r = run(["skopeo", "--policy", policy, "copy", "--src-tls-verify=true",
                     "--src-cert-dir", certs, "--src-creds", "alice:alice-password",
                     "docker://%s/alice/tls:v1" % reg, "oci:%s/pulled:v1" % work], env=env)
            check(r.returncode == 0, "skopeo pull with --src-tls-verify=true " + r.stderr[-300:])
            r = run(["skopeo", "--policy", policy, "inspect", "--tls-verify=true",
                     "--creds", "alice:alice-password", "docker://%s/alice/tls:v1" % reg],
                    env=env)
            check(r.returncode != 0, "without the CA, verification fails")
        else:
            print("skip skopeo: not installed")
        if shutil.which("podman"):
            proot = os.path.join(work, "podman")
            os.makedirs(os.path.join(proot, "tmp"))
            p = ["podman", "--root", proot + "/root", "--runroot", proot + "/runroot",
                 "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend",
                 "file", "--tmpdir", proot + "/tmp"]
            if run(p + ["images"], env=env).returncode == 0:
                r = run(p + ["login", "--tls-verify=true", "--cert-dir", certs, "-u", "alice",
                             "-p", "alice-password", reg], env=env)
                check(r.returncode == 0, "podman login with --tls-verify=true " + r.stderr[-300:])
                r = run(p + ["pull", "--tls-verify=true", "--cert-dir", certs,
                             "docker://%s/alice/tls:v1" % reg], env=env)
                check(r.returncode == 0, "podman pull with --tls-verify=true " + r.stderr[-300:])
                r = run(p + ["push", "--tls-verify=true", "--cert-dir", certs,
                             "%s/alice/tls:v1" % reg, "docker://%s/alice/tls-podman:v1" % reg],
                        env=env)
                check(r.returncode == 0, "podman push with --tls-verify=true " + r.stderr[-300:])
            else:
                print("skip podman: cannot run here")

        # Reload: new connections get the new certificate, the open one stays.
        shutil.copy(key2, live_key)
        shutil.copy(crt2, live_crt)
        proc.send_signal(signal.SIGHUP)
        check(wait_log(log, r"reloaded the TLS certificate"), "SIGHUP reloads the certificate")
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        r.read()
        check(r.status == 200, "a connection opened before the reload keeps working")
        cn, _ = served_cn(port, ca_crt)
        check(cn == "quayd two", "new connections get the new certificate")

        with open(live_crt, "w") as f:
            f.write("not a certificate\n")
        proc.send_signal(signal.SIGHUP)
        check(wait_log(log, r"failed to reload the TLS certificate"),
              "a broken file on reload is reported")
        cn, _ = served_cn(port, ca_crt)
        check(cn == "quayd two", "and the old certificate stays")
        conn.close()
        return 1 if failures else 0
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    rc = main()
    if failures:
        print("%d check(s) failed" % len(failures))
    sys.exit(rc)
