#!/usr/bin/env python3
"""Attacks on the admin HTTP API by its own admins (issue 11), through the real binary (sessions
and TOTP: security_admin_sessions_itest.py):
 * scope: a unit admin resets the password of, adds an app password to, suspends, deletes,
   edits or bulk-suspends an account holding an admin role (province admin included), or changes
   one through an import; joins accounts to a province-wide list through the import's groups
   column; gives out role addresses (postmaster@, abuse@...) or addresses in a domain it does not
   administer (alias, rename, new account, group); a province admin takes over another province
   admin. Each must be refused and change nothing; the same actions on accounts in reach work.
 * journal search: % and _ in a participant match themselves.
"""
import os
import smtplib
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, psql, stop_server  # noqa
from smtp_support import DOMAIN, Server  # noqa
from admin_support import PW, Api, add_units_and_people, seed_admins, smtp_login  # noqa

OTHER = "other.gov.vn"
c = Checks()


def addr(local):
    return f"{local}@{DOMAIN}"


def status_of(db, local):
    return psql(db.url, f"SELECT status FROM accounts WHERE address = '{addr(local)}'")


def refused(st):
    return st in (403, 404)


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    try:
        # Every admin sits in unit 27001, inside the unit admin's units.
        people = {"prov": "27001", "prov2": "27001", "unitadm": "27001", "unit2": "27001",
                  "aud": "27001", "a1": "27001", "a2": "27001", "b1": "27002"}
        add_units_and_people(srv, DOMAIN, people)
        srv.admin("domain", "add", OTHER)
        srv.admin("account", "add", f"x@{OTHER}", "--name", "Người khác", "--unit", "27002",
                  "--password-stdin", input=PW + "\n")
        roles = {"prov": ("province", ()), "prov2": ("province", ()),
                 "unitadm": ("unit", ("27001",)), "unit2": ("unit", ("27001",)),
                 "aud": ("auditor", ())}
        codes = seed_admins(srv, roles)
        srv.start()

        def login(who):
            api = Api(srv.http)
            st, out = api.login(addr(who), PW, codes[who].code())
            c.check(st == 200, f"{who} signs in: {st} {out}")
            return api

        prov, unit = login("prov"), login("unitadm")

        # A province-wide list (manual group) and the automatic group of the province unit.
        st, out = prov.call("POST", "/groups", {"address": addr("toanthe"), "name": "Toàn thể"})
        c.check(st == 200, f"province list made: {st} {out}")
        st, out = prov.call("POST", "/groups", {"address": addr("tinh"), "name": "Tỉnh",
                                                "unit": "27"})
        c.check(st == 200, f"automatic province group made: {st} {out}")
        st, out = prov.call("POST", "/groups", {"address": addr("phuong"), "name": "Phường",
                                                "unit": "27001"})
        c.check(st == 200, f"automatic unit group made: {st} {out}")

        # --- journal search: % and _ match themselves ----------------------------------------
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
            s.ehlo("mx.outside.example")
            for sender, subject in (("van_thu@outside.example", "Tiến độ 100% xong"),
                                    ("vanxthu@outside.example", "Tiến độ 1000 xong")):
                s.sendmail(sender, [addr("b1")], f"From: {sender}\r\nTo: {addr('b1')}\r\n"
                           f"Subject: {subject}\r\n\r\nNội dung\r\n".encode())
        st, out = prov.call("GET", "/archive/journal?participant=van_thu@outside.example")
        c.check(st == 200 and [m["envelope_from"] for m in out] == ["van_thu@outside.example"],
                f"participant 'van_thu' matches only itself: {st} {out}")
        st, out = prov.call("GET", "/archive/journal?participant=van%25thu@outside.example")
        c.check(st == 200 and out == [], f"participant 'van%thu' matches nothing: {st} {out}")
        # --- a province admin against another province admin ---------------------------------
        st, out = prov.call("POST", f"/accounts/{addr('prov2')}/password",
                            {"password": "attacker password 2", "must_change": False})
        c.check(refused(st) and smtp_login(srv, addr("prov2"), PW) is True,
                f"province admin resets another province admin's password: refused ({st} {out})")
        st, out = prov.call("POST", "/admins", {"address": addr("prov2"), "role": "auditor"})
        c.check(refused(st), f"province admin demotes another province admin: refused ({st})")
        st, out = prov.call("POST", f"/admins/{addr('prov2')}/totp")
        c.check(refused(st) and "secret" not in out,
                f"province admin replaces another province admin's TOTP: refused ({st})")

        # --- a unit admin against accounts holding admin roles -------------------------------
        for target in ("prov", "unit2", "aud"):
            st, out = unit.call("POST", f"/accounts/{addr(target)}/password",
                                {"password": "attacker password 1", "must_change": False})
            c.check(refused(st), f"unit admin resets {target}'s password: refused ({st} {out})")
            c.check(smtp_login(srv, addr(target), PW) is True, f"{target}'s password unchanged")
            st, out = unit.call("POST", f"/accounts/{addr(target)}/app-passwords",
                                {"name": "attacker"})
            c.check(refused(st) and "password" not in out,
                    f"unit admin adds an app password to {target}: refused ({st} {out})")
        st, out = unit.call("POST", f"/accounts/{addr('prov')}/suspend")
        c.check(refused(st) and status_of(db, "prov") == "0",
                f"unit admin suspends the province admin: refused ({st} {out})")
        st, out = unit.call("DELETE", f"/accounts/{addr('unit2')}")
        c.check(refused(st) and status_of(db, "unit2") == "0",
                f"unit admin deletes a peer unit admin: refused ({st} {out})")
        st, out = unit.call("POST", f"/accounts/{addr('aud')}/profile", {"position": "x"})
        c.check(refused(st), f"unit admin edits the auditor's profile: refused ({st} {out})")
        st, out = unit.call("POST", f"/accounts/{addr('prov')}/rename",
                            {"address": addr("provx")})
        c.check(refused(st) and status_of(db, "prov") == "0",
                f"unit admin renames the province admin: refused ({st} {out})")
        st, out = unit.call("POST", f"/accounts/{addr('prov')}/aliases",
                            {"alias": addr("provalias")})
        c.check(refused(st), f"unit admin adds an alias to the province admin: refused ({st})")
        st, out = unit.call("POST", "/bulk/suspend", {"addresses": [addr("prov2"), addr("a2")]})
        c.check(st == 200 and status_of(db, "prov2") == "0" and status_of(db, "a2") == "1",
                f"bulk suspend skips the province admin, suspends the official ({st} {out})")
        st, out = unit.call("POST", "/bulk/restore", {"addresses": [addr("a2")]})
        c.check(st == 200 and status_of(db, "a2") == "0", f"official restored: {st} {out}")
        st, out = unit.call("POST", "/import?domain=" + DOMAIN,
                            csv="full_name,unit_code,position,local_part\n"
                                "Người prov,27001,Chuyên viên,prov\n")
        pos = psql(db.url, f"SELECT position FROM accounts WHERE address = '{addr('prov')}'")
        c.check(st != 200 and pos == "", f"import over the province admin's row: refused "
                                         f"({st} {out}, position '{pos}')")
        # The same on an official works: the checks above are not refusing everything.
        st, out = unit.call("POST", f"/accounts/{addr('a1')}/password",
                            {"password": "a new password for a1", "must_change": False})
        c.check(st == 200 and smtp_login(srv, addr("a1"), "a new password for a1") is True,
                f"unit admin resets an official's password: {st} {out}")

        # --- import groups column: a unit admin's rows join only its units' groups -----------
        for group in ("toanthe", "tinh"):
            st, out = unit.call("POST", "/import?domain=" + DOMAIN,
                                csv="full_name,unit_code,position,local_part,quota_mb,groups\n"
                                    f"Người mới,27001,Chuyên viên,moi{group},,{group}\n")
            members = psql(db.url, "SELECT count(*) FROM group_members m JOIN groups g ON"
                                   f" g.id = m.group_id JOIN accounts a ON a.id = m.account_id"
                                   f" WHERE g.address = '{addr(group)}'"
                                   f" AND a.address = '{addr('moi' + group)}'")
            c.check(st != 200 and members == "0",
                    f"import joins a province-wide group {group}: refused ({st} {out})")
        st, out = unit.call("POST", "/import?domain=" + DOMAIN,
                            csv="full_name,unit_code,position,local_part,quota_mb,groups\n"
                                "Người mới,27001,Chuyên viên,moiphuong,,phuong\n")
        c.check(st == 200 and out.get("created") == 1,
                f"import into its own unit's group works: {st} {out}")

        # --- role addresses and other domains ------------------------------------------------
        attempts = [
            ("POST", f"/accounts/{addr('a1')}/aliases", {"alias": addr("postmaster")}),
            ("POST", f"/accounts/{addr('a1')}/aliases", {"alias": addr("Abuse+x")}),
            ("POST", f"/accounts/{addr('a1')}/aliases", {"alias": f"giamdoc@{OTHER}"}),
            ("POST", f"/accounts/{addr('a1')}/rename", {"address": addr("hostmaster")}),
            ("POST", f"/accounts/{addr('a1')}/rename", {"address": f"giamdoc@{OTHER}"}),
            ("POST", "/accounts", {"address": addr("webmaster"), "name": "W", "unit": "27001"}),
            ("POST", "/accounts", {"address": f"giamdoc@{OTHER}", "name": "G", "unit": "27001"}),
            ("POST", "/groups", {"address": addr("security"), "name": "S", "unit": "27001"}),
        ]
        for method, path, body in attempts:
            st, out = unit.call(method, path, body)
            c.check(refused(st), f"unit admin {method} {path} {body}: refused ({st} {out})")
        taken = psql(db.url, "SELECT count(*) FROM (SELECT address FROM accounts UNION ALL "
                             "SELECT address FROM aliases UNION ALL SELECT address FROM groups) t"
                             " WHERE split_part(address, '@', 1) IN ('postmaster', 'abuse+x',"
                             " 'hostmaster', 'webmaster', 'security', 'giamdoc')")
        c.check(taken == "0", f"no role address nor other-domain address was given out ({taken})")
        st, out = unit.call("POST", "/import?domain=" + DOMAIN,
                            csv="full_name,unit_code,position,local_part\n"
                                "Người quản trị,27001,Chuyên viên,postmaster\n")
        c.check(st != 200 and psql(db.url, "SELECT count(*) FROM accounts WHERE address = "
                                           f"'{addr('postmaster')}'") == "0",
                f"import of postmaster@ by a unit admin: refused ({st} {out})")
        st, out = unit.call("POST", f"/accounts/{addr('a1')}/aliases", {"alias": addr("vanthu")})
        c.check(st == 200, f"an ordinary alias in its domain works: {st} {out}")
        st, out = prov.call("POST", f"/accounts/{addr('a1')}/aliases", {"alias": addr("postmaster")})
        c.check(st == 200, f"a province admin gives out postmaster@: {st} {out}")

        # last: on the unfixed server it suspends every admin of the unit
        st, out = unit.call("POST", f"/unused/suspend?domain={DOMAIN}&days=0")
        c.check(st == 200 and status_of(db, "a2") == "1" and
                all(status_of(db, who) == "0" for who in ("prov2", "unit2", "aud")),
                f"unit admin suspends unused accounts: not the admins' ({st} {out})")
    finally:
        stop_server(srv, c)
c.finish()
