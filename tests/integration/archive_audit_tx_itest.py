#!/usr/bin/env python3
"""An admin change and its audit entry commit together (real govmail, real PostgreSQL): with a
trigger in the test database that makes the audit insert of one action fail, that action does
not happen (CLI and admin API: account suspend, bulk suspend, admin grant and revoke); with a
trigger that makes the change itself fail, no successful entry of it is written; without
triggers, one entry per change."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, govmail, psql  # noqa: E402
from smtp_support import DOMAIN, Server  # noqa: E402
from admin_support import Api, add_units_and_people, seed_admins  # noqa: E402

c = Checks()
A1, A2 = f"a1@{DOMAIN}", f"a2@{DOMAIN}"


def status(db, address):
    return psql(db.url, f"SELECT status FROM accounts WHERE address = '{address}'")


def entries(db, action, ok=True):
    return psql(db.url, f"SELECT count(*) FROM audit_log WHERE action = '{action}' AND ok = "
                        f"{'true' if ok else 'false'}")


def fail_audit_of(db, action):
    """From now on the audit insert of `action` raises (a test-only trigger; a table, not a
    setting, so that the running server's connections see it at once)."""
    psql(db.url, "CREATE TABLE IF NOT EXISTS test_fail (action text); DELETE FROM test_fail; "
                 f"INSERT INTO test_fail VALUES ('{action}'); "
                 "CREATE OR REPLACE FUNCTION test_fail_audit() RETURNS trigger LANGUAGE plpgsql "
                 "AS $$ BEGIN IF EXISTS (SELECT 1 FROM test_fail WHERE action = NEW.action) THEN "
                 "RAISE EXCEPTION 'test: audit insert refused'; END IF; RETURN NEW; END $$; "
                 "DROP TRIGGER IF EXISTS test_fail_audit ON audit_log; "
                 "CREATE TRIGGER test_fail_audit BEFORE INSERT ON audit_log FOR EACH ROW "
                 "EXECUTE FUNCTION test_fail_audit()")


def no_trigger(db):
    psql(db.url, "DROP TRIGGER IF EXISTS test_fail_audit ON audit_log; "
                 "DROP TRIGGER IF EXISTS test_fail_change ON accounts")


def cli(srv, *args):
    return govmail("admin", "--config", srv.cfg, *args, env=srv.env)


with FreshDatabase() as db:
    srv = Server(db.url)
    add_units_and_people(srv, DOMAIN, {"a1": "27001", "a2": "27001", "tinh": None})
    codes = seed_admins(srv, {"tinh": ("province", ())})

    # --- CLI: the audit insert fails -> no change -------------------------------------------
    fail_audit_of(db, "account.suspend")
    r = cli(srv, "account", "suspend", A1)
    c.check(r.returncode != 0 and status(db, A1) == "0" and entries(db, "account.suspend") == "0",
            f"CLI suspend whose entry fails: refused, nothing changed ({r.returncode} "
            f"{r.stderr.strip()[:200]}, status {status(db, A1)})")
    lst = os.path.join(srv.tmp, "list.txt")
    with open(lst, "w") as f:
        f.write(f"{A1}\n{A2}\n")
    fail_audit_of(db, "account.bulk-suspend")
    r = cli(srv, "account", "bulk-suspend", lst)
    c.check(r.returncode != 0 and status(db, A1) == "0" and status(db, A2) == "0",
            f"CLI bulk suspend whose entry fails: nothing changed ({r.stderr.strip()[:200]})")
    fail_audit_of(db, "admins.grant")
    r = cli(srv, "admins", "grant", A2, "--role", "auditor")
    admins = psql(db.url, f"SELECT count(*) FROM admins m JOIN accounts a ON a.id = m.account_id "
                          f"WHERE a.address = '{A2}'")
    c.check(r.returncode != 0 and admins == "0", f"CLI grant whose entry fails: no grant ({admins})")

    G = f"nhom@{DOMAIN}"
    no_trigger(db)
    r = cli(srv, "group", "add", G, "--name", "Nhóm")
    c.check(r.returncode == 0, f"group made: {r.stderr}")
    r = cli(srv, "app-password", "add", A1, "thunderbird")
    c.check(r.returncode == 0, f"app password made: {r.stderr}")
    apps = f"SELECT count(*) FROM app_passwords p JOIN accounts a ON a.id = p.account_id " \
           f"WHERE a.address = '{A1}'"
    ALIAS = f"van-thu@{DOMAIN}"
    members = f"SELECT count(*) FROM group_members m JOIN groups g ON g.id = m.group_id " \
              f"WHERE g.address = '{G}'"
    for action, args, check in (
            ("group.member-add", ("group", "member-add", G, A1), lambda: psql(db.url, members) == "0"),
            ("group.policy", ("group", "policy", G, "members"),
             lambda: psql(db.url, f"SELECT send_policy FROM groups WHERE address = '{G}'") == "0"),
            ("account.quota", ("account", "quota", A1, "7"),
             lambda: psql(db.url, f"SELECT quota_bytes FROM accounts WHERE address = '{A1}'")
             != str(7 << 20)),
            ("account.set", ("account", "set", A1, "--position", "Chánh văn phòng"),
             lambda: psql(db.url, f"SELECT position FROM accounts WHERE address = '{A1}'")
             != "Chánh văn phòng"),
            ("alias.add", ("alias", "add", ALIAS, A1),
             lambda: psql(db.url, f"SELECT count(*) FROM aliases WHERE address = '{ALIAS}'")
             == "0"),
            ("account.rename", ("account", "rename", A2, f"a2moi@{DOMAIN}"),
             lambda: status(db, A2) == "0"),
            ("app-password.remove", ("app-password", "remove", A1, "thunderbird"),
             lambda: psql(db.url, apps) == "1"),
            ("group.delete", ("group", "delete", G),
             lambda: psql(db.url, f"SELECT count(*) FROM groups WHERE address = '{G}'") == "1")):
        fail_audit_of(db, action)
        r = cli(srv, *args)
        c.check(r.returncode != 0 and check() and entries(db, action) == "0",
                f"CLI {action} whose entry fails: nothing changed ({r.stderr.strip()[-120:]})")
    no_trigger(db)
    r = cli(srv, "group", "member-add", G, A1)
    c.check(r.returncode == 0 and psql(db.url, members) == "1" and
            entries(db, "group.member-add") == "1", "CLI member-add: changed, one entry")

    # --- the change fails -> no successful entry ---------------------------------------------
    no_trigger(db)
    psql(db.url, "CREATE OR REPLACE FUNCTION test_fail_change() RETURNS trigger LANGUAGE plpgsql "
                 "AS $$ BEGIN RAISE EXCEPTION 'test: change refused'; END $$; "
                 "CREATE TRIGGER test_fail_change BEFORE UPDATE ON accounts FOR EACH ROW "
                 "EXECUTE FUNCTION test_fail_change()")
    r = cli(srv, "account", "suspend", A1)
    c.check(r.returncode != 0 and entries(db, "account.suspend") == "0",
            f"a suspend that fails leaves no successful entry ({entries(db, 'account.suspend')})")
    no_trigger(db)

    # --- without triggers: one entry per change ----------------------------------------------
    r = cli(srv, "account", "suspend", A1)
    c.check(r.returncode == 0 and status(db, A1) == "1" and entries(db, "account.suspend") == "1",
            f"CLI suspend: changed, one entry ({r.stderr.strip()[:200]})")
    r = cli(srv, "account", "restore", A1)
    c.check(r.returncode == 0 and status(db, A1) == "0" and entries(db, "account.restore") == "1",
            "CLI restore: changed, one entry")

    # --- admin API ---------------------------------------------------------------------------
    srv.start()
    try:
        api = Api(srv.http)
        st, _ = api.login(f"tinh@{DOMAIN}", code=codes["tinh"].code())
        c.check(st == 200, f"province admin signs in: {st}")
        fail_audit_of(db, "account.suspend")
        st, out = api.call("POST", f"/accounts/{A1}/suspend")
        c.check(st >= 500 and status(db, A1) == "0",
                f"API suspend whose entry fails: {st}, nothing changed ({status(db, A1)} {out})")
        fail_audit_of(db, "account.bulk-suspend")
        st, out = api.call("POST", "/bulk/suspend", {"addresses": [A1, A2]})
        c.check(st >= 500 and status(db, A1) == "0" and status(db, A2) == "0",
                f"API bulk suspend whose entry fails: {st}, nothing changed")
        fail_audit_of(db, "admins.grant")
        st, out = api.call("POST", "/admins", {"address": A2, "role": "auditor"})
        admins = psql(db.url, "SELECT count(*) FROM admins m JOIN accounts a ON "
                              f"a.id = m.account_id WHERE a.address = '{A2}'")
        c.check(st >= 500 and admins == "0", f"API grant whose entry fails: {st}, no grant")
        no_trigger(db)
        st, out = api.call("POST", f"/accounts/{A1}/suspend")
        c.check(st == 200 and status(db, A1) == "1" and entries(db, "account.suspend") == "2",
                f"API suspend: changed, one more entry ({st} {entries(db, 'account.suspend')})")
        st, out = api.call("POST", "/admins", {"address": A2, "role": "auditor"})
        c.check(st == 200 and entries(db, "admins.grant") == "2",
                f"API grant: one entry (CLI seeding wrote the first): {st} "
                f"{entries(db, 'admins.grant')}")
        fail_audit_of(db, "admins.revoke")
        st, out = api.call("DELETE", f"/admins/{A2}")
        admins = psql(db.url, "SELECT count(*) FROM admins m JOIN accounts a ON "
                              f"a.id = m.account_id WHERE a.address = '{A2}'")
        c.check(st >= 500 and admins == "1", f"API revoke whose entry fails: {st}, still admin")
        no_trigger(db)
    finally:
        srv.stop()
        no_trigger(db)
    r = govmail("archive", "--config", srv.cfg, "verify", "--no-blobs", env=srv.env)
    c.check(r.returncode == 0, f"the audit chain still verifies: {r.stdout}{r.stderr}")
    srv.cleanup()

c.finish()
