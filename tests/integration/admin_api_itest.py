#!/usr/bin/env python3
"""Admin HTTP API (/admin/api) against a real govmail serve and PostgreSQL: sign-in with password
and TOTP (RFC 6238 codes made here), the limits of each role (province, unit, auditor), audit
entries with the client IP for every call, import with dry-run, and accounts created by an API
import logging in with SMTP AUTH and IMAP LOGIN."""
import imaplib
import json
import os
import smtplib
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, free_port, psql, stop_server  # noqa
from smtp_support import DOMAIN, Server, wait_port  # noqa
from admin_support import PW, Api, add_units_and_people, enrol_totp, totp  # noqa

c = Checks()


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    imap_port = free_port()
    with open(srv.cfg) as f:
        text = f.read()
    with open(srv.cfg, "w") as f:
        f.write(text.replace("imap = []", f'imap = ["127.0.0.1:{imap_port}"]'))
    try:
        # admin.require_totp stays at its default (on).
        add_units_and_people(srv, DOMAIN, {"prov": None, "unitadm": "27001", "aud": None,
                                           "nototp": None, "plain": "27001", "a1": "27001",
                                           "b1": "27002"})
        srv.admin("admins", "grant", f"prov@{DOMAIN}", "--role", "province")
        srv.admin("admins", "grant", f"unitadm@{DOMAIN}", "--role", "unit", "--units", "27001")
        srv.admin("admins", "grant", f"aud@{DOMAIN}", "--role", "auditor")
        srv.admin("admins", "grant", f"nototp@{DOMAIN}", "--role", "province")
        secrets = {who: enrol_totp(srv, f"{who}@{DOMAIN}") for who in ("prov", "unitadm", "aud")}
        srv.start()

        # --- sign-in --------------------------------------------------------------------------
        api = Api(srv.http)
        st, out = api.call("GET", f"/accounts?domain={DOMAIN}")
        c.check(st == 401, f"no token: 401 ({st} {out})")
        st, out = api.call("GET", f"/accounts?domain={DOMAIN}", token="forged-token")
        c.check(st == 401, f"forged token: 401 ({st})")
        st, wrong = api.login(f"prov@{DOMAIN}", "wrong password", totp(secrets["prov"]))
        c.check(st == 401 and wrong == {"error": "invalid credentials"}, f"bad password: {st} {wrong}")
        st, out = api.login(f"nobody@{DOMAIN}", PW, "000000")
        c.check(st == 401 and out == wrong, f"unknown user answers like a bad password: {out}")
        st, out = api.login(f"plain@{DOMAIN}", PW)
        c.check(st == 401 and out == wrong, f"a non-admin account answers the same: {st} {out}")
        st, out = api.login(f"prov@{DOMAIN}", PW)
        c.check(st == 401 and "TOTP code required" in out.get("error", ""), f"TOTP missing: {out}")
        bad_code = f"{(int(totp(secrets['prov'])) + 1) % 1000000:06d}"
        st, out = api.login(f"prov@{DOMAIN}", PW, bad_code)
        c.check(st == 401 and "invalid TOTP" in out.get("error", ""), f"wrong TOTP: {st} {out}")
        st, out = api.login(f"nototp@{DOMAIN}", PW, "123456")
        c.check(st == 401 and "enrol" in out.get("error", ""),
                f"require_totp without an enrolled secret: refused ({st} {out})")
        st, out = api.login(f"prov@{DOMAIN}", PW, totp(secrets["prov"]))
        c.check(st == 200 and out.get("role") == "province" and len(out.get("token", "")) >= 32,
                f"province login with TOTP: {st} {out}")
        prov = api
        last = psql(db.url, f"SELECT last_login_at IS NOT NULL FROM accounts "
                            f"WHERE address = 'prov@{DOMAIN}'")
        c.check(last == "t", "a successful login sets accounts.last_login_at")
        unit = Api(srv.http)
        st, out = unit.login(f"unitadm@{DOMAIN}", PW, totp(secrets["unitadm"]))
        c.check(st == 200 and out.get("units") == ["27001"], f"unit admin login: {st} {out}")
        aud = Api(srv.http)
        st, out = aud.login(f"aud@{DOMAIN}", PW, totp(secrets["aud"], step_offset=-1))
        c.check(st == 200 and out.get("role") == "auditor",
                f"auditor login with the previous step's code (clock drift): {st} {out}")

        # --- province admin: everything ---------------------------------------------------------
        st, out = prov.call("GET", "/domains")
        c.check(st == 200 and out == [{"name": DOMAIN, "alias_of": None}], f"domains: {out}")
        st, out = prov.call("POST", "/domains", {"name": "old.gov.vn"})
        c.check(st == 200, f"domain add: {st} {out}")
        st, out = prov.call("POST", "/domains", {"name": "old.gov.vn"})
        c.check(st == 409, f"duplicate domain: 409 ({st} {out})")
        st, out = prov.call("GET", "/units")
        c.check(st == 200 and [u["code"] for u in out] == ["27", "27001", "27002"] and
                out[1]["name"] == "Phường Kinh Bắc" and out[1]["kind"] == "commune", f"units: {out}")
        st, out = prov.call("POST", "/units/import",
                            csv="code,name,parent_code\n27003,Xã Quế Võ,27\n")
        c.check(st == 200 and out["created"] == 1, f"unit import: {st} {out}")
        st, out = prov.call("POST", "/units/import", csv="code,name,parent_code\n27009,X,99\n")
        c.check(st == 422 and out["bad"][0]["line"] == 2, f"unit import bad parent: {st} {out}")
        st, out = prov.call("GET", f"/accounts?domain={DOMAIN}&unit=27001")
        c.check(st == 200 and sorted(a["address"].split("@")[0] for a in out) ==
                ["a1", "plain", "unitadm"], f"list by unit: {out}")
        st, out = prov.call("POST", "/accounts", {"address": f"new1@{DOMAIN}",
                                                   "name": "Nguyễn Văn Mới", "unit": "27002",
                                                   "quota_mb": 100})
        c.check(st == 200 and len(out.get("password", "")) >= 12 and out["unit"] == "27002" and
                out["quota_mb"] == 100 and out["must_change_password"], f"account add: {out}")
        st, out = prov.call("GET", f"/accounts/new1@{DOMAIN}")
        c.check(st == 200 and out["name"] == "Nguyễn Văn Mới" and out["status"] == "active",
                f"account show: {out}")
        st, out = prov.call("POST", f"/accounts/new1@{DOMAIN}/suspend")
        c.check(st == 200 and out["status"] == "suspended", f"suspend: {out}")
        st, out = prov.call("GET", f"/accounts?domain={DOMAIN}&status=suspended")
        c.check(st == 200 and [a["address"] for a in out] == [f"new1@{DOMAIN}"],
                f"list by status: {out}")
        st, out = prov.call("POST", f"/accounts/new1@{DOMAIN}/restore")
        c.check(st == 200 and out["status"] == "active", f"restore: {out}")
        st, out = prov.call("POST", f"/accounts/new1@{DOMAIN}/password",
                            {"password": "a new long password", "must_change": False})
        c.check(st == 200 and not out["must_change_password"], f"password reset: {out}")
        st, out = prov.call("POST", f"/accounts/new1@{DOMAIN}/quota", {"quota_mb": 250})
        c.check(st == 200 and out["quota_mb"] == 250, f"quota: {out}")
        st, out = prov.call("GET", f"/accounts/new1@{DOMAIN}")
        c.check(out.get("quota_mb") == 250, f"quota visible: {out}")
        st, out = prov.call("DELETE", f"/accounts/new1@{DOMAIN}")
        c.check(st == 200 and out["status"] == "deleted", f"delete: {out}")
        st, out = prov.call("GET", f"/groups?domain={DOMAIN}")
        c.check(st == 200 and isinstance(out, list), f"groups: {st} {out}")
        if out:
            st2, m = prov.call("GET", f"/groups/{out[0]['address']}/members")
            c.check(st2 == 200 and "members" in m, f"group members: {st2} {m}")
        st, out = prov.call("POST", "/domains/merge", {"old": "old.gov.vn", "new": DOMAIN})
        c.check(st == 200, f"domain merge: {st} {out}")
        st, out = prov.call("GET", "/domains")
        c.check({"name": "old.gov.vn", "alias_of": DOMAIN} in out, f"merged domain is an alias: {out}")

        # --- import through the API, dry run first ----------------------------------------------
        rows = ("full_name,unit_code,position\nNguyễn Quang Vinh,27001,Chuyên viên\n"
                "Trần Thị Thu Hương,27002,Kế toán\nĐặng Văn Đức,27002,Chủ tịch\n")
        before = int(psql(db.url, "SELECT count(*) FROM accounts"))
        st, out = prov.call("POST", f"/import?domain={DOMAIN}&dry_run=1", csv=rows)
        c.check(st == 200 and out["dry_run"] and not out["applied"] and out["created"] == 3 and
                sorted(x["address"] for x in out["changes"]) ==
                sorted(f"{l}@{DOMAIN}" for l in ("vinhnq", "huongttt", "ducdv")),
                f"dry-run import: {st} {out}")
        c.check("credentials" not in out, "dry run returns no passwords")
        c.check(int(psql(db.url, "SELECT count(*) FROM accounts")) == before,
                "dry run creates nothing")
        st, bad = prov.call("POST", f"/import?domain={DOMAIN}",
                            csv=rows + "Lê Văn Sai,99999,X\n")
        c.check(st == 422 and bad["bad"] == [{"line": 5, "reason": bad["bad"][0]["reason"]}] and
                "unit" in bad["bad"][0]["reason"] and not bad["applied"],
                f"a bad row refuses the whole import: {st} {bad}")
        st, out = prov.call("POST", f"/import?domain={DOMAIN}", csv=rows)
        c.check(st == 200 and out["applied"] and out["created"] == 3, f"import: {st} {out}")
        creds = {}
        for line in out.get("credentials", "").splitlines()[1:]:
            parts = line.split(",")
            creds[parts[0]] = parts[-1]
        c.check(sorted(creds) == sorted(f"{l}@{DOMAIN}" for l in ("vinhnq", "huongttt", "ducdv")),
                f"credentials returned once: {sorted(creds)}")
        st, out = prov.call("POST", f"/import?domain={DOMAIN}", csv=rows)
        c.check(st == 200 and out["created"] == 0 and out["unchanged"] == 3,
                f"re-run changes nothing: {out}")
        st, out = prov.call("GET", f"/export?domain={DOMAIN}")
        c.check(st == 200 and isinstance(out, str) and out.startswith("full_name,unit_code") and
                f"vinhnq@{DOMAIN}" in out, f"export: {st} {str(out)[:200]}")

        # Imported accounts log in with SMTP AUTH (submission, plaintext allowed on loopback).
        for address, password in creds.items():
            try:
                with smtplib.SMTP("127.0.0.1", srv.submission, timeout=30) as s:
                    s.ehlo("client.example")
                    s.login(address, password)
                ok = True
            except smtplib.SMTPException as e:
                ok = e
            c.check(ok is True, f"SMTP AUTH as imported {address}: {ok}")
        # ... and with IMAP LOGIN (plaintext allowed on loopback).
        wait_port(imap_port)
        for address, password in creds.items():
            try:
                with imaplib.IMAP4("127.0.0.1", imap_port, timeout=30) as m:
                    typ, _ = m.login(address, password)
                    ok = typ == "OK" and m.select("INBOX")[0] == "OK"
            except imaplib.IMAP4.error as e:
                ok = e
            c.check(ok is True, f"IMAP LOGIN as imported {address}: {ok}")
        # Protocol logins are recorded for `account unused` (asynchronously: poll briefly).
        wanted = ",".join(f"'{a}'" for a in creds)
        for _ in range(50):
            seen = psql(db.url, f"SELECT count(*) FROM accounts WHERE address IN ({wanted}) "
                        "AND last_login_at IS NOT NULL")
            if seen == str(len(creds)):
                break
            time.sleep(0.1)
        c.check(seen == str(len(creds)), f"SMTP/IMAP logins set last_login_at: {seen}/{len(creds)}")
        try:
            with smtplib.SMTP("127.0.0.1", srv.submission, timeout=30) as s:
                s.ehlo("client.example")
                s.login(f"vinhnq@{DOMAIN}", "not the password")
            c.check(False, "SMTP AUTH with a wrong password must fail")
        except smtplib.SMTPAuthenticationError:
            c.check(True, "")

        # --- unit admin: its units only ---------------------------------------------------------
        st, out = unit.call("GET", f"/accounts?domain={DOMAIN}")
        units_seen = {a["unit"] for a in out} if st == 200 else None
        c.check(st == 200 and units_seen == {"27001"} and
                f"vinhnq@{DOMAIN}" in [a["address"] for a in out],
                f"unit admin lists only 27001: {st} {units_seen}")
        st, out = unit.call("GET", f"/accounts?domain={DOMAIN}&unit=27002")
        c.check(st == 403, f"unit admin listing another unit: 403 ({st})")
        st, missing = unit.call("GET", f"/accounts/nosuch@{DOMAIN}")
        st2, other = unit.call("GET", f"/accounts/b1@{DOMAIN}")
        c.check(st == 404 and (st2, other) == (st, missing),
                f"another unit's account answers exactly like a missing one: {st2} {other} vs {missing}")
        st, out = unit.call("POST", f"/accounts/b1@{DOMAIN}/suspend")
        c.check(st == 404 and out == missing, f"unit admin cannot suspend outside: {st} {out}")
        c.check(psql(db.url, f"SELECT status FROM accounts WHERE address = 'b1@{DOMAIN}'") == "0",
                "b1 still active")
        st, out = unit.call("POST", f"/accounts/b1@{DOMAIN}/password", {"password": "x" * 12})
        c.check(st == 404, f"unit admin cannot reset a password outside: {st}")
        st, out = unit.call("POST", f"/accounts/a1@{DOMAIN}/suspend")
        c.check(st == 200, f"unit admin suspends in its unit: {st} {out}")
        st, out = unit.call("POST", f"/accounts/a1@{DOMAIN}/restore")
        c.check(st == 200, f"unit admin restores in its unit: {st} {out}")
        st, out = unit.call("POST", "/accounts", {"address": f"u2@{DOMAIN}", "name": "Ngoài",
                                                   "unit": "27002"})
        c.check(st == 403, f"unit admin cannot create in another unit: {st} {out}")
        st, out = unit.call("POST", "/accounts", {"address": f"u1@{DOMAIN}", "name": "Trong",
                                                   "unit": "27001"})
        c.check(st == 200, f"unit admin creates in its unit: {st} {out}")
        for method, path, body in (("POST", "/domains", {"name": "x.gov.vn"}),
                                   ("POST", "/domains/merge", {"old": "a.gov.vn", "new": DOMAIN}),
                                   ("GET", "/audit", None)):
            st, out = unit.call(method, path, body)
            c.check(st == 403, f"unit admin {method} {path}: 403 ({st})")
        st, out = unit.call("POST", f"/import?domain={DOMAIN}&dry_run=1", csv=rows)
        c.check(st == 422 and [b["line"] for b in out["bad"]] == [3, 4] and
                all("outside your units" in b["reason"] for b in out["bad"]),
                f"unit admin import with other units' rows: refused by line ({st} {out})")
        st, out = unit.call("GET", f"/groups?domain={DOMAIN}")
        c.check(st == 200 and all(g["unit"] == "27001" for g in out), f"unit admin groups: {out}")

        # --- auditor: reads only ----------------------------------------------------------------
        st, out = aud.call("GET", f"/accounts?domain={DOMAIN}")
        c.check(st == 200 and len(out) >= 10, f"auditor reads every account: {st} {len(out)}")
        st, out = aud.call("GET", f"/accounts/b1@{DOMAIN}")
        c.check(st == 200, f"auditor shows an account: {st}")
        for method, path, body in (("POST", f"/accounts/b1@{DOMAIN}/suspend", None),
                                   ("DELETE", f"/accounts/b1@{DOMAIN}", None),
                                   ("POST", "/accounts", {"address": f"z@{DOMAIN}", "name": "Z"}),
                                   ("POST", f"/accounts/b1@{DOMAIN}/quota", {"quota_mb": 1}),
                                   ("POST", "/domains", {"name": "y.gov.vn"})):
            st, out = aud.call(method, path, body)
            c.check(st == 403, f"auditor {method} {path}: 403 ({st} {out})")
        st, out = aud.call("POST", f"/import?domain={DOMAIN}&dry_run=1", csv=rows)
        c.check(st == 403, f"auditor import: 403 ({st})")
        c.check(psql(db.url, f"SELECT status FROM accounts WHERE address = 'b1@{DOMAIN}'") == "0",
                "the auditor changed nothing")
        st, log = aud.call("GET", "/audit?limit=500")
        c.check(st == 200 and len(log) > 20, f"auditor reads the audit log: {st}")

        # --- audit: every API action, with actor and client IP ----------------------------------
        def entries(actor, action):
            return [e for e in log if e["actor"] == actor and e["action"] == action]

        P, U, A = (f"{x}@{DOMAIN}" for x in ("prov", "unitadm", "aud"))
        for action in ("domain.list", "domain.add", "domain.merge", "unit.list", "unit.import",
                       "account.list", "account.add", "account.show", "account.suspend",
                       "account.restore", "account.password", "account.quota", "account.delete",
                       "group.list", "import", "account.export"):
            es = entries(P, action)
            c.check(es and all(e["source"] == "127.0.0.1" for e in es),
                    f"audit entry for province {action} from 127.0.0.1: {es[:1]}")
        c.check(any(e["target"] == f"new1@{DOMAIN}" and e["ok"]
                    for e in entries(P, "account.suspend")), "suspend audited with its target")
        c.check(any(not e["ok"] and e["target"] == f"b1@{DOMAIN}"
                    for e in entries(U, "account.suspend")),
                "the unit admin's refused suspend is audited as failed")
        c.check(any(not e["ok"] for e in entries(A, "account.delete")),
                "the auditor's refused delete is audited as failed")
        # An import that applied is recorded in its transaction (import.apply), a dry run after.
        c.check(any(e["ok"] and "created=3" in e["detail"]
                    for e in entries(P, "import.apply")) and
                any("dry run" in e["detail"] for e in entries(P, "import")),
                "import and dry-run import audited with their counts")
        logins = [e for e in log if e["action"] == "admin.login"]
        c.check(any(e["ok"] and e["actor"] == P for e in logins) and
                any(not e["ok"] and e["actor"] == P for e in logins),
                "logins audited, successful and failed")
        c.check(not any("correct horse" in json.dumps(e) for e in log), "no password in the log")

        # Revoking the role ends the session at the next request.
        srv.admin("admins", "revoke", f"unitadm@{DOMAIN}")
        st, out = unit.call("GET", f"/accounts?domain={DOMAIN}")
        c.check(st == 401, f"revoked admin's token stops working: {st}")
        st, out = prov.call("POST", "/logout")
        st, out = prov.call("GET", "/domains")
        c.check(st == 401, f"logged out token refused: {st}")
    finally:
        stop_server(srv, c)
c.finish()
