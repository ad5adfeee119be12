#!/usr/bin/env python3
"""Real POP3 clients from Debian against govmail on a fresh database:
- fetchmail over POP3 with STLS (plaintext login refused off TLS by this config) keeping mail on
  the server: the first run downloads every message, the second none (UIDL "leave a copy on the
  server"), the third only the one delivered meanwhile; then over POP3S (implicit TLS) without
  keep: everything is downloaded once and deleted on the server (seen through IMAP);
- neomutt, driven by pushed keys under a pseudo-terminal, opens pop:// (STLS) and pops://
  mailboxes, copies every message to an mbox and deletes one, which the server then removes."""
import imaplib
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, stop_server  # noqa: E402
from smtp_support import DOMAIN, Server, add_account, client_tls, wait_port  # noqa: E402

PW = "correct horse battery"
c = Checks()


def message(i, subject="Công văn"):
    return (f"From: van.thu@{DOMAIN}\r\nTo: user@{DOMAIN}\r\n"
            f"Subject: {subject} {i}\r\nDate: Tue, 04 Mar 2025 09:15:00 +0700\r\n"
            f"Message-ID: <pop{i}@{DOMAIN}>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"Kính gửi các xã, phường. Văn bản số {i}.\r\n.dòng bắt đầu bằng dấu chấm\r\n").encode()


def fetched(d):
    """Messages the MDA wrote, by Message-ID (fetchmail hands them over with LF line ends)."""
    out = {}
    for name in sorted(os.listdir(d)):
        data = open(os.path.join(d, name), "rb").read()
        mid = re.search(rb"Message-ID: <(pop\d+)@", data)
        out.setdefault(mid.group(1) if mid else name.encode(), []).append(data)
    return out


def fetchmail(work, port, user, ssl, keep, tag):
    out = os.path.join(work, f"out-{tag}")
    os.makedirs(out, exist_ok=True)
    rc = os.path.join(work, f"fetchmailrc-{tag}")
    with open(rc, "w") as f:
        f.write(f"""
set no syslog
set invisible
poll 127.0.0.1 service {port} protocol pop3 uidl
  user "{user}@{DOMAIN}" password "{PW}"
  {"ssl" if ssl else "sslproto tls1.2+"} no sslcertck
  {"keep" if keep else "nokeep"} no rewrite
  mda "/bin/sh -c 'cat > {out}/$(date +%s%N)'"
""")
    os.chmod(rc, 0o600)
    env = dict(os.environ, HOME=work, FETCHMAILHOME=work)
    r = subprocess.run(["fetchmail", "-f", rc, "-i", os.path.join(work, f"uidl-{tag}"), "-v",
                        "--nodetach"], env=env, capture_output=True, text=True, timeout=120)
    r.stderr = r.stdout + r.stderr  # -v writes the dialogue to stdout
    # 0: mail fetched; 1: no mail.
    return r, out


def _sh(a):
    return "'" + a.replace("'", "'\\''") + "'"


def neomutt(work, url, tag, cert):
    d = os.path.join(work, f"mutt-{tag}")
    os.makedirs(d)
    saved = os.path.join(d, "saved.mbox")
    rc = os.path.join(d, "muttrc")
    with open(rc, "w") as f:
        f.write(f"""
set spoolfile = "{url}"
set folder = "{d}"
set pop_pass = "{PW}"
set pop_authenticators = "user"
set ssl_starttls = yes
set ssl_force_tls = yes
set certificate_file = "{cert}"
set ssl_verify_host = no
set header_cache = ""
set message_cachedir = ""
set mbox_type = mbox
set confirmcreate = no
set confirmappend = no
set sort = date-sent
set move = no
set wait_key = no
set delete = yes
set quit = yes
set timeout = 1
""")
    keys = (f"<tag-pattern>~A<enter><tag-prefix><copy-message>{saved}<enter>"
            "<last-entry><delete-message><sync-mailbox><quit>")
    cmd = ["neomutt", "-n", "-F", rc, "-e", f"push '{keys}'"]
    env = dict(os.environ, TERM="xterm", HOME=d)
    p = subprocess.Popen(["script", "-qfec", " ".join(_sh(a) for a in cmd), "/dev/null"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                         stdin=subprocess.DEVNULL)
    try:
        out = p.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:
        p.kill()
        out = p.communicate()[0]
    got = open(saved, "rb").read() if os.path.exists(saved) else b""
    got = re.sub(rb"(?m)^(Content-Length|Lines): \d+\n", b"", got.replace(b"\r\n", b"\n"))
    return p.returncode, out, [x for x in re.split(rb"(?m)^From [^\n]*\n", got) if x]


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=False)
    imap_port = srv.listen_imap()
    p3, p3s = srv.listen_pop3()
    try:
        srv.start()
        for port in (imap_port, p3, p3s):
            wait_port(port)
        srv.admin("domain", "add", DOMAIN)
        for local in ("fm", "mutt", "mutts"):
            add_account(srv, local)
        work = srv.tmp
        cert = os.path.join(srv.var, "tls", "cert.pem")

        # Plaintext login is refused on loopback too here: the test's IMAP client uses TLS.
        def imap_tls(user):
            m = imaplib.IMAP4("127.0.0.1", imap_port)
            m.starttls(ssl_context=client_tls())
            m.login(f"{user}@{DOMAIN}", PW)
            return m

        def deliver(user, msgs):
            m = imap_tls(user)
            for raw in msgs:
                m.append("INBOX", None, None, raw)
            m.logout()

        def ids_over_tls(user):
            m = imap_tls(user)
            typ, data = m.select("INBOX", readonly=True)
            if data == [b"0"]:
                m.logout()
                return []
            typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            m.logout()
            joined = b"".join(d[1] for d in data if isinstance(d, tuple))
            return sorted(re.findall(rb"<(pop\d+)@", joined))

        sent = {b"pop%d" % i: message(i) for i in range(1, 6)}
        deliver("fm", [sent[b"pop%d" % i] for i in range(1, 5)])

        # --- fetchmail, POP3 + STLS, keep: UIDL means nothing is downloaded twice.
        r, out = fetchmail(work, p3, "fm", ssl=False, keep=True, tag="keep")
        c.check(r.returncode == 0, f"fetchmail 1: {r.returncode} {r.stderr[-800:]}")
        c.check("POP3> STLS" in r.stderr and "POP3< +OK Begin TLS negotiation" in r.stderr,
                f"fetchmail used STLS: {r.stderr[-800:]}")
        got = fetched(out)
        c.check(sorted(got) == [b"pop1", b"pop2", b"pop3", b"pop4"], f"first run: {sorted(got)}")
        for mid, copies in got.items():
            c.check(copies[0] == sent[mid].replace(b"\r\n", b"\n"),
                    f"fetchmail got {mid} intact: {copies[0]!r}")
        r, out = fetchmail(work, p3, "fm", ssl=False, keep=True, tag="keep")
        c.check(r.returncode == 1, f"fetchmail 2: no new mail: {r.returncode} {r.stderr[-500:]}")
        c.check(len(os.listdir(out)) == 4, f"second run downloaded nothing: {os.listdir(out)}")
        deliver("fm", [sent[b"pop5"]])
        r, out = fetchmail(work, p3, "fm", ssl=False, keep=True, tag="keep")
        got = fetched(out)
        c.check(r.returncode == 0 and len(os.listdir(out)) == 5 and len(got[b"pop5"]) == 1 and
                all(len(v) == 1 for v in got.values()),
                f"third run downloaded only the new message: {r.returncode} {sorted(got)}")
        c.check(ids_over_tls("fm") == sorted(sent), "keep: everything still on the server")

        # --- fetchmail, POP3S, no keep: downloaded once and deleted on the server.
        r, out = fetchmail(work, p3s, "fm", ssl=True, keep=False, tag="nokeep")
        got = fetched(out)
        c.check(r.returncode == 0 and sorted(got) == sorted(sent),
                f"fetchmail over POP3S: {r.returncode} {sorted(got)} {r.stderr[-800:]}")
        c.check(ids_over_tls("fm") == [], "nokeep: the server's INBOX is empty")

        # --- neomutt: pop:// with STLS and pops://.
        for tag, user, url in (("pop", "mutt", f"pop://mutt%40{DOMAIN}@127.0.0.1:{p3}/"),
                               ("pops", "mutts", f"pops://mutts%40{DOMAIN}@127.0.0.1:{p3s}/")):
            msgs = [message(100 + i, "Mutt") for i in range(3)]
            deliver(user, msgs)
            rc, screen, parts = neomutt(work, url, tag, cert)
            c.check(rc == 0, f"neomutt {tag} exit: {rc} {screen[-300:]!r}")
            c.check(len(parts) == 3, f"neomutt {tag} saved {len(parts)} of 3 messages")
            for raw in msgs:
                want = raw.replace(b"\r\n", b"\n").rstrip(b"\n")
                c.check(any(p.rstrip(b"\n") == want for p in parts),
                        f"neomutt {tag} saved {want[:60]!r} intact")
            left = ids_over_tls(user)
            c.check(len(left) == 2, f"neomutt {tag}: the deleted message left the server: {left}")
    finally:
        stop_server(srv, c)
c.finish()
