#!/usr/bin/env python3
"""Open sessions lose their rights with the account (issue 11): suspending, deleting, renaming an
account or changing its password (admin API or `govmail admin`), or removing the app password a
session logged in with, ends its IMAP sessions (selected, and in IDLE) with "* BYE" and its SMTP
submission sessions with "421 4.7.0" within seconds, in every govmail process on the database,
not only in the one that made the change. Sessions of other accounts stay."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, stop_server  # noqa: E402
from smtp_support import DOMAIN, Lines, Raw, Server  # noqa: E402
from admin_support import PW, Api, add_units_and_people, totp  # noqa: E402

c = Checks()
ENDED_WITHIN = 5.0  # seconds: the notification takes milliseconds; generous for a busy machine


class Imap(Lines):
    """A raw IMAP connection: logged in, INBOX selected, optionally in IDLE."""

    def __init__(self, port, user, password=PW, idle=False):
        super().__init__(port)
        self.line()  # greeting
        self.command("a", f'LOGIN "{user}" "{password}"')
        self.command("b", "SELECT INBOX")
        if idle:
            self.s.sendall(b"c IDLE\r\n")
            while not self.line().startswith("+"):
                pass

    def command(self, tag, text):
        self.s.sendall(f"{tag} {text}\r\n".encode())
        while True:
            line = self.line()
            if line.startswith(tag + " "):
                if not line.startswith(tag + " OK"):
                    raise AssertionError(f"{text}: {line}")
                return line

    def done(self):
        """Ends IDLE: True when the server answered it OK."""
        self.s.sendall(b"DONE\r\n")
        while True:
            line = self.line()
            if line.startswith("c "):
                return line.startswith("c OK")

    def alive(self):
        """NOOP answered OK: the session still works."""
        try:
            self.command("n", "NOOP")
            return True
        except (EOFError, OSError, AssertionError):
            return False


class Submission(Raw):
    """An SMTP submission session after AUTH PLAIN (plaintext allowed on loopback)."""

    def __init__(self, port, user, password=PW):
        super().__init__(port)
        import base64
        self.send("EHLO client.example\r\n")
        self.reply()
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        self.send(f"AUTH PLAIN {token}\r\n")
        r = self.reply()
        if not r[0].startswith("235"):
            raise AssertionError(f"AUTH {user}: {r}")


def ended(conn, within=ENDED_WITHIN):
    """Waits without sending anything: what the server wrote before it closed, or None when the
    connection was still open after `within` seconds."""
    conn.s.settimeout(0.2)
    data = conn.buf
    deadline = time.time() + within
    while time.time() < deadline:
        try:
            chunk = conn.s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return data.decode("utf-8", "replace")
        if not chunk:
            return data.decode("utf-8", "replace")
        data += chunk
    conn.buf = data
    conn.s.settimeout(30)
    return None


def check_imap_ended(conn, what):
    out = ended(conn)
    c.check(out is not None and "* BYE" in out, f"{what}: IMAP session ended with BYE ({out!r})")


def check_smtp_ended(conn, what):
    out = ended(conn)
    c.check(out is not None and out.startswith("421 4.7.0"),
            f"{what}: SMTP session ended with 421 4.7.0 ({out!r})")


def sessions(srv, imap_port, user):
    """One IMAP session in IDLE, one with INBOX selected, one authenticated SMTP submission."""
    return (Imap(imap_port, user, idle=True), Imap(imap_port, user), Submission(srv.submission, user))


def check_all_ended(held, what):
    idle, selected, smtp = held
    check_imap_ended(idle, what + " (IDLE)")
    check_imap_ended(selected, what + " (selected)")
    check_smtp_ended(smtp, what)


with FreshDatabase() as db:
    one = Server(db.url, allow_plaintext=True)
    two = Server(db.url, allow_plaintext=True)  # a second govmail process on the same database
    imap_one, imap_two = one.listen_imap(), two.listen_imap()
    try:
        people = ["prov", "alice", "bob", "carol", "dave", "erin", "frank", "gina", "hugo"]
        add_units_and_people(one, DOMAIN, {p: None for p in people})
        one.admin("admins", "grant", f"prov@{DOMAIN}", "--role", "province")
        secret = [l.split(": ", 1)[1] for l in one.admin("admins", "totp", f"prov@{DOMAIN}")
                  .splitlines() if l.startswith("secret: ")][0]
        out = one.admin("app-password", "add", f"hugo@{DOMAIN}", "phone")
        app_pw = [l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("password: ")][0]
        one.start()
        two.start()
        api = Api(one.http)
        st, out = api.login(f"prov@{DOMAIN}", PW, totp(secret))
        c.check(st == 200, f"admin login: {st} {out}")

        # A bystander on each process: must survive everything below.
        dave = (Imap(imap_one, f"dave@{DOMAIN}", idle=True), Imap(imap_two, f"dave@{DOMAIN}"),
                Submission(one.submission, f"dave@{DOMAIN}"))

        # Suspend through the admin API of process one: its own sessions and process two's.
        held_one = sessions(one, imap_one, f"alice@{DOMAIN}")
        held_two = sessions(two, imap_two, f"alice@{DOMAIN}")
        st, out = api.call("POST", f"/accounts/alice@{DOMAIN}/suspend")
        c.check(st == 200, f"suspend: {st} {out}")
        check_all_ended(held_one, "suspend (same process)")
        check_all_ended(held_two, "suspend (other process)")

        # Password reset through the admin API of process one: the sessions held by process two.
        held = sessions(two, imap_two, f"bob@{DOMAIN}")
        st, out = api.call("POST", f"/accounts/bob@{DOMAIN}/password",
                           {"password": "a new long password", "must_change": False})
        c.check(st == 200, f"password reset: {st} {out}")
        check_all_ended(held, "API password reset")

        # Password reset with the CLI (a third process) while the server runs.
        held = sessions(two, imap_two, f"carol@{DOMAIN}")
        one.admin("account", "password", f"carol@{DOMAIN}", "--password-stdin",
                  input="another long password\n")
        check_all_ended(held, "CLI password reset")

        # Delete through the API; bulk suspend and rename through the CLI.
        held = sessions(one, imap_one, f"erin@{DOMAIN}")
        st, out = api.call("DELETE", f"/accounts/erin@{DOMAIN}")
        c.check(st == 200, f"delete: {st} {out}")
        check_all_ended(held, "API delete")
        held = sessions(two, imap_two, f"frank@{DOMAIN}")
        listing = os.path.join(one.tmp, "suspend.txt")
        with open(listing, "w") as f:
            f.write(f"frank@{DOMAIN}\n")
        one.admin("account", "bulk-suspend", listing)
        check_all_ended(held, "CLI bulk suspend")
        held = sessions(one, imap_one, f"gina@{DOMAIN}")
        one.admin("account", "rename", f"gina@{DOMAIN}", f"gina.new@{DOMAIN}")
        check_all_ended(held, "CLI rename")

        # An app password removed: the session that logged in with it ends.
        app_imap = Imap(imap_two, f"hugo@{DOMAIN}", password=app_pw, idle=True)
        one.admin("app-password", "remove", f"hugo@{DOMAIN}", "phone")
        check_imap_ended(app_imap, "app password removed")

        # A login with the new password made right after the change stays logged in, though the
        # change's notification may reach the process after the login started (it read the new
        # credentials: only sessions opened with older ones end). Sessions opened before the
        # change still end.
        for i in range(4):
            new_pw = f"fresh long password {i}"
            before = Imap(imap_two, f"bob@{DOMAIN}", password="a new long password" if i == 0
                          else f"fresh long password {i - 1}")
            st, out = api.call("POST", f"/accounts/bob@{DOMAIN}/password",
                               {"password": new_pw, "must_change": False})
            c.check(st == 200, f"password reset {i}: {st} {out}")
            fresh = [Imap(port, f"bob@{DOMAIN}", password=new_pw) for port in (imap_one, imap_two)]
            check_imap_ended(before, f"password reset {i}: the session from before")
            time.sleep(0.5)
            for n, conn in enumerate(fresh):
                c.check(conn.alive(), f"password reset {i}: login with the new password right "
                        f"after it (process {n + 1}) stays logged in")

        # Logging in again with the old credentials fails; the bystander is untouched.
        try:
            Imap(imap_two, f"bob@{DOMAIN}")
            c.check(False, "bob's old password still logs in")
        except AssertionError as e:
            c.check("NO" in str(e), f"old password refused: {e}")
        c.check(ended(dave[0], 0.5) is None and dave[0].done() and dave[0].alive(),
                "the bystander's IDLE session was not ended")
        c.check(dave[1].alive(), "the bystander's selected session on the other process works")
        dave[2].send("NOOP\r\n")
        c.check(dave[2].reply()[0].startswith("250"), "the bystander's SMTP session works")
        for log in (one.log(), two.log()):
            c.check("IMAP/SMTP sessions" in log, "the ending is logged")
    finally:
        stop_server(one, c)
        stop_server(two, c)

c.finish()
