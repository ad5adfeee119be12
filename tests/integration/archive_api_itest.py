#!/usr/bin/env python3
"""The archive through the admin API (real govmail, real PostgreSQL, HTTP): an auditor searches
the journal with unaccented Vietnamese and by participant, views a message its official had
already expunged, and queries the audit log by actor, action and time; each search and view is
in the audit log under the auditor's address; a unit admin is refused. The auditor exports
through the API (signed manifest + mbox): written to files, `govmail archive verify-export`
accepts it with the public key and refuses it once a message is altered."""
import base64
import os
import smtplib
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, govmail, psql  # noqa: E402
from archive_support import archive  # noqa: E402
from smtp_support import DOMAIN, Server  # noqa: E402
from admin_support import Api, add_units_and_people, seed_admins  # noqa: E402

c = Checks()
AN = f"an@{DOMAIN}"

with FreshDatabase() as db:
    srv = Server(db.url)
    add_units_and_people(srv, DOMAIN, {"an": "27001", "kiemtra": None, "donvi": "27001"})
    codes = seed_admins(srv, {"kiemtra": ("auditor", ()), "donvi": ("unit", ("27001",))})
    srv.start()
    try:
        msg = ("From: vanthu@so.example\r\nTo: " + AN + "\r\nSubject: Công văn khẩn số 7\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n\r\nĐề nghị báo cáo.\r\n").encode()
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
            s.sendmail("vanthu@so.example", [AN], msg)
            s.sendmail("khac@so.example", [AN], b"From: khac@so.example\r\nSubject: other\r\n\r\nx\r\n")
        # The official deletes it from the mailbox: the record stays.
        psql(db.url, "SELECT govmail_remove_entries(e.account_id, e.mailbox_id, array_agg(e.uid), "
                     "(SELECT modseq + 1 FROM accounts WHERE id = e.account_id), true) "
                     "FROM mailbox_entries e GROUP BY e.account_id, e.mailbox_id")
        c.check(psql(db.url, "SELECT count(*) FROM mailbox_entries") == "0", "mailbox emptied")

        api = Api(srv.http)
        st, _ = api.login(f"kiemtra@{DOMAIN}", code=codes["kiemtra"].code())
        c.check(st == 200, f"auditor signs in: {st}")
        st, found = api.call("GET", "/archive/journal?text=cong van khan")
        c.check(st == 200 and isinstance(found, list) and len(found) == 1
                and found[0]["subject"] == "Công văn khẩn số 7",
                f"journal search, unaccented: {st} {found}")
        st, by_who = api.call("GET", f"/archive/journal?participant={AN}")
        c.check(st == 200 and len(by_who) == 2, f"by participant: {st} {by_who}")
        st, none = api.call("GET", "/archive/journal?until=2001-01-01")
        c.check(st == 200 and none == [], f"by date: {st} {none}")
        st, bad = api.call("GET", "/archive/journal?since=yesterday")
        c.check(st == 400, f"a bad date is refused: {st}")
        if found:
            st, one = api.call("GET", f"/archive/journal/{found[0]['id']}")
            raw = base64.b64decode(one.get("raw_base64", "")) if st == 200 else b""
            c.check(st == 200 and "Đề nghị báo cáo.".encode() in raw and one["direction"] == "in",
                    f"an expunged message viewed from the journal: {st}")
        st, _ = api.call("GET", "/archive/journal/999999")
        c.check(st == 404, f"unknown entry: {st}")
        st, log = api.call("GET", f"/audit/log?actor=kiemtra@{DOMAIN}&action=archive.")
        actions = [e["action"] for e in log] if st == 200 else []
        c.check(actions.count("archive.search") == 4 and actions.count("archive.view") == 2,
                f"every auditor search and view is audited: {st} {actions}")
        c.check(st == 200 and all(len(e["hash"]) == 64 for e in log), "entries carry their hash")
        st, later = api.call("GET", "/audit/log?since=2099-01-01")
        c.check(st == 200 and later == [], f"audit log by time: {st} {later}")
        st, page = api.call("GET", "/audit/log?limit=2")
        c.check(st == 200 and len(page) == 2 and page[0]["seq"] < page[1]["seq"], "paged in chain order")
        st, page2 = api.call("GET", f"/audit/log?limit=2&after={page[1]['seq']}")
        c.check(st == 200 and page2 and page2[0]["seq"] > page[1]["seq"], "next page")

        # --- export through the API: verifiable with the public key alone ---------------------
        st, exp = api.call("GET", f"/archive/export?participant={AN}")
        c.check(st == 200 and exp.get("messages") == 2, f"export: {st} {str(exp)[:300]}")
        out = tempfile.mkdtemp()
        if st == 200:
            with open(os.path.join(out, "manifest.json"), "wb") as f:
                f.write(exp["manifest"].encode())
            with open(os.path.join(out, "manifest.sig"), "wb") as f:
                f.write(exp["signature"].encode())
            with open(os.path.join(out, "messages.mbox"), "wb") as f:
                f.write(base64.b64decode(exp["mbox_base64"]))
        pub = archive(srv, "public-key").stdout.strip()
        r = govmail("archive", "verify-export", out, "--public-key", pub)
        c.check(r.returncode == 0, f"the API export verifies: {r.stdout}{r.stderr}")
        mbox = os.path.join(out, "messages.mbox")
        if os.path.exists(mbox):
            with open(mbox, "rb") as f:
                data = f.read()
            with open(mbox, "wb") as f:
                f.write(data.replace("Đề nghị".encode(), "Đề xuất".encode()))
        r = govmail("archive", "verify-export", out, "--public-key", pub)
        c.check(r.returncode != 0, f"an altered message fails verify-export: {r.stdout}")
        st, log = api.call("GET", f"/audit/log?actor=kiemtra@{DOMAIN}&action=archive.export")
        c.check(st == 200 and len(log) == 1 and log[0]["ok"], f"the export is audited: {log}")

        unit = Api(srv.http)
        st, _ = unit.login(f"donvi@{DOMAIN}", code=codes["donvi"].code())
        st, out = unit.call("GET", "/archive/journal")
        c.check(st == 403, f"a unit admin may not search the archive: {st}")
        st, out = unit.call("GET", "/archive/export")
        c.check(st == 403, f"nor export it: {st}")
        st, out = unit.call("GET", "/audit/log")
        c.check(st == 403, f"nor read the audit log: {st}")
        logins = psql(db.url, "SELECT count(*) FROM audit_log WHERE action = 'admin.login' AND ok")
        c.check(logins == "2", f"both logins audited: {logins}")
    finally:
        srv.stop()
    r = __import__("subprocess").run([os.environ.get("GOVMAIL_BIN", "build/govmail"), "archive",
                                      "--config", srv.cfg, "verify"], env=srv.env,
                                     capture_output=True, text=True)
    c.check(r.returncode == 0 and "archive intact" in r.stdout, f"chains verify: {r.stdout}{r.stderr}")
    srv.cleanup()

c.finish()
