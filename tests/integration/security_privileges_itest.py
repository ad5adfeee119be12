#!/usr/bin/env python3
"""`govmail serve` started as root binds its ports and then runs as server.user for good: the
process's real, effective and saved uid/gid and its groups are the user's, it holds no capability,
and mail still flows (SMTP AUTH, delivery, IMAP). Refused at start: an unknown user, root itself,
and server.user with the embedded cluster. Needs root (CI runs as root)."""
import imaplib
import os
import pwd
import smtplib
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import GOVMAIL, Checks, FreshDatabase, stop_server  # noqa
from smtp_support import DOMAIN, Server, add_account, wait_port  # noqa

if os.geteuid() != 0:
    print("SKIP: dropping privileges needs root")
    raise SystemExit(77)

c = Checks()
PW = "correct horse battery"


def set_user(cfg, user, extra=""):
    with open(cfg) as f:
        text = f.read()
    head, rest = text.split("[server]\n", 1)
    rest = "\n".join(l for l in rest.split("\n") if not l.startswith("user = "))
    with open(cfg, "w") as f:
        f.write(head + f'[server]\nuser = "{user}"\n{extra}' + rest)


def status_fields(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return out


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    imap_port = srv.listen_imap()
    try:
        srv.admin("domain", "add", DOMAIN)
        add_account(srv, "a")
        add_account(srv, "b")

        for bad, why in (("no-such-user-x", "no such user"), ("root", "is root")):
            set_user(srv.cfg, bad)
            r = subprocess.run([GOVMAIL, "serve", "--config", srv.cfg], env=srv.env,
                               capture_output=True, text=True, timeout=60, cwd=srv.tmp)
            c.check(r.returncode != 0 and why in r.stderr,
                    f"server.user {bad} refused: rc={r.returncode} {r.stderr[-300:]}")

        # The embedded cluster is started and stopped as root: refused with server.user.
        env = dict(srv.env)
        env.pop("GOVMAIL_DATABASE_URL", None)
        set_user(srv.cfg, "nobody")
        r = subprocess.run([GOVMAIL, "serve", "--config", srv.cfg], env=env, capture_output=True,
                           text=True, timeout=60, cwd=srv.tmp)
        c.check(r.returncode != 0 and "needs an external database" in r.stderr,
                f"server.user with the embedded cluster refused: {r.stderr[-300:]}")

        # The user the test cluster runs as: it can reach the cluster's unix socket directory, as
        # server.user must in production (or use TCP).
        user = pwd.getpwnam("postgres")
        set_user(srv.cfg, "postgres")
        srv.start()
        wait_port(imap_port)
        st = status_fields(srv.proc.pid)
        c.check(st["Uid"] == [str(user.pw_uid)] * 4, f"uids are postgres's: {st['Uid']}")
        c.check(st["Gid"] == [str(user.pw_gid)] * 4, f"gids are postgres's: {st['Gid']}")
        c.check("0" not in st.get("Groups", []), f"no root group: {st.get('Groups')}")
        c.check(st["CapEff"] == ["0000000000000000"], f"no capabilities: {st['CapEff']}")
        c.check("running as user postgres" in srv.log(), "the switch is logged")

        # Mail still flows as postgres (new pool connections included: several messages).
        with smtplib.SMTP("127.0.0.1", srv.submission, timeout=30) as s:
            s.login(f"a@{DOMAIN}", PW)
            for i in range(5):
                s.sendmail(f"a@{DOMAIN}", [f"b@{DOMAIN}"],
                           f"From: a@{DOMAIN}\r\nTo: b@{DOMAIN}\r\nSubject: n{i}\r\n\r\nbody\r\n")
        m = imaplib.IMAP4("127.0.0.1", imap_port)
        m.login(f"b@{DOMAIN}", PW)
        typ, data = m.select("INBOX")
        c.check(typ == "OK" and int(data[0]) == 5, f"5 messages delivered: {data}")
        m.logout()
    finally:
        stop_server(srv, c)

c.finish()
