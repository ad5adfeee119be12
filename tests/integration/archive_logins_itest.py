#!/usr/bin/env python3
"""Protocol logins in the audit log and periodic checkpoints (real govmail, real PostgreSQL,
real clients): an official logs in, and fails to, over IMAP (imaplib), POP3 (poplib), SMTP AUTH
(smtplib) and JMAP (HTTP login and Basic); `govmail archive audit --action login.` lists each
with its protocol, client IP, account and outcome, and no password anywhere in the log (the
logins are written in batches, within a second; a clean stop writes the last one). `serve`
signs checkpoints by itself (at start, then hourly), and of two processes on the database only
the lease holder does: the other one's key never signs."""
import base64
import imaplib
import json
import os
import poplib
import smtplib
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, psql  # noqa: E402
from smtp_support import DOMAIN, Server, add_account  # noqa: E402
from archive_support import archive  # noqa: E402

c = Checks()
PW = "correct horse battery"
WRONG = "wrong-Secret-7f3a"
AN = f"an@{DOMAIN}"


def http(srv, path, body=None, headers=None):
    req = urllib.request.Request(f"http://127.0.0.1:{srv.http}{path}", method="POST" if body else
                                 "GET", data=json.dumps(body).encode() if body else None,
                                 headers=dict({"Content-Type": "application/json"}, **(headers or {})))
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def logins(srv):
    r = archive(srv, "audit", "--action", "login.", "--json")
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def checkpoints(db):
    return int(psql(db.url, "SELECT count(*) FROM archive_checkpoints"))


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    imap_port = srv.listen_imap()
    pop3_port, _ = srv.listen_pop3()
    srv.admin("domain", "add", DOMAIN)
    add_account(srv, "an", PW)
    srv.start()
    second = None
    try:
        # --- one success and one failure per protocol -------------------------------------------
        with imaplib.IMAP4("127.0.0.1", imap_port, timeout=30) as m:
            m.login(AN, PW)
        try:
            with imaplib.IMAP4("127.0.0.1", imap_port, timeout=30) as m:
                m.login(AN, WRONG)
            c.check(False, "IMAP login with a wrong password refused")
        except imaplib.IMAP4.error:
            pass
        p = poplib.POP3("127.0.0.1", pop3_port, timeout=30)
        p.user(AN)
        p.pass_(PW)
        p.quit()
        p = poplib.POP3("127.0.0.1", pop3_port, timeout=30)
        try:
            p.user(AN)
            p.pass_(WRONG)
            c.check(False, "POP3 login with a wrong password refused")
        except poplib.error_proto:
            pass
        p.close()
        with smtplib.SMTP("127.0.0.1", srv.submission, timeout=30) as s:
            s.ehlo("client.example")
            s.login(AN, PW)
        try:
            with smtplib.SMTP("127.0.0.1", srv.submission, timeout=30) as s:
                s.ehlo("client.example")
                s.login(AN, WRONG)
            c.check(False, "SMTP AUTH with a wrong password refused")
        except smtplib.SMTPAuthenticationError:
            pass
        c.check(http(srv, "/jmap/login", {"username": AN, "password": PW}) == 200, "JMAP login")
        c.check(http(srv, "/jmap/login", {"username": AN, "password": WRONG}) == 401,
                "JMAP login with a wrong password refused")
        basic = base64.b64encode(f"nobody@{DOMAIN}:{WRONG}".encode()).decode()
        c.check(http(srv, "/jmap/session", headers={"Authorization": "Basic " + basic}) == 401,
                "JMAP Basic with an unknown user refused")

        # --- serve signs checkpoints by itself --------------------------------------------------
        deadline = time.time() + 20
        while checkpoints(db) == 0 and time.time() < deadline:
            time.sleep(0.5)
        c.check(checkpoints(db) > 0, "a checkpoint appears without `archive checkpoint`")
        # A second process on the same database, with its own key (another var_dir): the lease
        # holder keeps signing, the other one does not.
        second = Server(db.url, allow_plaintext=True)
        second.start()
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:  # moves the journal head
            s.sendmail("vanthu@so.example", [AN], b"Subject: x\r\n\r\ny\r\n")
        time.sleep(3)  # the second process has started and tried the lease
        keys = psql(db.url, "SELECT count(DISTINCT public_key) FROM archive_checkpoints")
        c.check(keys == "1", f"one process signs (one key): {keys}")
        holders = psql(db.url, "SELECT count(*) FROM archive_checkpoint_lease")
        c.check(holders == "1", f"one lease row: {holders}")
    finally:
        if second:
            second.stop()
        rc = srv.stop()  # a clean stop writes the logins still queued
    c.check(rc == 0, f"clean stop: {rc}")

    # --- the audit log ------------------------------------------------------------------------
    rows = logins(srv)
    seen = {(r["action"], r["ok"]) for r in rows}
    for proto in ("imap", "pop3", "smtp", "jmap"):
        c.check(("login." + proto, True) in seen, f"{proto} login success audited: {seen}")
        c.check(("login." + proto, False) in seen, f"{proto} login failure audited: {seen}")
    c.check(all(r["source"] == "127.0.0.1" for r in rows), f"client IP recorded: {rows}")
    ok_rows = [r for r in rows if r["ok"]]
    c.check(ok_rows and all(r["actor"] == AN and r["detail"] == "ok" for r in ok_rows),
            f"the account and the outcome of a success: {ok_rows}")
    c.check(any(r["actor"] == f"nobody@{DOMAIN}" and r["detail"] == "bad credentials"
                for r in rows), "an unknown user's attempt names what was typed")
    leaked = psql(db.url, f"SELECT count(*) FROM audit_log WHERE actor || source || target || "
                          f"detail LIKE '%{WRONG}%' OR actor || source || target || detail "
                          f"LIKE '%{PW}%'")
    c.check(leaked == "0", f"no password in the audit log: {leaked}")
    r = archive(srv, "verify", "--no-blobs")
    c.check(r.returncode == 0 and "archive intact" in r.stdout,
            f"chains and the served checkpoints verify with this server's key: {r.stdout}"
            f"{r.stderr}")
    if second:
        key = os.path.join(second.var, "archive-signing.key")
        c.check(not os.path.exists(key), "the process without the lease never made a key (it "
                                         "signed nothing)")
        second.cleanup()
    srv.cleanup()

c.finish()
