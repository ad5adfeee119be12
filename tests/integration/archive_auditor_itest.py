#!/usr/bin/env python3
"""Auditor access and retention through the real binary: `govmail archive search` with
unaccented Vietnamese, participants and dates; show; export to .eml and mbox with a signed
manifest that `verify-export` checks after the folder is copied elsewhere (public key only) and
that catches an edited message; every search, view and export in the audit log (queryable by
actor and action, exportable as JSON); retention policies and a legal hold decide what
`archive purge` removes, the purge is logged and the chain still verifies after it."""
import os
import shutil
import smtplib
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, psql  # noqa: E402
from smtp_support import DOMAIN, Server, add_account  # noqa: E402
from archive_support import archive  # noqa: E402

c = Checks()
PW = "correct horse battery"
AN, BINH = f"an@{DOMAIN}", f"binh@{DOMAIN}"


def send(srv, sender, rcpts, subject, body):
    msg = (f"From: {sender}\r\nTo: {', '.join(rcpts)}\r\nSubject: {subject}\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n").encode()
    with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
        s.sendmail(sender, rcpts, msg)


def audit_actions(url):
    return psql(url, "SELECT action FROM audit_log ORDER BY seq").splitlines()


with FreshDatabase() as db:
    srv = Server(db.url)
    srv.admin("domain", "add", DOMAIN)
    add_account(srv, "an", PW)
    add_account(srv, "binh", PW)
    srv.start()
    try:
        send(srv, "vanthu@so.example", [AN], "Công văn khẩn về phòng chống bão",
             "Đề nghị các đơn vị triển khai ngay.")
        send(srv, "vanthu@so.example", [BINH], "Giấy mời họp", "Kính mời đồng chí dự họp.")
        send(srv, "khac@other.example", [AN, BINH], "Báo cáo tháng", "Số liệu đính kèm.")
    finally:
        srv.stop()

    before = len(audit_actions(db.url))
    r = archive(srv, "search", "--text", "cong van khan")
    c.check(r.returncode == 0 and "phòng chống bão" in r.stdout and "1 message(s)" in r.stdout,
            f"unaccented words find the accented subject: {r.stdout}{r.stderr}")
    r = archive(srv, "search", "--text", "trien khai")
    c.check("1 message(s)" in r.stdout, f"body text folded too: {r.stdout}")
    r = archive(srv, "search", "--participant", BINH)
    c.check("2 message(s)" in r.stdout, f"by participant: {r.stdout}")
    r = archive(srv, "search", "--participant", BINH, "--text", "moi hop")
    c.check("1 message(s)" in r.stdout and "Giấy mời họp" in r.stdout, f"both filters: {r.stdout}")
    r = archive(srv, "search", "--to", "2001-01-01")
    c.check("0 message(s)" in r.stdout, f"date range: {r.stdout}")
    first = psql(db.url, "SELECT min(id) FROM archive_journal")
    r = archive(srv, "show", first)
    c.check(r.returncode == 0 and "triển khai ngay" in r.stdout and "journal: " + first in r.stdout,
            f"show: {r.stdout[:300]}{r.stderr}")

    out = tempfile.mkdtemp(prefix="govmail-export-")
    r = archive(srv, "export", "--out", out + "/eml", "--participant", AN)
    c.check(r.returncode == 0 and "2 message(s) exported" in r.stdout, f"export eml: {r.stdout}{r.stderr}")
    r = archive(srv, "export", "--out", out + "/mbox", "--format", "mbox")
    c.check(r.returncode == 0 and "3 message(s) exported" in r.stdout, f"export mbox: {r.stdout}{r.stderr}")
    key = archive(srv, "public-key").stdout.strip()
    actions = audit_actions(db.url)[before:]
    c.check(actions.count("archive.search") == 5 and actions.count("archive.view") == 1
            and actions.count("archive.export") == 2,
            f"every search, view and export is in the audit log: {actions}")

    # Elsewhere: another directory, no config, no database, the public key alone.
    elsewhere = tempfile.mkdtemp(prefix="govmail-elsewhere-")
    for fmt in ("eml", "mbox"):
        shutil.copytree(f"{out}/{fmt}", f"{elsewhere}/{fmt}")
        r = archive(srv, "verify-export", f"{elsewhere}/{fmt}", "--public-key", key)
        c.check(r.returncode == 0 and "export verified" in r.stdout, f"{fmt} export verifies elsewhere: {r.stdout}{r.stderr}")
    with open(f"{elsewhere}/eml/000001.eml", "ab") as f:
        f.write(b"edited\r\n")
    r = archive(srv, "verify-export", f"{elsewhere}/eml", "--public-key", key)
    c.check(r.returncode == 1 and "000001.eml" in r.stdout and "altered" in r.stdout,
            f"an edited message is named: {r.stdout}")
    with open(f"{elsewhere}/mbox/manifest.json", "a") as f:
        f.write(" ")
    r = archive(srv, "verify-export", f"{elsewhere}/mbox", "--public-key", key)
    c.check(r.returncode == 1 and "signature" in r.stdout, f"an edited manifest is refused: {r.stdout}")
    r = archive(srv, "verify-export", f"{out}/mbox", "--public-key", "00" * 32)
    c.check(r.returncode == 1, "another key does not verify the export")
    shutil.rmtree(out)
    shutil.rmtree(elsewhere)

    # The audit log: by actor and action, exported as JSON lines.
    r = archive(srv, "audit", "--action", "archive.", "--json")
    c.check(r.returncode == 0 and r.stdout.count('"action":"archive.search"') == 5,
            f"audit query by action, JSON: {r.stdout[:500]}")
    r = archive(srv, "audit", "--actor", "nobody")
    c.check(r.returncode == 0 and r.stdout == "", "audit query by actor")

    # Retention: journal entries from 2010 (inserted as the journal would have, chained).
    psql(db.url, f"""
INSERT INTO blobs (sha256, size, refcount, data) VALUES (sha256('old-a'), 5, 1, 'old-a');
INSERT INTO archive_journal (at, direction, envelope_from, recipients, auth_user, client_ip,
  blob_sha256, size, subject, from_address, message_id_hdr) VALUES
  ('2010-01-01', 'in', 'x@old.example', ARRAY['{AN}'], '', '1.2.3.4', sha256('old-a'), 5, 'a', '', ''),
  ('2010-01-02', 'in', 'x@old.example', ARRAY['held@{DOMAIN}'], '', '1.2.3.4', sha256('old-b'), 5, 'b', '', ''),
  ('2010-01-03', 'in', 'x@luutru.vn', ARRAY['{BINH}'], '', '1.2.3.4', sha256('old-c'), 5, 'c', '', '')""")
    r = archive(srv, "purge", "--dry-run")
    c.check(r.returncode == 0 and "0 journal entries may be purged" in r.stdout,
            f"no policy: nothing may go: {r.stdout}{r.stderr}")
    archive(srv, "policy", "set", "default", "", "5")
    archive(srv, "policy", "set", "domain", "luutru.vn", "0")
    r = archive(srv, "hold", "add", "vu-an-1", "--account", f"held@{DOMAIN}", "--from", "2009-01-01")
    c.check(r.returncode == 0 and "hold 1 added" in r.stdout, f"hold added: {r.stdout}{r.stderr}")
    r = archive(srv, "purge", "--dry-run")
    c.check("1 journal entries may be purged" in r.stdout, f"hold and permanent domain keep theirs: {r.stdout}")
    r = archive(srv, "purge")
    c.check(r.returncode == 0 and "1 journal entries purged" in r.stdout, f"purge: {r.stdout}{r.stderr}")
    left = psql(db.url, "SELECT coalesce(subject, '-') FROM archive_journal WHERE at < '2011-01-01' ORDER BY at")
    c.check(left.splitlines() == ["-", "b", "c"], f"only the unheld, non-permanent one purged: {left}")
    c.check(psql(db.url, "SELECT count(*) FROM blobs WHERE sha256 = sha256('old-a')") == "0",
            "its blob released")
    c.check(psql(db.url, "SELECT count(*) FROM archive_journal WHERE at > '2020-01-01' AND purged_at IS NULL") == "3",
            "recent mail kept")
    c.check("archive.purge" in audit_actions(db.url) and "archive.hold.add" in audit_actions(db.url)
            and "archive.policy" in audit_actions(db.url), "policy, hold and purge are audited")
    r = archive(srv, "hold", "release", "1")
    c.check(r.returncode == 0, f"hold released: {r.stderr}")
    r = archive(srv, "purge")
    c.check("1 journal entries purged" in r.stdout, f"released hold: its entry goes: {r.stdout}")

    # A legal hold by query: its words, typed without marks, in an old message's body keep that
    # entry (no text index here: the purge reads and parses each candidate); the other one goes.
    held = ("From: x@old.example\r\nSubject: To trinh\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "\r\nVề hồ sơ đất đai của xã.\r\n")
    free = "From: x@old.example\r\nSubject: Bao cao\r\n\r\nBao cao thang 2.\r\n"
    for day, subject, raw in ((1, "query-held", held), (2, "query-free", free)):
        lit = "convert_to(E'" + raw.replace("\r\n", "\\r\\n") + "', 'UTF8')"
        psql(db.url, f"""
INSERT INTO blobs (sha256, size, refcount, data) VALUES (sha256({lit}), length({lit}), 1, {lit});
INSERT INTO archive_journal (at, direction, envelope_from, recipients, auth_user, client_ip,
  blob_sha256, size, subject, from_address, message_id_hdr) VALUES
  ('2010-02-0{day}', 'in', 'x@old.example', ARRAY['{AN}'], '', '1.2.3.4', sha256({lit}),
   length({lit}), '{subject}', '', '')""")
    r = archive(srv, "hold", "add", "vu-an-2", "--query", "!!")
    c.check(r.returncode == 2 and "at least one word" in r.stderr, f"a query without words: {r.stderr}")
    r = archive(srv, "hold", "add", "vu-an-2", "--query", "ho so dat dai")
    c.check(r.returncode == 0 and "hold 2 added" in r.stdout, f"query hold added: {r.stdout}{r.stderr}")
    r = archive(srv, "hold", "list")
    c.check("query=ho so dat dai" in r.stdout, f"hold list shows the query: {r.stdout}")
    r = archive(srv, "purge", "--dry-run")
    c.check("1 journal entries may be purged" in r.stdout, f"the query hold keeps one of two: {r.stdout}{r.stderr}")
    r = archive(srv, "purge")
    c.check(r.returncode == 0 and "1 journal entries purged" in r.stdout, f"purge with a query hold: {r.stdout}{r.stderr}")
    left = psql(db.url, "SELECT coalesce(subject, '-') FROM archive_journal WHERE at BETWEEN '2010-02-01' "
                        "AND '2010-03-01' ORDER BY at")
    c.check(left.splitlines() == ["query-held", "-"], f"the entry whose body holds the words is kept: {left}")
    r = archive(srv, "hold", "release", "2")
    r = archive(srv, "purge")
    c.check("1 journal entries purged" in r.stdout, f"query hold released: its entry goes: {r.stdout}")

    r = archive(srv, "verify", "--no-blobs")
    c.check(r.returncode == 0 and "archive intact" in r.stdout, f"the chain verifies after purges: {r.stdout}")
    srv.cleanup()

c.finish()
