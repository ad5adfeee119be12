#!/usr/bin/env python3
"""Issue 11, lock-out as a denial of service: wrong passwords sent from one network (IMAP LOGIN,
SMTP AUTH, admin API login, each from its own 127.0.0.x source address) lock out that network,
never the official logging in from another one; guesses spread over many networks shut out only
networks that have not logged in lately, while known-good networks and app passwords still work.
Before the fix, five wrong guesses from anywhere locked the address out of every protocol."""
import http.client
import imaplib
import json
import os
import smtplib
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, stop_server  # noqa
from smtp_support import DOMAIN, Server, add_account  # noqa

PW = "correct horse battery"
USER = f"chutich@{DOMAIN}"  # the province admin: the account worth locking out
GOOD = "127.0.0.1"  # the official's network
GUESSES = 8  # per attacking network: past max_failures_per_account (5)

c = Checks()


class ImapFrom(imaplib.IMAP4):
    """IMAP from a chosen source address (the attacking or the official's network)."""

    def __init__(self, source, port):
        self.source = source
        super().__init__("127.0.0.1", port, timeout=30)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self.source, 0))


def imap_login(source, port, password):
    """'OK', or the server's NO text."""
    with ImapFrom(source, port) as m:
        try:
            m.login(USER, password)
            return "OK"
        except imaplib.IMAP4.error as e:
            return str(e)


def smtp_login(source, port, password):
    """235, or the reply code of the refusal (421 locked out, 535 wrong)."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30, source_address=(source, 0)) as s:
            s.ehlo("client.example")
            s.user, s.password = USER, password
            s.auth("PLAIN", s.auth_plain)  # one mechanism: login() would try the next on a 421
            return 235
    except smtplib.SMTPAuthenticationError as e:
        return e.smtp_code
    except smtplib.SMTPServerDisconnected:
        return "disconnected"
    except smtplib.SMTPResponseException as e:
        return e.smtp_code


def admin_login(source, port, password):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        conn.request("POST", "/admin/api/login", json.dumps({"address": USER, "password": password}),
                     {"Content-Type": "application/json"})
        return conn.getresponse().status
    finally:
        conn.close()


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    imap_port = srv.listen_imap()
    srv.edit_config(lambda text: text.replace("[auth]\n", "[auth]\nmax_failures_per_ip = 10\n"
                             "max_failures_per_account = 5\nmax_failures_per_account_total = 12\n"
                             "lockout_base = 300\n")
                + "\n[admin]\nrequire_totp = false\n")
    try:
        srv.admin("domain", "add", DOMAIN)
        add_account(srv, "chutich", PW)
        srv.admin("admins", "grant", USER, "--role", "province")
        out = srv.admin("app-password", "add", USER, "phone")
        app_pw = [l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("password: ")][0]
        srv.start()
        c.check(imap_login(GOOD, imap_port, PW) == "OK", "the official logs in before the attack")

        # --- IMAP LOGIN guesses from 127.0.0.2 ----------------------------------------------------
        for _ in range(GUESSES):
            imap_login("127.0.0.2", imap_port, "guess")
        r = imap_login("127.0.0.2", imap_port, PW)
        c.check(r != "OK", f"the guessing network is locked out, even with the password: {r}")
        r = imap_login(GOOD, imap_port, PW)
        c.check(r == "OK", f"IMAP guesses from 127.0.0.2 do not lock out 127.0.0.1: {r}")
        r = smtp_login(GOOD, srv.submission, PW)
        c.check(r == 235, f"nor SMTP AUTH from 127.0.0.1: {r}")

        # --- SMTP AUTH guesses from 127.0.0.3 -----------------------------------------------------
        for _ in range(GUESSES):
            smtp_login("127.0.0.3", srv.submission, "guess")
        r = smtp_login("127.0.0.3", srv.submission, PW)
        c.check(r == 421, f"SMTP from the guessing network: 421 locked out ({r})")
        r = smtp_login(GOOD, srv.submission, PW)
        c.check(r == 235, f"SMTP guesses from 127.0.0.3 do not lock out 127.0.0.1: {r}")

        # --- admin API login guesses from 127.0.0.4 -----------------------------------------------
        statuses = [admin_login("127.0.0.4", srv.http, "guess") for _ in range(GUESSES)]
        c.check(statuses[:5] == [401] * 5 and statuses[-1] == 429,
                f"admin API guesses: 401 then 429 ({statuses})")
        r = admin_login("127.0.0.4", srv.http, PW)
        c.check(r == 429, f"admin API from the guessing network: 429 ({r})")
        r = admin_login(GOOD, srv.http, PW)
        c.check(r == 200, f"the province admin still signs in from 127.0.0.1: {r}")

        # --- 15 guesses from three networks passed max_failures_per_account_total (12) ------------
        r = imap_login("127.0.0.9", imap_port, PW)
        c.check(r != "OK", f"address-wide lock-out: a new network is refused the password: {r}")
        r = smtp_login("127.0.0.9", srv.submission, app_pw)
        c.check(r == 235, f"an app password still works from a new network: {r}")
        r = imap_login(GOOD, imap_port, PW)
        c.check(r == "OK", f"the known-good network still logs in: {r}")
        r = imap_login("127.0.0.2", imap_port, app_pw)
        c.check(r != "OK", f"a locked network is refused even an app password: {r}")

        log = srv.log()
        c.check("network 127.0.0.2/32 locked out" in log, "the log names the locked network")
        c.check(srv.proc.poll() is None, "server still running")
    finally:
        stop_server(srv, c)

c.finish()
