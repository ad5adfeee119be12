#!/usr/bin/env python3
"""The auditors' text index (search/archive_index.hpp) through the real binary: `govmail serve`
indexes the journal; `govmail archive search` and the admin API (auditor role) find unaccented
Vietnamese through it, a message its owner expunged included; an entry the index has not
reached is still found (read one by one); a purged entry leaves the index; an index left beside
another database is not trusted, and serve rebuilds it."""
import os
import smtplib
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, psql  # noqa: E402
from smtp_support import DOMAIN, Server, add_account  # noqa: E402
from archive_support import archive, expunge_inbox, link_all  # noqa: E402
from admin_support import PW, Api, seed_admins  # noqa: E402

c = Checks()
AN, BINH, KT = f"an@{DOMAIN}", f"binh@{DOMAIN}", f"kiemtra@{DOMAIN}"


def send(srv, sender, rcpts, subject, body):
    msg = (f"From: {sender}\r\nTo: {', '.join(rcpts)}\r\nSubject: {subject}\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n").encode()
    with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
        s.sendmail(sender, rcpts, msg)


def search(srv, text):
    """(stdout, the stderr line about the index)."""
    r = archive(srv, "search", "--text", text)
    line = [l for l in r.stderr.splitlines() if l.startswith("text index:")]
    return r.stdout, line[0] if line else r.stderr


def journal_entry(url, body, subject, at=None):
    """A journal entry written in SQL as the journal would (chained by the trigger) with its
    message, to BINH: what a delivery leaves, without a running server."""
    psql(url, f"""
INSERT INTO blobs (sha256, size, refcount, data) VALUES (sha256('{body}'), 14, 1,
  convert_to('Subject: x' || chr(13) || chr(10) || chr(13) || chr(10) || '{body}', 'UTF8'));
INSERT INTO archive_journal (at, direction, envelope_from, recipients, auth_user, client_ip,
  blob_sha256, size, subject, from_address, message_id_hdr) VALUES
  ({f"'{at}'" if at else "now()"}, 'in', 'x@other.example', ARRAY['{BINH}'], '', '1.2.3.4',
   sha256('{body}'), 14, '{subject}', '', '')""")


def wait_indexed(srv, text, want, seconds=30):
    """Until the index alone answers `text` with `want` hits (the server indexes every 2 s)."""
    deadline = time.time() + seconds
    while True:
        out, line = search(srv, text)
        if f"used, {want} hit(s)" in line and "0 entries read" in line or time.time() > deadline:
            return out, line
        time.sleep(0.5)


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)  # IMAP LOGIN on loopback without TLS
    imap_port = srv.listen_imap()
    # Entries wait this long before the indexer takes them (so that a burst of deliveries does
    # not share the CPU with the indexing): seen below as "not indexed yet", then indexed.
    srv.edit_config(lambda t: t + '\n[archive]\nindex_delay = "8s"\n')
    srv.admin("domain", "add", DOMAIN)
    for local in ("an", "binh", "kiemtra"):
        add_account(srv, local, PW)
    codes = seed_admins(srv, {"kiemtra": ("auditor", ())})
    out, line = search(srv, "cong van")
    c.check("none yet" in line, f"before serve ran there is no index: {line}")
    st = archive(srv, "stats").stdout
    c.check("journal entries: 0" in st and "text index: none yet" in st, f"stats before: {st}")
    srv.start()
    try:
        send(srv, "vanthu@so.example", [AN], "Công văn khẩn về phòng chống bão",
             "Đề nghị các đơn vị triển khai ngay.")
        send(srv, "vanthu@so.example", [BINH], "Giấy mời họp", "Kính mời đồng chí dự họp.")
        link_all(db.url)  # (stats links too; another test's open transaction may delay it)
        st = archive(srv, "stats").stdout
        c.check("journal entries: 2\n" in st and "entries not indexed yet: 2" in st,
                f"stats: right after delivery, younger than index_delay, not indexed yet: {st}")
        out, line = search(srv, "cong van khan")
        c.check("1 message(s)" in out and "2 entries read one by one" in line,
                f"not indexed yet, found all the same (read one by one): {line} {out}")
        out, line = wait_indexed(srv, "cong van khan", 1)
        c.check("phòng chống bão" in out and "1 message(s)" in out and
                "used, 1 hit(s), 1 match(es) from it, 0 entries read" in line,
                f"unaccented words found through the index alone: {line} {out} "
                f"{[l for l in srv.log().splitlines() if 'archive' in l][-5:]}")
        st = archive(srv, "stats").stdout
        c.check("journal entries: 2\n" in st and "entries not indexed yet: 0" in st,
                f"stats: both entries journaled and indexed: {st}")
        out, line = search(srv, "trien khai")
        c.check("1 message(s)" in out and "1 match(es) from it" in line, f"body words: {line}")
        out, line = search(srv, "moi hop")
        c.check("Giấy mời họp" in out and "1 message(s)" in out, f"another message: {out}")

        # The owner expunges it: the journal, and its index, keep it.
        expunge_inbox(imap_port, AN, PW)
        psql(db.url, "SELECT govmail_sweep_messages(1000)")
        c.check(psql(db.url, "SELECT count(*) FROM mailbox_entries e JOIN accounts a ON "
                             f"a.id = e.account_id WHERE a.address = '{AN}'") == "0",
                "the owner's copy is gone")
        out, line = search(srv, "cong van khan")
        c.check("phòng chống bão" in out and "1 match(es) from it" in line,
                f"the expunged message is still found: {line} {out}")

        # The admin API, auditor role: the same search, audited.
        api = Api(srv.http)
        st, _ = api.login(KT, code=codes["kiemtra"].code())
        c.check(st == 200, f"auditor signs in: {st}")
        st, found = api.call("GET", "/archive/journal?text=cong van khan")
        c.check(st == 200 and len(found) == 1 and "bão" in found[0]["subject"],
                f"API search, unaccented: {st} {found}")
        st, found = api.call("GET", f"/archive/journal?text=moi hop&participant={AN}")
        c.check(st == 200 and found == [], f"participants stay an SQL filter: {st} {found}")
        audited = psql(db.url, "SELECT count(*) FROM audit_log WHERE action = 'archive.search' "
                               f"AND actor = '{KT}'")
        c.check(audited == "2", f"each API search audited: {audited}")
    finally:
        srv.stop()

    # Not indexed yet (no serve running): read one by one, still found.
    journal_entry(db.url, "Tờ trình cũ", "Tờ trình năm 2010", at="2010-01-01")
    out, line = search(srv, "to trinh")
    c.check("1 message(s)" in out and "0 match(es) from it, 1 entries read" in line,
            f"an entry past the index's cursor is read instead: {line} {out}")

    srv.start()
    try:
        out, line = wait_indexed(srv, "to trinh", 1)
        c.check("1 message(s)" in out and "1 match(es) from it, 0 entries read" in line,
                f"then indexed: {line}")
        archive(srv, "policy", "set", "default", "", "5")
        # A legal hold by query, its words found through the index (the entry is indexed: the
        # purge reads no entry one by one), keeps the 2010 entry; released, the entry goes.
        r = archive(srv, "hold", "add", "ho-so", "--query", "to trinh nam 2010")
        c.check(r.returncode == 0, f"query hold: {r.stderr}")
        r = archive(srv, "purge", "--dry-run")
        c.check("0 journal entries may be purged" in r.stdout,
                f"the query hold keeps the indexed entry: {r.stdout}{r.stderr}")
        r = archive(srv, "hold", "add", "other", "--query", "bao cao")
        r = archive(srv, "hold", "release", "1")
        r = archive(srv, "purge")
        c.check(r.returncode == 0 and "1 journal entries purged" in r.stdout,
                f"the 2010 entry purged: {r.stdout}{r.stderr}")
        out, line = wait_indexed(srv, "to trinh", 0)
        c.check("0 message(s)" in out and "used, 0 hit(s)" in line,
                f"the purged entry left the index: {line}")
        out, line = search(srv, "cong van khan")
        c.check("1 message(s)" in out, f"the rest stays: {out}")
    finally:
        srv.stop()

    # Another database under the same var_dir: the index's journal ids would name its entries
    # (its first entry has the id of the first one above): not trusted, then rebuilt by serve.
    with FreshDatabase() as db2:
        srv.env["GOVMAIL_DATABASE_URL"] = db2.url
        srv.admin("domain", "add", DOMAIN)
        journal_entry(db2.url, "Báo cáo quý", "Báo cáo quý")
        out, line = search(srv, "cong van khan")
        c.check("0 message(s)" in out and "none yet" in line,
                f"another database's index is not trusted: {line} {out}")
        srv.start()
        try:
            out, line = wait_indexed(srv, "bao cao", 1)
            c.check("1 message(s)" in out and "used, 1 hit(s), 1 match(es) from it" in line,
                    f"serve rebuilt it from this journal: {line} {out}")
            out, line = search(srv, "cong van khan")
            c.check("0 message(s)" in out and "used, 0 hit(s)" in line,
                    f"nothing of the other journal left: {line}")
        finally:
            srv.stop()
    srv.cleanup()

c.finish()
