#!/usr/bin/env python3
"""IMAP4rev1 conformance details against a real govmail (two processes on one database), through
Python imaplib driven with raw command lines, asserting the exact untagged responses in order:
  - sequence sets with 4294967295, '*', reversed ranges and 0 in every command that takes one
    (RFC 3501 9: 4294967295 is an nz-number like any other, never '*');
  - the ATOM-CHAR / ASTRING-CHAR / list-char grammar, quoted strings with escapes, literals and
    empty strings, fed whole and byte by byte;
  - \\Recent (RFC 3501 2.3.2): recent in exactly one session, across processes; RECENT on
    SELECT/EXAMINE, after arrivals, COPY, MOVE and APPEND; STATUS RECENT; SEARCH NEW/OLD/RECENT;
    none of it for a session that enabled IMAP4rev2;
  - a keyword new to the mailbox is announced with FLAGS and PERMANENTFLAGS before any FETCH
    FLAGS that uses it, to every session with the mailbox selected (RFC 3501 7.2.6);
  - BINARY of quoted-printable and base64 parts: exactly the decoded bytes (RFC 3516, 2045);
  - CONDSTORE: the first enabling command brings HIGHESTMODSEQ, and ESEARCH MIN/MAX report the
    MODSEQ of the messages returned (RFC 7162 3.1, 3.1.10);
  - MULTIAPPEND (RFC 3502): each message with its own flags and date, APPENDUID with the UID
    set, and none stored when one of them fails (over quota in the store, or malformed)."""
import imaplib
import os
import re
import socket
import subprocess
import time
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import (GOVMAIL, Checks, FreshDatabase, free_port, govmail, psql,  # noqa
                     traversable_tempdir, wait_port, write_config)

c = Checks()
tmp = traversable_tempdir()
http, imap_port = free_port(), free_port()
http2, imap_port2 = free_port(), free_port()
cfg = os.path.join(tmp, "govmail.toml")
cfg2 = os.path.join(tmp, "govmail2.toml")
extra = "\n[auth]\nallow_plaintext_on_loopback = true\n"
write_config(cfg, os.path.join(tmp, "var"), http, imap=imap_port, extra=extra)
write_config(cfg2, os.path.join(tmp, "var2"), http2, imap=imap_port2, extra=extra)
USER, PASSWORD = "a@example.gov.vn", "correct horse battery"
SYSTEM = "\\Answered \\Flagged \\Deleted \\Seen \\Draft"


class Raw:
    """imaplib's connection, written to and read from line by line: a command's response is the
    list of its lines (a literal joined to the line that announced it), tagged line last; "EOF"
    when the server closed the connection."""

    def __init__(self, port=None, login=True):
        self.m = imaplib.IMAP4("127.0.0.1", port or imap_port, timeout=20)
        self.m.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.n = 0
        if login:
            self.cmd(f'LOGIN {USER} "{PASSWORD}"')

    def read(self, tag):
        out = []
        while True:
            line = self.m.readline()
            if not line:
                out.append(b"EOF")
                return out
            while m := re.search(rb"~?\{(\d+)\}\r\n$", line):
                line += self.m.read(int(m.group(1))) + self.m.readline()
            out.append(line)
            if line.startswith(tag + b" ") or line.startswith(b"+ "):
                return out

    def cmd(self, text, bytewise=False):
        """`text` after the tag, str or bytes; synchronising literals wait for the '+'."""
        self.n += 1
        tag = b"t%d" % self.n
        data = tag + b" " + (text.encode() if isinstance(text, str) else text) + b"\r\n"
        parts = re.split(rb"(?<=\{\d\}\r\n)|(?<=\{\d\d\}\r\n)", data)
        out = []
        for i, part in enumerate(parts):
            if bytewise:
                for b in part:
                    self.m.sock.sendall(bytes([b]))
            else:
                self.m.send(part)
            if i + 1 < len(parts):  # a synchronising literal follows: wait for "+"
                got = self.read(tag)
                out += got[:-1]
                if not got[-1].startswith(b"+ "):
                    return out + got[-1:]
        return out + self.read(tag)

    def close(self):
        self.m.shutdown()


def untagged(resp):
    """The untagged lines of a response, CRLF removed."""
    return [x[2:-2].decode(errors="replace") for x in resp if x.startswith(b"* ")]


def tagged(resp):
    return resp[-1].decode(errors="replace").rstrip("\r\n").split(" ", 1)[-1]


def expect(resp, lines, status, what):
    """Exactly these untagged lines in this order, and a tagged line starting with `status`."""
    got = untagged(resp)
    c.check(got == lines and tagged(resp).startswith(status),
            f"{what}: want {lines} {status}, got {got} {tagged(resp)!r}")


def message(subject, body=b"x\r\n", headers=b""):
    return (b"From: s@x.vn\r\nTo: a@example.gov.vn\r\nSubject: " + subject.encode() +
            b"\r\n" + headers + b"\r\n" + body)


def append(conn, box, msg, flags=""):
    flags = f" ({flags})" if flags else ""
    return conn.cmd(f"APPEND {box}{flags} {{{len(msg)}+}}\r\n".encode() + msg)


def modseqs(conn, seqs):
    resp = conn.cmd(f"FETCH {seqs} (MODSEQ)")
    return {int(a): int(b) for a, b in re.findall(r"^(\d+) FETCH \(MODSEQ \((\d+)\)\)$",
                                                  "\n".join(untagged(resp)), re.M)}


def sequence_sets():
    """Item: 4294967295, '*', reversed ranges and 0 in every command with a set."""
    a = Raw()
    a.cmd("CREATE Sets")
    a.cmd("CREATE Other")
    for i in range(3):
        append(a, "Sets", message(f"set {i}"))
    pre = Raw()  # claims the messages: no \\Recent in the FETCH answers below
    status = " ".join(untagged(pre.cmd("STATUS Sets (UIDVALIDITY HIGHESTMODSEQ)")))
    validity, high = re.search(r"UIDVALIDITY (\d+) HIGHESTMODSEQ (\d+)", status).groups()
    expect(pre.cmd("SELECT Sets"), [
        f"FLAGS ({SYSTEM})", f"OK [PERMANENTFLAGS ({SYSTEM} \\*)] Flags permitted", "3 EXISTS",
        "3 RECENT", "OK [UNSEEN 1] First unseen", f"OK [UIDVALIDITY {validity}] UIDs valid",
        "OK [UIDNEXT 4] Predicted next UID", f"OK [HIGHESTMODSEQ {high}] Highest"], "OK",
        "SELECT")
    pre.close()
    a.cmd("SELECT Sets")
    cases = [
        ("UID SEARCH UID 1:4294967295", ["SEARCH 1 2 3"], "OK"),
        ("UID SEARCH UID 4:4294967295", ["SEARCH"], "OK"),  # from UIDNEXT on
        ("UID SEARCH UID 4294967295", ["SEARCH"], "OK"),
        ("UID SEARCH UID 4294967295:4", ["SEARCH"], "OK"),
        ("UID SEARCH UID 4:*", ["SEARCH 3"], "OK"),  # '*' is the highest UID: 3:4
        ("UID SEARCH UID *", ["SEARCH 3"], "OK"),
        ("UID SEARCH UID 2:1,3:4294967295", ["SEARCH 1 2 3"], "OK"),
        ("SEARCH 2:4294967295", ["SEARCH 2 3"], "OK"),
        ("SEARCH *:2", ["SEARCH 2 3"], "OK"),
        ("UID FETCH 1:4294967295 (UID)",
         ["1 FETCH (UID 1)", "2 FETCH (UID 2)", "3 FETCH (UID 3)"], "OK"),
        ("UID FETCH 4294967295 (UID)", [], "OK"),
        ("UID FETCH 4:* (UID)", ["3 FETCH (UID 3)"], "OK"),
        ("FETCH 3:2 (UID)", ["2 FETCH (UID 2)", "3 FETCH (UID 3)"], "OK"),
        ("FETCH *:2 (UID)", ["2 FETCH (UID 2)", "3 FETCH (UID 3)"], "OK"),
        ("UID STORE 4:4294967295 +FLAGS (\\Flagged)", [], "OK"),
        ("UID STORE 3:4294967295 +FLAGS (\\Flagged)", ["3 FETCH (UID 3 FLAGS (\\Flagged))"],
         "OK"),
        ("UID STORE 4294967295:3 -FLAGS (\\Flagged)", ["3 FETCH (UID 3 FLAGS ())"], "OK"),
        ("UID COPY 4:4294967295 Other", [], "OK"),
        ("UID COPY 3:4294967295 Other", [], "OK [COPYUID"),
        ("UID MOVE 4294967295 Other", [], "OK"),
        ("UID EXPUNGE 4294967295", [], "OK"),
        ("UID EXPUNGE 1:4294967295", [], "OK"),  # nothing \\Deleted
        ("SEARCH UID 1:4294967295 NOT UID 4294967295", ["SEARCH 1 2 3"], "OK"),
        # 0 and numbers past 32 bits are not numbers: BAD, and the connection stays.
        ("UID SEARCH UID 0:4", [], "BAD"),
        ("UID SEARCH UID 4294967296", [], "BAD"),
        ("UID FETCH 0 (UID)", [], "BAD"),
        ("FETCH 0:2 (UID)", [], "BAD"),
        ("STORE 0 +FLAGS (\\Seen)", [], "BAD"),
        ("COPY 1:0 Other", [], "BAD"),
        ("UID MOVE 0 Other", [], "BAD"),
        ("UID EXPUNGE 0", [], "BAD"),
        ("SEARCH 0", [], "BAD"),
        ("FETCH 4 (UID)", [], "BAD"),  # past the last message number
        ("NOOP", [], "OK"),
    ]
    for text, lines, status in cases:
        expect(a.cmd(text), lines, status, text)
    a.close()


# ATOM-CHARs that are not letters, as the compliance run sent them ('&' makes it invalid modified
# UTF-7: a name no mailbox can have); LEGAL is a name CREATE accepts, with ASTRING-CHAR ']'.
NAME = "!#$&'+,-.0123456789:;<=>?@^_`|[}"
LEGAL = "!#$'+,-.0123456789:;<=>?@^_`|[}]a"


def grammar():
    """Item: atoms, astrings, quoted strings, literals and empty strings, whole and bytewise."""
    for bytewise in (False, True):
        a = Raw()
        how = "bytewise" if bytewise else "whole"
        box = LEGAL + ("b" if bytewise else "w")
        quoted = box.replace("\\", "\\\\").replace('"', '\\"')
        cases = [
            (f"SELECT {NAME}", [], "NO [NONEXISTENT]"),
            (f"EXAMINE {NAME}]", [], "NO [NONEXISTENT]"),
            (f"STATUS {NAME} (MESSAGES)", [], "NO [NONEXISTENT]"),
            ("SELECT ]", [], "NO [NONEXISTENT]"),
            ("SELECT a[", [], "NO [NONEXISTENT]"),
            (f"LIST \"\" {NAME}%*]", [], "OK"),
            (f"LIST {NAME} {NAME}", [], "OK"),
            (f"CREATE {box}", [], "OK"),
            (f"LIST \"\" {box}", [f'LIST (\\HasNoChildren) "/" "{quoted}"'], "OK"),
            (f"LIST \"\" {box[:5]}*{box[-1]}", [f'LIST (\\HasNoChildren) "/" "{quoted}"'], "OK"),
            (f"STATUS {box} (MESSAGES)", [f'STATUS "{quoted}" (MESSAGES 0)'], "OK"),
            (f'STATUS "{quoted}" (MESSAGES)', [f'STATUS "{quoted}" (MESSAGES 0)'], "OK"),
            (f"STATUS {{{len(box)}}}\r\n{box} (MESSAGES)", [f'STATUS "{quoted}" (MESSAGES 0)'],
             "OK"),
            (f"STATUS {{{len(box)}+}}\r\n{box} (MESSAGES)", [f'STATUS "{quoted}" (MESSAGES 0)'],
             "OK"),
            (f'CREATE "q\\"uote\\\\d{how}"', [], "OK"),
            (f'LIST "" "q*{how}"', [f'LIST (\\HasNoChildren) "/" "q\\"uote\\\\d{how}"'], "OK"),
            ('SELECT "bad\\escape"', [], "BAD"),
            ('SELECT ""', [], "NO"),
            ("SELECT {0}\r\n", [], "NO"),
            ('STATUS "" (MESSAGES)', [], "NO [NONEXISTENT]"),
            ("SELECT a{b", [], "BAD"),  # '{' is no ATOM-CHAR
            ("SELECT a(b", [], "BAD"),
            (f"SELECT {box}", None, "OK [READ-WRITE]"),
            (f"SELECT {NAME}", [], "NO [NONEXISTENT]"),  # a failed SELECT deselects
            ("FETCH 1 (UID)", [], "BAD"),
            ("NOOP", [], "OK"),
        ]
        for text, lines, status in cases:
            r = a.cmd(text, bytewise)
            if lines is None:
                c.check(tagged(r).startswith(status), f"{how} {text}: {r}")
            else:
                expect(r, lines, status, f"{how} {text!r}")
        a.close()


def recent():
    """Item: \\Recent, one session per message, across two processes."""
    a = Raw()
    a.cmd("CREATE R")
    a.cmd("CREATE R2")
    a.cmd("SELECT R")
    b = Raw(imap_port2)  # the other govmail process
    for i in range(2):
        c.check(tagged(append(b, "R", message(f"r{i}"))).startswith("OK"), "append R")
    expect(a.cmd("NOOP"), ["2 EXISTS", "2 RECENT"], "OK", "arrivals announced as recent")
    expect(a.cmd("FETCH 1:2 (FLAGS)"), ["1 FETCH (FLAGS (\\Recent))", "2 FETCH (FLAGS (\\Recent))"],
           "OK", "FETCH FLAGS of recent messages")
    expect(a.cmd("SEARCH RECENT"), ["SEARCH 1 2"], "OK", "SEARCH RECENT")
    expect(a.cmd("SEARCH OLD"), ["SEARCH"], "OK", "SEARCH OLD")
    a.cmd("STORE 1 +FLAGS.SILENT (\\Seen)")
    expect(a.cmd("SEARCH NEW"), ["SEARCH 2"], "OK", "SEARCH NEW")
    # \\Recent is the session's: a client cannot set or clear it (RFC 3501 2.3.2), and STORE
    # answers with the flags even when nothing changed (6.4.6).
    expect(a.cmd("STORE 2 +FLAGS (\\Recent)"), ["2 FETCH (FLAGS (\\Recent))"], "OK",
           "STORE +FLAGS \\Recent")
    expect(a.cmd("STORE 2 FLAGS ()"), ["2 FETCH (FLAGS (\\Recent))"], "OK", "STORE FLAGS ()")
    expect(a.cmd("STORE 1:2 -FLAGS (\\Draft)"),
           ["1 FETCH (FLAGS (\\Seen \\Recent))", "2 FETCH (FLAGS (\\Recent))"], "OK",
           "STORE that changes nothing")
    expect(a.cmd("STATUS R (RECENT MESSAGES)"), ["STATUS \"R\" (RECENT 2 MESSAGES 2)"], "OK",
           "STATUS RECENT of the selected mailbox")
    # Already claimed by a: another session, in the other process, sees none recent.
    expect(b.cmd("STATUS R (RECENT)"), ['STATUS "R" (RECENT 0)'], "OK", "STATUS RECENT claimed")
    r = b.cmd("SELECT R")
    c.check("0 RECENT" in untagged(r), f"second SELECT: 0 RECENT: {untagged(r)}")
    expect(b.cmd("FETCH 1:2 (FLAGS)"), ["1 FETCH (FLAGS (\\Seen))", "2 FETCH (FLAGS ())"], "OK",
           "no \\Recent in the second session")
    expect(b.cmd("SEARCH RECENT"), ["SEARCH"], "OK", "SEARCH RECENT elsewhere")
    expect(b.cmd("SEARCH OLD"), ["SEARCH 1 2"], "OK", "SEARCH OLD elsewhere")
    b.cmd("UNSELECT")
    # A new message: STATUS counts it; EXAMINE shows it recent without claiming it.
    append(b, "R", message("r2"))
    expect(b.cmd("STATUS R (RECENT)"), ['STATUS "R" (RECENT 1)'], "OK", "STATUS RECENT unclaimed")
    e = Raw()
    r = e.cmd("EXAMINE R")
    c.check("3 EXISTS" in untagged(r) and "1 RECENT" in untagged(r), f"EXAMINE: {untagged(r)}")
    expect(e.cmd("FETCH 3 (FLAGS)"), ["3 FETCH (FLAGS (\\Recent))"], "OK", "EXAMINE's \\Recent")
    r = b.cmd("SELECT R")  # claims it: EXAMINE did not
    c.check("1 RECENT" in untagged(r), f"SELECT after EXAMINE: {untagged(r)}")
    expect(b.cmd("FETCH 3 (FLAGS)"), ["3 FETCH (FLAGS (\\Recent))"], "OK", "claimed after EXAMINE")
    expect(a.cmd("NOOP"), ["3 EXISTS", "2 RECENT"], "OK", "claimed elsewhere: still 2 RECENT")
    expect(a.cmd("FETCH 3 (FLAGS)"), ["3 FETCH (FLAGS ())"], "OK", "not recent in a")
    # COPY and APPEND into the selected mailbox: the copies are recent here.
    expect(a.cmd("COPY 1 R"), ["4 EXISTS", "3 RECENT"], "OK [COPYUID", "COPY into selected")
    expect(a.cmd("FETCH 4 (FLAGS)"), ["4 FETCH (FLAGS (\\Seen \\Recent))"], "OK", "copy recent")
    r = append(a, "R", message("r4"))
    expect(r, ["5 EXISTS", "4 RECENT"], "OK [APPENDUID", "APPEND into selected")
    expect(a.cmd("FETCH 5 (FLAGS)"), ["5 FETCH (FLAGS (\\Recent))"], "OK", "append recent")
    # MOVE from another session into a's mailbox: announced to a as recent.
    append(b, "R2", message("moved"))
    b.cmd("SELECT R2")
    c.check(tagged(b.cmd("MOVE 1 R")).startswith("OK"), "MOVE into R")
    expect(a.cmd("NOOP"), ["6 EXISTS", "5 RECENT"], "OK", "MOVE into a's mailbox")
    expect(a.cmd("SEARCH RECENT"), ["SEARCH 1 2 4 5 6"], "OK", "SEARCH RECENT after all")
    expect(a.cmd("SEARCH NOT RECENT"), ["SEARCH 3"], "OK", "SEARCH NOT RECENT")
    # An IMAP4rev2 session: no RECENT, no \\Recent, claims nothing.
    append(b, "R", message("r6"))
    v2 = Raw()
    v2.cmd("ENABLE IMAP4rev2")
    r = v2.cmd("SELECT R")
    c.check(not any("RECENT" in x for x in untagged(r)), f"IMAP4rev2 SELECT: {untagged(r)}")
    expect(v2.cmd("FETCH 7 (FLAGS)"), ["7 FETCH (FLAGS ())"], "OK", "IMAP4rev2 FETCH")
    r = e.cmd("SELECT R")  # so the rev1 session that comes next still gets it
    c.check("7 EXISTS" in untagged(r) and "1 RECENT" in untagged(r), f"after rev2: {untagged(r)}")
    # Concurrent SELECTs in two processes: each new message recent in exactly one of them.
    for i in range(5):
        append(v2, "R", message(f"race{i}"))
    s1, s2 = Raw(), Raw(imap_port2)
    for s in (s1, s2):
        s.n += 1
        s.m.send(b"t%d SELECT R\r\n" % s.n)
    got = []
    for s in (s1, s2):
        r = untagged(s.read(b"t%d" % s.n))
        got.append(int(next(x.split()[0] for x in r if x.endswith(" RECENT"))))
    c.check(sorted(got) == [0, 5], f"concurrent SELECT: {got}")
    for s in (a, b, e, v2, s1, s2):
        s.close()
    recent_append_claims()
    store_unchanged()
    fetch_cache()


def recent_append_claims():
    """Item: an APPEND into the selected mailbox claims \\Recent in its own transaction, and with
    it a message that arrived from elsewhere in between and was not yet announced."""
    a = Raw()
    a.cmd("CREATE R3")
    a.cmd("CREATE R4")
    r = a.cmd("SELECT R3")
    c.check("0 EXISTS" in untagged(r) and "0 RECENT" in untagged(r), f"empty R3: {untagged(r)}")
    b = Raw(imap_port2)
    c.check(tagged(append(b, "R3", message("from b"))).startswith("OK"), "append R3 from b")
    r = append(a, "R3", message("from a"))
    expect(r, ["2 EXISTS", "2 RECENT"], "OK [APPENDUID", "APPEND claims the unannounced one too")
    expect(a.cmd("FETCH 1:2 (FLAGS)"), ["1 FETCH (FLAGS (\\Recent))", "2 FETCH (FLAGS (\\Recent))"],
           "OK", "both recent in the appending session")
    r = b.cmd("SELECT R3")
    c.check("0 RECENT" in untagged(r), f"claimed by a, not b: {untagged(r)}")
    # A session that appends into a mailbox it has NOT selected claims nothing.
    c.check(tagged(append(a, "R4", message("not selected"))).startswith("OK"), "append R4")
    expect(b.cmd("STATUS R4 (RECENT)"), ['STATUS "R4" (RECENT 1)'], "OK",
           "append elsewhere leaves it unclaimed")
    for s in (a, b):
        s.close()


def store_unchanged():
    """A STORE answers the flags of every message it names, also those it leaves as they were
    (RFC 3501 6.4.6), and a STORE that changes nothing changes no MODSEQ (RFC 7162 3.1.3: the
    mod-sequence of a message changes when its metadata changes) and tells no other session."""
    a = Raw()
    a.cmd("CREATE S5")
    append(a, "S5", message("seen"), "\\Seen")
    append(a, "S5", message("unseen"))
    a.cmd("SELECT S5 (CONDSTORE)")
    a.cmd("FETCH 1:2 (FLAGS)")  # \Recent is claimed by this session; ENABLE is implicit
    before = modseqs(a, "1:2")
    got = sorted(untagged(a.cmd("STORE 1:2 +FLAGS (\\Seen)")))
    m = re.fullmatch(r"2 FETCH \(FLAGS \(\\Seen \\Recent\) MODSEQ \((\d+)\)\)", got[-1] if got else "")
    c.check(len(got) == 2 and got[0] == f"1 FETCH (FLAGS (\\Seen \\Recent) MODSEQ ({before[1]}))"
            and m is not None and int(m.group(1)) > before[2],
            f"STORE answers the one it left as it was and the one it changed: {got}")
    high = modseqs(a, "1:2")
    b = Raw(imap_port2)
    b.cmd("SELECT S5 (CONDSTORE)")
    expect(b.cmd("STORE 1:2 +FLAGS (\\Seen)"),
           [f"1 FETCH (FLAGS (\\Seen) MODSEQ ({high[1]}))",
            f"2 FETCH (FLAGS (\\Seen) MODSEQ ({high[2]}))"], "OK", "a STORE that changes nothing")
    expect(b.cmd("STORE 1:2 +FLAGS.SILENT (\\Seen)"), [], "OK", "silent and unchanged: nothing")
    expect(b.cmd("STORE 1:2 -FLAGS.SILENT (\\Answered)"), [], "OK", "removing an absent flag")
    c.check(modseqs(b, "1:2") == high, f"no MODSEQ moved: {modseqs(b, '1:2')} vs {high}")
    r = b.cmd("STATUS INBOX (HIGHESTMODSEQ)")  # any other command: the state of S5 is as it was
    time.sleep(0.3)
    expect(a.cmd("NOOP"), [], "OK", "no untagged FETCH in the other session")
    r = b.cmd("STORE 1 (UNCHANGEDSINCE %d) -FLAGS (\\Seen)" % (high[1] - 1))
    c.check(tagged(r).startswith("OK [MODIFIED 1]"), f"UNCHANGEDSINCE conflict: {tagged(r)}")
    for s in (a, b):
        s.close()


def fetch_cache():
    """ENVELOPE, BODYSTRUCTURE, BODY and header fields are answered the same from the database
    and from the message cache (filled by APPEND or by a FETCH), each session in its own form (8-bit strings as literals, or
    quoted under UTF8=ACCEPT, RFC 6855 3), whichever session filled the cache first."""
    a = Raw()
    a.cmd("CREATE C1")
    msg = ("From: Nguyễn Văn A <a@x.vn>\r\nTo: b@example.gov.vn\r\nSubject: Công văn số 12\r\n"
           "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nNội dung\r\n--b\r\n"
           "Content-Type: application/pdf; name=\"tệp.pdf\"\r\n\r\nJVBERi0=\r\n--b--\r\n")
    r = a.cmd(f"APPEND C1 (\\Seen) {{{len(msg.encode())}+}}\r\n".encode() + msg.encode())
    c.check(tagged(r).startswith("OK"), f"8-bit APPEND: {tagged(r)}")
    a.cmd("SELECT C1")
    q = "FETCH 1 (ENVELOPE BODYSTRUCTURE BODY BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[1])"
    plain = untagged(a.cmd(q))
    c.check(len(plain) == 1 and "Subject: Công văn số 12" in plain[0] and "Nội dung" in plain[0],
            f"first FETCH: {plain}")
    expect(a.cmd(q), plain, "OK", "the same FETCH again (from the cache)")
    # This process cached the documents when the APPEND stored them; another process (one
    # database, an empty cache) reads them from the database and must answer the same.
    other = Raw(imap_port2)
    other.cmd("SELECT C1")
    expect(other.cmd(q), plain, "OK", "another process, from the database")
    other.close()
    u = Raw()
    u.cmd("ENABLE UTF8=ACCEPT")
    u.cmd("SELECT C1")
    utf8 = untagged(u.cmd(q))
    c.check(len(utf8) == 1 and utf8 != plain and '"Công văn số 12"' in utf8[0]
            and '"Công văn số 12"' not in plain[0], f"UTF8=ACCEPT form: {utf8} vs {plain}")
    expect(u.cmd(q), utf8, "OK", "UTF8=ACCEPT again (from the cache)")
    expect(a.cmd(q), plain, "OK", "the plain session keeps its form")
    for s in (a, u):
        s.close()


def keywords():
    """Item: FLAGS and PERMANENTFLAGS before a FETCH FLAGS with a keyword new to the mailbox."""
    a = Raw()
    a.cmd("CREATE K")
    append(a, "K", message("k"))
    a.cmd("SELECT K")  # claims the message: no \\Recent below
    a.cmd("UNSELECT")
    a.cmd("SELECT K")
    b = Raw(imap_port2)
    b.cmd("SELECT K")
    expect(a.cmd("STORE 1 +FLAGS ($hello)"), [
        f"FLAGS ({SYSTEM} $hello)", f"OK [PERMANENTFLAGS ({SYSTEM} $hello \\*)] Flags permitted",
        "1 FETCH (FLAGS ($hello))"], "OK", "STORE of a new keyword")
    expect(a.cmd("STORE 1 +FLAGS (\\Seen $hello)"), ["1 FETCH (FLAGS (\\Seen $hello))"], "OK",
           "a known keyword: no FLAGS again")
    expect(a.cmd("STORE 1 +FLAGS ($HELLO)"), ["1 FETCH (FLAGS (\\Seen $hello))"], "OK",
           "keywords are case-insensitive: nothing changes")
    expect(b.cmd("NOOP"), [
        f"FLAGS ({SYSTEM} $hello)", f"OK [PERMANENTFLAGS ({SYSTEM} $hello \\*)] Flags permitted",
        "1 FETCH (UID 1 FLAGS (\\Seen $hello))"], "OK", "the other session")
    expect(a.cmd("STORE 1 FLAGS (NIL)"), [
        f"FLAGS ({SYSTEM} $hello NIL)",
        f"OK [PERMANENTFLAGS ({SYSTEM} $hello NIL \\*)] Flags permitted",
        "1 FETCH (FLAGS (NIL))"], "OK", "a keyword named NIL")
    r = append(a, "K", message("k2"), "$fresh")
    c.check(untagged(r)[:1] == ["2 EXISTS"], f"APPEND with a new keyword: {untagged(r)}")
    expect(a.cmd("FETCH 2 (FLAGS)"), [
        f"FLAGS ({SYSTEM} $fresh $hello NIL)",
        f"OK [PERMANENTFLAGS ({SYSTEM} $fresh $hello NIL \\*)] Flags permitted",
        "2 FETCH (FLAGS (\\Recent $fresh))"], "OK", "FETCH after APPEND with a new keyword")
    b.cmd("NOOP")
    r = untagged(b.cmd("FETCH 1:* (FLAGS)"))
    flags_at = next((i for i, x in enumerate(r) if x.startswith("FLAGS ")), 99)
    fetch_at = next((i for i, x in enumerate(r) if "$fresh" in x and "FETCH" in x), -1)
    c.check(0 <= flags_at < fetch_at and "$fresh $hello NIL" in r[flags_at],
            f"other session: FLAGS before the FETCH with $fresh: {r}")
    ro = Raw()
    ro.cmd("EXAMINE K")
    expect(ro.cmd("FETCH 1 (FLAGS)"), [f"FLAGS ({SYSTEM} NIL)", "OK [PERMANENTFLAGS ()] Read-only",
                                       "1 FETCH (FLAGS (NIL))"], "OK", "read-only session")
    for s in (a, b, ro):
        s.close()


QP_BODY = (b"soft line=\r\n break=20\r\n"     # soft break; encoded trailing space kept
           b"padding   \t\r\n"                   # transport padding dropped
           b"lower=e1=bb=81 upper=C3=A0\r\n"     # lowercase and uppercase hex
           b"bad =G1 =4 =\r\n"                   # malformed '=' kept; soft break at the end
           b"end=3D=\r\n")
QP_DECODED = b"soft line break \r\npadding\r\nlower\xe1\xbb\x81 upper\xc3\xa0\r\nbad =G1 =4 end="
B64_DATA = bytes(range(200)) + b"\x00\xff"
import base64  # noqa: E402
B64_TEXT = base64.encodebytes(B64_DATA).replace(b"\n", b"\r\n")
B64_BODY = B64_TEXT[:10] + b" \t" + B64_TEXT[10:] + b"=garbage after the padding\r\n"


def binary():
    """Item: BINARY[n], BINARY.SIZE[n] and partial BINARY of QP and base64, byte-exact."""
    mixed = message("binary", b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + QP_BODY +
                    b"--b\r\nContent-Type: application/octet-stream\r\n"
                    b"Content-Transfer-Encoding: base64\r\n\r\n" + B64_BODY + b"--b--\r\n",
                    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n")
    # The CRLF before a boundary belongs to the boundary (RFC 2046 5.1.1).
    qp = QP_DECODED
    a = Raw()
    a.cmd("ENABLE IMAP4rev2")
    a.cmd("CREATE Bin")
    append(a, "Bin", mixed)
    a.cmd("SELECT Bin")
    r = a.cmd("FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])")
    want = b"* 1 FETCH (BINARY.SIZE[1] %d BINARY[1] {%d}\r\n" % (len(qp), len(qp)) + qp + b")\r\n"
    c.check(r[0] == want, f"BINARY[1] of QP: want {want!r} got {r[0]!r}")
    r = a.cmd("FETCH 1 (BINARY.PEEK[1]<5.13>)")
    want = b"* 1 FETCH (BINARY[1]<5> {13}\r\n" + qp[5:18] + b")\r\n"
    c.check(r[0] == want, f"BINARY[1]<5.13>: want {want!r} got {r[0]!r}")
    r = a.cmd("FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2] BINARY.PEEK[2]<198.10>)")
    want = (b"* 1 FETCH (BINARY.SIZE[2] %d BINARY[2] ~{%d}\r\n" % (len(B64_DATA), len(B64_DATA)) +
            B64_DATA + b" BINARY[2]<198> ~{4}\r\n" + B64_DATA[198:] + b")\r\n")
    c.check(r[0] == want, f"BINARY[2] of base64: want {want!r} got {r[0]!r}")
    a.close()


def condstore():
    """Item: HIGHESTMODSEQ on the first enabling command; ESEARCH MIN/MAX MODSEQ."""
    a = Raw()
    a.cmd("CREATE C")
    for i in range(3):
        append(a, "C", message(f"c{i}"))
    a.cmd("SELECT C")
    a.cmd("STORE 1 +FLAGS.SILENT (\\Flagged)")  # message 1 now has the highest modseq
    high = re.search(r"HIGHESTMODSEQ (\d+)", " ".join(untagged(a.cmd("STATUS C (HIGHESTMODSEQ)"))))
    ms = modseqs(a, "1:3")
    c.check(ms[1] == int(high.group(1)) and ms[1] > ms[3] > ms[2], f"modseqs {ms} {high}")
    enablers = ["FETCH 1 (MODSEQ)", "FETCH 1 (FLAGS) (CHANGEDSINCE 1)", "SEARCH MODSEQ 1",
                "STORE 1 (UNCHANGEDSINCE %d) +FLAGS (\\Seen)" % (ms[1] + 5), "ENABLE CONDSTORE"]
    for text in enablers:
        s = Raw()
        s.cmd("SELECT C")
        h = re.search(r"HIGHESTMODSEQ (\d+)", " ".join(untagged(s.cmd("STATUS C (HIGHESTMODSEQ)"))))
        s.close()
        s = Raw()
        s.cmd("SELECT C")
        r = untagged(s.cmd(text))
        c.check(r[:1] == [f"OK [HIGHESTMODSEQ {h.group(1)}] Highest"],
                f"{text}: HIGHESTMODSEQ first: {r}")
        r = untagged(s.cmd(text.replace("\\Seen", "\\Draft")))
        c.check(not any("HIGHESTMODSEQ" in x for x in r), f"{text} again: no HIGHESTMODSEQ: {r}")
        s.close()
    ms = modseqs(a, "1:3")
    top = max(ms.values())
    for ret, want in [("MIN", f"MIN 1 MODSEQ {ms[1]}"), ("MAX", f"MAX 3 MODSEQ {ms[3]}"),
                      ("MIN MAX", f"MIN 1 MAX 3 MODSEQ {max(ms[1], ms[3])}"),
                      ("COUNT", f"COUNT 3 MODSEQ {top}"), ("ALL", f"ALL 1:3 MODSEQ {top}")]:
        r = a.cmd(f"SEARCH RETURN ({ret}) MODSEQ 1")
        expect(r, [f'ESEARCH (TAG "t{a.n}") {want}'], "OK", f"ESEARCH {ret} MODSEQ")
    r = a.cmd("SEARCH RETURN (MAX) MODSEQ 1 2:3")
    expect(r, [f'ESEARCH (TAG "t{a.n}") MAX 3 MODSEQ {ms[3]}'], "OK", "ESEARCH MAX of a subset")
    a.close()


def change_log_pruned(url):
    """Once the change log is pruned past a client's mod-sequence (database.change_log_keep),
    QRESYNC and UID FETCH (CHANGEDSINCE .. VANISHED) name as vanished every UID below UIDNEXT
    that is gone (RFC 7162 3.2.5.2 allows UIDs expunged earlier), within the client's known
    UIDs when given, instead of a list with holes; before the prune, exactly what went since."""
    a = Raw()
    a.cmd("ENABLE QRESYNC")
    a.cmd("CREATE P1")
    for i in range(1, 6):
        append(a, "P1", message(f"p{i}"))
    a.cmd("SELECT P1")
    a.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    a.cmd("EXPUNGE")  # UID 1 goes before the client's mod-sequence
    r = " ".join(untagged(a.cmd("STATUS P1 (UIDVALIDITY HIGHESTMODSEQ)")))
    uv, m0 = re.search(r"UIDVALIDITY (\d+) HIGHESTMODSEQ (\d+)", r).groups()
    a.cmd("UID STORE 2,4 +FLAGS.SILENT (\\Deleted)")
    a.cmd("EXPUNGE")
    a.close()

    def qresync(known=""):
        b = Raw()
        b.cmd("ENABLE QRESYNC")
        got = [x for x in untagged(b.cmd(f"SELECT P1 (QRESYNC ({uv} {m0}{known}))"))
               if x.startswith("VANISHED")]
        fetched = [x for x in untagged(b.cmd(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {m0} VANISHED)"))
                   if x.startswith("VANISHED")]
        b.close()
        return got, fetched

    got = qresync()
    c.check(got == (["VANISHED (EARLIER) 2,4"], ["VANISHED (EARLIER) 2,4"]),
            f"from the change log: {got}")
    n = int(psql(url, "SELECT govmail_prune_change_log('0 seconds', 100000)"))
    c.check(n > 0, f"rows pruned: {n}")
    got = qresync()
    c.check(got == (["VANISHED (EARLIER) 1:2,4"], ["VANISHED (EARLIER) 1:2,4"]),
            f"past the horizon: every gone UID: {got}")
    got = qresync(" 3:5")
    c.check(got[0] == ["VANISHED (EARLIER) 4"], f"within the known UIDs: {got}")


def multiappend(url):
    a = Raw()
    caps = untagged(a.cmd("CAPABILITY"))[0].split()
    c.check("MULTIAPPEND" in caps, f"MULTIAPPEND advertised: {caps}")
    a.cmd("CREATE M")
    r = a.cmd("SELECT M")
    c.check("0 EXISTS" in untagged(r), f"empty M: {untagged(r)}")
    m1, m2 = message("first of two"), message("second of two", b"y" * 300 + b"\r\n")
    r = a.cmd(f'APPEND M (\\Seen) "01-Jan-2024 10:00:00 +0700" {{{len(m1)}+}}\r\n'.encode() + m1 +
              f" (\\Flagged) {{{len(m2)}+}}\r\n".encode() + m2)
    c.check(re.fullmatch(r"OK \[APPENDUID \d+ 1:2\] .*", tagged(r).strip()) is not None,
            f"APPENDUID names both: {tagged(r)!r}")
    c.check("2 EXISTS" in untagged(r) and "2 RECENT" in untagged(r),
            f"both announced and recent here: {untagged(r)}")
    got = untagged(a.cmd("FETCH 1:2 (FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    text = "\n".join(got)
    first = r'1 FETCH \(FLAGS \(\\Seen \\Recent\) INTERNALDATE "01-Jan-2024 03:00:00 \+0000"'
    c.check(re.search(first, text) is not None and "2 FETCH (FLAGS (\\Flagged \\Recent)" in text
            and "first of two" in text and "second of two" in text,
            f"each message its own flags and date, in order: {got}")
    # (The date is kept as an instant and shown in UTC.) The store refuses the second (over
    # quota): neither is stored.
    psql(url, f"UPDATE accounts SET quota_bytes = used_bytes + {len(m2) + 200} "
              f"WHERE address = '{USER}'")
    r = a.cmd(f"APPEND M {{{len(m2)}+}}\r\n".encode() + m2 + f" {{{len(m2)}+}}\r\n".encode() + m2)
    c.check(tagged(r).startswith("NO [OVERQUOTA]"), f"second over quota: {tagged(r)!r}")
    psql(url, f"UPDATE accounts SET quota_bytes = 0 WHERE address = '{USER}'")
    # A malformed second message (\\Bogus is no system flag): BAD, nothing stored.
    r = a.cmd(f"APPEND M {{{len(m1)}+}}\r\n".encode() + m1 +
              f" (\\Bogus) {{{len(m1)}+}}\r\n".encode() + m1)
    c.check(tagged(r).startswith("BAD"), f"malformed second: {tagged(r)!r}")
    expect(a.cmd("STATUS M (MESSAGES UIDNEXT)"), ['STATUS "M" (MESSAGES 2 UIDNEXT 3)'], "OK",
           "failed MULTIAPPENDs stored nothing")
    a.close()


with FreshDatabase() as db:
    env = dict(os.environ, GOVMAIL_DATABASE_URL=db.url)
    for args, inp in [(("domain", "add", "example.gov.vn"), None),
                      (("account", "add", USER, "--name", "A", "--password-stdin"),
                       PASSWORD + "\n")]:
        r = govmail("admin", "--config", cfg, *args, env=env, input=inp)
        c.check(r.returncode == 0, f"admin {args}: {r.stderr}")
    logs = [open(os.path.join(tmp, f"serve{i}.log"), "w") for i in (1, 2)]
    procs = [subprocess.Popen([GOVMAIL, "serve", "--config", conf], env=env, stdout=log,
                              stderr=log, cwd=tmp) for conf, log in zip((cfg, cfg2), logs)]
    try:
        wait_port(imap_port)
        wait_port(imap_port2)
        for part in (sequence_sets, grammar, recent, keywords, binary, condstore,
                     lambda: change_log_pruned(db.url), lambda: multiappend(db.url)):
            try:
                part()
            except (OSError, imaplib.IMAP4.error, AttributeError, StopIteration, ValueError,
                    KeyError) as e:
                c.check(False, f"{getattr(part, '__name__', 'part')}: {type(e).__name__} {e}")
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        if c.failed:
            for i in (1, 2):
                print(open(os.path.join(tmp, f"serve{i}.log")).read()[-3000:])
c.finish()
