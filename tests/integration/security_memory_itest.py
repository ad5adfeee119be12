#!/usr/bin/env python3
"""Memory attacks against the real binary (issue 11), with small limits: a literal above
limits.imap_preauth_literal_max before login gets no "+" (synchronising: tagged refusal; LITERAL+:
BYE); a DEFLATE bomb after COMPRESS (150 MB of one line in ~150 KB) leaves the server's VmHWM
small and the session working; while one SMTP DATA holds most of
limits.max_inflight_message_bytes, a second big DATA gets 452 4.3.1 and an IMAP APPEND literal
NO [LIMIT] without "+", the first message is still stored, and the budget comes back."""
import os
import re
import socket
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, stop_server  # noqa: E402
from smtp_support import DOMAIN, Server, add_account, inbox, raw_connect, read_line  # noqa: E402

c = Checks()
PW = "correct horse battery"
BUDGET = 1 << 20
LIMITS = f"""imap_preauth_literal_max = 1024
max_inflight_message_bytes = {BUDGET}
max_message_bytes = 4194304
"""
BINH = f"binh@{DOMAIN}"






def read_until_tag(s, tag):
    out = b""
    while True:
        line = read_line(s)
        out += line
        if not line or line.startswith(tag + b" "):
            return out


def vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    return 0


def smtp_open(port):
    s = raw_connect(port, timeout=20)
    read_line(s)
    s.sendall(b"EHLO attacker.example.org\r\n")
    while not read_line(s).startswith(b"250 "):
        pass
    for cmd in (b"MAIL FROM:<x@other.example.org>", f"RCPT TO:<{BINH}>".encode(), b"DATA"):
        s.sendall(cmd + b"\r\n")
        read_line(s)
    return s


def body(tag, size):
    head = f"From: x@other.example.org\r\nTo: {BINH}\r\nSubject: {tag}\r\n\r\n".encode()
    line = b"x" * 998 + b"\r\n"
    return head + line * (size // len(line))


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True, limits=LIMITS)
    imap = srv.listen_imap()
    srv.admin("domain", "add", DOMAIN)
    add_account(srv, "binh", PW)
    srv.start()
    pid = srv.proc.pid
    try:
        # --- Pre-login literals: small ones are welcome, big ones get no "+".
        s = raw_connect(imap, timeout=20)
        read_line(s)
        s.sendall(b"a1 LOGIN {5}\r\n")
        c.check(read_line(s).startswith(b"+"), "small pre-login literal gets +")
        s.sendall(f'binh@ "{PW}"\r\n'.encode())
        read_until_tag(s, b"a1")
        s.sendall(b"a2 LOGIN {5000}\r\n")
        line = read_line(s)
        c.check(re.match(rb"a2 (NO|BAD) ", line) is not None,
                f"pre-login literal over the cap refused before +: {line!r}")
        if line.startswith(b"+"):  # the unfixed server: keep the stream in sync to go on
            s.sendall(b"y" * 5000 + b" x\r\n")
            read_until_tag(s, b"a2")
        s.sendall(b"a3 NOOP\r\n")
        c.check(b"a3 OK" in read_until_tag(s, b"a3"), "connection in sync after the refusal")
        s.sendall(b"a4 NOOP {5000+}\r\n" + b"y" * 5000 + b"\r\n")
        rest = b""
        s.settimeout(5)
        try:
            while chunk := s.recv(65536):
                rest += chunk
        except socket.timeout:
            pass
        c.check(b"* BYE" in rest and b"+ " not in rest,
                f"pre-login LITERAL+ over the cap: BYE and closed: {rest!r}")
        s.close()

        # --- DEFLATE bomb after COMPRESS: one line of 150 MB, sent as ~150 KB.
        s = raw_connect(imap, timeout=20)
        read_line(s)
        s.sendall(f'b1 LOGIN {BINH} "{PW}"\r\n'.encode())
        c.check(b"b1 OK" in read_until_tag(s, b"b1"), "imap login")
        s.sendall(b"b2 COMPRESS DEFLATE\r\n")
        c.check(b"b2 OK" in read_until_tag(s, b"b2"), "COMPRESS DEFLATE")
        time.sleep(0.3)
        z = zlib.compressobj(9, zlib.DEFLATED, -15)
        unz = zlib.decompressobj(-15)
        # Inside a literal the server reads 64 KiB at a time: the most a read can inflate.
        s.sendall(z.compress(b"b3 APPEND INBOX {1000000}\r\n") + z.flush(zlib.Z_SYNC_FLUSH))
        got = b""
        s.settimeout(20)
        while b"\n" not in got:
            got += unz.decompress(s.recv(4096))
        c.check(got.startswith(b"+"), f"APPEND literal under the budget: {got!r}")
        time.sleep(0.3)
        hwm_before = vm(pid, "VmHWM")
        chunk = b"a" * (1 << 20)
        bomb = b"".join(z.compress(chunk) for _ in range(150))
        bomb += z.compress(b"\r\nb4 NOOP\r\n") + z.flush(zlib.Z_SYNC_FLUSH)
        c.check(len(bomb) < 400_000, f"the bomb is small on the wire: {len(bomb)}")
        s.sendall(bomb)
        got = b""
        s.settimeout(60)
        while b"b4 " not in got:
            data = s.recv(65536)
            if not data:
                break
            got += unz.decompress(data)
        c.check(b"b4 OK" in got, f"session works after the bomb: {got[-300:]!r}")
        grew_mb = (vm(pid, "VmHWM") - hwm_before) / 1024
        c.check(grew_mb < 32, f"VmHWM grew {grew_mb:.0f} MB inflating the bomb")
        s.close()

        # --- In-flight budget: A holds ~700 KB of DATA; B's 700 KB more is refused.
        a = smtp_open(srv.smtp)
        a.sendall(body("first", 700_000))
        time.sleep(1.0)  # the server has read it
        b = smtp_open(srv.smtp)
        b.sendall(body("second", 700_000) + b".\r\n")
        line = read_line(b)
        c.check(line.startswith(b"452 4.3.1"), f"second big DATA over the budget: {line!r}")
        b.sendall(b"QUIT\r\n")
        b.close()
        # IMAP APPEND while the budget is used: refused before "+".
        s = raw_connect(imap, timeout=20)
        read_line(s)
        s.sendall(f'c1 LOGIN {BINH} "{PW}"\r\n'.encode())
        read_until_tag(s, b"c1")
        s.sendall(b"c2 APPEND INBOX {500000}\r\n")
        line = read_line(s)
        c.check(line.startswith(b"c2 NO [LIMIT]"), f"APPEND over the budget: {line!r}")
        # The first message is still taken.
        a.sendall(b".\r\n")
        line = read_line(a)
        c.check(line.startswith(b"250"), f"first DATA within the budget stored: {line!r}")
        a.sendall(b"QUIT\r\n")
        a.close()
        subjects = [m for m in inbox(db.url, BINH) if b"Subject: first" in m]
        c.check(len(subjects) == 1, "first message in the inbox")
        c.check(not any(b"Subject: second" in m for m in inbox(db.url, BINH)),
                "second message not stored")
        # The budget came back: a big APPEND and a big DATA go through again.
        msg = body("third", 700_000)
        s.sendall(f"c3 APPEND INBOX {{{len(msg)}}}\r\n".encode())
        line = read_line(s)
        c.check(line.startswith(b"+"), f"APPEND within the budget gets +: {line!r}")
        s.sendall(msg + b"\r\n")
        r = read_until_tag(s, b"c3")
        c.check(b"c3 OK" in r, f"APPEND stored: {r!r}")
        s.close()
        d = smtp_open(srv.smtp)
        d.sendall(body("fourth", 700_000) + b".\r\n")
        line = read_line(d)
        c.check(line.startswith(b"250"), f"DATA after the budget came back: {line!r}")
        d.close()
    finally:
        stop_server(srv, c)

c.finish()
