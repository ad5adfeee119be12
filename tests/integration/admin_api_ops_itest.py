#!/usr/bin/env python3
"""Admin HTTP API, the operations beyond the basics, against a real govmail serve: aliases, app
passwords, groups (add, members, senders, send policy, delete), rename, profile, accounts unused
for N days (list, suspend), bulk suspend/restore, admin grants, archive search; the role limits of
each (province, unit admin limited to its units, auditor read-only plus archive search); a unit
admin's import into its own units; the must-change flag (API refuses everything but the password
change; SMTP AUTH still works) and the self-service password change; an audit entry for each."""
import os
import smtplib
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, psql, stop_server  # noqa
from smtp_support import DOMAIN, Server  # noqa
from admin_support import PW, Api, add_units_and_people, smtp_login  # noqa

c = Checks()


def status_of(db, local):
    return psql(db.url, f"SELECT status FROM accounts WHERE address = '{local}@{DOMAIN}'")


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    with open(srv.cfg, "a") as f:
        f.write("\n[admin]\nrequire_totp = false\n")
    try:
        add_units_and_people(srv, DOMAIN, {"prov": None, "unitadm": "27001", "aud": None,
                                           "a1": "27001", "a2": "27001", "a3": "27001",
                                           "b1": "27002", "mc": "27001"}, must_change=("mc",))
        srv.admin("admins", "grant", f"prov@{DOMAIN}", "--role", "province")
        srv.admin("admins", "grant", f"unitadm@{DOMAIN}", "--role", "unit", "--units", "27001")
        srv.admin("admins", "grant", f"aud@{DOMAIN}", "--role", "auditor")
        srv.admin("admins", "grant", f"mc@{DOMAIN}", "--role", "unit", "--units", "27001")
        psql(db.url, "UPDATE accounts SET created_at = now() - interval '100 days' "
                     f"WHERE address IN ('a3@{DOMAIN}', 'b1@{DOMAIN}')")
        srv.start()
        # Two messages for the archive search, through the MX from an outside sender.
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
            s.ehlo("mx.outside.example")
            for rcpt, subject in (("a1", "Công văn số 42"), ("b1", "Báo cáo tháng")):
                s.sendmail("vanthu@outside.example", [f"{rcpt}@{DOMAIN}"],
                           f"From: vanthu@outside.example\r\nTo: {rcpt}@{DOMAIN}\r\n"
                           f"Subject: {subject}\r\n\r\nNội dung\r\n".encode())

        prov, unit, aud = Api(srv.http), Api(srv.http), Api(srv.http)
        for api, who in ((prov, "prov"), (unit, "unitadm"), (aud, "aud")):
            st, out = api.login(f"{who}@{DOMAIN}")
            c.check(st == 200 and out["must_change_password"] is False, f"{who} login: {st} {out}")
        A1, A2, A3, B1 = (f"{x}@{DOMAIN}" for x in ("a1", "a2", "a3", "b1"))

        # --- province: aliases ------------------------------------------------------------------
        st, out = prov.call("POST", f"/accounts/{A1}/aliases", {"alias": f"vanthu@{DOMAIN}"})
        c.check(st == 200 and out["alias"] == f"vanthu@{DOMAIN}", f"alias add: {st} {out}")
        st, out = prov.call("POST", f"/accounts/{A1}/aliases", {"alias": f"vanthu@{DOMAIN}"})
        c.check(st == 409, f"alias add twice: 409 ({st} {out})")
        st, out = prov.call("POST", f"/accounts/{A1}/aliases", {"alias": "x@nowhere.gov.vn"})
        c.check(st == 404, f"alias in an unknown domain: 404 ({st} {out})")
        st, out = prov.call("GET", f"/accounts/{A1}/aliases")
        c.check(st == 200 and out["aliases"] == [f"vanthu@{DOMAIN}"], f"alias list: {st} {out}")
        st, out = prov.call("DELETE", f"/accounts/{A1}/aliases/vanthu@{DOMAIN}")
        c.check(st == 200, f"alias remove: {st} {out}")
        st, out = prov.call("GET", f"/accounts/{A1}/aliases")
        c.check(out["aliases"] == [], f"alias gone: {out}")
        st, out = prov.call("DELETE", f"/accounts/{A1}/aliases/vanthu@{DOMAIN}")
        c.check(st == 404, f"removing a missing alias: 404 ({st})")

        # --- app passwords: returned once, log in over SMTP, removed -----------------------------
        st, out = prov.call("POST", f"/accounts/{A1}/app-passwords", {"name": "thunderbird"})
        app_pw = out.get("password", "")
        c.check(st == 200 and len(app_pw) >= 16, f"app password add: {st}")
        c.check(smtp_login(srv, A1, app_pw) is True, "SMTP AUTH with the app password")
        st, out = prov.call("GET", f"/accounts/{A1}")
        c.check(out.get("app_passwords") == ["thunderbird"], f"app password listed: {out}")
        # An app password is for mail clients: it cannot change the account's password.
        st, out = Api(srv.http).call("POST", "/password", {
            "address": A1, "password": app_pw, "new_password": "a new password 123"})
        c.check(st == 401, f"password change with an app password: 401 ({st} {out})")
        c.check(smtp_login(srv, A1, PW) is True, "the password is unchanged")
        # ... nor open an admin session, even for an admin.
        st, out = prov.call("POST", f"/accounts/prov@{DOMAIN}/app-passwords", {"name": "phone"})
        prov_app = out.get("password", "")
        c.check(st == 200 and smtp_login(srv, f"prov@{DOMAIN}", prov_app) is True,
                f"an admin's app password works for mail: {st}")
        st, out = Api(srv.http).login(f"prov@{DOMAIN}", prov_app)
        c.check(st == 401, f"admin login with an app password: 401 ({st} {out})")
        st, out = Api(srv.http).login(f"prov@{DOMAIN}", prov_app)  # from the cache: same answer
        c.check(st == 401, f"admin login with a cached app password: 401 ({st} {out})")
        st, out = prov.call("DELETE", f"/accounts/{A1}/app-passwords/thunderbird")
        c.check(st == 200, f"app password remove: {st} {out}")
        c.check(smtp_login(srv, A1, app_pw) is not True, "the removed app password no longer works")

        # --- groups -------------------------------------------------------------------------------
        G = f"lanhdao@{DOMAIN}"
        st, out = prov.call("POST", "/groups", {"address": G, "name": "Lãnh đạo",
                                                "send_policy": "members"})
        c.check(st == 200 and out["send_policy"] == "members", f"group add: {st} {out}")
        st, out = prov.call("POST", f"/groups/{G}/members", {"account": A1})
        c.check(st == 200, f"member add: {st} {out}")
        st, out = prov.call("POST", f"/groups/{G}/members", {"account": f"nosuch@{DOMAIN}"})
        c.check(st == 404, f"member add of a missing account: 404 ({st})")
        st, out = prov.call("GET", f"/groups/{G}/members")
        c.check(out.get("members") == [A1], f"members: {out}")
        st, out = prov.call("POST", f"/groups/{G}/policy", {"send_policy": "senders"})
        c.check(st == 200, f"send policy: {st} {out}")
        st, out = prov.call("POST", f"/groups/{G}/policy", {"send_policy": "everybody"})
        c.check(st == 400, f"bad send policy: 400 ({st})")
        st, out = prov.call("GET", f"/groups?domain={DOMAIN}")
        c.check([g["send_policy"] for g in out if g["address"] == G] == ["senders"],
                f"policy stored: {out}")
        st, out = prov.call("POST", f"/groups/{G}/senders", {"account": B1})
        c.check(st == 200, f"sender add: {st} {out}")
        c.check(psql(db.url, "SELECT count(*) FROM group_senders") == "1", "sender stored")
        st, out = prov.call("DELETE", f"/groups/{G}/members/{A1}")
        c.check(st == 200, f"member remove: {st} {out}")
        st, out = prov.call("GET", f"/groups/{G}/members")
        c.check(out.get("members") == [], f"member removed: {out}")
        st, out = prov.call("POST", "/groups", {"address": f"tmp@{DOMAIN}"})
        st, out = prov.call("DELETE", f"/groups/tmp@{DOMAIN}")
        c.check(st == 200, f"group delete: {st} {out}")

        # --- rename, profile ------------------------------------------------------------------------
        st, out = prov.call("POST", f"/accounts/{A2}/rename",
                            {"address": f"a2moi@{DOMAIN}", "keep_alias": True})
        c.check(st == 200 and out["address"] == f"a2moi@{DOMAIN}", f"rename: {st} {out}")
        st, out = prov.call("GET", f"/accounts/a2moi@{DOMAIN}/aliases")
        c.check(st == 200 and out["aliases"] == [A2], f"old address kept as alias: {out}")
        st, out = prov.call("POST", f"/accounts/a2moi@{DOMAIN}/profile",
                            {"position": "Phó chủ tịch", "name": "Nguyễn Văn Hai"})
        c.check(st == 200 and out["position"] == "Phó chủ tịch" and out["name"] ==
                "Nguyễn Văn Hai" and out["unit"] == "27001", f"profile: {st} {out}")

        # --- unit admin: its units only ------------------------------------------------------------
        st, missing = unit.call("POST", f"/accounts/{B1}/aliases", {"alias": f"x1@{DOMAIN}"})
        c.check(st == 404 and missing == {"error": "account not found"},
                f"unit admin: alias on another unit's account: {st} {missing}")
        st, out = unit.call("POST", f"/accounts/{A1}/aliases", {"alias": f"x1@{DOMAIN}"})
        c.check(st == 200, f"unit admin: alias in its unit: {st} {out}")
        st, out = unit.call("POST", f"/accounts/{B1}/app-passwords", {"name": "x"})
        c.check(st == 404, f"unit admin: app password outside: {st}")
        st, out = unit.call("POST", f"/accounts/{B1}/rename", {"address": f"b9@{DOMAIN}"})
        c.check(st == 404 and status_of(db, "b1") == "0", f"unit admin: rename outside: {st}")
        st, out = unit.call("POST", f"/accounts/{A1}/profile", {"unit": "27002"})
        c.check(st == 403, f"unit admin: moving an account out of its units: {st}")
        st, out = unit.call("POST", "/groups", {"address": f"x@{DOMAIN}", "unit": "27002"})
        c.check(st == 403, f"unit admin: group for another unit: {st}")
        st, out = unit.call("POST", f"/groups/{G}/members", {"account": A1})
        c.check(st == 404, f"unit admin: a province-wide manual group is not theirs: {st}")
        st, out = unit.call("POST", "/groups", {"address": f"kinhbac@{DOMAIN}", "unit": "27001"})
        c.check(st == 200 and out["members"] >= 4, f"unit admin: automatic group of its unit: {out}")
        st, out = unit.call("POST", f"/groups/kinhbac@{DOMAIN}/policy", {"send_policy": "domain"})
        c.check(st == 200, f"unit admin: policy of its group: {st}")
        st, out = unit.call("GET", f"/unused?domain={DOMAIN}&days=45")
        c.check(st == 200 and [a["address"] for a in out["accounts"]] == [A3],
                f"unit admin: unused accounts of its units only: {out}")
        st, out = unit.call("POST", f"/unused/suspend?domain={DOMAIN}&days=45")
        c.check(st == 200 and out["suspended"] == 1 and status_of(db, "a3") == "1" and
                status_of(db, "b1") == "0", f"unit admin: suspends its unused only: {out}")
        st, out = unit.call("POST", "/bulk/suspend", {"addresses": [A1, B1]})
        c.check(st == 200 and out["changed"] == 1 and out["not_found"] == [B1] and
                status_of(db, "b1") == "0" and status_of(db, "a1") == "1",
                f"unit admin: bulk suspend skips another unit: {out}")
        st, out = unit.call("POST", "/bulk/restore", {"addresses": [A1]})
        c.check(st == 200 and status_of(db, "a1") == "0", f"unit admin: bulk restore: {out}")
        for method, path, body in (("POST", "/admins", {"address": A1, "role": "province"}),
                                   ("GET", "/archive/journal?text=x", None),
                                   ("GET", "/archive/export?text=x", None), ("GET", "/admins", None)):
            st, out = unit.call(method, path, body)
            c.check(st == 403, f"unit admin {method} {path}: 403 ({st})")
        rows = "full_name,unit_code,position\nLê Văn Một,27001,A\nLê Văn Hai,27002,B\n"
        before = psql(db.url, "SELECT count(*) FROM accounts")
        st, out = unit.call("POST", f"/import?domain={DOMAIN}", csv=rows)
        c.check(st == 422 and out["bad"] == [{"line": 3, "reason": out["bad"][0]["reason"]}] and
                "outside your units" in out["bad"][0]["reason"] and not out["applied"] and
                psql(db.url, "SELECT count(*) FROM accounts") == before,
                f"unit admin import: a row for another unit refuses the file ({st} {out})")
        st, out = unit.call("POST", f"/import?domain={DOMAIN}",
                            csv="full_name,unit_code,position\nLê Văn Một,27001,A\n")
        c.check(st == 200 and out["created"] == 1, f"unit admin import into its unit: {st} {out}")
        imported = {}
        for line in out.get("credentials", "").splitlines()[1:]:
            imported[line.split(",")[0]] = line.split(",")[-1]

        # --- province: unused, bulk, admins, export -----------------------------------------------
        st, out = prov.call("GET", f"/unused?domain={DOMAIN}&days=45")
        c.check(st == 200 and [a["address"] for a in out["accounts"]] == [B1],
                f"province: unused (a3 already suspended): {out}")
        st, out = prov.call("POST", f"/unused/suspend?domain={DOMAIN}&days=45")
        c.check(st == 200 and status_of(db, "b1") == "1", f"province: unused suspended: {out}")
        st, out = prov.call("GET", f"/unused?domain={DOMAIN}&days=abc")
        c.check(st == 400, f"bad days: 400 ({st})")
        st, out = prov.call("POST", "/bulk/restore", csv=f"address\n{B1}\n{A3}\nnosuch@{DOMAIN}\n")
        c.check(st == 200 and out["changed"] == 2 and out["not_found"] == [f"nosuch@{DOMAIN}"] and
                status_of(db, "b1") == "0" and status_of(db, "a3") == "0",
                f"province: bulk restore from a list: {out}")
        st, out = prov.call("POST", "/admins", {"address": A1, "role": "unit", "units": ["27001"]})
        c.check(st == 200 and out == {"address": A1, "role": "unit", "units": ["27001"],
                                      "totp": False}, f"grant: {st} {out}")
        st, out = prov.call("POST", "/admins", {"address": A1, "role": "unit"})
        c.check(st == 400, f"unit role without units: 400 ({st})")
        st, out = prov.call("GET", "/admins")
        c.check(st == 200 and {"address": A1, "role": "unit", "units": ["27001"], "totp": False}
                in out, f"admins list: {out}")
        st, out = prov.call("DELETE", f"/admins/{A1}")
        c.check(st == 200, f"revoke: {st} {out}")
        st, out = prov.call("DELETE", f"/admins/prov@{DOMAIN}")
        c.check(st == 409, f"revoking oneself: 409 ({st})")
        st, out = prov.call("POST", f"/admins/aud@{DOMAIN}/totp")
        c.check(st == 200 and len(out.get("secret", "")) >= 32 and
                out["uri"].startswith("otpauth://totp/"), f"TOTP enrolment: {st} {out}")
        c.check(psql(db.url, "SELECT totp_secret IS NOT NULL FROM admins a JOIN accounts c ON "
                             f"c.id = a.account_id WHERE c.address = 'aud@{DOMAIN}'") == "t",
                "TOTP secret stored")
        st, out = prov.call("POST", f"/admins/{A1}/totp")
        c.check(st == 404, f"TOTP for a non-admin: 404 ({st} {out})")
        st, out = prov.call("DELETE", f"/accounts/{A3}")
        psql(db.url, f"UPDATE accounts SET deleted_at = now() - interval '200 days' "
                     f"WHERE address = '{A3}'")
        st, out = prov.call("POST", "/purge?older_than_days=90")
        c.check(st == 200 and out["purged"] == [A3] and
                psql(db.url, f"SELECT count(*) FROM accounts WHERE address = '{A3}'") == "0",
                f"purge of an account deleted 200 days ago: {out}")
        st, out = unit.call("POST", "/purge")
        c.check(st == 403, f"unit admin purge: 403 ({st})")
        st, out = aud.call("POST", f"/admins/aud@{DOMAIN}/totp")
        c.check(st == 403, f"auditor TOTP enrolment: 403 ({st})")
        st, out = prov.call("GET", f"/export?domain={DOMAIN}")
        c.check(st == 200 and "Nguyễn Văn Hai" in out and A1 in out, "export CSV")

        # --- auditor: read-only plus archive search ----------------------------------------------
        st, out = aud.call("GET", "/archive/journal?text=công văn")
        c.check(st == 200 and any(m["subject"] == "Công văn số 42" and A1 in m["recipients"] and
                                  m["envelope_from"] == "vanthu@outside.example" for m in out),
                f"journal by text: {st} {out}")
        st, out = aud.call("GET", f"/archive/journal?participant={B1}&text=outside.example")
        c.check(st == 200 and [m["subject"] for m in out] == ["Báo cáo tháng"],
                f"journal by participant and text: {out}")
        st, out = aud.call("GET", "/archive/journal?since=2000-01-01&until=2000-12-31")
        c.check(st == 200 and out == [], f"journal by date: nothing in 2000 ({out})")
        st, out = aud.call("GET", "/archive/journal?since=yesterday")
        c.check(st == 400, f"bad date: 400 ({st})")
        st, out = aud.call("GET", "/archive")
        c.check(st == 404, f"the old live-mailbox search is gone: 404 ({st})")
        st, out = aud.call("GET", f"/unused?domain={DOMAIN}")
        c.check(st == 200, f"auditor reads unused: {st}")
        st, out = aud.call("GET", "/admins")
        c.check(st == 200 and len(out) >= 3, f"auditor reads admins: {st}")
        for method, path, body in (
                ("POST", f"/accounts/{A1}/aliases", {"alias": f"z@{DOMAIN}"}),
                ("POST", f"/accounts/{A1}/app-passwords", {"name": "z"}),
                ("POST", f"/accounts/{A1}/rename", {"address": f"z@{DOMAIN}"}),
                ("POST", f"/accounts/{A1}/profile", {"position": "z"}),
                ("POST", "/groups", {"address": f"z@{DOMAIN}"}),
                ("POST", f"/groups/{G}/policy", {"send_policy": "anyone"}),
                ("POST", "/bulk/suspend", {"addresses": [A1]}),
                ("POST", f"/unused/suspend?domain={DOMAIN}&days=0", None),
                ("POST", "/admins", {"address": A1, "role": "auditor"}),
                ("POST", f"/import?domain={DOMAIN}", None)):
            st, out = aud.call(method, path, body)
            c.check(st == 403, f"auditor {method} {path}: 403 ({st} {out})")
        c.check(status_of(db, "a1") == "0", "the auditor changed nothing")
        st, out = prov.call("GET", "/archive/journal?text=Báo cáo")
        c.check(st == 200 and len(out) >= 1, f"province searches the journal too: {out}")

        # --- must change: only the password change until it is done ------------------------------
        mc = Api(srv.http)
        st, out = mc.login(f"mc@{DOMAIN}")
        c.check(st == 200 and out["must_change_password"] is True, f"must-change login: {out}")
        st, out = mc.call("GET", f"/accounts?domain={DOMAIN}")
        c.check(st == 403 and "password change required" in out["error"], f"refused: {st} {out}")
        c.check(smtp_login(srv, f"mc@{DOMAIN}", PW) is True,
                "SMTP AUTH works for a must-change account")
        st, out = mc.call("POST", "/password", {"address": f"mc@{DOMAIN}", "password": "wrong pw",
                                                 "new_password": "a brand new password"})
        c.check(st == 401, f"change with a wrong current password: 401 ({st})")
        st, out = mc.call("POST", "/password", {"address": f"mc@{DOMAIN}", "password": PW,
                                                 "new_password": "short"})
        c.check(st == 400, f"too short: 400 ({st})")
        st, out = mc.call("POST", "/password", {"address": f"mc@{DOMAIN}", "password": PW,
                                                 "new_password": "a brand new password"})
        c.check(st == 200 and out["must_change_password"] is False, f"changed: {st} {out}")
        st, out = mc.call("GET", f"/accounts?domain={DOMAIN}")
        c.check(st == 200, f"the same session works after the change: {st}")
        c.check(Api(srv.http).login(f"mc@{DOMAIN}")[0] == 401, "the old password is refused")
        c.check(smtp_login(srv, f"mc@{DOMAIN}", "a brand new password") is True,
                "SMTP AUTH with the new password")
        # Self-service for an official created by import (no admin role, no token).
        (addr, initial), = imported.items()
        c.check(smtp_login(srv, addr, initial) is True, "imported account: SMTP AUTH at once")
        st, out = Api(srv.http).call("POST", "/password", {
            "address": addr, "password": initial, "new_password": "mat-khau-moi-rat-dai"})
        c.check(st == 200, f"self-service change by an official: {st} {out}")
        c.check(psql(db.url, f"SELECT must_change_password FROM accounts WHERE address = '{addr}'")
                == "f", "must-change cleared")
        c.check(smtp_login(srv, addr, "mat-khau-moi-rat-dai") is True and
                smtp_login(srv, addr, initial) is not True, "new password in, old one out")

        # --- audit: an entry for every action, refused ones as failed -----------------------------
        st, log = prov.call("GET", "/audit?limit=2000")
        c.check(st == 200, f"audit log: {st}")

        def has(actor, action, ok=True):
            return any(e["actor"] == actor and e["action"] == action and e["ok"] == ok and
                       e["source"] == "127.0.0.1" for e in log)

        P, U, AU = (f"{x}@{DOMAIN}" for x in ("prov", "unitadm", "aud"))
        for action in ("alias.add", "alias.list", "alias.remove", "app-password.add",
                       "app-password.remove", "group.add", "group.member-add",
                       "group.member-remove", "group.sender-add", "group.policy", "group.delete",
                       "account.rename", "account.set", "account.unused", "account.bulk-restore",
                       "admins.grant", "admins.list", "admins.revoke", "account.export",
                       "admins.totp", "account.purge", "account.delete",
                       "archive.search"):
            c.check(has(P, action), f"audited: province {action}")
        # A bulk import that applied is recorded in its transaction as import.apply.
        for action in ("alias.add", "account.unused", "account.bulk-suspend", "import.apply",
                       "group.add", "group.policy"):
            c.check(has(U, action), f"audited: unit admin {action}")
        for action in ("alias.add", "app-password.add", "account.rename", "account.set",
                       "group.member-add", "admins.grant", "archive.search", "import"):
            c.check(has(U, action, ok=False), f"audited as refused: unit admin {action}")
        c.check(has(AU, "archive.search"), "audited: auditor archive.search")
        c.check(any(e["actor"] == AU and e["action"] == "archive.search" and
                    "text=công văn" in e["detail"] and " messages" in e["detail"]
                    for e in log), "the search is audited with its query and result count")
        for action in ("alias.add", "account.bulk-suspend", "admins.grant", "group.policy"):
            c.check(has(AU, action, ok=False), f"audited as refused: auditor {action}")
        c.check(has(f"mc@{DOMAIN}", "account.password.self") and
                has(f"mc@{DOMAIN}", "account.password.self", ok=False) and
                has(addr, "account.password.self"), "password changes audited (and the failure)")
        c.check(has(f"mc@{DOMAIN}", "account.list", ok=False),
                "the call refused for must-change is audited")
        c.check(not any(PW in str(e) or "brand new" in str(e) or initial in str(e) for e in log),
                "no password in the audit log")
    finally:
        stop_server(srv, c)
c.finish()
