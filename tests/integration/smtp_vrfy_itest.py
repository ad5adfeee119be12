#!/usr/bin/env python3
"""VRFY through the real binary with smtp.vrfy = true: on submission after AUTH it says whether a
local address exists (250 for an account or a group, 550 for none); before AUTH, on MX, and for
other domains it still answers 252. (smtp_itest covers the default, smtp.vrfy = false.)"""
import os
import smtplib
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, psql  # noqa: E402
from smtp_support import DOMAIN, Server, add_account  # noqa: E402

c = Checks()
PW = "correct horse battery"

with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True, smtp_extra="vrfy = true")
    srv.admin("domain", "add", DOMAIN)
    add_account(srv, "an", PW)
    add_account(srv, "binh", PW)
    psql(db.url, f"""
INSERT INTO groups (address) VALUES ('phong@{DOMAIN}');
INSERT INTO group_members SELECT g.id, a.id FROM groups g, accounts a WHERE a.address = 'binh@{DOMAIN}';""")
    srv.start()
    try:
        with smtplib.SMTP("127.0.0.1", srv.submission, timeout=30) as s:
            s.ehlo("client.test")
            code, _ = s.verify(f"binh@{DOMAIN}")
            c.check(code == 252, f"VRFY before AUTH: {code}")
            s.login(f"an@{DOMAIN}", PW)
            for addr, want in ((f"binh@{DOMAIN}", 250), (f"Phong@{DOMAIN}", 250),
                               (f"nobody@{DOMAIN}", 550), ("someone@gmail.com", 252)):
                code, text = s.verify(addr)
                c.check(code == want, f"VRFY {addr} after AUTH: {code} {text!r}")
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
            s.ehlo("relay.test")
            code, _ = s.verify(f"binh@{DOMAIN}")
            c.check(code == 252, f"VRFY on MX: {code}")
    finally:
        srv.stop()
        srv.cleanup()

c.finish()
