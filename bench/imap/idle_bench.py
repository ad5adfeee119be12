#!/usr/bin/env python3
"""IDLE at scale: N authenticated sessions in IDLE on one govmail, its RSS before and after, and
how long one APPEND takes to reach every IDLE session as "* n EXISTS" (p50, p99, last).
Runs govmail against a fresh database on GOVMAIL_TEST_DATABASE_URL (like the integration tests).
Usage: idle_bench.py [sessions=1000] [users=100]"""
import os
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "integration"))
from support import GOVMAIL, FreshDatabase, free_port, govmail, traversable_tempdir  # noqa

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
USERS = int(sys.argv[2]) if len(sys.argv) > 2 else 100
tmp = traversable_tempdir()
imap_port, http = free_port(), free_port()
cfg = os.path.join(tmp, "govmail.toml")
with open(cfg, "w") as f:
    f.write(f"""
[server]
var_dir = "{tmp}/var"
[tls]
cert_file = "{tmp}/var/tls/cert.pem"
key_file = "{tmp}/var/tls/key.pem"
self_signed = true
[listen]
smtp = []
submission = []
submissions = []
imap = ["127.0.0.1:{imap_port}"]
imaps = []
http = ["127.0.0.1:{http}"]
[auth]
allow_plaintext_on_loopback = true
[limits]
max_connections_per_ip = {N + 100}
""")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def read_until(sock, token, buf=b""):
    while token not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("closed")
        buf += chunk
    return buf


with FreshDatabase() as db:
    env = dict(os.environ, GOVMAIL_DATABASE_URL=db.url)
    govmail("admin", "--config", cfg, "domain", "add", "bench.gov.vn", env=env, check=True)
    for u in range(USERS):
        govmail("admin", "--config", cfg, "account", "add", f"u{u}@bench.gov.vn", "--name", "U",
                "--password-stdin", env=env, input="bench password\n", check=True)
    p = subprocess.Popen([GOVMAIL, "serve", "--config", cfg], env=env,
                         stdout=subprocess.DEVNULL, stderr=open(f"{tmp}/serve.log", "w"), cwd=tmp)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", imap_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(0.5)
        base = rss_kib(p.pid)
        socks = []
        t0 = time.time()
        for i in range(N):
            s = socket.create_connection(("127.0.0.1", imap_port))
            read_until(s, b"\r\n")
            s.sendall(f'l LOGIN u{i % USERS}@bench.gov.vn "bench password"\r\ns SELECT INBOX\r\n'
                      f'i IDLE\r\n'.encode())
            read_until(s, b"+ idling\r\n")
            socks.append(s)
        setup = time.time() - t0
        time.sleep(1)
        idle_rss = rss_kib(p.pid)
        print(f"{N} IDLE sessions ({USERS} users) set up in {setup:.1f}s; govmail RSS "
              f"{base / 1024:.1f} MiB before, {idle_rss / 1024:.1f} MiB with them "
              f"({(idle_rss - base) / N:.1f} KiB per session)")
        # One delivery per user; every session of that user must see EXISTS.
        sel = selectors.DefaultSelector()
        for i, s in enumerate(socks):
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, i)
        msg = b"From: a@bench.gov.vn\r\nSubject: x\r\n\r\nbody\r\n"
        latencies = []
        appender = socket.create_connection(("127.0.0.1", imap_port))
        read_until(appender, b"\r\n")
        appender.sendall(b'l LOGIN u0@bench.gov.vn "bench password"\r\n')
        read_until(appender, b"l OK")
        waiting = {i for i in range(N) if i % USERS == 0}
        t0 = time.time()
        appender.sendall(b"a APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
        while waiting and time.time() - t0 < 10:
            for key, _ in sel.select(timeout=1):
                data = key.fileobj.recv(4096)
                if b"EXISTS" in data and key.data in waiting:
                    waiting.discard(key.data)
                    latencies.append((time.time() - t0) * 1000)
        latencies.sort()
        if latencies:
            print(f"APPEND -> EXISTS in {len(latencies)} sessions of u0: p50 "
                  f"{statistics.median(latencies):.1f} ms, p99 "
                  f"{latencies[int(len(latencies) * 0.99) - 1 if len(latencies) > 1 else 0]:.1f} ms, "
                  f"last {latencies[-1]:.1f} ms; missed {len(waiting)}")
        for s in socks:
            s.close()
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(timeout=60)
subprocess.run(["rm", "-rf", tmp])
