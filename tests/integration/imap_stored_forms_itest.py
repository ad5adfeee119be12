#!/usr/bin/env python3
"""FETCH's stored renderings (issue 16, message_imap_forms): every message gets its plain
ENVELOPE, BODYSTRUCTURE and header block stored at ingest (APPEND and SMTP delivery, in the same
statement), so that no FETCH parses JSON or reads header blocks out of the blobs; a FETCH that
finds none (a message stored before, a row of another renderer version) renders them and stores
them. The process's own message cache is off here, so every FETCH goes to the database. Checked
with imaplib and smtplib: the rows exist before any FETCH, the ingest renderings answer byte for
byte as FETCH's own rendering and as a UTF8=ACCEPT session's for ASCII headers, the stored row is
what is answered (a tampered row shows), a row of another renderer version is ignored and
replaced, a UTF8=ACCEPT session never reads them, BODY and body parts still answer right."""
import imaplib
import os
import re
import smtplib
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, psql, stop_server  # noqa: E402
from smtp_support import DOMAIN, Server, add_account  # noqa: E402

c = Checks()
PLAIN = (f"From: =?UTF-8?Q?Nguy=E1=BB=85n_V=C4=83n_A?= <a@{DOMAIN}>\r\nTo: b@{DOMAIN}\r\n"
         "Subject: =?UTF-8?Q?C=C3=B4ng_v=C4=83n_s=E1=BB=91_1?=\r\n"
         "Date: Tue, 04 Mar 2025 09:15:00 +0700\r\nMessage-ID: <f1@x>\r\n\r\nbody one\r\n").encode()
MULTI = (f"From: b@{DOMAIN}\r\nSubject: attached\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n\r\nsee the file\r\n--b1\r\n"
         "Content-Type: application/pdf; name=\"cv.pdf\"\r\n"
         "Content-Disposition: attachment; filename=\"cv.pdf\"\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n").encode()
EIGHT_BIT = b"From: c@" + DOMAIN.encode() + b"\r\nSubject: C\xf4ng v\xe3n raw\r\n\r\nraw\r\n"
ITEMS = "(FLAGS ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])"


def fetch(m, items=ITEMS, which="1:*"):
    typ, data = m.fetch(which, items)
    c.check(typ == "OK", f"FETCH {which} {items}: {typ}")
    return data


def forms_rows(db):
    return psql(db.url, "SELECT count(*), count(envelope), count(bodystructure), count(header),"
                        " min(version), max(version) FROM message_imap_forms").strip()


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True, limits="imap_message_cache_bytes = 0")
    imap_port = srv.listen_imap()
    try:
        srv.admin("domain", "add", DOMAIN)
        add_account(srv, "forms")
        srv.start()
        m = imaplib.IMAP4("127.0.0.1", imap_port)
        m.login(f"forms@{DOMAIN}", "correct horse battery")
        for raw in (PLAIN, MULTI, EIGHT_BIT):
            c.check(m.append("INBOX", None, None, raw)[0] == "OK", "APPEND")
        c.check(forms_rows(db) == "3|3|3|3|1|1", f"APPEND stored the renderings: {forms_rows(db)}")
        m.select("INBOX")
        first = fetch(m)
        c.check(b"{" in b"".join(x[0] for x in first if isinstance(x, tuple)),
                "the 8-bit subject goes as a literal in a plain session")
        parts_before = fetch(m, "(BODY BODY.PEEK[1] BODY.PEEK[2.MIME])", "2")

        psql(db.url, "DELETE FROM message_imap_forms")
        rendered = fetch(m)
        c.check(rendered == first, "FETCH's own rendering is the one stored at ingest, byte for byte")
        c.check(forms_rows(db) == "3|3|3|3|1|1", f"... and FETCH stored it again: {forms_rows(db)}")
        c.check(fetch(m) == first, "the stored renderings answer as the first FETCH")
        c.check(fetch(m, "(BODY BODY.PEEK[1] BODY.PEEK[2.MIME])", "2") == parts_before,
                "BODY and body parts answer the same once renderings are stored")
        # Without INTERNALDATE the listing does not read the message rows; with it, it does.
        dated = fetch(m, "(INTERNALDATE ENVELOPE)", "2")[0]
        date_only = fetch(m, "(INTERNALDATE)", "2")[0]
        when = re.search(rb'INTERNALDATE "([^"]+)"', dated)
        c.check(when and when.group(1) in date_only and b"1970" not in when.group(1),
                f"INTERNALDATE with stored renderings is the message's: {dated!r:.200}")

        first_id = psql(db.url, "SELECT min(message_id) FROM message_imap_forms").strip()
        psql(db.url, "UPDATE message_imap_forms SET envelope = convert_to("
                     "'(NIL \"tampered\" NIL NIL NIL NIL NIL NIL NIL NIL)', 'UTF8')"
                     f" WHERE message_id = {first_id}")
        shown = fetch(m, "(ENVELOPE)", "1")
        c.check(b"tampered" in shown[0], f"FETCH reads the stored row: {shown[0]!r:.120}")

        u = imaplib.IMAP4("127.0.0.1", imap_port)
        u.login(f"forms@{DOMAIN}", "correct horse battery")
        typ, _ = u._simple_command("ENABLE", "UTF8=ACCEPT")
        c.check(typ == "OK", "ENABLE UTF8=ACCEPT")
        u.select("INBOX")
        typ, data = u.fetch("1", "(ENVELOPE)")
        c.check(typ == "OK" and b"tampered" not in data[0],
                "a UTF8=ACCEPT session renders for itself, never from the plain rows")
        typ, data = u.fetch("2", "(ENVELOPE BODYSTRUCTURE)")
        c.check(typ == "OK" and data == fetch(m, "(ENVELOPE BODYSTRUCTURE)", "2"),
                f"for ASCII headers its rendering is the stored one: {data!r:.200}")
        u.logout()

        psql(db.url, f"UPDATE message_imap_forms SET version = 0 WHERE message_id = {first_id}")
        c.check(fetch(m) == first, "a row of another renderer version is ignored")
        c.check(forms_rows(db) == "3|3|3|3|1|1", f"... and replaced: {forms_rows(db)}")
        c.check(fetch(m) == first, "and the listing is the first one again")

        m.store("1", "+FLAGS", "\\Deleted")
        m.expunge()
        def flat(data):  # the answer's bytes without sequence numbers
            return re.sub(rb"\d+ \(FLAGS", b"(FLAGS", b"".join(
                b"".join(x) if isinstance(x, tuple) else x for x in data))

        left, before = flat(fetch(m)), flat(first)
        c.check(left.count(b"(FLAGS") == 2 and left.startswith(b"(FLAGS") and
                left[left.index(b"ENVELOPE"):] == before[before.index(b"ENVELOPE (NIL \"attached"):],
                f"the other two as before after EXPUNGE: {left!r:.300}")
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as smtp:
            smtp.sendmail("outside@example.org", [f"forms@{DOMAIN}"], MULTI.replace(
                b"Subject: attached", b"Subject: delivered").replace(
                f"From: b@{DOMAIN}".encode(), b"From: outside@example.org"))
        delivered = ("FROM message_imap_forms f JOIN messages x ON x.id = f.message_id"
                     " WHERE x.subject = 'delivered'")
        stored = psql(db.url, "SELECT count(*), count(f.envelope), count(f.bodystructure),"
                              f" count(f.header) {delivered}").strip()
        c.check(stored == "1|1|1|1", f"SMTP delivery stored them: {stored}")
        m.noop()
        got = fetch(m, "(ENVELOPE BODYSTRUCTURE)", "3")
        c.check(b"delivered" in got[0], f"message 3 is the delivered one: {got!r:.200}")
        psql(db.url, f"DELETE FROM message_imap_forms WHERE message_id IN (SELECT f.message_id"
                     f" {delivered})")
        c.check(fetch(m, "(ENVELOPE BODYSTRUCTURE)", "3") == got,
                f"the delivered message's renderings are FETCH's: {got!r:.200}")
        fetch(m)
        complete = psql(db.url, "SELECT count(*) = count(header) FROM message_imap_forms").strip()
        c.check(complete == "t", f"a listing completes the rows: {forms_rows(db)}")
        m.logout()
    finally:
        stop_server(srv, c)

    # With the message cache on (the default): listings answer from the cache and the stored
    # rows and write nothing, also for a message whose ENVELOPE and BODYSTRUCTURE a FETCH of
    # its parts cached without its header block.
    srv = Server(db.url, allow_plaintext=True)
    imap_port = srv.listen_imap()
    try:
        srv.start()
        m = imaplib.IMAP4("127.0.0.1", imap_port)
        m.login(f"forms@{DOMAIN}", "correct horse battery")
        m.select("INBOX")
        versions = "SELECT string_agg(message_id || ':' || xmin, ',' ORDER BY message_id)" \
                   " FROM message_imap_forms"
        rows_before = psql(db.url, versions).strip()
        cached_parts = fetch(m, "(ENVELOPE BODYSTRUCTURE BODY.PEEK[1])", "2")
        listings = [flat(fetch(m)) for _ in range(3)]
        c.check(listings[0] == listings[1] == listings[2] and listings[0].count(b"(FLAGS") == 3,
                f"the listings answer alike from the cache: {listings[0]!r:.300}")
        c.check(b"HEADER.FIELDS" in listings[0] and b"Subject: delivered" in listings[0],
                f"header fields come with each: {listings[0]!r:.300}")
        c.check(fetch(m, "(ENVELOPE BODYSTRUCTURE BODY.PEEK[1])", "2") == cached_parts,
                "parts answer alike")
        rows_after = psql(db.url, versions).strip()
        c.check(rows_after == rows_before,
                f"no listing wrote the stored renderings again: {rows_before} -> {rows_after}")
        m.logout()
    finally:
        stop_server(srv, c)
c.finish()
