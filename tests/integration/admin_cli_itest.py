#!/usr/bin/env python3
"""govmail admin / check-config / --version against a real PostgreSQL (external database.url)."""
import os
import stat
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, govmail, psql, traversable_tempdir, write_config  # noqa

c = Checks()

r = govmail("--version")
c.check(r.returncode == 0 and r.stdout.startswith("govmail "), f"--version: {r.stdout!r}")

# check-config: the shipped files are valid, a bad one is refused with file:line and the key.
for name in ("govmail.toml", "production.example.toml"):
    r = govmail("check-config", os.path.join(os.environ["GOVMAIL_SOURCE_DIR"], "conf", name))
    c.check(r.returncode == 0, f"check-config conf/{name}: {r.stdout}{r.stderr}")
tmp = traversable_tempdir()
bad = os.path.join(tmp, "bad.toml")
with open(bad, "w") as f:
    f.write('[server]\nhostname = "x"\n\n[limits]\nmax_mesage_bytes = 10\n')
r = govmail("check-config", bad)
c.check(r.returncode != 0, "check-config refuses an unknown key")
c.check(f"{bad}:5" in r.stderr and "max_mesage_bytes" in r.stderr,
        f"unknown key error names file:line and key: {r.stderr!r}")
with open(bad, "w") as f:
    f.write('[database]\npool_size = "many"\n')
r = govmail("check-config", bad)
c.check(r.returncode != 0 and f"{bad}:2" in r.stderr and "pool_size" in r.stderr,
        f"wrong type refused with file:line: {r.stderr!r}")

with FreshDatabase() as db:
    cfg = os.path.join(tmp, "govmail.toml")
    write_config(cfg, os.path.join(tmp, "var"), 1)
    env = {"GOVMAIL_DATABASE_URL": db.url}

    def admin(*args, input=None):
        return govmail("admin", "--config", cfg, *args, env=env, input=input)

    r = admin("domain", "add", "sotttt.bacninh.gov.vn")
    c.check(r.returncode == 0, f"domain add: {r.stdout}{r.stderr}")
    r = admin("domain", "add", "sotttt.bacninh.gov.vn")
    c.check(r.returncode == 1 and "already exists" in r.stderr, f"duplicate domain refused: {r.stderr}")
    r = admin("domain", "add", "not a domain")
    c.check(r.returncode == 1 and "invalid domain" in r.stderr, f"bad domain refused: {r.stderr}")
    r = admin("domain", "list")
    c.check(r.stdout.split() == ["sotttt.bacninh.gov.vn"], f"domain list: {r.stdout!r}")

    r = admin("account", "add", "VinhNQ@sotttt.bacninh.gov.vn", "--name", "Nguyễn Quang Vinh",
              "--password-stdin", input="correct horse battery\n")
    c.check(r.returncode == 0, f"account add: {r.stdout}{r.stderr}")
    r = admin("account", "add", "vinhnq@sotttt.bacninh.gov.vn", "--name", "X", "--password-stdin",
              input="another password\n")
    c.check(r.returncode == 1 and "already exists" in r.stderr, f"duplicate account: {r.stderr}")
    r = admin("account", "add", "someone@unknown.gov.vn", "--name", "X", "--password-stdin",
              input="another password\n")
    c.check(r.returncode == 1 and "not found" in r.stderr, f"unknown domain: {r.stderr}")
    r = admin("account", "add", "x@sotttt.bacninh.gov.vn", "--name", "X", "--password-stdin",
              input="short\n")
    c.check(r.returncode == 1 and "too short" in r.stderr, f"short password: {r.stderr}")
    r = admin("account", "add", "huongttt@sotttt.bacninh.gov.vn", "--name", "Trần Thị Thu Hương",
              "--random-password", "--quota-mb", "500")
    c.check(r.returncode == 0 and "password: " in r.stdout, f"random password printed once: {r.stdout}")

    r = admin("account", "list", "--domain", "sotttt.bacninh.gov.vn")
    lines = r.stdout.strip().split("\n")
    c.check([l.split("\t")[0] for l in lines] ==
            ["huongttt@sotttt.bacninh.gov.vn", "vinhnq@sotttt.bacninh.gov.vn"],
            f"account list, address first: {r.stdout!r}")
    c.check("Nguyễn Quang Vinh" in r.stdout, "Vietnamese full name round-trips")

    # Stored as argon2id, never the password; the special-use mailboxes exist.
    h = psql(db.url, "SELECT password_hash FROM accounts WHERE address='vinhnq@sotttt.bacninh.gov.vn'")
    c.check(h.startswith("$argon2id$") and "correct horse" not in h, f"argon2id hash stored: {h[:20]}")
    boxes = psql(db.url, "SELECT string_agg(name, ',' ORDER BY name) FROM mailboxes m JOIN accounts a "
                 "ON a.id = m.account_id WHERE a.address='vinhnq@sotttt.bacninh.gov.vn'")
    c.check(boxes == "Archive,Drafts,INBOX,Junk,Sent,Trash", f"default mailboxes: {boxes}")

    r = govmail("admin", "--config", cfg, "account", "list", "--domain", "x.gov.vn",
                env={"GOVMAIL_DATABASE_URL": "host=/nonexistent port=1 dbname=x"})
    c.check(r.returncode == 1 and "database" in r.stderr.lower(), f"unreachable db reported: {r.stderr}")

c.finish()
