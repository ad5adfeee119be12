#!/usr/bin/env python3
"""IMAP extensions and RFC 3501/9051 details against a real govmail, one raw client per check
group (byte-exact control of literals): BINARY of a base64 part byte-exact with NULs, partial
fetches, ESEARCH MIN/MAX/COUNT/ALL, SEARCHRES $, SEARCH text keys on decoded text (base64,
quoted-printable, RFC 2047, windows-1258), 8-bit ENVELOPE strings as literals, THREAD and SORT,
LIST-EXTENDED selection and return options, LIST-STATUS, QRESYNC VANISHED (EARLIER), CONDSTORE
UNCHANGEDSINCE, modified UTF-7 names, APPENDLIMIT and LITERAL+, NAMESPACE, ID, QUOTA."""
import base64
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from support import (GOVMAIL, Checks, FreshDatabase, free_port, govmail, traversable_tempdir,  # noqa
                     wait_port, write_config)

c = Checks()
tmp = traversable_tempdir()
http, imap_port = free_port(), free_port()
cfg = os.path.join(tmp, "govmail.toml")
LIMIT = 200000
write_config(cfg, os.path.join(tmp, "var"), http, imap=imap_port,
             extra=f"\n[auth]\nallow_plaintext_on_loopback = true\n"
                   f"\n[limits]\nimap_literal_max = {LIMIT}\n")
PASSWORD = "correct horse battery"
BLOB = bytes(range(256)) * 4 + b"\x00\r\n\x00"  # NULs and bare CR/LF survive BINARY
VN7 = "C&APQ-ng v&AQM-n &AREevw-n"


class Client:
    """Tagged commands on a raw socket; responses as bytes with their literals inline."""

    def __init__(self, login=True):
        self.s = socket.create_connection(("127.0.0.1", imap_port), timeout=20)
        self.f = self.s.makefile("rb")
        self.greeting = self.f.readline()
        self.n = 0
        if login:
            self.cmd(f'LOGIN a@example.gov.vn "{PASSWORD}"')

    def read_response(self, tag):
        out = b""
        while True:
            line = self.f.readline()
            if not line:
                return out
            out += line
            m = re.search(rb"[~]?\{(\d+)\}\r\n$", line)
            if m:
                out += self.f.read(int(m.group(1)))
                continue
            if line.startswith(tag.encode() + b" ") or line.startswith(b"+ "):
                return out

    def cmd(self, text, data=b""):
        self.n += 1
        tag = f"t{self.n}"
        self.s.sendall(f"{tag} {text}\r\n".encode() if not data else
                       f"{tag} {text}".encode() + data + b"\r\n")
        return self.read_response(tag)

    def append(self, box, msg, flags=""):
        flags = f" ({flags})" if flags else ""
        return self.cmd(f"APPEND {box}{flags} {{{len(msg)}+}}\r\n", msg)


def ok(resp):
    return re.search(rb"^t\d+ OK", resp, re.M) is not None


def mime(subject, body_headers, body, extra=""):
    return (f"From: Sender <s@x.vn>\r\nTo: a@example.gov.vn\r\nSubject: {subject}\r\n"
            f"Date: Tue, 04 Mar 2025 09:15:00 +0700\r\n{extra}MIME-Version: 1.0\r\n"
            f"{body_headers}\r\n").encode() + body


ATTACH = mime("=?UTF-8?B?" + base64.b64encode("Công văn đến số 5".encode()).decode() + "?=",
              "Content-Type: multipart/mixed; boundary=b1\r\n",
              b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\n" +
              base64.encodebytes("Kính gửi Ủy ban nhân dân tỉnh\r\n".encode()).replace(b"\n", b"\r\n") +
              b"--b1\r\nContent-Type: application/octet-stream; name=a.bin\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\n" +
              base64.encodebytes(BLOB).replace(b"\n", b"\r\n") + b"--b1--\r\n")
QP = mime("QP", "Content-Type: text/plain; charset=UTF-8\r\n"
          "Content-Transfer-Encoding: quoted-printable\r\n",
          b"V=E1=BB=81 vi=E1=BB=87c tri=E1=BB=83n khai c=C3=B4ng t=C3=A1c\r\n")
CP1258 = mime("cp1258", "Content-Type: text/plain; charset=windows-1258\r\n"
              "Content-Transfer-Encoding: 8bit\r\n", "Hà Nô\u0323i ngày 5\r\n".encode("cp1258"))
RAW8 = ("From: Nguyễn Văn A <n@x.vn>\r\nTo: a@example.gov.vn\r\nSubject: Công văn khẩn\r\n"
        "Message-ID: <raw8@x.vn>\r\n\r\nx\r\n").encode()


INNER_HEAD = (b"From: inner@x.vn\r\nSubject: =?UTF-8?Q?B=C3=A1o_c=C3=A1o?=\r\n"
              b"Content-Type: text/plain; charset=utf-8\r\n\r\n")
INNER_BODY = "Nội dung chuyển tiếp\r\n".encode()
PART1_MIME = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: x-foo\r\n\r\n"
NESTED = (b"From: a@example.gov.vn\r\nTo: b@x.vn\r\nSubject: fwd\r\nX-Tag: one\r\n"
          b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n"
          b"--zz\r\n" + PART1_MIME + b"abc\r\n--zz\r\nContent-Type: message/rfc822\r\n\r\n" +
          INNER_HEAD + INNER_BODY + b"--zz--\r\n")


def search_numbers(resp):
    m = re.search(rb"^\* SEARCH([ \d]*)\r\n", resp, re.M)
    return m.group(1).split() if m else None


with FreshDatabase() as db:
    env = dict(os.environ, GOVMAIL_DATABASE_URL=db.url)
    for args, inp in [(("domain", "add", "example.gov.vn"), None),
                      (("account", "add", "a@example.gov.vn", "--name", "A", "--password-stdin"),
                       PASSWORD + "\n")]:
        r = govmail("admin", "--config", cfg, *args, env=env, input=inp)
        c.check(r.returncode == 0, f"admin {args}: {r.stderr}")
    log = open(os.path.join(tmp, "serve.log"), "w")
    p = subprocess.Popen([GOVMAIL, "serve", "--config", cfg], env=env, stdout=log, stderr=log,
                         cwd=tmp)
    try:
        wait_port(imap_port)
        a = Client()
        caps = a.cmd("CAPABILITY").decode()
        for cap in ["IMAP4rev2", "LITERAL+", "BINARY", "ESEARCH", "SEARCHRES", "LIST-EXTENDED",
                    "LIST-STATUS", "QRESYNC", "CONDSTORE", "UTF8=ACCEPT", "SPECIAL-USE",
                    "THREAD=REFERENCES", "THREAD=ORDEREDSUBJECT", "SORT", f"APPENDLIMIT={LIMIT}",
                    "NAMESPACE", "UNSELECT", "QUOTA", "MOVE", "UIDPLUS", "ID", "ENABLE"]:
            c.check(f" {cap}" in caps, f"capability {cap}: {caps}")
        for msg in (ATTACH, QP, CP1258, RAW8):
            c.check(ok(a.append("INBOX", msg)), "append")
        c.check(b"* 4 EXISTS" in a.cmd("SELECT INBOX"), "select")

        # BINARY (RFC 3516): the decoded attachment byte-exact, as literal8 since it has NULs.
        r = a.cmd("FETCH 1 (BINARY.PEEK[2] BINARY.SIZE[2])")
        c.check(b"BINARY[2] ~{%d}\r\n" % len(BLOB) + BLOB in r, f"BINARY[2]: {r[:120]!r}")
        c.check(b"BINARY.SIZE[2] %d" % len(BLOB) in r, f"BINARY.SIZE: {r[-200:]!r}")
        r = a.cmd("FETCH 1 (BINARY.PEEK[2]<100.50>)")
        c.check(re.search(rb"BINARY\[2\]<100> ~?\{50\}\r\n", r) and BLOB[100:150] in r,
                f"BINARY partial: {r[:80]!r}")
        r = a.cmd("FETCH 2 (BINARY.PEEK[1])")
        text = "Về việc triển khai công tác\r\n".encode()
        c.check(b"BINARY[1] {%d}\r\n" % len(text) + text in r, f"BINARY of QP: {r!r}")
        # BINARY[]: the whole message; a multipart body as stored, a leaf's body decoded.
        r = a.cmd("FETCH 1 (BINARY.PEEK[] BINARY.SIZE[])")
        c.check(b"BINARY[] {%d}\r\n" % len(ATTACH) + ATTACH in r and
                b"BINARY.SIZE[] %d" % len(ATTACH) in r, f"BINARY[] of a multipart: {r[-120:]!r}")
        r = a.cmd("FETCH 2 (BINARY.PEEK[])")
        head = QP[:QP.index(b"\r\n\r\n") + 4]
        c.check(b"BINARY[] {%d}\r\n" % len(head + text) + head + text in r,
                f"BINARY[] of a QP message: {r!r}")
        r = a.cmd("FETCH 4 (BINARY.PEEK[1])")
        c.check(b"BINARY[1] {3}\r\nx\r\n" in r, f"BINARY of a non-MIME body: {r!r}")

        # Partial BODY fetches: <offset.length> cut at the end, origin echoed, empty past the end.
        r = a.cmd("FETCH 4 (BODY.PEEK[]<0.10> BODY.PEEK[TEXT]<1.100> BODY.PEEK[HEADER]<99999.5>)")
        c.check(b"BODY[]<0> {10}\r\n" + RAW8[:10] in r, f"BODY[]<0.10>: {r!r}")
        c.check(b"BODY[TEXT]<1> {2}\r\n\r\n" in r, f"BODY[TEXT]<1.100>: {r!r}")
        c.check(b"BODY[HEADER]<99999> {0}\r\n" in r or b'BODY[HEADER]<99999> ""' in r,
                f"past the end: {r!r}")

        # Sections (RFC 3501 6.4.5) byte-exact, nested message/rfc822 included; BINARY of an
        # unknown transfer encoding is NO [UNKNOWN-CTE] (RFC 3516).
        n = Client()
        n.cmd("CREATE Nested")
        n.append("Nested", NESTED)
        n.cmd("SELECT Nested")
        r = n.cmd("FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT X-TAG)] BODY.PEEK[1.MIME] "
                  "BODY.PEEK[2.HEADER] BODY.PEEK[2.TEXT] BODY.PEEK[2.1])")
        want = b"Subject: fwd\r\nX-Tag: one\r\n\r\n"
        c.check(b"BODY[HEADER.FIELDS (SUBJECT X-TAG)] {%d}\r\n" % len(want) + want in r,
                f"HEADER.FIELDS: {r!r}")
        c.check(b"BODY[1.MIME] {%d}\r\n" % len(PART1_MIME) + PART1_MIME in r, f"1.MIME: {r!r}")
        c.check(b"BODY[2.HEADER] {%d}\r\n" % len(INNER_HEAD) + INNER_HEAD in r, f"2.HEADER: {r!r}")
        inner = INNER_BODY[:-2]  # the CRLF before a boundary belongs to the boundary (RFC 2046)
        c.check(b"BODY[2.TEXT] {%d}\r\n" % len(inner) + inner + b" " in r, f"2.TEXT: {r!r}")
        c.check(b"BODY[2.1] {%d}\r\n" % len(inner) + inner + b")" in r, f"2.1: {r!r}")
        r = n.cmd("FETCH 1 (BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT X-TAG MIME-VERSION CONTENT-TYPE)])")
        want = b"From: a@example.gov.vn\r\nTo: b@x.vn\r\n\r\n"
        c.check(b"{%d}\r\n" % len(want) + want in r, f"HEADER.FIELDS.NOT: {r!r}")
        r = n.cmd("FETCH 1 (BINARY.PEEK[1])")
        c.check(b"NO [UNKNOWN-CTE]" in r, f"BINARY of x-foo: {r!r}")
        r = n.cmd("FETCH 1 (BODYSTRUCTURE)")
        c.check(b'"MESSAGE" "RFC822" NIL NIL NIL "7BIT" %d (NIL "=?UTF-8?Q?B=C3=A1o_c=C3=A1o?="'
                % len(INNER_HEAD + INNER_BODY[:-2]) in r, f"message/rfc822 BODYSTRUCTURE: {r!r}")
        r = n.cmd("SEARCH BODY \"chuyển tiếp\"")
        c.check(search_numbers(r) == [b"1"], f"SEARCH in a forwarded message: {r!r}")
        # UID EXPUNGE (UIDPLUS) removes only the named \\Deleted messages.
        n.append("Nested", NESTED)
        n.cmd("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
        r = n.cmd("UID EXPUNGE 2")
        c.check(b"* 2 EXPUNGE" in r and b"* 1 EXPUNGE" not in r, f"UID EXPUNGE: {r!r}")
        n.cmd("LOGOUT")

        # ESEARCH (RFC 4731).
        r = a.cmd("SEARCH RETURN (MIN MAX COUNT ALL) ALL")
        c.check(b'* ESEARCH (TAG "t' in r and all(x in r for x in (b" MIN 1", b" MAX 4", b" COUNT 4",
                                                                  b" ALL 1:4")), f"ESEARCH: {r!r}")
        r = a.cmd("UID SEARCH RETURN () SUBJECT QP")
        c.check(re.search(rb"ESEARCH \(TAG \"t\d+\"\) UID ALL 2\r\n", r), f"RETURN (): {r!r}")
        r = a.cmd("SEARCH RETURN (COUNT MIN) SUBJECT nothing-like-this")
        c.check(b"COUNT 0" in r and b"MIN" not in r, f"empty ESEARCH: {r!r}")

        # SEARCHRES (RFC 5182): RETURN (SAVE) answers nothing, $ is the saved set.
        r = a.cmd("SEARCH RETURN (SAVE) OR SUBJECT QP SUBJECT cp1258")
        c.check(ok(r) and b"ESEARCH" not in r, f"SAVE: {r!r}")
        r = a.cmd("FETCH $ (UID)")
        c.check(re.findall(rb"\* (\d+) FETCH", r) == [b"2", b"3"], f"FETCH $: {r!r}")
        r = a.cmd("UID SEARCH NOT UID $")
        c.check(search_numbers(r) == [b"1", b"4"], f"UID SEARCH NOT UID $: {r!r}")
        # SAVE with MAX alone saves only the maximum; with MIN MAX both ends (RFC 5182 2.4).
        r = a.cmd("SEARCH RETURN (SAVE MAX) ALL")
        c.check(re.search(rb"ESEARCH \(TAG \"t\d+\"\) MAX 4\r\n", r), f"SAVE MAX: {r!r}")
        c.check(search_numbers(a.cmd("SEARCH $")) == [b"4"], "$ is the maximum only")
        a.cmd("SEARCH RETURN (SAVE MIN MAX) NOT SUBJECT QP")
        c.check(search_numbers(a.cmd("SEARCH $")) == [b"1", b"4"], "$ is min and max")
        a.cmd("SEARCH RETURN (SAVE COUNT MIN) NOT SUBJECT QP")
        c.check(search_numbers(a.cmd("SEARCH $")) == [b"1", b"3", b"4"], "COUNT saves all")

        # Text keys on decoded text, case folded with diacritics kept.
        for keys, want in [('CHARSET UTF-8 BODY "ủy ban"', [b"1"]),
                           ('SUBJECT "CÔNG VĂN ĐẾN"', [b"1"]),
                           ('SUBJECT "công vân"', []),
                           ('BODY "TRIỂN KHAI"', [b"2"]),
                           ('BODY "hà nội"', [b"3"]),
                           ('TEXT "=E1=BB"', []),
                           ('NOT BODY "ủy ban"', [b"2", b"3", b"4"]),
                           ('OR BODY "triển" SUBJECT "khẩn"', [b"2", b"4"]),
                           ('HEADER Message-ID "raw8@"', [b"4"]),
                           ('FROM "nguyễn văn"', [b"4"])]:
            r = a.cmd("SEARCH " + keys)
            c.check(search_numbers(r) == want, f"SEARCH {keys}: {r!r}")
        lit = "ỦY BAN".encode()
        r = a.cmd(f"SEARCH CHARSET UTF-8 BODY {{{len(lit)}+}}\r\n", lit)
        c.check(search_numbers(r) == [b"1"], f"SEARCH with a UTF-8 literal: {r!r}")

        # Raw 8-bit header strings are literals for a client without UTF8=ACCEPT.
        r = a.cmd("FETCH 4 (ENVELOPE)")
        subj, name = "Công văn khẩn".encode(), "Nguyễn Văn A".encode()
        c.check(b"{%d}\r\n" % len(subj) + subj in r and b"{%d}\r\n" % len(name) + name in r and
                b'"' + subj not in r, f"8-bit ENVELOPE as literals: {r!r}")
        u = Client()
        u.cmd("ENABLE UTF8=ACCEPT")
        u.cmd("SELECT INBOX")
        r = u.cmd("FETCH 4 (ENVELOPE)")
        c.check(b'"' + subj + b'"' in r and b'(("' + name + b'" NIL "n" "x.vn"))' in r,
                f"8-bit ENVELOPE quoted after UTF8=ACCEPT: {r!r}")

        # SORT and THREAD.
        r = a.cmd("SORT (SUBJECT) UTF-8 ALL")  # i;unicode-casemap: "CO\u0302NG" < "CP1258"
        c.check(re.search(rb"\* SORT 4 1 3 2\r\n", r), f"SORT SUBJECT: {r!r}")
        r = a.cmd("THREAD REFERENCES UTF-8 ALL")
        c.check(b"* THREAD (1)(2)(3)(4)\r\n" in r, f"THREAD REFERENCES: {r!r}")

        # LIST-EXTENDED (RFC 5258), SPECIAL-USE (RFC 6154), LIST-STATUS (RFC 5819).
        c.check(ok(a.cmd(f'CREATE "{VN7}/Ph&API-ng"')), "create a child of a new parent")
        c.check(ok(a.cmd(f'SUBSCRIBE "{VN7}/Ph&API-ng"')), "subscribe the child")
        c.check(ok(a.cmd(f'UNSUBSCRIBE "{VN7}"')), "unsubscribe the parent")
        r = a.cmd('LIST (SPECIAL-USE) "" "*"').decode()
        names = re.findall(r'"/" "?([^"\r]*)"?\r\n', r)
        c.check(sorted(names) == ["Archive", "Drafts", "Junk", "Sent", "Trash"], f"SPECIAL-USE: {r}")
        r = a.cmd('LIST (SUBSCRIBED) "" "*"').decode()
        c.check(f'\\Subscribed) "/" "{VN7}/Ph&API-ng"' in r and f'"{VN7}"\r\n' not in r,
                f"LIST (SUBSCRIBED): {r}")
        r = a.cmd('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"').decode()
        c.check(f'"/" "{VN7}" ("CHILDINFO" ("SUBSCRIBED"))' in r, f"RECURSIVEMATCH: {r}")
        c.check(" BAD " in a.cmd('LIST (RECURSIVEMATCH) "" "%"').decode(),
                "RECURSIVEMATCH alone is BAD")
        r = a.cmd('LIST "" ("INBOX" "Sent") RETURN (CHILDREN SPECIAL-USE)').decode()
        c.check('(\\HasNoChildren \\Sent) "/" "Sent"' in r and '"INBOX"' in r and "Trash" not in r,
                f"several patterns, RETURN: {r}")
        # Wildcards: '%' stops at '/', '*' does not; a pattern made to backtrack stays fast.
        r = a.cmd('LIST "" "%/%"').decode()
        c.check(f'"{VN7}/Ph&API-ng"' in r and '"INBOX"' not in r, f"LIST %/%: {r}")
        r = a.cmd('LIST "" "C%"').decode()
        c.check(f'"{VN7}"' in r and "Ph&API-ng" not in r, f"LIST C%: {r}")
        a.cmd("CREATE " + "a" * 60)  # a name the pattern below matches in very many ways
        t0 = time.time()
        r = a.cmd('LIST "" "' + "*a" * 40 + '*%b"').decode()
        c.check(ok(r.encode()) and "* LIST" not in r and time.time() - t0 < 2,
                f"backtracking pattern: {time.time() - t0:.2f}s {r[-80:]}")
        r = a.cmd(f'LIST "" "{VN7}" RETURN (CHILDREN)').decode()
        c.check("\\HasChildren" in r, f"\\HasChildren: {r}")
        r = a.cmd('LIST "" "INBOX" RETURN (STATUS (MESSAGES UIDNEXT))').decode()
        c.check(re.search(r'LIST \([^)]*\) "/" "INBOX"\r\n\* STATUS "INBOX" \(MESSAGES 4 UIDNEXT 5\)',
                          r), f"LIST-STATUS: {r}")

        # Modified UTF-7 in and out, UTF-8 after ENABLE UTF8=ACCEPT.
        r = a.cmd(f'STATUS "{VN7}/Ph&API-ng" (MESSAGES)').decode()
        c.check(f'* STATUS "{VN7}/Ph&API-ng" (MESSAGES 0)' in r, f"STATUS UTF-7: {r}")
        r = u.cmd('LIST "" "C*"').decode("utf-8")
        c.check('"Công văn đến/Phòng"' in r, f"LIST in UTF-8: {r}")
        c.check(ok(u.cmd('RENAME "Công văn đến/Phòng" "Công văn đến/Phòng 2"')), "RENAME in UTF-8")
        r = a.cmd('LIST "" "*Ph*"').decode()
        c.check(f'"{VN7}/Ph&API-ng 2"' in r, f"renamed, seen in UTF-7: {r}")

        # CONDSTORE (RFC 7162): UNCHANGEDSINCE below the message's MODSEQ is refused.
        r = a.cmd("FETCH 1 (MODSEQ)")
        modseq = int(re.search(rb"MODSEQ \((\d+)\)", r).group(1))
        r = a.cmd(f"STORE 1 (UNCHANGEDSINCE {modseq - 1}) +FLAGS (\\Flagged)")
        c.check(b"[MODIFIED 1]" in r, f"UNCHANGEDSINCE conflict: {r!r}")
        r = a.cmd(f"STORE 1 (UNCHANGEDSINCE {modseq}) +FLAGS (\\Flagged)")
        c.check(ok(r) and b"MODIFIED" not in r and b"\\Flagged" in r, f"UNCHANGEDSINCE ok: {r!r}")

        # QRESYNC (RFC 7162): what happened while away comes back as VANISHED (EARLIER).
        q = Client()
        q.cmd("ENABLE QRESYNC")
        r = q.cmd("SELECT INBOX")
        validity = int(re.search(rb"UIDVALIDITY (\d+)", r).group(1))
        highest = int(re.search(rb"HIGHESTMODSEQ (\d+)", r).group(1))
        q.cmd("UNSELECT")
        a.cmd("STORE 3 +FLAGS.SILENT (\\Deleted)")
        a.cmd("EXPUNGE")
        a.cmd("STORE 2 +FLAGS.SILENT (\\Seen)")
        r = q.cmd(f"SELECT INBOX (QRESYNC ({validity} {highest} 1:4))")
        c.check(b"* VANISHED (EARLIER) 3\r\n" in r, f"VANISHED (EARLIER): {r!r}")
        c.check(re.search(rb"\* 2 FETCH \(UID 2 FLAGS \([^)]*\\Seen[^)]*\) MODSEQ", r) or
                re.search(rb"\* 2 FETCH \([^)]*UID 2[^)]*\\Seen", r), f"changed flags: {r!r}")
        q.cmd("UNSELECT")
        r = q.cmd(f"EXAMINE INBOX (QRESYNC ({validity} {highest} 1:4 (1:3 1:3)))")  # seq-match
        c.check(ok(r) and b"* VANISHED (EARLIER) 3\r\n" in r, f"QRESYNC with seq-match: {r!r}")
        r = q.cmd(f"EXAMINE INBOX (QRESYNC ({validity + 1} {highest}))")
        c.check(ok(r) and b"VANISHED" not in r, f"QRESYNC with another UIDVALIDITY: {r!r}")
        r = q.cmd(f"UID FETCH 1:* (FLAGS) (CHANGEDSINCE {highest} VANISHED)")
        c.check(b"* VANISHED (EARLIER) 3\r\n" in r, f"UID FETCH VANISHED: {r!r}")

        # APPENDLIMIT: a bigger literal is refused before it is sent; LITERAL+ below it works.
        a.s.sendall(b"big APPEND INBOX {%d}\r\n" % (LIMIT + 1))
        r = a.read_response("big")
        c.check(r.startswith(b"big NO") or r.startswith(b"big BAD"), f"over APPENDLIMIT: {r!r}")
        c.check(b"TOOBIG" in r, f"TOOBIG: {r!r}")
        c.check(ok(a.cmd("NOOP")), "session goes on after TOOBIG")
        body = b"Subject: big\r\n\r\n" + b"x" * 5000 + b"\r\n"
        r = a.append("INBOX", body)  # non-synchronizing literal over 4096 (LITERAL+, not LITERAL-)
        c.check(ok(r) and b"APPENDUID" in r, f"LITERAL+ of 5000 octets: {r!r}")

        # NAMESPACE, ID, QUOTA, STATUS SIZE, UNSELECT.
        c.check(b'* NAMESPACE (("" "/")) NIL NIL' in a.cmd("NAMESPACE"), "NAMESPACE")
        c.check(b'* ID ("name" "govmail"' in a.cmd('ID ("name" "test")'), "ID")
        r = a.cmd("GETQUOTAROOT INBOX")
        c.check(b'* QUOTAROOT "INBOX" ""' in r and b'* QUOTA "" (' in r, f"GETQUOTAROOT: {r!r}")
        r = a.cmd("STATUS INBOX (SIZE MESSAGES)")
        c.check(re.search(rb"SIZE \d+ MESSAGES 4", r), f"STATUS SIZE: {r!r}")
        c.check(ok(a.cmd("UNSELECT")), "UNSELECT")
        r = a.cmd("FETCH 1 FLAGS")
        c.check(re.search(rb"^t\d+ (BAD|NO)", r, re.M) and b"FETCH (" not in r,
                f"no FETCH after UNSELECT: {r!r}")
        for cl in (a, u, q):
            cl.cmd("LOGOUT")
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
    c.check(p.returncode == 0, f"clean exit: {p.returncode}")
subprocess.run(["rm", "-rf", tmp])
c.finish()
