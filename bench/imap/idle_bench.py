#!/usr/bin/env python3
"""IDLE at scale: N authenticated sessions in IDLE on one govmail (plain IMAP or implicit TLS),
govmail's RSS and PSS before and with them, and how long a delivery takes to reach every IDLE
session of its recipient as "* n EXISTS": p50, p99 and last over all deliveries' sessions, timed
from when the delivery was sent and from when it was acknowledged (APPEND's tagged OK from another
connection, or SMTP's 250 with --smtp). govmail runs on a fresh database of the cluster at
GOVMAIL_TEST_DATABASE_URL (bench/imap/idle.sh sets one up), binary GOVMAIL_BIN.
Usage: idle_bench.py [--sessions 10000] [--users 100] [--deliveries 20] [--tls] [--smtp]"""
import argparse
import os
import resource
import selectors
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "integration"))
from support import GOVMAIL, FreshDatabase, free_port, govmail, psql, traversable_tempdir  # noqa

ap = argparse.ArgumentParser()
ap.add_argument("--sessions", type=int, default=10000)
ap.add_argument("--users", type=int, default=100)
ap.add_argument("--deliveries", type=int, default=20)
ap.add_argument("--tls", action="store_true", help="implicit TLS (imaps)")
ap.add_argument("--smtp", action="store_true", help="deliver through SMTP instead of APPEND")
args = ap.parse_args()
N, USERS = args.sessions, args.users
DOMAIN = "bench.gov.vn"
PASSWORD = "bench password"

# Every session is a socket here and in govmail: raise the descriptor limit for both.
want = N + 1000
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < want:
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, hard), max(want, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

tmp = traversable_tempdir()
imap_port, smtp_port, http = free_port(), free_port(), free_port()
cfg = os.path.join(tmp, "govmail.toml")
with open(cfg, "w") as f:
    f.write(f"""
[server]
hostname = "mail.{DOMAIN}"
var_dir = "{tmp}/var"
[tls]
cert_file = "{tmp}/var/tls/cert.pem"
key_file = "{tmp}/var/tls/key.pem"
self_signed = true
[listen]
smtp = [{f'"127.0.0.1:{smtp_port}"' if args.smtp else ''}]
submission = []
submissions = []
imap = [{'' if args.tls else f'"127.0.0.1:{imap_port}"'}]
imaps = [{f'"127.0.0.1:{imap_port}"' if args.tls else ''}]
pop3 = []
pop3s = []
http = ["127.0.0.1:{http}"]
https = []
[auth]
allow_plaintext_on_loopback = true
[limits]
max_connections_per_ip = {N + 100}
max_preauth_connections_per_network = {N + 100}
[log]
level = "warn"
""")


def proc_kib(pid, path, key):
    try:
        with open(f"/proc/{pid}/{path}") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(pid):
    return proc_kib(pid, "status", "VmRSS:"), proc_kib(pid, "smaps_rollup", "Pss:")


client_tls = ssl.create_default_context()
client_tls.check_hostname = False
client_tls.verify_mode = ssl.CERT_NONE


def connect():
    s = socket.create_connection(("127.0.0.1", imap_port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client_tls.wrap_socket(s) if args.tls else s


def read_until(sock, token, buf=b""):
    while token not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("closed: " + buf[-200:].decode(errors="replace"))
        buf += chunk
    return buf


def user(i):
    return f"u{i % USERS}@{DOMAIN}"


def open_sessions(pid):
    """N sessions in IDLE, opened 200 at a time (commands pipelined, answers read after)."""
    socks = []
    for start in range(0, N, 200):
        batch = []
        for i in range(start, min(N, start + 200)):
            s = connect()
            read_until(s, b"\r\n")
            s.sendall(f'l LOGIN {user(i)} "{PASSWORD}"\r\ns SELECT INBOX\r\ni IDLE\r\n'.encode())
            batch.append(s)
        for s in batch:
            read_until(s, b"+ idling\r\n")
        socks += batch
    return socks


class Delivery:
    """One message to user u: sent at `sent`, acknowledged at `acked` (set by whoever sees it)."""
    def __init__(self, u):
        self.u, self.sent, self.acked = u, 0.0, None


def deliver_smtp(d, smtp):
    msg = (f"From: outside@sender.test\r\nTo: {user(d.u)}\r\nSubject: idle {d.u}\r\n\r\n"
           "body\r\n")
    d.sent = time.time()
    smtp.sendmail("outside@sender.test", [user(d.u)], msg)
    d.acked = time.time()


def measure(socks):
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
    appenders = {}
    smtp = smtplib.SMTP("127.0.0.1", smtp_port) if args.smtp else None
    if smtp:
        smtp.ehlo("bench.test")
    from_sent, from_ack, missed = [], [], 0
    msg = b"From: a@bench.gov.vn\r\nSubject: idle\r\n\r\nbody\r\n"
    for k in range(args.deliveries):
        u = (k * 37) % USERS
        d = Delivery(u)
        waiting = {i for i in range(N) if i % USERS == u}
        seen = {}
        if smtp:
            th = threading.Thread(target=deliver_smtp, args=(d, smtp))
            th.start()
        else:
            # From another connection of the same user (not in IDLE), LITERAL+.
            a = appenders.get(u)
            if a is None:
                a = connect()
                read_until(a, b"\r\n")
                a.sendall(f'l LOGIN {user(u)} "{PASSWORD}"\r\n'.encode())
                read_until(a, b"l OK")
                appenders[u] = a
                a.setblocking(False)
            sel.register(a, selectors.EVENT_READ, "appender")
            abuf = b""
            d.sent = time.time()
            a.sendall(b"a APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
        t_end = time.time() + 10
        while (waiting or d.acked is None) and time.time() < t_end:
            for key, _ in sel.select(timeout=0.5):
                try:
                    data = key.fileobj.recv(65536)
                except ssl.SSLWantReadError:
                    continue
                now = time.time()
                if key.data == "appender":
                    abuf += data
                    if b"a OK" in abuf and d.acked is None:
                        d.acked = now
                elif b"EXISTS" in data and key.data in waiting:
                    waiting.discard(key.data)
                    seen[key.data] = now
        if smtp:
            th.join()
        else:
            sel.unregister(appenders[u])
        missed += len(waiting)
        for t in seen.values():
            from_sent.append((t - d.sent) * 1000)
            from_ack.append(max(0.0, t - (d.acked or t)) * 1000)
        time.sleep(0.2)  # let the sessions settle between deliveries
    if smtp:
        smtp.quit()
    return from_sent, from_ack, missed


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


with FreshDatabase() as db:
    env = dict(os.environ, GOVMAIL_DATABASE_URL=db.url)
    govmail("admin", "--config", cfg, "domain", "add", DOMAIN, env=env, check=True)
    govmail("admin", "--config", cfg, "account", "add", f"u0@{DOMAIN}", "--name", "U",
            "--password-stdin", env=env, input=PASSWORD + "\n", check=True)
    # The other users share u0's hash (one argon2id run instead of USERS).
    psql(db.url, f"""SELECT count(*) FROM (SELECT govmail_add_account('u' || i || '@{DOMAIN}', 'U',
        (SELECT password_hash FROM accounts WHERE address = 'u0@{DOMAIN}'), 0, false, NULL, '')
        FROM generate_series(1, {USERS - 1}) i) x""")
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
        base_rss, base_pss = memory(p.pid)
        t0 = time.time()
        socks = open_sessions(p.pid)
        setup = time.time() - t0
        time.sleep(2)
        rss, pss = memory(p.pid)
        mode = "TLS (imaps)" if args.tls else "plain IMAP"
        print(f"{N} IDLE sessions, {mode}, {USERS} users, set up in {setup:.1f}s", flush=True)
        print(f"govmail memory: VmRSS {base_rss / 1024:.1f} MiB before, {rss / 1024:.1f} MiB with "
              f"them ({(rss - base_rss) / N:.2f} KiB/session); PSS {base_pss / 1024:.1f} -> "
              f"{pss / 1024:.1f} MiB", flush=True)
        hold = float(os.environ.get("IDLE_BENCH_HOLD", "0"))  # seconds, to inspect govmail
        if hold:
            print(f"holding {hold:.0f}s: govmail pid {p.pid}", flush=True)
            time.sleep(hold)
        from_sent, from_ack, missed = measure(socks)
        how = "SMTP 250" if args.smtp else "APPEND OK from another connection"
        print(f"delivery -> EXISTS over {args.deliveries} deliveries x {N // USERS} sessions "
              f"({len(from_sent)} samples, missed {missed}):")
        for name, v in (("from sent", from_sent), (f"from ack ({how})", from_ack)):
            print(f"  {name}: p50 {pct(v, 0.5):.1f} ms, p99 {pct(v, 0.99):.1f} ms, "
                  f"last {max(v) if v else float('nan'):.1f} ms")
        rss2, pss2 = memory(p.pid)
        print(f"govmail memory after the deliveries: VmRSS {rss2 / 1024:.1f} MiB, "
              f"PSS {pss2 / 1024:.1f} MiB")
        for s in socks:
            s.close()
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(timeout=120)
subprocess.run(["rm", "-rf", tmp])
