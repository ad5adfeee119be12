#!/usr/bin/env python3
"""Graceful stop: on SIGTERM every SMTP session gets "421 4.3.2 Service shutting down" and the
connection ends; a transaction still in DATA is answered 421 and leaves nothing in the store (no
250 for anything not committed); a transaction whose final dot arrived before the signal gets its
250 and is stored. govmail exits 0 well within its 5 s grace, even with idle sessions open."""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, stop_server  # noqa: E402
from smtp_support import DOMAIN, Raw, Server, add_account, count, inbox  # noqa: E402

c = Checks()
AN = f"an@{DOMAIN}"


def rest(conn):
    """Every reply line until the server closes the connection."""
    lines = []
    try:
        while True:
            lines.append(conn.line())
    except (EOFError, OSError):
        pass
    return lines


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    srv.admin("domain", "add", DOMAIN)
    add_account(srv, "an")
    srv.start()
    try:
        idle_mx = Raw(srv.smtp)
        idle_mx.send("EHLO idle.test\r\n")
        idle_mx.reply()
        idle_sub = Raw(srv.submission)
        idle_sub.send("EHLO idle.test\r\n")
        idle_sub.reply()
        idle_tls = Raw(srv.submissions, tls=True)  # the goodbye goes over TLS
        idle_tls.send("EHLO idle.test\r\n")
        idle_tls.reply()

        in_data = Raw(srv.smtp)
        in_data.send(f"EHLO data.test\r\nMAIL FROM:<ba@bo.vn>\r\nRCPT TO:<{AN}>\r\nDATA\r\n")
        replies = [in_data.reply() for _ in range(4)]
        c.check(replies[-1][0].startswith("354"), f"DATA accepted: {replies}")
        in_data.send("From: ba@bo.vn\r\nSubject: unfinished\r\n\r\nhalf of a message\r\n")

        done = Raw(srv.smtp)
        done.send(f"EHLO done.test\r\nMAIL FROM:<ba@bo.vn>\r\nRCPT TO:<{AN}>\r\nDATA\r\n")
        [done.reply() for _ in range(4)]
        done.send("From: ba@bo.vn\r\nSubject: finished\r\n\r\nwhole\r\n.\r\n")
        final = done.reply()
        c.check(final[0].startswith("250 2.0.0"), f"finished message acknowledged: {final}")

        time.sleep(0.3)  # the DATA bytes above are read before the signal
        t0 = time.time()
        srv.proc.send_signal(signal.SIGTERM)
        for name, conn in (("idle MX", idle_mx), ("idle submission", idle_sub),
                           ("idle submissions (TLS)", idle_tls), ("after a transaction", done)):
            lines = rest(conn)
            c.check(len(lines) == 1 and lines[0].startswith("421 4.3.2 ")
                    and "Service shutting down" in lines[0], f"{name}: {lines}")
        lines = rest(in_data)
        c.check(not any(x.startswith("250") for x in lines), f"no 250 for the unfinished DATA: {lines}")
        c.check(lines and lines[0].startswith("421 4.3.2 "), f"unfinished DATA answered 421: {lines}")
        rc = srv.proc.wait(timeout=30)
        took = time.time() - t0
        c.check(rc == 0, f"govmail exits 0 on SIGTERM: {rc}")
        c.check(took < 4.5, f"stopped without waiting out the grace: {took:.1f}s")
        subjects = [m for m in inbox(db.url, AN)]
        c.check(len(subjects) == 1 and b"Subject: finished" in subjects[0],
                f"only the acknowledged message is stored: {[m[-80:] for m in subjects]}")
        c.check(count(db.url, "blobs") == 1, "no blob of the unfinished message")
    finally:
        stop_server(srv, c)

c.finish()
