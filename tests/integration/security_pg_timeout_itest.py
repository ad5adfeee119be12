#!/usr/bin/env python3
"""Issue 11, PostgreSQL: a lock held elsewhere (another psql session holding the account and
mailbox tables) must not pin govmail's pool connections and hang its clients. With a small
database.lock_timeout and statement_timeout, an IMAP command answers NO [UNAVAILABLE] and an SMTP
delivery 451 4.3.0 within seconds, and a login a temporary failure (never a counted failed
login); once the lock is gone the server works again, also after its pool connections were
killed under it. Before the fix both waited for as long as the lock."""
import http.client
import imaplib
import json
import os
import smtplib
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, psql, stop_server  # noqa
from smtp_support import DOMAIN, Server, add_account  # noqa

PW = "correct horse battery"
USER = f"vanthu@{DOMAIN}"
HOLD = 25  # seconds the other session keeps its lock
BOUND = 8  # seconds an answer may take while the tables are locked (lock_timeout is 1 s)
LOCKER = "gm_it_locker"

c = Checks()


def lock_tables(db_url):
    """Another session: ACCESS EXCLUSIVE on the tables every login, command and delivery
    reads, held HOLD seconds (or until terminated)."""
    proc = subprocess.Popen(
        ["psql", db_url, "-qAt", "-v", "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
        env=dict(os.environ, PGAPPNAME=LOCKER))
    proc.stdin.write("BEGIN; LOCK TABLE accounts, mailboxes, mailbox_entries, messages "
                     f"IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep({HOLD}); COMMIT;\n")
    proc.stdin.close()
    deadline = time.time() + 10
    while time.time() < deadline:
        held = psql(db_url, "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
                            f"WHERE a.application_name = '{LOCKER}' AND l.granted "
                            "AND l.mode = 'AccessExclusiveLock'")
        if held == "4":
            return proc
        time.sleep(0.05)
    raise AssertionError("the other session did not get its locks")


def release(db_url, proc):
    psql(db_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 f"WHERE application_name = '{LOCKER}'")
    proc.wait(timeout=30)


def deliver(port, timeout):
    """The SMTP reply code of a delivery to USER (250 when accepted)."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=timeout) as s:
            s.sendmail(f"someone@sender.example", [USER],
                       f"From: someone@sender.example\r\nTo: {USER}\r\nSubject: t\r\n\r\nhi\r\n")
        return 250
    except smtplib.SMTPRecipientsRefused as e:
        return e.recipients[USER][0]
    except smtplib.SMTPResponseException as e:
        return e.smtp_code
    except (TimeoutError, OSError) as e:
        return f"no answer: {e!r}"


def imap_select(port, timeout):
    """The answer to SELECT INBOX on a logged-in session: ('OK'|'NO', text), or 'no answer'."""
    m = imaplib.IMAP4("127.0.0.1", port, timeout=timeout)
    try:
        m.login(USER, PW)
        typ, data = m.select("INBOX")
        return typ, b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
    except (TimeoutError, OSError) as e:
        return "no answer", repr(e)
    except imaplib.IMAP4.error as e:
        return "NO", str(e)
    finally:
        try:
            m.shutdown()
        except OSError:
            pass


def admin_login(port, timeout):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/admin/api/login", json.dumps({"address": USER, "password": PW}),
                     {"Content-Type": "application/json"})
        return conn.getresponse().status
    except (TimeoutError, OSError) as e:
        return f"no answer: {e!r}"
    finally:
        conn.close()


def imap_logged_in(port, timeout):
    m = imaplib.IMAP4("127.0.0.1", port, timeout=timeout)
    m.login(USER, PW)
    return m


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    imap_port = srv.listen_imap()
    srv.edit_config(lambda text: text + "\n[database]\nstatement_timeout = 2000\nlock_timeout = 1000\n"
                "idle_in_transaction_timeout = 5000\n")
    locker = None
    try:
        srv.admin("domain", "add", DOMAIN)
        add_account(srv, "vanthu", PW)
        srv.start()
        c.check(deliver(srv.smtp, 30) == 250, "delivery before the lock")
        c.check(imap_select(imap_port, 30)[0] == "OK", "SELECT before the lock")
        session = imap_logged_in(imap_port, BOUND + 5)  # logged in before the lock

        locker = lock_tables(db.url)
        start = time.time()
        try:
            typ, data = session.select("INBOX")
            answer = (typ, b" ".join(d for d in data if isinstance(d, bytes)).decode())
        except imaplib.IMAP4.error as e:
            answer = ("NO", str(e))
        except (TimeoutError, OSError) as e:
            answer = ("no answer", repr(e))
        took = time.time() - start
        c.check(answer[0] == "NO" and "[UNAVAILABLE]" in answer[1] and took < BOUND,
                f"IMAP SELECT under a held lock: NO [UNAVAILABLE] within {BOUND}s "
                f"({answer}, {took:.1f}s)")

        start = time.time()
        code = deliver(srv.smtp, BOUND + 5)
        took = time.time() - start
        c.check(code == 451 and took < BOUND,
                f"SMTP delivery under a held lock: 451 within {BOUND}s ({code}, {took:.1f}s)")
        start = time.time()
        status = admin_login(srv.http, BOUND + 5)
        took = time.time() - start
        c.check(status == 503 and took < BOUND,
                f"admin API login under a held lock: 503 within {BOUND}s ({status}, {took:.1f}s)")
        start = time.time()
        answer = imap_select(imap_port, BOUND + 5)
        took = time.time() - start
        c.check(answer[0] == "NO" and "[UNAVAILABLE]" in answer[1] and took < BOUND,
                f"IMAP LOGIN under a held lock: NO [UNAVAILABLE], not a failed login ({answer})")
        c.check("failed login" not in srv.log(), "a database timeout is not counted as a failure")
        c.check(srv.proc.poll() is None, "server running under the lock")
        release(db.url, locker)
        locker = None

        # The same session and new ones work again: no pool connection was left stuck.
        try:
            typ, _ = session.select("INBOX")
        except (imaplib.IMAP4.error, OSError) as e:
            typ = repr(e)
        c.check(typ == "OK", f"the same IMAP session works after the lock: {typ}")
        c.check(deliver(srv.smtp, 30) == 250, "delivery after the lock")
        typ, data = imap_select(imap_port, 30)
        c.check(typ == "OK" and data == "2", f"both messages there: {typ} {data}")

        # Every pool connection killed under the server: replaced, not reused.
        killed = psql(db.url, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        c.check(int(killed) >= 2, f"pool connections terminated: {killed}")
        time.sleep(0.5)
        results = [imap_select(imap_port, 30)[0] for _ in range(3)]
        c.check(results == ["OK"] * 3, f"SELECT after the pool's connections died: {results}")
        c.check(deliver(srv.smtp, 30) == 250, "delivery after the pool's connections died")
        c.check(srv.proc.poll() is None, "server still running")
        try:
            session.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    finally:
        if locker:
            release(db.url, locker)
        stop_server(srv, c)

c.finish()
