#!/usr/bin/env python3
"""A real JMAP client library against the real binary (issue 13): the npm library jmap-jam reads
the session, lists mailboxes, pages the inbox with Email/query + Email/get joined by a result
reference, flags a message (IMAP then sees \\Flagged), uploads a message and imports it, and sends
a draft with EmailSubmission/set (the recipient's INBOX receives it). Needs the JMAP mail methods:
without the mail capability in the session (JMAP core built alone) it exits 77, which ctest
reports as skipped, not passed."""
import imaplib
import json
import os
import smtplib
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, node_modules, stop_server  # noqa: E402
from smtp_support import DOMAIN, Server, add_account, inbox  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PW = "correct horse battery"
c = Checks()

with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    imap_port = srv.listen_imap()
    try:
        srv.admin("domain", "add", DOMAIN)
        add_account(srv, "alice", PW)
        add_account(srv, "bob", PW)
        alice, bob = f"alice@{DOMAIN}", f"bob@{DOMAIN}"
        srv.start()
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as smtp:
            for i in (1, 2):
                smtp.sendmail("friend@example.com", [alice],
                              f"From: friend@example.com\r\nTo: {alice}\r\n"
                              f"Subject: thư số {i}\r\n\r\nnội dung {i}\r\n".encode())
        req = urllib.request.Request(f"http://127.0.0.1:{srv.http}/jmap/login",
                                     json.dumps({"username": alice, "password": PW}).encode(),
                                     {"Content-Type": "application/json"})
        token = json.loads(urllib.request.urlopen(req, timeout=30).read())["accessToken"]
        sreq = urllib.request.Request(f"http://127.0.0.1:{srv.http}/.well-known/jmap",
                                      headers={"Authorization": "Bearer " + token})
        session = json.loads(urllib.request.urlopen(sreq, timeout=30).read())
        if "urn:ietf:params:jmap:mail" not in session["capabilities"]:
            print("SKIP: this build has no JMAP mail methods (JMAP core alone)")
            stop_server(srv, c)
            raise SystemExit(77)

        # A push stream open while jmap-jam works: it must end on the state the methods return.
        es = socket.create_connection(("127.0.0.1", srv.http), timeout=10)
        es.sendall((f"GET /jmap/eventsource?types=*&closeafter=no&ping=0 HTTP/1.1\r\n"
                    f"Host: x\r\nAuthorization: Bearer {token}\r\n\r\n").encode())
        stream = b""
        while b": govmail push" not in stream:  # the head: the stream is subscribed
            stream += es.recv(4096)
        mods = node_modules()
        r = subprocess.run(["node", os.path.join(HERE, "jmap_mail_jam.mjs"),
                            f"http://127.0.0.1:{srv.http}/.well-known/jmap", token, bob],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, GOVMAIL_NODE_MODULES=mods))
        try:
            jam = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            jam = {}
        c.check(bool(jam), f"jmap-jam ran: {r.stdout[-800:]} {r.stderr[-2000:]}")
        c.check(jam.get("accountId") == session["primaryAccounts"].get("urn:ietf:params:jmap:mail"),
                f"primary mail account: {jam.get('accountId')}")
        c.check("inbox" in jam.get("roles", []), f"mailbox roles: {jam.get('roles')}")
        c.check(jam.get("inboxUnread") == 2, f"two unread in the inbox: {jam.get('inboxUnread')}")
        c.check(jam.get("subjects") == ["thư số 2", "thư số 1"] and
                len(jam.get("queryIds", [])) == 2,
                f"Email/query newest first + Email/get by reference: {jam.get('subjects')}")
        c.check(len(jam.get("flagUpdated", [])) == 1, f"Email/set keyword: {jam.get('flagUpdated')}")
        es.settimeout(0.2)
        deadline = time.time() + 3
        while time.time() < deadline:
            try:
                chunk = es.recv(65536)
                if not chunk:
                    break
                stream += chunk
            except socket.timeout:
                pass
        es.close()
        events = [json.loads(line[6:]) for line in stream.decode().splitlines()
                  if line.startswith("data: ") and "StateChange" in line]
        last = events[-1]["changed"][jam.get("accountId", "?")] if events else {}
        c.check(len(events) >= 1 and last.get("Email") == jam.get("finalEmailState") and
                last.get("Mailbox") == jam.get("finalMailboxState"),
                f"push saw the JMAP changes and ends on the states the methods return "
                f"({len(events)} events, last {last}, methods {jam.get('finalEmailState')} "
                f"{jam.get('finalMailboxState')})")
        im = imaplib.IMAP4("127.0.0.1", imap_port)
        im.login(alice, PW)
        im.select("INBOX")
        typ, data = im.search(None, "FLAGGED")
        flagged = data[0].split() if typ == "OK" else []
        c.check(len(flagged) == 1, f"IMAP sees the flag set through JMAP: {typ} {data}")
        typ, data = im.search(None, "SUBJECT", "\"imported by jmap-jam\"")
        c.check(jam.get("importedId") and jam.get("importedSubject") == "imported by jmap-jam" and
                typ == "OK" and len(data[0].split()) == 1,
                f"upload + Email/import, seen by IMAP: {jam.get('importedId')} {typ} {data}")
        im.logout()
        print("jam:", json.dumps(jam, ensure_ascii=False)[:1500])
        c.check(jam.get("identityEmail") == alice, f"Identity/get: {jam.get('identityEmail')}")
        c.check(jam.get("draftCreated") == ["d1"] and jam.get("submissionCreated") == ["s1"],
                f"draft + EmailSubmission/set: {jam.get('draftCreated')} "
                f"{jam.get('submissionCreated')} {jam.get('submissionNotCreated')}")
        got = []
        deadline = time.time() + 15
        while time.time() < deadline:
            got = inbox(db.url, bob)  # bob has no other mail
            if got:
                break
            time.sleep(0.3)
        c.check(len(got) == 1 and alice.encode() in got[0],
                f"bob's INBOX received the submission: {got[:1]}")
    finally:
        if srv.proc and srv.proc.poll() is None:
            stop_server(srv, c)

c.finish()
