#!/usr/bin/env python3
"""After `govmail admin domain merge OLD NEW` the old addresses keep working, through the real
binary and real clients: IMAP LOGIN and SMTP AUTH with user@OLD sign in to the account user@NEW
(and see its mail), mail sent to user@OLD over SMTP lands in that account, and a wrong password
or an unknown name at OLD is still refused."""
import imaplib
import os
import smtplib
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, stop_server  # noqa
from smtp_support import DOMAIN, Server, inbox, wait_port  # noqa
from admin_support import PW, smtp_login  # noqa

c = Checks()
OLD = "bacgiang.gov.vn"

with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    imap_port = srv.listen_imap()
    try:
        srv.admin("domain", "add", DOMAIN)
        srv.admin("domain", "add", OLD)
        srv.admin("account", "add", f"vinhnq@{OLD}", "--name", "Nguyễn Quang Vinh",
                  "--password-stdin", input=PW + "\n")
        out = srv.admin("domain", "merge", OLD, DOMAIN)
        c.check("1 accounts" in out, f"merge moved the account: {out}")
        listed = srv.admin("account", "list", "--domain", DOMAIN)
        c.check(listed.startswith(f"vinhnq@{DOMAIN}\t"), f"the account now lives at NEW: {listed}")
        srv.start()
        wait_port(imap_port)

        # Mail to the old address arrives (MX, an outside sender).
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
            s.ehlo("mx.outside.example")
            refused = s.sendmail("someone@outside.example", [f"vinhnq@{OLD}"],
                                 f"From: someone@outside.example\r\nTo: vinhnq@{OLD}\r\n"
                                 "Subject: to the old address\r\n\r\nXin chao\r\n".encode())
        c.check(refused == {}, f"MX accepted mail for the old address: {refused}")
        got = inbox(db.url, f"vinhnq@{DOMAIN}")
        c.check(len(got) == 1 and b"to the old address" in got[0],
                f"delivered into the merged account: {len(got)}")

        # IMAP LOGIN with the old address: the merged account, with that mail.
        try:
            with imaplib.IMAP4("127.0.0.1", imap_port, timeout=30) as m:
                typ, _ = m.login(f"vinhnq@{OLD}", PW)
                typ2, data = m.select("INBOX")
                ok = typ == "OK" and typ2 == "OK" and data[0] == b"1"
        except imaplib.IMAP4.error as e:
            ok = e
        c.check(ok is True, f"IMAP LOGIN as vinhnq@{OLD} sees the merged INBOX: {ok}")
        for user, pw in ((f"vinhnq@{OLD}", "wrong password"), (f"nobody@{OLD}", PW)):
            try:
                with imaplib.IMAP4("127.0.0.1", imap_port, timeout=30) as m:
                    m.login(user, pw)
                c.check(False, f"IMAP LOGIN {user} with a bad password must fail")
            except imaplib.IMAP4.error:
                c.check(True, "")

        # SMTP AUTH with the old address, then a message sent as the new address.
        try:
            with smtplib.SMTP("127.0.0.1", srv.submission, timeout=30) as s:
                s.ehlo("client.example")
                s.login(f"vinhnq@{OLD}", PW)
                refused = s.sendmail(f"vinhnq@{DOMAIN}", [f"vinhnq@{DOMAIN}"],
                                     f"From: vinhnq@{DOMAIN}\r\nTo: vinhnq@{DOMAIN}\r\n"
                                     "Subject: sent after AUTH as the old address\r\n\r\nx\r\n"
                                     .encode())
            ok = refused == {}
        except smtplib.SMTPException as e:
            ok = e
        c.check(ok is True, f"SMTP AUTH as vinhnq@{OLD} and send: {ok}")
        got = inbox(db.url, f"vinhnq@{DOMAIN}")
        c.check(len(got) == 2 and b"sent after AUTH" in got[1], f"submitted and delivered: {len(got)}")
        c.check(smtp_login(srv, f"vinhnq@{OLD}", "not the password") is not True,
                "SMTP AUTH as the old address with a wrong password fails")
    finally:
        stop_server(srv, c)
c.finish()
