#!/usr/bin/env python3
"""govmail backup, then govmail restore into another database, then archive verify: the copy
has every journal entry, blob, checkpoint and audit entry, and the chains and signatures verify
against the original's public key; an altered copy does not."""
import os
import smtplib
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, govmail, psql  # noqa: E402
from smtp_support import DOMAIN, Server, add_account  # noqa: E402
from archive_support import archive, link_all, superuser  # noqa: E402

c = Checks()

with FreshDatabase() as db, FreshDatabase() as other:
    srv = Server(db.url)
    srv.admin("domain", "add", DOMAIN)
    add_account(srv, "an", "correct horse battery")
    srv.start()
    try:
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
            for i in range(5):
                s.sendmail("x@outside.example", [f"an@{DOMAIN}"],
                           f"From: x@outside.example\r\nSubject: {i}\r\n\r\nthư {i}\r\n".encode())
    finally:
        srv.stop()
    # The checkpoint covers what is linked; another test's open transaction may hold that back.
    c.check(link_all(db.url), "every entry linked into its chain")
    c.check(archive(srv, "checkpoint").returncode == 0, "checkpoint")
    key = archive(srv, "public-key").stdout.strip()
    out = tempfile.mkdtemp(prefix="govmail-backup-")
    r = govmail("backup", "--config", srv.cfg, out + "/b", env=srv.env)
    c.check(r.returncode == 0 and os.path.exists(out + "/b/govmail.dump"), f"backup: {r.stdout}{r.stderr}")
    c.check(open(out + "/b/archive-public.key").read().strip() == key, "backup carries the public key")
    env = dict(srv.env, GOVMAIL_DATABASE_URL=other.url)
    r = govmail("restore", "--config", srv.cfg, out + "/b", env=env)
    c.check(r.returncode == 0, f"restore: {r.stdout}{r.stderr}")
    for table in ("archive_journal", "archive_checkpoints", "audit_log", "blobs", "mailbox_entries"):
        c.check(psql(db.url, f"SELECT count(*) FROM {table}") == psql(other.url, f"SELECT count(*) FROM {table}"),
                f"{table} restored whole")
    r = archive(srv, "verify", "--public-key", out + "/b/archive-public.key", url=other.url)
    c.check(r.returncode == 0 and "archive intact" in r.stdout and "5 journal entries" in r.stdout,
            f"the restored copy verifies: {r.stdout}{r.stderr}")
    r = govmail("restore", "--config", srv.cfg, out + "/nothing", env=env)
    c.check(r.returncode != 0, "restore from a folder without a dump fails")
    superuser(other.url, "UPDATE archive_journal SET subject = 'khác' WHERE id = (SELECT min(id) FROM archive_journal)")
    r = archive(srv, "verify", url=other.url)
    c.check(r.returncode == 1 and "altered" in r.stdout, f"a restored copy altered later is caught: {r.stdout}")
    srv.cleanup()
    subprocess_rm = __import__("shutil").rmtree(out)

c.finish()
