#!/usr/bin/env python3
"""Linking journal entries into their hash chain after the delivery's transaction (migration
0030, govmail_journal_link): an entry whose transaction is still open is not linked, and neither
is any entry of a later transaction (the horizon is the oldest transaction still running), so
nothing can ever commit behind the chain's cursor; once it commits, the entries are linked in
transaction order (not id order), and `govmail archive verify` finds the chain intact. An idle
link call writes nothing."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, psql  # noqa: E402
from smtp_support import DOMAIN, Server  # noqa: E402
from archive_support import archive, link_all  # noqa: E402

c = Checks()


def entry_sql(subject):
    return ("INSERT INTO archive_journal (direction, envelope_from, recipients, subject, size) "
            f"VALUES ('in', 'x@other.example', ARRAY['a@{DOMAIN}'], '{subject}', 1)")


class OpenTransaction:
    """A psql session kept open: statements sent one by one, each answered before the next."""

    def __init__(self, url):
        self.p = subprocess.Popen(["psql", url, "-qAt", "-v", "ON_ERROR_STOP=1"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, sql):
        self.p.stdin.write(sql + ";\nSELECT 'done';\n")
        self.p.stdin.flush()
        out = []
        while True:
            line = self.p.stdout.readline()
            if not line or line.strip() == "done":
                return out
            out.append(line.strip())

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=30)


def links():
    """(subject, chain, seq) of the linked entries, in chain order."""
    rows = psql(db.url, "SELECT j.subject, l.chain, l.seq FROM archive_links l "
                        "JOIN archive_journal j ON j.id = l.id ORDER BY l.chain, l.seq")
    return [tuple(r.split("|")) for r in rows.splitlines()]


with FreshDatabase() as db:
    srv = Server(db.url)
    srv.admin("domain", "add", DOMAIN)  # the schema, migrations included

    older = OpenTransaction(db.url)
    older.run("BEGIN; SELECT pg_current_xact_id()")  # the older transaction id
    psql(db.url, entry_sql("second"))  # committed first, with the lower journal id
    older.run(entry_sql("first"))
    ids = psql(db.url, "SELECT subject, id FROM archive_journal ORDER BY id").splitlines()
    c.check(ids == [] or ids[0].startswith("second|"),
            f"the later transaction's entry has the lower id: {ids}")
    n = psql(db.url, "SELECT govmail_journal_link(1000)")
    c.check(n == "0" and links() == [],
            f"an older transaction still open holds back every later entry: {n} {links()}")
    older.run("COMMIT")
    older.close()
    # (waits while another test's older write transaction, in parallel, holds the horizon)
    c.check(link_all(db.url) and
            links() == [("first", "journal.32", "1"), ("second", "journal.32", "2")],
            f"once it ended, both linked in transaction order, not id order: {links()}")

    # Nothing new: the call takes no row lock and writes nothing.
    before = psql(db.url, "SELECT xmin FROM archive_chain_heads WHERE chain = 'journal.32'")
    n = psql(db.url, "SELECT govmail_journal_link(1000)")
    after = psql(db.url, "SELECT xmin FROM archive_chain_heads WHERE chain = 'journal.32'")
    c.check(n == "0" and before == after, f"an idle call leaves the head alone: {before} {after}")

    # At most `max` a call; verify links the rest first, and every entry checks out.
    for i in range(5):
        psql(db.url, entry_sql(f"more {i}"))
    # First wait until the horizon is past all 5: another test's transaction, open in parallel
    # since before some of them, would let a call link fewer than max (CI saw 1).
    deadline = time.time() + 120
    while psql(db.url, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint > "
                       "(SELECT max(txid) FROM archive_journal)") != "t" and time.time() < deadline:
        time.sleep(0.2)
    n = psql(db.url, "SELECT govmail_journal_link(2)")
    c.check(n == "2", f"at most max linked: {n}")
    # (verify links too, but stops where another test's open transaction holds it back)
    c.check(link_all(db.url), "the rest linked")
    r = archive(srv, "verify", "--no-blobs")  # these entries name no message
    c.check(r.returncode == 0 and "verified 7 journal entries" in r.stdout
            and "archive intact" in r.stdout, f"verify links the rest and checks all: {r.stdout}{r.stderr}")
    c.check([x[2] for x in links()] == [str(i) for i in range(1, 8)], f"one chain, no gap: {links()}")
    srv.cleanup()

c.finish()
