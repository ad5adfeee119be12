#!/usr/bin/env python3
"""Slow clients against the real binary (issue 11): read deadlines that apply per read let a
client that sends a byte now and then hold a connection for ever. Checked here with small limits:
a pre-login IMAP or submission client trickling one byte a second is cut off at
limits.preauth_timeout; a logged-in IMAP client trickling one command at limits.command_timeout;
an MX client trickling a command line at limits.command_timeout, and one that keeps sending
complete commands at limits.mx_session_timeout. limits.max_preauth_connections_per_network: the
4th connection not yet logged in from 127.0.0.1 is refused while 127.0.0.2 still connects, and a
login frees its slot."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, stop_server  # noqa: E402
from smtp_support import Server, add_account, raw_connect, read_line  # noqa: E402

c = Checks()
PW = "correct horse battery"
PREAUTH, COMMAND, MX_SESSION = 3, 3, 6
LIMITS = f"""preauth_timeout = {PREAUTH}
command_timeout = {COMMAND}
mx_session_timeout = {MX_SESSION}
max_preauth_connections_per_network = 3
ipv4_network_prefix = 32
"""






def trickle(s, data, limit):
    """Sends `data` a byte a second until the server closes or `limit` seconds pass. Returns
    (seconds until closed or None, what the server wrote meanwhile)."""
    start = time.time()
    got = b""
    s.settimeout(1.0)
    i = 0
    while time.time() - start < limit:
        try:
            s.send(data[i % len(data):i % len(data) + 1])
            i += 1
        except OSError:
            return time.time() - start, got
        try:
            chunk = s.recv(4096)
            if not chunk:
                return time.time() - start, got
            got += chunk
        except socket.timeout:
            pass
        except OSError:
            return time.time() - start, got
    return None, got


def imap_cmd(s, tag, text):
    s.sendall(f"{tag} {text}\r\n".encode())
    out = b""
    while True:
        line = read_line(s)
        out += line
        if not line or line.startswith(tag.encode() + b" "):
            return out


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True, limits=LIMITS)
    imap = srv.listen_imap()
    srv.admin("domain", "add", "example.gov.vn")
    add_account(srv, "an", PW)
    srv.start()
    try:
        # --- IMAP before login: one byte a second, never a whole line.
        s = raw_connect(imap)
        c.check(read_line(s).startswith(b"* OK"), "imap greeting")
        took, got = trickle(s, b"a1 CAPABILITY", PREAUTH + 6)
        c.check(took is not None and took < PREAUTH + 3,
                f"imap pre-login trickle cut off at preauth_timeout: {took} {got!r}")
        c.check(b"* BYE" in got, f"imap pre-login trickle told BYE: {got!r}")
        s.close()

        # --- IMAP after login: the pre-login deadline is gone, the command deadline is not.
        s = raw_connect(imap)
        read_line(s)
        c.check(b"a1 OK" in imap_cmd(s, "a1", f'LOGIN an@example.gov.vn "{PW}"'), "imap login")
        time.sleep(PREAUTH + 1)
        c.check(b"a2 OK" in imap_cmd(s, "a2", "NOOP"),
                "logged-in imap session outlives preauth_timeout")
        took, got = trickle(s, b"a3 NOOP xxxxxxxxxxxxxxxxxxxx", COMMAND + 6)
        c.check(took is not None and took < COMMAND + 3,
                f"imap command trickle cut off at command_timeout: {took} {got!r}")
        c.check(b"* BYE" in got, f"imap command trickle told BYE: {got!r}")
        s.close()

        # --- Submission before AUTH.
        s = raw_connect(srv.submission)
        c.check(read_line(s).startswith(b"220"), "submission greeting")
        took, got = trickle(s, b"EHLO slow.example", PREAUTH + 6)
        c.check(took is not None and took < PREAUTH + 3,
                f"submission pre-AUTH trickle cut off at preauth_timeout: {took} {got!r}")
        c.check(b"421 4.4.2" in got, f"submission trickle told 421 4.4.2: {got!r}")
        s.close()

        # --- MX: one command line trickled.
        s = raw_connect(srv.smtp)
        c.check(read_line(s).startswith(b"220"), "mx greeting")
        took, got = trickle(s, b"EHLO slow.example.org", COMMAND + 6)
        c.check(took is not None and took < COMMAND + 3,
                f"mx command trickle cut off at command_timeout: {took} {got!r}")
        c.check(b"421 4.4.2" in got, f"mx trickle told 421 4.4.2: {got!r}")
        s.close()

        # --- IMAP after login: a line over imap_line_max (discarded as it comes), trickled on.
        s = raw_connect(imap)
        read_line(s)
        c.check(b"o1 OK" in imap_cmd(s, "o1", f'LOGIN an@example.gov.vn "{PW}"'), "imap login")
        s.sendall(b"o2 NOOP " + b"x" * 70000)
        took, got = trickle(s, b"y", COMMAND + 6)
        c.check(took is not None and took < COMMAND + 3,
                f"imap over-long line trickle cut off at command_timeout: {took} {got!r}")
        s.close()

        # --- MX: complete commands, each in time, but the session as a whole is capped.
        s = raw_connect(srv.smtp)
        read_line(s)
        start = time.time()
        closed_after, got = None, b""
        s.settimeout(1.0)
        while time.time() - start < MX_SESSION + 8:
            try:
                s.sendall(b"NOOP\r\n")
                chunk = s.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                closed_after = time.time() - start
                break
            if not chunk:
                closed_after = time.time() - start
                break
            got += chunk
            time.sleep(0.7)
        c.check(closed_after is not None and MX_SESSION - 1 < closed_after < MX_SESSION + 4,
                f"mx session cut off at mx_session_timeout: {closed_after}")
        c.check(b"421 4.4.2" in got, f"mx session end told 421 4.4.2: {got[-200:]!r}")
        s.close()

        # --- Pre-login connections per network: 3 from 127.0.0.1 (IMAP and submission count
        # together), the 4th refused, 127.0.0.2 is another network.
        time.sleep(0.5)  # the connections above are gone
        held = [raw_connect(imap), raw_connect(imap), raw_connect(srv.submission)]
        greetings = [read_line(h) for h in held]
        c.check(greetings[0].startswith(b"* OK") and greetings[2].startswith(b"220"),
                f"three pre-login connections: {greetings}")
        s = raw_connect(imap)
        line = read_line(s)
        c.check(line.startswith(b"* BYE") or line == b"",
                f"4th pre-login connection from the network refused: {line!r}")
        s.close()
        s = raw_connect(srv.submission)
        line = read_line(s)
        c.check(line.startswith(b"421") or line == b"",
                f"4th pre-login submission connection refused: {line!r}")
        s.close()
        other = raw_connect(imap, "127.0.0.2")
        line = read_line(other)
        c.check(line.startswith(b"* OK"), f"127.0.0.2 still connects: {line!r}")
        other.close()
        # A login gives the slot back.
        r = imap_cmd(held[0], "b1", f'LOGIN an@example.gov.vn "{PW}"')
        c.check(b"b1 OK" in r, f"login on a held connection: {r!r}")
        s = raw_connect(imap)
        line = read_line(s)
        c.check(line.startswith(b"* OK"), f"a login freed its pre-login slot: {line!r}")
        s.close()
        for h in held:
            h.close()
        # The server still serves everybody.
        time.sleep(0.5)
        s = raw_connect(imap)
        read_line(s)
        c.check(b"z1 OK" in imap_cmd(s, "z1", f'LOGIN an@example.gov.vn "{PW}"'),
                "imap works after the attacks")
        s.close()
    finally:
        stop_server(srv, c)

c.finish()
