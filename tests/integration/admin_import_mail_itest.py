#!/usr/bin/env python3
"""govmail admin import-mail: an mbox file and a Maildir++ tree moved into an account, then read
back over IMAP with Python imaplib: every message byte-exact (CRLF line ends, mboxrd unquoting),
flags from Status:/X-Status: and Maildir info, INTERNALDATE from the mbox "From " line, folders
created (a Vietnamese one too); a message over limits.max_message_bytes skipped and named; an
unknown account, a path that is no mailbox and --mailbox with a Maildir refused clearly; the
import audited."""
import imaplib
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import (GOVMAIL, Checks, FreshDatabase, free_port, govmail, stop_server,  # noqa
                     traversable_tempdir, wait_port, write_config)

c = Checks()
tmp = traversable_tempdir()
var = os.path.join(tmp, "var")
http, imap_port = free_port(), free_port()
cfg = os.path.join(tmp, "govmail.toml")
write_config(cfg, var, http, imap=imap_port,
             extra="\n[auth]\nallow_plaintext_on_loopback = true\n\n[limits]\nmax_message_bytes = 4096\n")

MBOX = (b"From a@bo.gov.vn Mon Nov  2 10:00:00 2026\n"
        b"From: a@bo.gov.vn\nSubject: =?UTF-8?Q?C=C3=B4ng_v=C4=83n?=\nStatus: RO\nX-Status: AF\n\n"
        b"Dong 1\n>From the start of a line\n>>From quoted twice\n\n"
        b"From b@bo.gov.vn Tue Nov  3 11:30:15 2026\n"
        b"From: b@bo.gov.vn\nSubject: two\n\nplain\n\n"
        b"From big@bo.gov.vn Wed Nov  4 08:00:00 2026\n"
        b"Subject: too big\n\n" + b"x" * 5000 + b"\n\n"
        b"From c@bo.gov.vn Thu Nov  5 09:00:00 2026\n"
        b"Subject: three\r\n\r\ncrlf already\r\n")
WANT_FIRST = (b"From: a@bo.gov.vn\r\nSubject: =?UTF-8?Q?C=C3=B4ng_v=C4=83n?=\r\nStatus: RO\r\n"
              b"X-Status: AF\r\n\r\nDong 1\r\nFrom the start of a line\r\n>From quoted twice\r\n")

mbox = os.path.join(tmp, "export.mbox")
with open(mbox, "wb") as f:
    f.write(MBOX)
maildir = os.path.join(tmp, "Maildir")
layout = {
    ("", "cur", "1700000001.M1P1.old:2,S"): b"Subject: md1\n\nseen\n",
    ("", "new", "1700000002.M1P1.old"): b"Subject: md2\n\nnew\n",
    (".Sent", "cur", "1700000003.M1P1.old:2,RS"): b"Subject: sent\n\nreplied\n",
    (".C\u00f4ng v\u0103n.2025", "cur", "1700000004.M1P1.old:2,F"): b"Subject: vn\n\nflagged\n",
}
for (folder, sub, name), body in layout.items():
    for s in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, folder, s), exist_ok=True)
    path = os.path.join(maildir, folder, sub, name)
    with open(path, "wb") as f:
        f.write(body)
    os.utime(path, (1700000000 + len(name), 1700000000 + len(name)))
empty_dir = os.path.join(tmp, "empty")
os.makedirs(empty_dir)

with FreshDatabase() as db:
    env = {"GOVMAIL_DATABASE_URL": db.url}

    def admin(*args, input=None):
        return govmail("admin", "--config", cfg, *args, env=env, input=input)

    admin("domain", "add", "example.gov.vn")
    r = admin("account", "add", "vanthu@example.gov.vn", "--name", "Van thu", "--password-stdin",
              input="correct horse battery\n")
    c.check(r.returncode == 0, f"account add: {r.stderr}")

    r = admin("import-mail", "vanthu@example.gov.vn", mbox)
    c.check(r.returncode == 1, f"an mbox with one message over the limit exits 1: {r.returncode}")
    c.check("imported 3 messages" in r.stdout and "1 not imported" in r.stdout,
            f"mbox summary: {r.stdout!r}")
    c.check("message at line 17 is over limits.max_message_bytes" in r.stderr,
            f"the skipped message is named by its line: {r.stderr!r}")
    r = admin("import-mail", "vanthu@example.gov.vn", maildir)
    c.check(r.returncode == 0 and "imported 4 messages" in r.stdout, f"maildir: {r.stdout!r} {r.stderr!r}")
    c.check(re.search(r"1\s+C\u00f4ng v\u0103n/2025", r.stdout) is not None, f"per folder: {r.stdout!r}")

    r = admin("import-mail", "nobody@example.gov.vn", mbox)
    c.check(r.returncode == 1 and "account nobody@example.gov.vn not found" in r.stderr,
            f"unknown account: {r.stderr!r}")
    r = admin("import-mail", "vanthu@example.gov.vn", empty_dir)
    c.check(r.returncode == 1 and "neither an mbox file nor a Maildir" in r.stderr,
            f"not a mailbox: {r.stderr!r}")
    r = admin("import-mail", "vanthu@example.gov.vn", maildir, "--mailbox", "X")
    c.check(r.returncode == 1 and "--mailbox is for an mbox file" in r.stderr, f"--mailbox: {r.stderr!r}")
    r = admin("import-mail", "vanthu@example.gov.vn", os.path.join(tmp, "missing"))
    c.check(r.returncode == 1 and "cannot read" in r.stderr, f"missing path: {r.stderr!r}")
    r = admin("audit", "list", "--action", "import-mail")
    c.check(r.stdout.count("import-mail") >= 2 and "imported 4 messages" in r.stdout,
            f"audited: {r.stdout!r}")

    log = open(os.path.join(tmp, "serve.log"), "w")
    srv = subprocess.Popen([GOVMAIL, "serve", "--config", cfg], env=dict(os.environ, **env),
                           stdout=log, stderr=log, cwd=tmp)

    class Srv:
        def stop(self):
            srv.terminate()
            srv.wait(30)

        def log(self):
            return open(os.path.join(tmp, "serve.log")).read()

        def cleanup(self):
            pass

    try:
        wait_port(imap_port)
        m = imaplib.IMAP4("127.0.0.1", imap_port)
        m.login("vanthu@example.gov.vn", "correct horse battery")
        typ, d = m.select("INBOX")
        c.check(typ == "OK" and d[0] == b"5", f"INBOX has 3 + 2 messages: {d}")
        typ, d = m.fetch("1", "(FLAGS INTERNALDATE BODY.PEEK[])")
        c.check(d[0][1] == WANT_FIRST, f"first message byte-exact: {d[0][1]!r}")
        head = d[0][0].decode()
        c.check("\\Seen" in head and "\\Answered" in head and "\\Flagged" in head,
                f"Status/X-Status flags: {head}")
        c.check('INTERNALDATE "02-Nov-2026 10:00:00 +0000"' in head, f"From-line date: {head}")
        typ, d = m.fetch("3", "(BODY.PEEK[])")
        c.check(d[0][1] == b"Subject: three\r\n\r\ncrlf already\r\n", f"CRLF message kept: {d[0][1]!r}")
        typ, d = m.fetch("4:5", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        got = {x[1].strip(): x[0].decode() for x in d if isinstance(x, tuple)}
        c.check("\\Seen" in got.get(b"Subject: md1", ""), f"maildir S flag: {got}")
        c.check("\\Seen" not in got.get(b"Subject: md2", "\\Seen"), f"maildir new/ unseen: {got}")
        typ, d = m.select("Sent")
        c.check(typ == "OK" and d[0] == b"1", f"Sent folder: {d}")
        typ, d = m.fetch("1", "(FLAGS INTERNALDATE)")
        c.check("\\Answered" in d[0].decode() and "\\Seen" in d[0].decode(), f"sent flags: {d}")
        typ, d = m.list()
        names = b"\n".join(d).decode()
        c.check('"C&APQ-ng v&AQM-n/2025"' in names, f"Vietnamese folder in modified UTF-7: {names}")
        typ, d = m.lsub()
        subs = b"\n".join(d).decode()
        c.check('"C&APQ-ng v&AQM-n/2025"' in subs and '"Sent"' in subs, f"imported folders subscribed: {subs}")
        m.logout()
    finally:
        stop_server(Srv(), c)
c.finish()
