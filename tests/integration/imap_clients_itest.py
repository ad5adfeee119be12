#!/usr/bin/env python3
"""Real IMAP clients against govmail on a fresh database (plain IMAP on loopback, and STARTTLS):
- mbsync (isync) syncs a 2,000-message INBOX to a local Maildir, then flags are changed and
  messages moved on both sides, and a second sync makes both sides converge (same Message-IDs
  per folder with the same flags, no duplicates); a third sync, over STARTTLS with AUTH PLAIN
  and govmail's self-signed certificate, changes nothing;
- neomutt, driven by pushed keys under a pseudo-terminal, copies every INBOX message to an mbox,
  flags one message and deletes another, which the server then shows;
- imapflow (npm) opens INBOX with QRESYNC, IDLEs, sees the EXISTS of an APPEND made from Python
  within a second, fetches that message byte-exact, then sees a flag change (with a higher
  MODSEQ) and an expunge as VANISHED, and after changes made while INBOX was closed, reopens it
  with SELECT (QRESYNC ...) and gets VANISHED (EARLIER) and the changed flags."""
import base64
import email.parser
import imaplib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from support import (GOVMAIL, Checks, FreshDatabase, free_port, govmail, node_modules,  # noqa
                     traversable_tempdir, wait_port)

HERE = os.path.dirname(os.path.abspath(__file__))
VN7 = "C&APQ-ng v&AQM-n &AREevw-n"  # "Công văn đến" in modified UTF-7
PW = "correct horse battery"
DOMAIN = "example.gov.vn"
c = Checks()
tmp = traversable_tempdir()
var = os.path.join(tmp, "var")
http, imap_port = free_port(), free_port()
cfg = os.path.join(tmp, "govmail.toml")
with open(cfg, "w") as f:
    f.write(f"""
[server]
hostname = "mail.{DOMAIN}"
var_dir = "{var}"

[tls]
cert_file = "{var}/tls/cert.pem"
key_file = "{var}/tls/key.pem"
self_signed = true

[listen]
smtp = []
submission = []
submissions = []
imap = ["127.0.0.1:{imap_port}"]
imaps = []
pop3 = []
pop3s = []
http = ["127.0.0.1:{http}"]
https = []

[auth]
allow_plaintext_on_loopback = true
argon2_opslimit = 1
argon2_memlimit = 8388608
""")


def timed(what):
    """Prints how long a step took (the report quotes these)."""
    class T:
        def __enter__(self):
            self.t0 = time.time()

        def __exit__(self, *exc):
            print(f"{what}: {time.time() - self.t0:.2f}s", flush=True)
    return T()


def login(user):
    m = imaplib.IMAP4("127.0.0.1", imap_port)
    # imaplib writes a literal and its CRLF separately: without NODELAY each APPEND waits out
    # Nagle plus the server's delayed ACK (about 40 ms).
    m.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    m.login(f"{user}@{DOMAIN}", PW)
    return m


def message(i, subject="Công văn"):
    return (f"From: van.thu@{DOMAIN}\r\nTo: user@{DOMAIN}\r\n"
            f"Subject: {subject} {i}\r\nDate: Tue, 04 Mar 2025 09:15:00 +0700\r\n"
            f"Message-ID: <msg{i}@{DOMAIN}>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"Kính gửi các xã, phường. Văn bản số {i}.\r\n").encode()


# --- mbsync -------------------------------------------------------------------------------

MAILDIR_FLAGS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen",
                 "T": "\\Deleted"}
SYNCED_FLAGS = set(MAILDIR_FLAGS.values())
HDR = email.parser.BytesHeaderParser()


def remote_state(m, folder):
    """Message-ID -> flags of one server folder, plus the list of Message-IDs (duplicates kept)."""
    typ, _ = m.select(f'"{folder}"', readonly=True)
    assert typ == "OK", folder
    typ, data = m.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    ids, state = [], {}
    for d in data:
        if not isinstance(d, tuple):
            continue
        flags = set(re.search(rb"FLAGS \(([^)]*)\)", d[0]).group(1).decode().split())
        mid = HDR.parsebytes(d[1])["Message-ID"].strip()
        ids.append(mid)
        state[mid] = flags & SYNCED_FLAGS
    m.close()
    return ids, state


def maildir_files(folder_dir):
    return [os.path.join(folder_dir, sub, n) for sub in ("cur", "new")
            for n in sorted(os.listdir(os.path.join(folder_dir, sub)))]


def local_state(folder_dir):
    ids, state = [], {}
    for path in maildir_files(folder_dir):
        with open(path, "rb") as f:
            mid = HDR.parse(f)["Message-ID"].strip()
        info = path.rsplit(":2,", 1)[1] if ":2," in os.path.basename(path) else ""
        ids.append(mid)
        state[mid] = {MAILDIR_FLAGS[ch] for ch in info if ch in MAILDIR_FLAGS}
    return ids, state


def set_local_flags(path, letters):
    """Rename a Maildir file to carry exactly these flag letters (how MUAs change flags)."""
    base = os.path.basename(path).split(":2,")[0]
    new = os.path.join(os.path.dirname(os.path.dirname(path)), "cur",
                       base + ":2," + "".join(sorted(letters)))
    os.rename(path, new)


def move_local(path, dest_folder_dir):
    """Move a Maildir file to another folder as a new message (drop mbsync's ,U=<uid>)."""
    base = re.sub(r",U=\d+", "", os.path.basename(path))
    os.rename(path, os.path.join(dest_folder_dir, "cur", base))


def write_mbsyncrc(path, maildir, security):
    # FSync off: the Maildir's fsyncs, not the server, dominated the first sync's time.
    with open(path, "w") as f:
        f.write(f"""FSync no

IMAPAccount gov
Host 127.0.0.1
Port {imap_port}
User sync@{DOMAIN}
Pass "{PW}"
{security}
Timeout 120

IMAPStore remote
Account gov

MaildirStore local
Path {maildir}/
Inbox {maildir}/INBOX
SubFolders Verbatim

Channel gov
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
Sync All
""")


def mbsync(rc):
    r = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True, text=True, timeout=400)
    print(f"mbsync: {r.stdout.strip().splitlines()[-1:]}", flush=True)
    return r


def find_local(folder_dir, mid):
    for path in maildir_files(folder_dir):
        with open(path, "rb") as f:
            if HDR.parse(f)["Message-ID"].strip() == mid:
                return path
    raise AssertionError(f"{mid} not in {folder_dir}")


def converged(m, maildir, folders, expect_counts, what):
    for folder in folders:
        rids, rstate = remote_state(m, folder)
        lids, lstate = local_state(os.path.join(maildir, folder))
        c.check(len(rids) == len(set(rids)), f"{what}: no duplicate on the server in {folder}")
        c.check(len(lids) == len(set(lids)), f"{what}: no duplicate in the Maildir {folder}")
        c.check(len(rids) == expect_counts[folder] and len(lids) == expect_counts[folder],
                f"{what}: {folder} server {len(rids)} maildir {len(lids)} "
                f"expected {expect_counts[folder]}")
        diff = {k: (rstate.get(k), lstate.get(k)) for k in set(rstate) | set(lstate)
                if rstate.get(k) != lstate.get(k)}
        c.check(not diff, f"{what}: {folder} differs: {dict(list(diff.items())[:5])}")
        yield folder, rstate


def test_mbsync():
    n = 2000
    m = login("sync")
    with timed(f"APPEND {n} messages (imaplib)"):
        for i in range(n):
            flags = "(\\Seen)" if i % 3 == 0 else "(\\Flagged \\Answered)" if i % 50 == 1 else None
            typ, _ = m.append("INBOX", flags, None, message(i))
            if typ != "OK":
                c.check(False, f"append {i}: {typ}")
                return
    # A folder with a Vietnamese name (modified UTF-7 on the wire) goes through the sync too.
    c.check(m.create(f'"{VN7}"')[0] == "OK", "create the Vietnamese folder")
    for i in range(5000, 5003):
        m.append(f'"{VN7}"', "(\\Seen)", None, message(i))
    maildir = os.path.join(tmp, "Maildir")
    os.makedirs(maildir)
    rc, rc_tls = os.path.join(tmp, "mbsyncrc"), os.path.join(tmp, "mbsyncrc-tls")
    plain = "SSLType None\nAuthMechs LOGIN"
    # STARTTLS trusting govmail's self-signed certificate (mbsync accepts an explicitly listed
    # certificate whatever its host name).
    tls = f"SSLType STARTTLS\nCertificateFile {var}/tls/cert.pem\nAuthMechs PLAIN"
    for path, security in ((rc, plain), (rc_tls, tls)):
        write_mbsyncrc(path, maildir, security)
    with timed(f"mbsync first sync ({n} messages)"):
        r = mbsync(rc)
    c.check(r.returncode == 0, f"mbsync 1: {r.returncode} {r.stdout[-500:]} {r.stderr[-1000:]}")
    folders = ("INBOX", "Archive")
    # mbsync 1.4 keeps the wire name (modified UTF-7) as the Maildir folder name.
    vn_dir = os.path.join(maildir, VN7)
    c.check(os.path.isdir(vn_dir) and len(local_state(vn_dir)[0]) == 3,
            f"Vietnamese folder synced: {sorted(os.listdir(maildir))}")
    list(converged(m, maildir, folders, {"INBOX": n, "Archive": 0}, "after first sync"))

    # Local changes: flag 10 messages, unflag/unseen 5, move 5 to Archive.
    inbox_dir, archive_dir = os.path.join(maildir, "INBOX"), os.path.join(maildir, "Archive")
    for i in range(100, 110):
        set_local_flags(find_local(inbox_dir, f"<msg{i}@{DOMAIN}>"), "FS")
    for i in (0, 3, 6, 9, 12):
        set_local_flags(find_local(inbox_dir, f"<msg{i}@{DOMAIN}>"), "")
    for i in range(200, 205):
        move_local(find_local(inbox_dir, f"<msg{i}@{DOMAIN}>"), archive_dir)
    # Remote changes on other messages: flags, and UID MOVE of 5 to Archive.
    m.select("INBOX")
    uids = {}
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    for d in data:
        if isinstance(d, tuple):
            uid = re.search(rb"UID (\d+)", d[0]).group(1).decode()
            uids[HDR.parsebytes(d[1])["Message-ID"].strip()] = uid
    mid = lambda i: f"<msg{i}@{DOMAIN}>"  # noqa: E731
    m.uid("STORE", ",".join(uids[mid(i)] for i in range(300, 310)), "+FLAGS", "(\\Answered)")
    m.uid("STORE", ",".join(uids[mid(i)] for i in (301, 351)), "-FLAGS", "(\\Flagged)")
    m.uid("STORE", ",".join(uids[mid(i)] for i in (401, 402)), "+FLAGS", "(\\Seen)")
    typ, data = m.uid("MOVE", ",".join(uids[mid(i)] for i in range(500, 505)), "Archive")
    c.check(typ == "OK", f"remote UID MOVE: {typ} {data}")
    m.close()

    if os.path.isdir(vn_dir):  # a message filed locally into the Vietnamese folder
        with open(os.path.join(vn_dir, "new", "1700000000.h10.local"), "wb") as f:
            f.write(message(5003))
    with timed("mbsync second sync (changes both ways)"):
        r = mbsync(rc)
    c.check(r.returncode == 0, f"mbsync 2: {r.returncode} {r.stdout[-500:]} {r.stderr[-1000:]}")
    states = dict(converged(m, maildir, folders, {"INBOX": n - 10, "Archive": 10},
                            "after second sync"))
    inbox, archive = states.get("INBOX", {}), states.get("Archive", {})
    c.check(all(inbox.get(mid(i)) == {"\\Flagged", "\\Seen"} for i in range(100, 110)),
            "local flag changes reached the server")
    c.check(all(inbox.get(mid(i)) == set() for i in (0, 3, 6, 9, 12)),
            "local flag removals reached the server")
    # 301 and 401 were appended \\Flagged \\Answered, 302 without flags (see the APPEND loop).
    c.check(inbox.get(mid(301)) == {"\\Answered"} and inbox.get(mid(302)) == {"\\Answered"} and
            inbox.get(mid(401)) == {"\\Answered", "\\Flagged", "\\Seen"},
            f"remote flag changes: {inbox.get(mid(301))} {inbox.get(mid(302))} "
            f"{inbox.get(mid(401))}")
    c.check(set(archive) == {mid(i) for i in list(range(200, 205)) + list(range(500, 505))},
            f"moves on both sides: Archive has {sorted(archive)}")
    c.check(not any(mid(i) in inbox for i in list(range(200, 205)) + list(range(500, 505))),
            "moved messages are gone from INBOX on both sides")
    vn_ids = remote_state(m, VN7)[0]
    c.check(sorted(vn_ids) == sorted(mid(i) for i in range(5000, 5004)),
            f"the local message reached the Vietnamese folder on the server: {vn_ids}")

    with timed("mbsync third sync over STARTTLS (nothing to do)"):
        r = mbsync(rc_tls)
    c.check(r.returncode == 0, f"mbsync 3: {r.returncode} {r.stderr[-500:]}")
    list(converged(m, maildir, folders, {"INBOX": n - 10, "Archive": 10}, "after third sync"))
    m.logout()


# --- neomutt ------------------------------------------------------------------------------

def test_neomutt():
    m = login("mutt")
    sent = [message(1000 + i, "Mutt") for i in range(3)]
    for body in sent:
        m.append("INBOX", None, None, body)
    d = os.path.join(tmp, "mutt")
    os.makedirs(d)
    saved = os.path.join(d, "saved.mbox")
    rc = os.path.join(d, "muttrc")
    with open(rc, "w") as f:
        f.write(f"""
set folder = "imap://mutt%40{DOMAIN}@127.0.0.1:{imap_port}/"
set spoolfile = "+INBOX"
set imap_pass = "{PW}"
set ssl_starttls = no
set ssl_force_tls = no
set imap_authenticators = "login"
set header_cache = ""
set message_cachedir = ""
set mbox_type = mbox
set confirmcreate = no
set confirmappend = no
set sort = date-sent
set mark_old = no
set move = no
set wait_key = no
set delete = yes
set quit = yes
set timeout = 1
""")
    keys = (f"<tag-pattern>~A<enter><tag-prefix><copy-message>{saved}<enter>"
            "<first-entry><flag-message><last-entry><delete-message><sync-mailbox><quit>")
    cmd = ["neomutt", "-n", "-F", rc, "-e", f"push '{keys}'"]
    env = dict(os.environ, TERM="xterm", HOME=d)
    with timed("neomutt session"):
        r = subprocess.Popen(["script", "-qfec", " ".join(_sh(a) for a in cmd), "/dev/null"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                             stdin=subprocess.DEVNULL)
        try:
            r.stdout_bytes = r.communicate(timeout=60)[0]
        except subprocess.TimeoutExpired:
            r.kill()
            r.stdout_bytes = r.communicate()[0]
    r.stdout = r.stdout_bytes
    c.check(r.returncode == 0, f"neomutt exit: {r.returncode} {r.stdout[-300:]!r}")
    got = open(saved, "rb").read() if os.path.exists(saved) else b""
    # An mbox holds LF lines, and mutt's mbox writer adds Content-Length: and Lines: headers.
    got = re.sub(rb"(?m)^(Content-Length|Lines): \d+\n", b"", got.replace(b"\r\n", b"\n"))
    parts = [p for p in re.split(rb"(?m)^From [^\n]*\n", got) if p]
    c.check(len(parts) == 3, f"neomutt saved {len(parts)} of 3 messages")
    for body in sent:
        want = body.replace(b"\r\n", b"\n")
        c.check(any(p.rstrip(b"\n") == want.rstrip(b"\n") for p in parts),
                f"neomutt saved {want[:60]!r} intact")
    m.select("INBOX", readonly=True)
    typ, data = m.fetch("1:*", "(FLAGS)")
    flagged = [x for x in data if b"\\Flagged" in x]
    c.check(len(flagged) == 1, f"neomutt's flag reached the server: {data}")
    c.check(len(data) == 2, f"neomutt's delete was expunged on the server: {data}")
    m.logout()


def _sh(a):
    return "'" + a.replace("'", "'\\''") + "'"


# --- imapflow -----------------------------------------------------------------------------

def test_imapflow():
    mods = node_modules()
    m = login("flow")
    m.append("INBOX", None, None, message(3000))
    p = subprocess.Popen(["node", os.path.join(HERE, "imap_imapflow.mjs"), str(imap_port),
                          f"flow@{DOMAIN}", PW], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE,
                         env=dict(os.environ, GOVMAIL_NODE_MODULES=mods))
    try:
        ready = json.loads(p.stdout.readline() or "{}")
        c.check(ready.get("ready") and ready.get("exists") == 1 and ready.get("qresync") and
                ready.get("highestModseq") not in ("", "0"), f"imapflow opened INBOX: {ready}")
        time.sleep(0.3)  # let imapflow enter IDLE
        body = message(3001, "IDLE")
        t0 = time.time()
        m.append("INBOX", "(\\Seen)", None, body)
        ex = json.loads(p.stdout.readline() or "{}")
        elapsed = time.time() - t0
        print(f"imapflow EXISTS after APPEND: {elapsed * 1000:.0f} ms", flush=True)
        c.check(ex.get("exists") == 2 and ex.get("prevCount") == 1 and elapsed < 1.0,
                f"imapflow saw EXISTS in IDLE: {ex} after {elapsed:.3f}s")
        got = json.loads(p.stdout.readline() or "{}")
        c.check(base64.b64decode(got.get("source", "")) == body and got.get("uid") == 2,
                f"imapflow fetched byte-exact: uid {got.get('uid')}")
        m.select("INBOX")
        t0 = time.time()
        m.uid("STORE", "2", "+FLAGS", "(\\Flagged)")
        fl = json.loads(p.stdout.readline() or "{}")
        # The message arrived while imapflow (IMAP4rev1) had INBOX selected: recent there.
        c.check(fl.get("uid") == 2 and fl.get("flags") == ["\\Flagged", "\\Recent", "\\Seen"] and
                int(fl.get("modseq") or 0) > int(got.get("modseq") or 0) > 0,
                f"imapflow saw the flag change, MODSEQ higher: {fl} (was {got.get('modseq')})")
        m.uid("STORE", "1", "+FLAGS", "(\\Deleted)")
        m.expunge()
        ex = json.loads(p.stdout.readline() or "{}")
        print(f"imapflow FETCH FLAGS and VANISHED: {(time.time() - t0) * 1000:.0f} ms", flush=True)
        c.check(ex == {"expunged": 1, "seq": None, "vanished": True},
                f"imapflow saw VANISHED for UID 1 (QRESYNC): {ex}")
        closed = json.loads(p.stdout.readline() or "{}")
        c.check(closed.get("closed"), f"imapflow closed INBOX: {closed}")
        m.append("INBOX", None, None, message(3002))  # UID 3, expunged below
        m.append("INBOX", None, None, message(3003))  # UID 4
        m.uid("STORE", "3", "+FLAGS", "(\\Deleted)")
        m.expunge()
        m.uid("STORE", "2", "+FLAGS", "(\\Answered)")
        p.stdin.write(b"go\n")
        p.stdin.flush()
        re_open = json.loads(p.stdout.readline() or "{}")
        print(f"imapflow QRESYNC reopen: {re_open}", flush=True)
        changed = {x["uid"]: x["flags"] for x in re_open.get("changed", [])}
        vanished = {x["uid"] for x in re_open.get("vanished", []) if x.get("earlier")}
        c.check(re_open.get("exists") == 2 and 3 in vanished and not vanished & {2, 4},
                f"QRESYNC SELECT: VANISHED (EARLIER) has UID 3: {re_open}")
        c.check(changed.get(2) == ["\\Answered", "\\Flagged", "\\Seen"] and 4 in changed,
                f"QRESYNC SELECT: FETCH for the changed UID 2 and the new UID 4: {re_open}")
        p.wait(timeout=30)
        c.check(p.returncode == 0, f"imapflow exit {p.returncode}: {p.stderr.read()[-500:]}")
    finally:
        if p.poll() is None:
            p.kill()
    m.logout()


with FreshDatabase() as db:
    env = dict(os.environ, GOVMAIL_DATABASE_URL=db.url)
    govmail("admin", "--config", cfg, "domain", "add", DOMAIN, env=env, check=True)
    for user in ("sync", "mutt", "flow"):
        govmail("admin", "--config", cfg, "account", "add", f"{user}@{DOMAIN}", "--name", user,
                "--password-stdin", env=env, input=PW + "\n", check=True)
    log = open(os.path.join(tmp, "serve.log"), "w")
    p = subprocess.Popen([GOVMAIL, "serve", "--config", cfg], env=env, stdout=log, stderr=log,
                         cwd=tmp)
    try:
        wait_port(imap_port)
        only = os.environ.get("GOVMAIL_IMAP_CLIENTS", "imapflow neomutt mbsync").split()
        for test in [globals()["test_" + name] for name in only]:
            try:
                with timed(test.__name__):
                    test()
            except Exception as e:  # one client's failure must not hide the others' results
                c.check(False, f"{test.__name__} raised {type(e).__name__}: {e}")
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
    c.check(p.returncode == 0, f"clean exit: {p.returncode}")
if c.failed:
    print(f"kept {tmp} for inspection", flush=True)
else:
    subprocess.run(["rm", "-rf", tmp])
c.finish()
