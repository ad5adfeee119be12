#!/usr/bin/env python3
"""POP3 against two real govmail processes on one fresh database, with Python poplib, imaplib
and raw sockets:
- every command: CAPA, USER/PASS, AUTH PLAIN (initial response and "+ " continuation), STLS,
  implicit TLS, STAT, LIST, UIDL, RETR, TOP, DELE, RSET, NOOP, QUIT, with exact answers;
- RETR and TOP byte-exact on the wire (dot-stuffing of lines starting with ".", 8-bit bytes, a
  1.5 MB message written in pieces),
  LIST sizes equal to the stored octets;
- DELE takes effect at QUIT only, through the IMAP expunge: an IMAP client selected on INBOX
  gets the EXPUNGEs; RSET undoes; a dropped connection or an idle timeout deletes nothing;
- the session is a snapshot taken at login; UIDL is the same across sessions, processes and
  protocols (IMAP UID and UIDVALIDITY);
- a second session on the same mailbox gets -ERR [IN-USE], from the same process or the other;
- plaintext login refused off TLS where the config says so (the second process); limits: line
  length, commands before login, bad commands, authentication failures, idle timeout;
- a session ends when its account's password changes."""
import base64
import imaplib
import os
import poplib
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, free_port, stop_server  # noqa: E402
from smtp_support import DOMAIN, Lines, Server, add_account, client_tls, wait_port  # noqa: E402

PW = "correct horse battery"
c = Checks()

# Lines starting with ".", a lone "." line, 8-bit (UTF-8 and raw Latin-1) bytes, a last line
# without CRLF: what dot-stuffing and byte-exactness must survive.
M1 = ("From: A <a@example.gov.vn>\r\nTo: pop@example.gov.vn\r\nSubject: one\r\n"
      "Message-ID: <m1@example.gov.vn>\r\n\r\n.leading dot\r\n.\r\n..two dots\r\n"
      "Kính gửi các xã\r\nend\r\n").encode() + b"latin1 \xe9\xe8\r\n"
M2 = (b"From: B <b@example.gov.vn>\r\nSubject: two\r\nMessage-ID: <m2@example.gov.vn>\r\n\r\n"
      b"line 1\r\nline 2\r\nline 3\r\n")
M3 = b"Subject: three\r\nMessage-ID: <m3@example.gov.vn>\r\n\r\nno final newline"


def stuffed(raw):
    """What RETR must put on the wire after its +OK line."""
    out = b"".join(b"." + l if l.startswith(b".") else l for l in raw.splitlines(keepends=True))
    if not out.endswith(b"\r\n"):
        out += b"\r\n"
    return out + b".\r\n"


class Pop(Lines):
    """A POP3 connection spoken by hand (what poplib hides: exact bytes, bad input)."""

    def __init__(self, port, tls=False, timeout=30):
        super().__init__(port, timeout, tls)
        self.greeting = self.line()

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.line()

    def body(self):
        """The bytes of a multi-line answer up to and with its terminator."""
        while b"\r\n.\r\n" not in b"\r\n" + self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        i = (b"\r\n" + self.buf).index(b"\r\n.\r\n")
        out, self.buf = self.buf[:i + 3], self.buf[i + 3:]
        return out

    def closed(self):
        try:
            return self.s.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return True


def pop(port, user="pop", password=PW):
    p = poplib.POP3("127.0.0.1", port, timeout=30)
    p.user(f"{user}@{DOMAIN}")
    p.pass_(password)
    return p


def imap_login(port, user="pop"):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login(f"{user}@{DOMAIN}", PW)
    return m


def pop_after_drop(port, what):
    """A login right after a session ended without QUIT: the server gives the lock back when it
    sees the connection end, which a loaded machine may take a moment to do (bounded: 5 s)."""
    deadline = time.time() + 5
    while True:
        try:
            return pop(port)
        except poplib.error_proto as e:
            if b"[IN-USE]" not in e.args[0] or time.time() > deadline:
                c.check(False, f"{what}: {e}")
                raise
            time.sleep(0.1)


def expect_err(f, code, what):
    try:
        f()
        c.check(False, f"{what}: no error")
    except poplib.error_proto as e:
        c.check(str(e).startswith(f"b'-ERR {code}"), f"{what}: {e}")


with FreshDatabase() as db:
    one = Server(db.url, allow_plaintext=True)
    imap_port = one.listen_imap()
    p1, p1s = one.listen_pop3()
    # The second process: passwords only over TLS, a 2-second idle timeout, small limits.
    two = Server(db.url, allow_plaintext=False,
                 limits="pop3_idle_timeout = 2\npop3_line_max = 300\n"
                        "pop3_max_commands_before_auth = 8\nmax_bad_commands = 4\n")
    p2, p2s = two.listen_pop3()
    try:
        one.start()
        two.start()
        for port in (imap_port, p1, p1s, p2, p2s):
            wait_port(port)
        one.admin("domain", "add", DOMAIN)
        for local in ("pop", "other", "quiet"):
            add_account(one, local)
        m = imap_login(imap_port)
        for raw in (M1, M2, M3):
            c.check(m.append("INBOX", None, None, raw)[0] == "OK", "IMAP APPEND")
        typ, data = m.select("INBOX")
        uidvalidity = int(m.response("UIDVALIDITY")[1][0])
        typ, data = m.uid("SEARCH", None, "ALL")
        uids = [int(x) for x in data[0].split()]
        want_uidl = [b"%d %08X%08X" % (i + 1, u, uidvalidity) for i, u in enumerate(uids)]

        # --- CAPA and login, plaintext allowed on loopback (process one).
        p = poplib.POP3("127.0.0.1", p1, timeout=30)
        c.check(p.getwelcome() == b"+OK mail.example.gov.vn govmail POP3 ready",
                f"greeting: {p.getwelcome()}")
        caps = p.capa()
        for cap in ("TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "USER", "STLS"):
            c.check(cap in caps, f"CAPA has {cap}: {caps}")
        c.check(caps.get("SASL") == ["PLAIN"], f"CAPA SASL PLAIN: {caps}")
        c.check(p.user(f"pop@{DOMAIN}") == b"+OK Send PASS", "USER")
        r = p.pass_(PW)
        c.check(r == b"+OK Logged in, 3 messages (%d octets)" % (len(M1) + len(M2) + len(M3)),
                f"PASS: {r}")
        c.check("USER" not in p.capa() and "STLS" not in p.capa(), "CAPA after login")
        c.check(p.stat() == (3, len(M1) + len(M2) + len(M3)), f"STAT: {p.stat()}")
        resp, lines, _ = p.list()
        c.check(lines == [b"1 %d" % len(M1), b"2 %d" % len(M2), b"3 %d" % len(M3)],
                f"LIST sizes are the stored octets: {lines}")
        c.check(p.list(2) == b"+OK 2 %d" % len(M2), f"LIST 2: {p.list(2)}")
        resp, lines, _ = p.uidl()
        c.check(lines == want_uidl, f"UIDL from IMAP UID and UIDVALIDITY: {lines} {want_uidl}")
        c.check(p.uidl(3) == b"+OK " + want_uidl[2], f"UIDL 3: {p.uidl(3)}")
        for i, raw in enumerate((M1, M2, M3)):
            resp, lines, octets = p.retr(i + 1)
            c.check(resp == b"+OK %d octets" % len(raw), f"RETR {i + 1} status: {resp}")
            got = b"\r\n".join(lines) + b"\r\n"
            c.check(got == (raw if raw.endswith(b"\r\n") else raw + b"\r\n"),
                    f"RETR {i + 1} through poplib: {got!r}")
        resp, lines, _ = p.top(2, 1)
        c.check(lines == M2.split(b"\r\n")[:5], f"TOP 2 1: {lines}")
        c.check(p.noop() == b"+OK", "NOOP")
        # A message delivered after login is not in this session's view (snapshot).
        m.append("INBOX", None, None, b"Subject: late\r\n\r\nlate\r\n")
        c.check(p.stat()[0] == 3, "snapshot: a later delivery is not seen")
        c.check(p.dele(1) == b"+OK Message 1 deleted", "DELE 1")
        expect_err(lambda: p.retr(1), "Message 1 already deleted", "RETR of a deleted message")
        expect_err(lambda: p.dele(1), "Message 1 already deleted", "DELE twice")
        c.check(p.stat() == (2, len(M2) + len(M3)), f"STAT after DELE: {p.stat()}")
        c.check(p.rset() == b"+OK Maildrop has 3 messages", "RSET")
        c.check(p.stat()[0] == 3, "RSET undeletes")
        expect_err(lambda: p.retr(9), "No such message", "RETR out of range")
        expect_err(lambda: p.retr(0), "No such message", "RETR 0")

        # --- IN-USE: a second session, same process and the other process, while p holds it.
        expect_err(lambda: pop(p1), "[IN-USE]", "second session, same process")
        q = Pop(p2s, tls=True)
        c.check(q.cmd(f"USER pop@{DOMAIN}") == "+OK Send PASS", "USER over POP3S")
        r = q.cmd(f"PASS {PW}")
        c.check(r == "-ERR [IN-USE] Mailbox in use by another POP3 session",
                f"second session, other process: {r}")
        q.close()
        # DELE, then QUIT: IMAP (selected on INBOX) sees the expunge; the session's view of
        # the late message stayed out of it.
        c.check(p.dele(1) == b"+OK Message 1 deleted" and p.dele(3) == b"+OK Message 3 deleted",
                "DELE 1 and 3")
        m.noop()
        c.check(m.response("EXPUNGE")[1] == [None], "nothing expunged before QUIT")
        c.check(p.quit() == b"+OK Bye, 2 messages deleted", "QUIT applies DELE")
        time.sleep(0.5)
        m.noop()
        exp = m.response("EXPUNGE")[1]
        c.check(exp == [b"3", b"1"], f"IMAP selected on INBOX sees the EXPUNGEs: {exp}")
        typ, data = m.uid("SEARCH", None, "ALL")
        left = [int(x) for x in data[0].split()]
        c.check(left[:1] == [uids[1]] and len(left) == 2, f"IMAP sees M2 and the late one: {left}")

        # --- Next session (other process, STLS): UIDL stable, byte-exact RETR and TOP.
        q = Pop(p2)
        caps = q.cmd("CAPA")
        capa = q.body().decode()
        c.check(caps == "+OK Capability list follows" and "STLS\r\n" in capa and
                "USER\r\n" not in capa and "SASL" not in capa,
                f"no plaintext login offered off TLS: {capa}")
        r = q.cmd(f"USER pop@{DOMAIN}")
        c.check(r == "-ERR Use STLS (or the POP3S port) before logging in", f"USER off TLS: {r}")
        c.check(q.cmd("STLS") == "+OK Begin TLS negotiation", "STLS")
        q.s = client_tls().wrap_socket(q.s)
        capa = (q.cmd("CAPA"), q.body().decode())[1]
        c.check("STLS" not in capa and "USER\r\n" in capa and "SASL PLAIN\r\n" in capa,
                f"CAPA after STLS: {capa}")
        c.check(q.cmd("STLS") == "-ERR Already using TLS", "STLS twice")
        token = base64.b64encode(f"\0pop@{DOMAIN}\0{PW}".encode()).decode()
        r = q.cmd("AUTH PLAIN")
        c.check(r == "+ ", f"AUTH PLAIN continuation: {r!r}")
        r = q.cmd(token)
        c.check(r.startswith("+OK Logged in, 2 messages"), f"AUTH PLAIN after STLS: {r}")
        q.cmd("UIDL")
        c.check(q.body() == b"1 " + want_uidl[1][2:] + b"\r\n" +
                b"2 %08X%08X\r\n.\r\n" % (left[1], uidvalidity),
                "UIDL stable across sessions and processes")
        c.check(q.cmd("QUIT") == "+OK Bye", "QUIT over TLS")
        q.close()

        # Byte-exactness: M1 again (delivered anew), read raw.
        m.append("INBOX", None, None, M1)
        q = Pop(p1)
        q.cmd(f"USER pop@{DOMAIN}")
        r = q.cmd(f"PASS {PW}")
        c.check(r.startswith("+OK Logged in, 3 messages"), f"login: {r}")
        c.check(q.cmd("RETR 3") == f"+OK {len(M1)} octets", "RETR 3 status")
        got = q.body()
        c.check(got == stuffed(M1), f"RETR byte-exact, dot-stuffed: {got!r}")
        c.check(q.cmd("RETR 1") == f"+OK {len(M2)} octets", "RETR 1 status")
        c.check(q.body() == stuffed(M2), "RETR of M2 byte-exact")
        c.check(q.cmd("TOP 3 2") == f"+OK {len(M1)} octets", "TOP 3 2 status")
        head, body = M1.split(b"\r\n\r\n", 1)
        c.check(q.body() == stuffed(head + b"\r\n\r\n" + b"".join(body.splitlines(True)[:2])),
                "TOP 3 2: header, blank line, 2 dot-stuffed lines")
        c.check(q.cmd("TOP 3 0") == f"+OK {len(M1)} octets", "TOP 3 0")
        c.check(q.body() == head + b"\r\n\r\n.\r\n", "TOP 3 0: the header only")
        # A dropped connection deletes nothing, and gives the lock back at once.
        c.check(q.cmd("DELE 1") == "+OK Message 1 deleted", "DELE before the drop")
        q.s.shutdown(socket.SHUT_RDWR)
        q.close()
        p = pop_after_drop(p1, "the lock is given back after a drop")
        c.check(p.stat()[0] == 3, f"dropped connection deleted nothing: {p.stat()}")
        # Pipelined commands are answered in order.
        p.quit()
        q = Pop(p1)
        q.send(f"USER pop@{DOMAIN}\r\nPASS {PW}\r\nSTAT\r\nNOOP\r\nLIST 9\r\nQUIT\r\n")
        got = [q.line() for _ in range(6)]
        c.check(got[0] == "+OK Send PASS" and got[1].startswith("+OK Logged in") and
                got[2].startswith("+OK 3 ") and got[3] == "+OK" and
                got[4] == "-ERR No such message" and got[5] == "+OK Bye", f"pipelined: {got}")
        # A message of 1.5 MB, every line dot-stuffed: written in pieces (256 KiB flushes), and
        # pieces of the stuffing cut anywhere still give the exact bytes.
        big = b"Subject: big\r\n\r\n" + b"".join(b".%06d " % i + b"x" * 64 + b"\r\n"
                                                  for i in range(20000))
        m.append("INBOX", None, None, big)
        q = Pop(p1)
        q.cmd(f"USER pop@{DOMAIN}")
        c.check(q.cmd(f"PASS {PW}").startswith("+OK Logged in, 4 messages"), "login with big")
        c.check(q.cmd("RETR 4") == f"+OK {len(big)} octets", "RETR of the big message")
        c.check(q.body() == stuffed(big), "big message byte-exact and dot-stuffed")
        c.check(q.cmd("QUIT") == "+OK Bye", "QUIT after the big message")

        # --- AUTH PLAIN with an initial response, bad ones, and the failure limit.
        q = Pop(p1)
        token = base64.b64encode(f"\0other@{DOMAIN}\0{PW}".encode()).decode()
        r = q.cmd(f"AUTH PLAIN {token}")
        c.check(r == "+OK Logged in, 0 messages (0 octets)", f"AUTH PLAIN initial response: {r}")
        c.check(q.cmd("USER x") == "-ERR Command not valid in this state", "USER after login")
        c.check(q.cmd("QUIT") == "+OK Bye", "QUIT with nothing deleted")
        q.close()
        q = Pop(p1)
        c.check(q.cmd("AUTH CRAM-MD5") == "-ERR Unsupported SASL mechanism (use PLAIN)",
                "AUTH other mechanism")
        c.check(q.cmd("AUTH PLAIN !!!") == "-ERR Invalid base64", "AUTH bad base64")
        c.check(q.cmd("AUTH PLAIN") == "+ " and q.cmd("*") == "-ERR AUTH cancelled", "AUTH *")
        c.check(q.cmd("STAT") == "-ERR Command not valid in this state", "STAT before login")
        c.check(q.cmd("PASS x") == "-ERR Send USER first", "PASS before USER")
        for i in range(3):
            q.cmd(f"USER quiet@{DOMAIN}")
            r = q.cmd("PASS wrong password")
            c.check(r == "-ERR [AUTH] Authentication failed", f"wrong password {i}: {r}")
        c.check(q.closed(), "closed after 3 authentication failures")

        # --- Limits on the second process (TLS only, small limits).
        q = Pop(p2)
        c.check(q.cmd("X" * 400) == "-ERR Line too long (limits.pop3_line_max)", "line too long")
        c.check(q.cmd("HELO") == "-ERR Unknown command HELO", "unknown command")
        c.check(q.cmd("RETR") == "-ERR Command not valid in this state", "RETR before login")
        r = q.cmd("NOOP")
        c.check(r == "-ERR Command not valid in this state", f"4th bad command: {r}")
        c.check(q.closed(), "closed after limits.max_bad_commands")
        q = Pop(p2)
        for i in range(8):
            q.cmd("CAPA")
            q.body()
        r = q.cmd("CAPA")
        c.check(r == "-ERR Too many commands before login (limits.pop3_max_commands_before_auth)",
                f"commands before login: {r}")
        c.check(q.closed(), "closed after too many commands before login")
        q = Pop(p2)
        c.check(q.cmd("USER a\0b") == "-ERR Control character in command line", "NUL refused")
        q.close()
        # Idle timeout (2 s on process two): the session ends, DELE is not applied.
        q = Pop(p2s, tls=True)
        q.cmd(f"USER pop@{DOMAIN}")
        c.check(q.cmd(f"PASS {PW}").startswith("+OK Logged in, 4"), "POP3S login")
        c.check(q.cmd("DELE 2") == "+OK Message 2 deleted", "DELE before the timeout")
        t0 = time.time()
        c.check(q.line() == "-ERR Autologout; idle for too long", "idle timeout answer")
        c.check(q.closed() and time.time() - t0 < 10, "closed on idle timeout")
        p = pop_after_drop(p1, "the lock is given back after a timeout")
        c.check(p.stat()[0] == 4, "idle timeout deleted nothing, and gave the lock back")

        # --- Revocation: a password change ends the open session.
        one.admin("account", "password", f"pop@{DOMAIN}", "--password-stdin",
                  input="another long password\n")
        deadline = time.time() + 10
        r = b""
        while time.time() < deadline:
            try:
                p.noop()
                time.sleep(0.2)
            except (poplib.error_proto, EOFError, OSError) as e:
                r = str(e).encode()
                break
        c.check(b"Session ended" in r, f"session ended on password change: {r}")
        m.logout()
    finally:
        stop_server(one, c)
        stop_server(two, c)
c.finish()
