#!/usr/bin/env python3
"""Crash test: kill -9 govmail while several clients send over SMTP; restart. Every message that
got 250 is in each recipient's mailbox exactly once; nothing else is, except a message that was
in flight at the kill (committed but not yet acknowledged: the client retries it), and that one
is in every recipient's mailbox or in none (never half-delivered)."""
import os
import re
import smtplib
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase  # noqa: E402
from smtp_support import DOMAIN, Server, add_account, inbox  # noqa: E402

c = Checks()
CLIENTS = 8
RCPTS = [f"r{i}@{DOMAIN}" for i in range(3)]
acked, attempted = set(), set()
lock = threading.Lock()
stop = threading.Event()


def client(port, k):
    n = 0
    while not stop.is_set():
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
                while not stop.is_set():
                    tag = f"crash-{k}-{n}"
                    n += 1
                    body = (f"From: c{k}@other.gov.vn\r\nSubject: {tag}\r\n\r\n" + "x" * 3000 +
                            "\r\n").encode()
                    with lock:
                        attempted.add(tag)
                    s.sendmail(f"c{k}@other.gov.vn", RCPTS, body)
                    with lock:
                        acked.add(tag)
        except (OSError, smtplib.SMTPException):
            time.sleep(0.05)  # the server is gone: retry until told to stop


def subjects(addr):
    out = []
    for raw in inbox(db.url, addr):
        m = re.search(rb"\r\nSubject: (crash-\d+-\d+)\r\n", raw)
        if m:
            out.append(m.group(1).decode())
    return out


with FreshDatabase() as db:
    srv = Server(db.url)
    srv.admin("domain", "add", DOMAIN)
    for r in RCPTS:
        add_account(srv, r.split("@")[0])
    srv.start()
    threads = [threading.Thread(target=client, args=(srv.smtp, k)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    time.sleep(4)
    srv.kill9()
    killed_at_acked = len(acked)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    c.check(killed_at_acked > 50, f"clients were sending when killed: {killed_at_acked} acked")
    srv.start()
    try:
        in_flight = attempted - acked
        per_rcpt = {r: subjects(r) for r in RCPTS}
        for r, subs in per_rcpt.items():
            dup = {s for s in subs if subs.count(s) > 1}
            c.check(not dup, f"{r}: no duplicates ({sorted(dup)[:5]})")
            missing = acked - set(subs)
            c.check(not missing, f"{r}: every acknowledged message present ({len(missing)} missing: "
                                 f"{sorted(missing)[:5]})")
            extra = set(subs) - acked - in_flight
            c.check(not extra, f"{r}: nothing that was never sent ({sorted(extra)[:5]})")
        stored = [set(v) for v in per_rcpt.values()]
        c.check(all(s == stored[0] for s in stored),
                f"every message in all its recipients' mailboxes or in none: "
                f"{[sorted(s ^ stored[0])[:3] for s in stored]}")
        print(f"acked {len(acked)}, in flight at the kill {len(in_flight)}, "
              f"of which committed {len(stored[0] - acked)}")
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=10) as s:
            s.sendmail("after@other.gov.vn", RCPTS[:1], b"Subject: crash-99-0\r\n\r\nafter restart\r\n")
        c.check("crash-99-0" in subjects(RCPTS[0]), "serving again after the restart")
    finally:
        c.check(srv.stop() == 0, "clean stop after restart")
    srv.cleanup()
c.finish()
