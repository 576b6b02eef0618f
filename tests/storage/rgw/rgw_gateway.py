#!/usr/bin/env python3
"""A throwaway single-node Ceph RADOS Gateway for the S3 driver's tests.

One monitor, one OSD on memstore (RAM only) and one radosgw bound to
127.0.0.1, all in one temporary folder, with settings tuned for one node
(pools of size 1, a short paxos propose interval, a short RGW garbage
collection period so memstore frees what tests delete). No cephx: the
cluster listens on loopback only and lives for one test run.

  rgw_gateway.py run [--] CMD ARGS...   start, run CMD with the gateway in its
                                        environment, stop; exits with CMD's code
  rgw_gateway.py start DIR              start in DIR (must not exist), print the
                                        environment lines, leave it running
  rgw_gateway.py stop DIR               stop what `start DIR` started, remove DIR

CMD's environment gets QUAY_TEST_S3_ENDPOINT (http://127.0.0.1:PORT),
QUAY_TEST_S3_REGION, QUAY_TEST_S3_BUCKET, QUAY_TEST_S3_ACCESS_KEY,
QUAY_TEST_S3_SECRET_KEY and QUAY_TEST_RGW_PID (the radosgw process, for
tests that pause it). Exits 77 (Meson: SKIP) when Ceph is not installed.
"""

import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

SKIP = 77
START_TIMEOUT_S = 60  # a loaded 2-core CI machine; about 3 s when idle
BINARIES = ("monmaptool", "ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph")


class GatewayError(RuntimeError):
    pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config_text(root, fsid, mon_port, rgw_port):
    return f"""[global]
fsid = {fsid}
mon host = [v2:127.0.0.1:{mon_port}]
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
# radosgw asks for a "secure" monitor connection by default, which the
# "none" auth method cannot give.
ms mon client mode = crc secure
ms bind ipv6 = false
public addr = 127.0.0.1
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
paxos propose interval = 0.01
paxos min wait = 0.01
mon lease = 1
mon data avail warn = 1
mon data avail crit = 0
osd objectstore = memstore
memstore device bytes = 2147483648
osd op num shards = 1
osd op num threads per shard = 2
mon data = {root}/mon
osd data = {root}/osd
run dir = {root}/run
admin socket = {root}/run/$name.asok
log file = {root}/log/$name.log
pid file =
[client]
rgw frontends = beast endpoint=127.0.0.1:{rgw_port}
rgw thread pool size = 64
rgw gc obj min wait = 2
rgw gc processor period = 2
rgw gc processor max time = 2
rgw dns name = 127.0.0.1
rgw enable usage log = false
keyring =
"""


def die_with_parent():
    """In the child before exec: SIGKILL when the starting process dies, even
    by SIGKILL (a killed test run then leaves no daemon behind)."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Gateway:
    def __init__(self, root, tied_to_parent=True):
        self.root = root
        self.tied_to_parent = tied_to_parent
        self.conf = os.path.join(root, "ceph.conf")
        self.procs = []
        self.endpoint = None
        self.access_key = None
        self.secret_key = None
        self.rgw = None

    def _run(self, *args, timeout=30):
        try:
            out = subprocess.run(args, cwd=self.root, capture_output=True, text=True,
                                 timeout=timeout)
        except subprocess.TimeoutExpired:
            raise GatewayError(f"{args[0]} timed out after {timeout} s")
        if out.returncode != 0:
            raise GatewayError(f"{' '.join(args)} failed ({out.returncode}): "
                               f"{out.stderr.strip()[-2000:]}")
        return out.stdout

    def _ceph(self, *args, timeout=30):
        return self._run("ceph", "-c", self.conf, "--connect-timeout", "10", *args,
                         timeout=timeout)

    def _daemon(self, name, *args):
        log = open(os.path.join(self.root, "log", name + ".out"), "wb")
        # Its own process group, so stop() reaches any child it forks.
        proc = subprocess.Popen(args, cwd=self.root, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=die_with_parent if self.tied_to_parent else None)
        log.close()
        self.procs.append(proc)
        with open(os.path.join(self.root, "pids"), "a") as f:
            f.write(f"{proc.pid}\n")
        return proc

    def _wait(self, what, ready, deadline):
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise GatewayError(f"{proc.args[0]} exited ({proc.returncode}) while "
                                       f"waiting for {what}; logs in {self.root}/log")
            if ready():
                return
            time.sleep(0.05)
        raise GatewayError(f"timed out after {START_TIMEOUT_S} s waiting for {what}")

    def start(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        for d in ("mon", "osd", "run", "log"):
            os.makedirs(os.path.join(self.root, d))
        fsid = str(uuid.uuid4())
        mon_port, rgw_port = free_port(), free_port()
        with open(self.conf, "w") as f:
            f.write(config_text(self.root, fsid, mon_port, rgw_port))

        monmap = os.path.join(self.root, "monmap")
        self._run("monmaptool", "--create", "--fsid", fsid, "--addv", "a",
                  f"[v2:127.0.0.1:{mon_port}]", monmap)
        self._run("ceph-mon", "-c", self.conf, "--mkfs", "-i", "a", "--monmap", monmap)
        self._daemon("mon", "ceph-mon", "-c", self.conf, "-f", "-i", "a")

        osd_uuid = str(uuid.uuid4())
        osd_id = self._ceph("osd", "new", osd_uuid).strip()
        self._run("ceph-osd", "-c", self.conf, "-i", osd_id, "--mkfs", "--osd-uuid", osd_uuid)
        self._daemon("osd", "ceph-osd", "-c", self.conf, "-f", "-i", osd_id)

        def osd_up():
            try:
                return "1 up" in self._ceph("osd", "stat", timeout=10)
            except GatewayError:
                return False

        self._wait("the OSD", osd_up, deadline)

        self.rgw = self._daemon("rgw", "radosgw", "-c", self.conf, "-f", "-n", "client.rgw")
        self.endpoint = f"http://127.0.0.1:{rgw_port}"

        def rgw_answers():
            try:
                with urllib.request.urlopen(self.endpoint + "/", timeout=2) as r:
                    return r.status == 200
            except (urllib.error.URLError, OSError):
                return False

        self._wait("radosgw", rgw_answers, deadline)

        self.access_key = "QUAYTEST" + secrets.token_hex(6).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self._run("radosgw-admin", "-c", self.conf, "-n", "client.rgw", "user", "create",
                  "--uid", "quay-test", "--display-name", "quay test", "--access-key",
                  self.access_key, "--secret", self.secret_key)

    def environment(self):
        return {
            "QUAY_TEST_S3_ENDPOINT": self.endpoint,
            "QUAY_TEST_S3_REGION": "us-east-1",
            "QUAY_TEST_S3_BUCKET": "quay-test",
            "QUAY_TEST_S3_ACCESS_KEY": self.access_key,
            "QUAY_TEST_S3_SECRET_KEY": self.secret_key,
            "QUAY_TEST_RGW_PID": str(self.rgw.pid),
        }


def stop_pids(root):
    """Kills every daemon listed in ROOT/pids and removes ROOT.

    SIGKILL rather than a clean shutdown: the cluster's state is in memory and
    in ROOT, both thrown away, and a clean OSD shutdown takes seconds."""
    try:
        with open(os.path.join(root, "pids")) as f:
            pids = [int(line) for line in f if line.strip()]
    except FileNotFoundError:
        pids = []
    for pid in reversed(pids):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    for pid in pids:
        while time.monotonic() < deadline:
            try:  # reap it if it is our child
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    break
            except ChildProcessError:
                pass
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)
    shutil.rmtree(root, ignore_errors=True)


def sweep_stale(prefix="quay-rgw-"):
    """Removes the folders of earlier runs that were killed (SIGKILL leaves
    the folder; the daemons died with their parent): those whose daemons
    are all gone."""
    tmp = tempfile.gettempdir()
    for name in os.listdir(tmp):
        root = os.path.join(tmp, name)
        if not name.startswith(prefix) or not os.path.isdir(root):
            continue
        try:
            with open(os.path.join(root, "pids")) as f:
                pids = [int(line) for line in f if line.strip()]
        except (OSError, ValueError):
            # A run still starting has no pids yet: only old folders go.
            if time.time() - os.path.getmtime(root) < 300:
                continue
            pids = []
        alive = False
        for pid in pids:
            try:
                os.kill(pid, 0)
                alive = True
            except ProcessLookupError:
                pass
            except PermissionError:
                alive = True
        if not alive:
            shutil.rmtree(root, ignore_errors=True)


def installed():
    return all(shutil.which(b) for b in BINARIES)


def cmd_run(argv):
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        sys.exit("usage: rgw_gateway.py run [--] CMD ARGS...")
    if not installed():
        print("SKIP: Ceph is not installed (Debian: ceph-mon ceph-osd radosgw)")
        return SKIP
    sweep_stale()
    root = tempfile.mkdtemp(prefix="quay-rgw-")
    gateway = Gateway(root)
    child = None

    def on_signal(signum, frame):
        if child is not None and child.poll() is None:
            child.send_signal(signum)
        stop_pids(root)
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        started = time.monotonic()
        try:
            gateway.start()
        except GatewayError as e:
            for name in ("mon.a", "osd.0", "client.rgw"):
                path = os.path.join(root, "log", name + ".log")
                if os.path.exists(path):
                    with open(path, errors="replace") as f:
                        sys.stderr.write(f"--- {name}.log (tail)\n" + "".join(f.readlines()[-15:]))
            print(f"failed to start the gateway: {e}", file=sys.stderr)
            return 1
        print(f"radosgw ready at {gateway.endpoint} in {time.monotonic() - started:.1f} s",
              flush=True)
        env = dict(os.environ, **gateway.environment())
        child = subprocess.Popen(argv, env=env, preexec_fn=die_with_parent)
        return child.wait()
    finally:
        stop_pids(root)


def cmd_start(argv):
    if len(argv) != 1:
        sys.exit("usage: rgw_gateway.py start DIR")
    if not installed():
        print("SKIP: Ceph is not installed (Debian: ceph-mon ceph-osd radosgw)")
        return SKIP
    root = os.path.abspath(argv[0])
    os.makedirs(root)
    gateway = Gateway(root, tied_to_parent=False)
    started = time.monotonic()
    try:
        gateway.start()
    except GatewayError as e:
        stop_pids(root)
        print(f"failed to start the gateway: {e}", file=sys.stderr)
        return 1
    for key, value in gateway.environment().items():
        print(f"{key}={value}")
    print(f"# ready in {time.monotonic() - started:.1f} s; stop with: {sys.argv[0]} stop {root}")
    return 0


def cmd_stop(argv):
    if len(argv) != 1:
        sys.exit("usage: rgw_gateway.py stop DIR")
    stop_pids(os.path.abspath(argv[0]))
    return 0


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "start", "stop"):
        sys.exit(__doc__)
    handler = {"run": cmd_run, "start": cmd_start, "stop": cmd_stop}[sys.argv[1]]
    sys.exit(handler(sys.argv[2:]))


if __name__ == "__main__":
    main()
