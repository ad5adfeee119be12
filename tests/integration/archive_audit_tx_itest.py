#!/usr/bin/env python3
"""An admin change and its audit entry commit together (real govmail, real PostgreSQL): with a
trigger in the test database that makes the audit insert of one action fail, that action does
not happen (CLI: account suspend, bulk suspend, quota, set, rename, password, admin grant, TOTP
enrolment, group add, member, policy and delete, alias add, app password add and remove, domain add,
queue retry and delete; admin API: account suspend, bulk suspend, admin grant and revoke,
domain add, group add, password reset, app password add, TOTP enrolment, queue retry and
delete); with a
trigger that makes the change itself fail, no successful entry of it is written; without
triggers, one entry per change."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, govmail, psql  # noqa: E402
from smtp_support import DOMAIN, Server  # noqa: E402
from admin_support import Api, add_units_and_people, seed_admins  # noqa: E402
from audit_tx_support import entries, fail_audit_of, no_trigger  # noqa: E402

c = Checks()
A1, A2, A3 = f"a1@{DOMAIN}", f"a2@{DOMAIN}", f"a3@{DOMAIN}"
TINH = f"tinh@{DOMAIN}"
G2, G3 = f"nhom2@{DOMAIN}", f"nhom3@{DOMAIN}"


def status(db, address):
    return psql(db.url, f"SELECT status FROM accounts WHERE address = '{address}'")


def cli(srv, *args):
    return govmail("admin", "--config", srv.cfg, *args, env=srv.env)


def one(db, sql):
    return psql(db.url, sql)


def queue_entry(db):
    """An outbound queue entry with one recipient due tomorrow (what a deferred delivery
    leaves), made in SQL: queue retry and delete need one, not a remote MX."""
    sha = "decode(md5(random()::text) || md5(random()::text), 'hex')"
    return one(db, f"WITH b AS (INSERT INTO blobs (sha256, size, refcount, data) VALUES ({sha}, 2, 1, "
                   "'x'::bytea) RETURNING sha256), m AS (INSERT INTO messages (blob_sha256, size, "
                   "internal_date, envelope, bodystructure) SELECT sha256, 2, now(), '{}', '{}' FROM b "
                   "RETURNING id), q AS (INSERT INTO outbound_queue (message_id, envelope_from) "
                   f"SELECT id, '{A1}' FROM m RETURNING id), r AS (INSERT INTO outbound_recipients "
                   "(queue_id, ordinal, address, next_attempt) SELECT id, 0, 'x@ngoai.example', "
                   "now() + interval '1 day' FROM q) SELECT id FROM q")


def due_later(db, qid):
    return one(db, "SELECT count(*) FROM outbound_recipients WHERE queue_id = "
                   f"{qid} AND next_attempt > now() + interval '1 hour'") == "1"


def queued(db, qid):
    return one(db, f"SELECT count(*) FROM outbound_queue WHERE id = {qid}") == "1"


def totp_of(db, address):
    return one(db, "SELECT coalesce(totp_secret, '') FROM admins m JOIN accounts a ON "
                   f"a.id = m.account_id WHERE a.address = '{address}'")


def password_of(db, address):
    return one(db, f"SELECT password_hash FROM accounts WHERE address = '{address}'")


def groups(db, address):
    return one(db, f"SELECT count(*) FROM groups WHERE address = '{address}'")


def domains(db, name):
    return one(db, f"SELECT count(*) FROM domains WHERE name = '{name}'")


def app_passwords(db, address, name):
    return one(db, "SELECT count(*) FROM app_passwords p JOIN accounts a ON a.id = p.account_id "
                   f"WHERE a.address = '{address}' AND p.name = '{name}'")


with FreshDatabase() as db:
    srv = Server(db.url)
    add_units_and_people(srv, DOMAIN, {"a1": "27001", "a2": "27001", "a3": "27001", "tinh": None})
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
    qid = queue_entry(db)
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
             lambda: psql(db.url, f"SELECT count(*) FROM groups WHERE address = '{G}'") == "1"),
            ("domain.add", ("domain", "add", "moi.gov.vn"), lambda: domains(db, "moi.gov.vn") == "0"),
            ("group.add", ("group", "add", G2, "--name", "Nhóm 2"), lambda: groups(db, G2) == "0"),
            ("account.password", ("account", "password", A1, "--random-password"),
             lambda pw=password_of(db, A1): password_of(db, A1) == pw),
            ("app-password.add", ("app-password", "add", A1, "k9"),
             lambda: app_passwords(db, A1, "k9") == "0"),
            ("admins.totp", ("admins", "totp", TINH),
             lambda secret=totp_of(db, TINH): totp_of(db, TINH) == secret),
            ("queue.retry", ("queue", "retry", qid), lambda: due_later(db, qid)),
            ("queue.delete", ("queue", "delete", qid), lambda: queued(db, qid))):
        before = entries(db, action)  # setting up wrote some (domain add, TOTP enrolment)
        fail_audit_of(db, action)
        r = cli(srv, *args)
        # 1: refused by the store (2 would be a usage error: nothing tried).
        c.check(r.returncode == 1 and check() and entries(db, action) == before,
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
        api_qid = queue_entry(db)
        for action, method, path, body, check in (
                ("domain.add", "POST", "/domains", {"name": "api.gov.vn"},
                 lambda: domains(db, "api.gov.vn") == "0"),
                ("group.add", "POST", "/groups", {"address": G3, "name": "Nhóm 3"},
                 lambda: groups(db, G3) == "0"),
                ("account.password", "POST", f"/accounts/{A1}/password", {},
                 lambda pw=password_of(db, A1): password_of(db, A1) == pw),
                ("app-password.add", "POST", f"/accounts/{A1}/app-passwords", {"name": "k10"},
                 lambda: app_passwords(db, A1, "k10") == "0"),
                ("admins.totp", "POST", f"/admins/{A2}/totp", None,
                 lambda secret=totp_of(db, A2): totp_of(db, A2) == secret),
                ("queue.retry", "POST", f"/queue/{api_qid}/retry", None,
                 lambda: due_later(db, api_qid)),
                ("queue.delete", "DELETE", f"/queue/{api_qid}", None, lambda: queued(db, api_qid))):
            before = entries(db, action)
            fail_audit_of(db, action)
            st, out = api.call(method, path, body)
            c.check(st >= 500 and check() and entries(db, action) == before,
                    f"API {action} whose entry fails: {st}, nothing changed ({out})")
            no_trigger(db)
            st, out = api.call(method, path, body)
            c.check(st == 200 and not check() and entries(db, action) == str(int(before) + 1),
                    f"API {action}: changed, one entry ({st} {out} {entries(db, action)})")
        no_trigger(db)
    finally:
        srv.stop()
        no_trigger(db)
    # --- CLI, without triggers: changed, one more entry each ---------------------------------
    r = cli(srv, "admins", "grant", A3, "--role", "auditor")
    c.check(r.returncode == 0, f"a3 made an auditor: {r.stderr}")
    qid = queue_entry(db)
    for action, args, check in (
            ("domain.add", ("domain", "add", "moi.gov.vn"), lambda: domains(db, "moi.gov.vn") == "1"),
            ("group.add", ("group", "add", G2, "--name", "Nhóm 2"), lambda: groups(db, G2) == "1"),
            ("account.password", ("account", "password", A1, "--random-password"),
             lambda pw=password_of(db, A1): password_of(db, A1) != pw),
            ("app-password.add", ("app-password", "add", A1, "k9"),
             lambda: app_passwords(db, A1, "k9") == "1"),
            ("admins.totp", ("admins", "totp", A3),
             lambda secret=totp_of(db, A3): totp_of(db, A3) not in ("", secret)),
            ("queue.retry", ("queue", "retry", qid), lambda: not due_later(db, qid)),
            ("queue.delete", ("queue", "delete", qid), lambda: not queued(db, qid))):
        before = int(entries(db, action))
        r = cli(srv, *args)
        c.check(r.returncode == 0 and check() and entries(db, action) == str(before + 1),
                f"CLI {action}: changed, one more entry ({r.stderr.strip()[-160:]})")
    r = govmail("archive", "--config", srv.cfg, "verify", "--no-blobs", env=srv.env)
    c.check(r.returncode == 0, f"the audit chain still verifies: {r.stdout}{r.stderr}")
    srv.cleanup()

c.finish()
