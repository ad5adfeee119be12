#!/usr/bin/env python3
"""Attacks on admin sessions and second factors (issue 11), through the real binary, with two
govmail processes on one database:
 * a bearer token dies at once, in every process, when the admin's password is reset (API or
   CLI), when it is suspended (even if restored before the token is used again) or when its
   role is revoked (even if granted again); the session that changes its own password carries
   on, the admin's other sessions end;
 * a TOTP code is good once, in any process;
 * the self-service password change of an admin with a second factor needs a code.
Scope attacks: security_admin_scope_itest.py."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, stop_server  # noqa
from smtp_support import DOMAIN, Server  # noqa
from admin_support import PW, Api, add_units_and_people, seed_admins, smtp_login  # noqa

c = Checks()


def addr(local):
    return f"{local}@{DOMAIN}"


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    srv2 = Server(db.url, allow_plaintext=True)  # a second process on the same database
    try:
        add_units_and_people(srv, DOMAIN, {"prov": None, "prov2": None, "unitadm": "27001",
                                           "unit2": "27001", "aud": None})
        codes = seed_admins(srv, {"prov": ("province", ()), "prov2": ("province", ()),
                                  "unitadm": ("unit", ("27001",)),
                                  "unit2": ("unit", ("27001",)), "aud": ("auditor", ())})
        srv.start()
        srv2.start()

        def login(who, server=srv):
            api = Api(server.http)
            st, out = api.login(addr(who), PW, codes[who].code())
            c.check(st == 200, f"{who} signs in: {st} {out}")
            return api

        prov, unit = login("prov"), login("unitadm")

        # --- sessions end with a password reset, in this process and the other ---------------
        unit2_far = login("unit2", srv2)
        st, _ = unit2_far.call("GET", f"/accounts?domain={DOMAIN}")
        c.check(st == 200, f"unit2's session on the second process works: {st}")
        st, out = prov.call("POST", f"/accounts/{addr('unitadm')}/password",
                            {"password": "reset by the province", "must_change": False})
        c.check(st == 200, f"province admin resets the unit admin's password: {st} {out}")
        st, out = unit.call("GET", f"/accounts?domain={DOMAIN}")
        c.check(st == 401, f"the unit admin's old token after the reset: 401 ({st})")
        srv.admin("account", "password", addr("unit2"), "--password-stdin", "--no-must-change",
                  input="reset from the cli 1\n")
        st, out = unit2_far.call("GET", f"/accounts?domain={DOMAIN}")
        c.check(st == 401, f"a token on the other process after a CLI reset: 401 ({st})")

        # suspended and restored before the token is used again
        aud = login("aud", srv2)
        st, _ = prov.call("POST", f"/accounts/{addr('aud')}/suspend")
        st2, _ = prov.call("POST", f"/accounts/{addr('aud')}/restore")
        c.check(st == 200 and st2 == 200, f"auditor suspended and restored: {st} {st2}")
        st, out = aud.call("GET", "/audit?limit=1")
        c.check(st == 401, f"the auditor's token after suspend + restore: 401 ({st})")

        # role revoked and granted again before the token is used again
        srv.admin("account", "password", addr("unit2"), "--password-stdin", "--no-must-change",
                  input=PW + "\n")
        unit2 = login("unit2")
        st, _ = prov.call("DELETE", f"/admins/{addr('unit2')}")
        st2, _ = prov.call("POST", "/admins", {"address": addr("unit2"), "role": "unit",
                                               "units": ["27001"]})
        c.check(st == 200 and st2 == 200, f"unit2 revoked and granted again: {st} {st2}")
        st, out = unit2.call("GET", f"/accounts?domain={DOMAIN}")
        c.check(st == 401, f"the token after revoke + grant: 401 ({st})")

        # --- TOTP codes are good once, across processes --------------------------------------
        code = codes["prov2"].code()
        st, out = Api(srv2.http).login(addr("prov2"), PW, code)
        c.check(st == 200, f"prov2 signs in on the second process: {st} {out}")
        st, out = Api(srv.http).login(addr("prov2"), PW, code)
        c.check(st == 401, f"the same code replayed on the first process: 401 ({st} {out})")
        st, out = Api(srv2.http).login(addr("prov2"), PW, code)
        c.check(st == 401, f"the same code replayed on the same process: 401 ({st} {out})")

        # --- an admin's own password change needs its TOTP code ------------------------------
        prov2 = login("prov2")
        st, out = prov2.call("POST", "/password", {"address": addr("prov2"), "password": PW,
                                                   "new_password": "stolen password only"})
        c.check(st == 401 and smtp_login(srv, addr("prov2"), PW) is True,
                f"self-service change without the TOTP code: 401 ({st} {out})")
        # the change ends the admin's other sessions, not the one making it
        aud, other = login("aud"), login("aud", srv2)
        st, out = aud.call("POST", "/password", {"address": addr("aud"), "password": PW,
                                                 "new_password": "the new aud password",
                                                 "totp": codes["aud"].code()})
        c.check(st == 200, f"self-service change with password and code: {st} {out}")
        st, _ = aud.call("GET", "/audit?limit=1")
        c.check(st == 200, f"the session that made the change carries on: {st}")
        st, _ = other.call("GET", "/audit?limit=1")
        c.check(st == 401, f"the admin's other session (other process) ends: {st}")
    finally:
        srv2.stop()
        srv2.cleanup()
        stop_server(srv, c)
c.finish()
