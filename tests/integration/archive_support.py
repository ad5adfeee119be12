"""Shared by the archive integration tests: running `govmail archive ...` against a server's
config, and copies of a database (CREATE DATABASE ... TEMPLATE) to tamper with."""
import imaplib
import time
import uuid

from support import ADMIN_URL, govmail, psql


def archive(srv, *args, url=None):
    """Runs govmail archive with the server's config (another database with url)."""
    env = dict(srv.env)
    if url:
        env["GOVMAIL_DATABASE_URL"] = url
    return govmail("archive", "--config", srv.cfg, *args, env=env)


def expunge_inbox(imap_port, address, password):
    """What an official deleting every message of their INBOX does (IMAP, plaintext loopback)."""
    with imaplib.IMAP4("127.0.0.1", imap_port, timeout=30) as m:
        m.login(address, password)
        m.select("INBOX")
        m.store("1:*", "+FLAGS", "\\Deleted")
        m.expunge()


def link_all(url, seconds=120):
    """Links every journal entry into its chain (migration 0030). The linker stops at the oldest
    write transaction still open anywhere in the cluster: another test's, running in parallel,
    may hold it back for a moment, so this waits (at most `seconds`). True when all are linked."""
    deadline = time.time() + seconds
    while True:
        psql(url, "SELECT govmail_journal_link(1000000)")
        left = psql(url, "SELECT count(*) FROM archive_journal j WHERE NOT EXISTS "
                         "(SELECT 1 FROM archive_links l WHERE l.id = j.id)")
        if left == "0":
            return True
        if time.time() > deadline:
            return False
        time.sleep(0.2)


def superuser(url, sql):
    """SQL as the database owner with triggers off: what an attacker with the DB password does."""
    return psql(url, "SET session_replication_role = replica; " + sql)


class DatabaseCopy:
    """A copy of a database (no one may be connected to it); dropped at exit."""

    def __init__(self, name):
        self.source = name

    def __enter__(self):
        self.name = "govmail_it_copy_" + uuid.uuid4().hex[:10]
        psql(ADMIN_URL, f"CREATE DATABASE {self.name} TEMPLATE {self.source}")
        self.url = " ".join(p for p in ADMIN_URL.split() if not p.startswith("dbname=")) + \
            f" dbname={self.name}"
        return self

    def __exit__(self, *exc):
        psql(ADMIN_URL, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
