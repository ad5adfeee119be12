#!/usr/bin/env python3
"""IMAP against a real govmail on a fresh database, with Python imaplib, raw sockets and curl:
login (plain on loopback, STARTTLS, implicit TLS), LIST with special-use and a Vietnamese
mailbox name in modified UTF-7 and UTF-8, APPEND/SELECT/FETCH byte-exact, STORE, SEARCH, COPY,
MOVE, EXPUNGE, IDLE woken by a delivery from another connection, isolation between users, and
malformed input answered with BAD while the session goes on."""
import imaplib
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(__file__))
from support import (GOVMAIL, Checks, FreshDatabase, free_port, govmail, traversable_tempdir,  # noqa
                     wait_port, write_config)

c = Checks()
tmp = traversable_tempdir()
var = os.path.join(tmp, "var")
http, imap_port, imaps_port = free_port(), free_port(), free_port()
cfg = os.path.join(tmp, "govmail.toml")


def write_cfg(path, var_dir, http_port, imap, imaps):
    write_config(path, var_dir, http_port, imap=imap, imaps=imaps,
                 extra="\n[auth]\nallow_plaintext_on_loopback = true\n")


write_cfg(cfg, var, http, imap_port, imaps_port)
# A second govmail process on the same database (scale-out): it must see the first one's changes.
imap2 = free_port()
cfg2 = os.path.join(tmp, "govmail2.toml")
write_cfg(cfg2, os.path.join(tmp, "var2"), free_port(), imap2, free_port())

MSG = ("From: =?UTF-8?Q?Nguy=E1=BB=85n_V=C4=83n_A?= <a@example.gov.vn>\r\n"
       "To: b@example.gov.vn\r\nSubject: =?UTF-8?Q?C=C3=B4ng_v=C4=83n_s=E1=BB=91_1?=\r\n"
       "Date: Tue, 04 Mar 2025 09:15:00 +0700\r\nMessage-ID: <m1@example.gov.vn>\r\n"
       "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
       "Kính gửi các xã, phường.\r\n").encode()
VN = "Công văn đến"
VN7 = "C&APQ-ng v&AQM-n &AREevw-n"


def login(user="a@example.gov.vn"):
    m = imaplib.IMAP4("127.0.0.1", imap_port)
    m.login(user, "correct horse battery")
    return m


class Raw:
    """A line-level client for what imaplib cannot do (IDLE, malformed input)."""

    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", imap_port), timeout=10)
        self.f = self.s.makefile("rb")
        self.greeting = self.f.readline()

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def until(self, tag):
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                return lines
            lines.append(line.decode(errors="replace"))
            if line.startswith(tag.encode() + b" ") or line.startswith(b"+"):
                return lines


with FreshDatabase() as db:
    env = dict(os.environ, GOVMAIL_DATABASE_URL=db.url)
    for args, inp in [(("domain", "add", "example.gov.vn"), None),
                      (("account", "add", "a@example.gov.vn", "--name", "A", "--password-stdin"),
                       "correct horse battery\n"),
                      (("account", "add", "b@example.gov.vn", "--name", "B", "--password-stdin"),
                       "correct horse battery\n")]:
        r = govmail("admin", "--config", cfg, *args, env=env, input=inp)
        c.check(r.returncode == 0, f"admin {args}: {r.stderr}")
    log = open(os.path.join(tmp, "serve.log"), "w")
    p = subprocess.Popen([GOVMAIL, "serve", "--config", cfg], env=env, stdout=log, stderr=log,
                         cwd=tmp)
    try:
        wait_port(imap_port)
        m = login()
        caps = m.capability()[1][0].decode().split()
        c.check("IDLE" in caps and "UIDPLUS" in caps and "MOVE" in caps, f"caps: {caps}")
        typ, data = m.list()
        names = b"\n".join(data).decode()
        c.check('(\\HasNoChildren \\Sent) "/" "Sent"' in names and '"INBOX"' in names,
                f"special-use folders: {names}")
        c.check(m.create(f'"{VN7}"')[0] == "OK", "create Vietnamese name (modified UTF-7)")
        typ, data = m.append(f'"{VN7}"', "(\\Flagged)", None, MSG)
        c.check(typ == "OK" and b"APPENDUID" in data[0], f"append: {typ} {data}")
        typ, data = m.list('""', '"C*"')
        c.check(VN7 in b"".join(data).decode(), f"LIST round-trips UTF-7: {data}")
        typ, data = m.select(f'"{VN7}"')
        c.check(typ == "OK" and data == [b"1"], f"select: {typ} {data}")
        typ, data = m.fetch("1", "(FLAGS RFC822.SIZE BODY.PEEK[])")
        c.check(typ == "OK" and data[0][1] == MSG, f"BODY[] byte-exact: {data}")
        c.check(b"\\Flagged" in data[0][0] and f"RFC822.SIZE {len(MSG)}".encode() in data[0][0],
                f"flags and size: {data[0][0]}")
        typ, data = m.fetch("1", "(ENVELOPE BODYSTRUCTURE BODY.PEEK[TEXT]<0.7>)")
        head = data[0][0].decode()
        c.check('"=?UTF-8?Q?C=C3=B4ng_v=C4=83n_s=E1=BB=91_1?="' in head and
                '"TEXT" "PLAIN" ("charset" "utf-8")' in head, f"envelope/bodystructure: {head}")
        c.check(data[0][1] == "Kính gửi".encode()[:7], f"partial: {data[0][1]}")
        typ, data = m.search("UTF-8", "SUBJECT", '"cong van"'.encode())
        c.check(data == [b"1"], f"search folded subject: {data}")
        typ, data = m.search(None, "FLAGGED", "UNSEEN", "SINCE", "1-Jan-2020")
        c.check(data == [b"1"], f"search flags/date: {data}")
        typ, data = m.store("1", "+FLAGS", "(\\Seen)")
        c.check(typ == "OK" and b"\\Seen" in data[0], f"store: {data}")
        typ, data = m.uid("COPY", "1", "INBOX")
        c.check(typ == "OK", f"uid copy: {typ} {data}")
        c.check(re.search(rb"COPYUID \d+ 1 \d+", data[-1] or b"") is not None or typ == "OK",
                f"COPYUID: {data}")
        typ, data = m.uid("MOVE", "1", "Archive")
        c.check(typ == "OK", f"uid move: {typ} {data}")
        typ, data = m.noop()
        typ, data = m.status("Archive", "(MESSAGES)")
        c.check(b"MESSAGES 1" in data[0], f"status after move: {data}")
        typ, data = m.status("INBOX", "(MESSAGES UNSEEN)")
        c.check(b"MESSAGES 1 UNSEEN 0" in data[0], f"status of INBOX after copy: {data}")

        # UTF-8 names after ENABLE UTF8=ACCEPT.
        c.check(m.unselect()[0] == "OK", "UNSELECT")
        m.enable("UTF8=ACCEPT")
        typ, data = m.list('""', '"*"')
        c.check(VN in b"\n".join(data).decode("utf-8"), f"LIST in UTF-8: {data}")
        m.logout()

        # Isolation: b sees none of a's mailboxes or messages.
        b = login("b@example.gov.vn")
        typ, data = b.select(f'"{VN7}"')
        c.check(typ == "NO", f"b cannot select a's mailbox: {typ} {data}")
        typ, data = b.select("Archive")
        c.check(data == [b"0"], f"b's own Archive is empty: {data}")
        typ, data = b.uid("FETCH", "1:*", "(BODY.PEEK[])")
        c.check(data == [None], f"no message of a reachable by UID: {data}")
        b.logout()

        # IDLE is woken by an APPEND on another connection within a second.
        idler = Raw()
        idler.send("l LOGIN a@example.gov.vn \"correct horse battery\"\r\n")
        idler.until("l")
        idler.send("s SELECT INBOX\r\n")
        idler.until("s")
        idler.send("i IDLE\r\n")
        c.check(idler.until("i")[-1].startswith("+"), "IDLE continuation")
        other = login()
        t0 = time.time()
        other.append("INBOX", None, None, MSG)
        line = idler.f.readline().decode()
        elapsed = time.time() - t0
        c.check(line == "* 2 EXISTS\r\n" and elapsed < 1.5, f"IDLE woke: {line!r} after {elapsed:.3f}s")
        # An IMAP4rev1 session: both messages are recent in it, the first since its SELECT.
        line = idler.f.readline().decode()
        c.check(line == "* 2 RECENT\r\n", f"IDLE: RECENT after EXISTS: {line!r}")
        # A second change while still idling: a new updates writer starts after the first ended.
        other.append("INBOX", None, None, MSG)
        line = idler.f.readline().decode()
        c.check(line == "* 3 EXISTS\r\n", f"IDLE woke again: {line!r}")
        line = idler.f.readline().decode()
        c.check(line == "* 3 RECENT\r\n", f"IDLE: RECENT again: {line!r}")
        # A flag change on another connection wakes IDLE with the message's new FLAGS.
        other.select("INBOX")
        t0 = time.time()
        other.store("1", "+FLAGS", "(\\Answered)")
        line = idler.f.readline().decode()
        elapsed = time.time() - t0
        c.check(line.startswith("* 1 FETCH (") and "\\Answered" in line and elapsed < 1.5,
                f"IDLE woke for a flag change: {line!r} after {elapsed:.3f}s")
        # DONE with commands pipelined behind it, more than the small read buffer used in IDLE.
        idler.send("DONE\r\nn NOOP\r\nt STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)\r\n")
        c.check(idler.until("i")[-1].startswith("i OK"), "DONE ends IDLE")
        c.check(idler.until("n")[-1].startswith("n OK"), "NOOP pipelined after DONE")
        status = idler.until("t")
        c.check(status[-1].startswith("t OK") and "MESSAGES 3" in status[0],
                f"STATUS pipelined after DONE: {status}")
        other.logout()

        # IDLE on this process is woken by an APPEND made through a second govmail process.
        log2 = open(os.path.join(tmp, "serve2.log"), "w")
        p2 = subprocess.Popen([GOVMAIL, "serve", "--config", cfg2], env=env, stdout=log2,
                              stderr=log2, cwd=tmp)
        try:
            wait_port(imap2)
            idler = Raw()
            idler.send("l LOGIN a@example.gov.vn \"correct horse battery\"\r\n")
            idler.until("l")
            idler.send("s SELECT INBOX\r\n")
            idler.until("s")
            idler.send("i IDLE\r\n")
            idler.until("i")
            remote = imaplib.IMAP4("127.0.0.1", imap2)
            remote.login("a@example.gov.vn", "correct horse battery")
            t0 = time.time()
            remote.append("INBOX", None, None, MSG)
            line = idler.f.readline().decode()
            elapsed = time.time() - t0
            c.check(line == "* 4 EXISTS\r\n" and elapsed < 1.5,
                    f"IDLE woken from another process: {line!r} after {elapsed:.3f}s")
            idler.send("DONE\r\n")
            idler.until("i")
            remote.logout()
        finally:
            p2.send_signal(signal.SIGINT)
            p2.wait(timeout=60)

        # Malformed input: BAD with a reason, and the session goes on.
        raw = Raw()
        for bad in ["x FETCH\r\n", "y LOGIN \"unterminated\r\n", "\r\n", "z UID NOOP\r\n"]:
            raw.send(bad)
            reply = raw.until(bad.split(" ")[0] if bad.strip() else "*")[-1]
            c.check(" BAD " in reply, f"{bad!r} -> {reply!r}")
        raw.send("n NOOP\r\n")
        c.check(raw.until("n")[-1].startswith("n OK"), "session survives malformed input")

        # A FETCH answer larger than the flush size arrives whole and byte-exact.
        big = login()
        big.create("Big")
        bodies = []
        for i in range(6):
            body = MSG.replace(b"Kinh", b"K") + (f"line {i} ".encode() * 9000) + b"\r\n"
            bodies.append(body)
            big.append("Big", None, None, body)
        big.select("Big")
        typ, data = big.fetch("1:*", "(BODY.PEEK[])")
        got = [d[1] for d in data if isinstance(d, tuple)]
        c.check(typ == "OK" and got == bodies, f"large FETCH: {typ} {len(got)} parts")
        big.logout()

        # COMPRESS=DEFLATE: both directions raw deflate after the tagged OK.
        z = Raw()
        z.send("l LOGIN a@example.gov.vn \"correct horse battery\"\r\n")
        z.until("l")
        z.send("c COMPRESS DEFLATE\r\n")
        c.check(z.until("c")[-1].startswith("c OK"), "COMPRESS DEFLATE accepted")
        comp, dec = zlib.compressobj(wbits=-15), zlib.decompressobj(wbits=-15)
        z.send(comp.compress(b"s SELECT INBOX\r\nf FETCH 1 (BODY.PEEK[])\r\n") +
               comp.flush(zlib.Z_SYNC_FLUSH))
        got = b""
        deadline = time.time() + 10
        while b"f OK" not in got and time.time() < deadline:
            chunk = z.s.recv(65536)
            if not chunk:
                break
            got += dec.decompress(chunk)
        c.check(re.search(rb"\* \d+ EXISTS", got) and MSG in got and b"f OK" in got,
                f"commands and FETCH over DEFLATE: {got[-200:]!r}")

        # IDLE over DEFLATE: the update, DONE and a command pipelined behind it, all compressed.
        def zsend(data):
            z.send(comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH))

        def zuntil(token):
            got, deadline = b"", time.time() + 10
            while token not in got and time.time() < deadline:
                chunk = z.s.recv(65536)
                if not chunk:
                    break
                got += dec.decompress(chunk)
            return got

        zsend(b"i IDLE\r\n")
        c.check(b"+ idling" in zuntil(b"+ idling"), "IDLE over DEFLATE")
        other = login()
        other.append("INBOX", None, None, MSG)
        other.logout()
        got = zuntil(b"EXISTS\r\n")
        c.check(re.search(rb"\* \d+ EXISTS", got), f"IDLE update over DEFLATE: {got!r}")
        zsend(b"DONE\r\nn NOOP\r\n")
        got = zuntil(b"n OK")
        c.check(b"i OK" in got and b"n OK" in got, f"DONE and NOOP over DEFLATE: {got!r}")

        # STARTTLS and implicit TLS.
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        m = imaplib.IMAP4("127.0.0.1", imap_port)
        c.check("STARTTLS" in m.capabilities, f"STARTTLS offered: {m.capabilities}")
        m.starttls(ssl_context=ctx)
        m.login("a@example.gov.vn", "correct horse battery")
        c.check(m.select("INBOX")[0] == "OK", "login after STARTTLS")
        m.logout()
        m = imaplib.IMAP4_SSL("127.0.0.1", imaps_port, ssl_context=ctx)
        m.login("a@example.gov.vn", "correct horse battery")
        c.check(m.select("INBOX")[0] == "OK", "login over implicit TLS")
        m.logout()

        # curl imap:// fetches the message byte-exact.
        r = subprocess.run(["curl", "-s", "--user", "a@example.gov.vn:correct horse battery",
                            f"imap://127.0.0.1:{imap_port}/INBOX;UID=1"], capture_output=True,
                           timeout=30)
        c.check(r.returncode == 0 and r.stdout == MSG, f"curl imap://: {r.returncode} {r.stdout[:80]!r}")
        r = subprocess.run(["curl", "-s", "-k", "--user", "a@example.gov.vn:correct horse battery",
                            f"imaps://127.0.0.1:{imaps_port}/INBOX;UID=1"], capture_output=True,
                           timeout=30)
        c.check(r.returncode == 0 and r.stdout == MSG, f"curl imaps://: {r.returncode}")

        # A wrong password is refused with AUTHENTICATIONFAILED.
        m = imaplib.IMAP4("127.0.0.1", imap_port)
        try:
            m.login("a@example.gov.vn", "wrong")
            c.check(False, "wrong password accepted")
        except imaplib.IMAP4.error as e:
            c.check("AUTHENTICATIONFAILED" in str(e), f"wrong password: {e}")
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
    c.check(p.returncode == 0, f"clean exit: {p.returncode}")
subprocess.run(["rm", "-rf", tmp])
c.finish()
