#!/usr/bin/env python3
"""The operator's larger jobs commit with their audit entry (real govmail, real PostgreSQL),
like archive_audit_tx_itest for the smaller changes: account add, bulk import, unit import,
domain merge, account purge, unused-account suspend, DKIM generate and search reindex (CLI;
mail import writes its entry before the first append, in a transaction of its own)
and account add, bulk import, unit import, domain merge, unused suspend and purge (admin API).
Each runs once with its audit insert refused by a test-only trigger (nothing changes, the
command fails, no entry) and once without (the change and exactly one more entry)."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, govmail, psql  # noqa: E402
from smtp_support import DOMAIN, Server  # noqa: E402
from admin_support import Api, add_units_and_people, seed_admins  # noqa: E402
from audit_tx_support import entries, fail_audit_of, no_trigger  # noqa: E402

c = Checks()
A1 = f"a1@{DOMAIN}"


def one(db, sql):
    return psql(db.url, sql)


def accounts(db, where):
    return one(db, f"SELECT count(*) FROM accounts WHERE {where}")


def write(srv, name, text):
    path = os.path.join(srv.tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def twice(label, db, action, run, changed, refused_ok):
    """`run` with the entry refused, then without: nothing changed, then changed with one more
    entry. `refused_ok(result)` tells the refusal apart from success."""
    before = int(entries(db, action))
    fail_audit_of(db, action)
    r = run()
    c.check(refused_ok(r) and not changed() and entries(db, action) == str(before),
            f"{label} {action} whose entry fails: refused, nothing changed ({str(r)[-200:]})")
    no_trigger(db)
    r = run()
    c.check(not refused_ok(r) and changed() and entries(db, action) == str(before + 1),
            f"{label} {action}: changed, one more entry ({str(r)[-200:]} "
            f"{entries(db, action)})")


def cli(srv, *args):
    return govmail("admin", "--config", srv.cfg, *args, env=srv.env)


def cli_failed(r):
    return r.returncode == 1  # 1: refused by the store (2 would be a usage error: nothing tried)


def deleted_account(srv, db, local):
    srv.admin("account", "add", f"{local}@{DOMAIN}", "--name", "Sẽ xoá", "--random-password")
    srv.admin("account", "delete", f"{local}@{DOMAIN}")


def old_account(srv, db, local):
    """An active account that has not logged in for 50 days."""
    srv.admin("account", "add", f"{local}@{DOMAIN}", "--name", "Ít dùng", "--random-password")
    one(db, f"UPDATE accounts SET created_at = now() - interval '50 days' "
            f"WHERE address = '{local}@{DOMAIN}'")


def merge_source(srv, domain, local):
    srv.admin("domain", "add", domain)
    srv.admin("account", "add", f"{local}@{domain}", "--name", "Chuyển về", "--random-password")


with FreshDatabase() as db:
    srv = Server(db.url)
    add_units_and_people(srv, DOMAIN, {"a1": "27001", "tinh": None})
    codes = seed_admins(srv, {"tinh": ("province", ())})
    mbox = write(srv, "in.mbox", "From a@b Thu Jan  1 00:00:00 2026\nFrom: x@ngoai.example\n"
                                 "Subject: Công văn\n\nNội dung\n")
    srv.admin("import-mail", A1, mbox)
    deleted_account(srv, db, "xoa1")
    old_account(srv, db, "cu1")
    merge_source(srv, "cu.gov.vn", "chuyen1")

    # --- CLI ---------------------------------------------------------------------------------
    twice("CLI", db, "account.add",
          lambda: cli(srv, "account", "add", f"moi1@{DOMAIN}", "--name", "Người mới",
                      "--random-password"),
          lambda: accounts(db, f"address = 'moi1@{DOMAIN}'") == "1", cli_failed)
    people = write(srv, "people.csv", "full_name,unit_code,position\n"
                                      "Nguyễn Văn Nhập,27001,Văn thư\nTrần Thị Nhập,27002,Kế toán\n")
    creds = os.path.join(srv.tmp, "creds.csv")
    twice("CLI", db, "import.apply",
          lambda: cli(srv, "import", people, "--domain", DOMAIN, "--credentials", creds),
          lambda: accounts(db, "display_name LIKE '% Nhập'") == "2", cli_failed)
    units = write(srv, "units2.csv", "code,name,parent_code\n27003,Xã Mới,27\n")
    twice("CLI", db, "unit.import", lambda: cli(srv, "unit", "import", units),
          lambda: one(db, "SELECT count(*) FROM org_units WHERE code = '27003'") == "1",
          cli_failed)
    twice("CLI", db, "domain.merge", lambda: cli(srv, "domain", "merge", "cu.gov.vn", DOMAIN),
          lambda: accounts(db, f"address = 'chuyen1@{DOMAIN}'") == "1", cli_failed)
    twice("CLI", db, "account.purge", lambda: cli(srv, "account", "purge", "--older-than-days", "0"),
          lambda: accounts(db, f"address = 'xoa1@{DOMAIN}'") == "0", cli_failed)
    c.check(one(db, "SELECT count(*) FROM audit_log WHERE action = 'account.purge' AND "
                    f"target = 'xoa1@{DOMAIN}'") == "1", "the purge entry names the account")
    twice("CLI", db, "account.unused",
          lambda: cli(srv, "account", "unused", "--domain", DOMAIN, "--days", "30", "--suspend"),
          lambda: accounts(db, f"address = 'cu1@{DOMAIN}' AND status = 1") == "1", cli_failed)
    twice("CLI", db, "dkim.generate",
          lambda: cli(srv, "dkim", "generate", DOMAIN, "--selector", "s1"),
          lambda: one(db, "SELECT count(*) FROM dkim_keys WHERE selector = 's1'") == "1",
          cli_failed)
    mbox2 = write(srv, "in2.mbox", "From a@b Thu Jan  1 00:00:00 2026\nFrom: y@ngoai.example\n"
                                   "Subject: Thư mời\n\nNội dung\n")
    twice("CLI", db, "import-mail.start", lambda: cli(srv, "import-mail", A1, mbox2),
          lambda: one(db, "SELECT count(*) FROM mailbox_entries e JOIN accounts a ON "
                          f"a.id = e.account_id WHERE a.address = '{A1}'") == "2", cli_failed)
    # No `govmail serve` has run: the messages stay queued for the indexer, nothing consumes them.
    twice("CLI", db, "search.reindex", lambda: cli(srv, "search", "reindex", "--account", A1),
          lambda: one(db, "SELECT count(*) FROM index_queue WHERE reparse") == "2", cli_failed)
    c.check(one(db, "SELECT detail FROM audit_log WHERE action = 'search.reindex' AND ok") ==
            "2 messages queued", "the reindex entry counts what it queued")

    # --- admin API ---------------------------------------------------------------------------
    deleted_account(srv, db, "xoa2")
    old_account(srv, db, "cu2")
    merge_source(srv, "cu2.gov.vn", "chuyen2")
    srv.start()
    try:
        api = Api(srv.http)
        st, _ = api.login(f"tinh@{DOMAIN}", code=codes["tinh"].code())
        c.check(st == 200, f"province admin signs in: {st}")

        def api_failed(r):
            return r[0] >= 500

        twice("API", db, "account.add",
              lambda: api.call("POST", "/accounts", {"address": f"moi2@{DOMAIN}",
                                                     "name": "Người mới", "unit": "27001"}),
              lambda: accounts(db, f"address = 'moi2@{DOMAIN}'") == "1", api_failed)
        twice("API", db, "import.apply",
              lambda: api.call("POST", f"/import?domain={DOMAIN}",
                               csv="full_name,unit_code,position\nLê Văn Mạng,27001,Văn thư\n"),
              lambda: accounts(db, "display_name = 'Lê Văn Mạng'") == "1",
              lambda r: r[0] == 422)  # the import's own error, with nothing applied
        twice("API", db, "unit.import",
              lambda: api.call("POST", "/units/import", csv="code,name,parent_code\n27004,Xã Bốn,27\n"),
              lambda: one(db, "SELECT count(*) FROM org_units WHERE code = '27004'") == "1",
              api_failed)
        twice("API", db, "domain.merge",
              lambda: api.call("POST", "/domains/merge", {"old": "cu2.gov.vn", "new": DOMAIN}),
              lambda: accounts(db, f"address = 'chuyen2@{DOMAIN}'") == "1", api_failed)
        twice("API", db, "account.unused",
              lambda: api.call("POST", f"/unused/suspend?domain={DOMAIN}&days=30"),
              lambda: accounts(db, f"address = 'cu2@{DOMAIN}' AND status = 1") == "1", api_failed)
        twice("API", db, "account.purge", lambda: api.call("POST", "/purge?older_than_days=0"),
              lambda: accounts(db, f"address = 'xoa2@{DOMAIN}'") == "0", api_failed)
    finally:
        srv.stop()
        no_trigger(db)
    r = govmail("archive", "--config", srv.cfg, "verify", "--no-blobs", env=srv.env)
    c.check(r.returncode == 0, f"the audit chain still verifies: {r.stdout}{r.stderr}")
    srv.cleanup()

c.finish()
