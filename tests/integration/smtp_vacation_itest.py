#!/usr/bin/env python3
"""The vacation response on delivery (RFC 3834, JMAP VacationResponse): set through JMAP (raw
HTTP), then mail through the real SMTP ports (smtplib) to the account that is away. The reply
arrives in the local sender's INBOX (imaplib) once per sender, from the null reverse-path, with
Auto-Submitted: auto-replied, In-Reply-To/References and the response's subject; a remote
sender's reply waits in the outbound queue with an empty envelope sender. No reply for mailing-
list mail, Precedence: bulk, an automatic message, a copy by Bcc, or once the response is off."""
import base64
import email
import email.policy
import http.client
import imaplib
import json
import os
import smtplib
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, psql, stop_server  # noqa: E402
from smtp_support import DOMAIN, Server, add_account  # noqa: E402

PW = "correct horse battery"
LAN, AN, BINH, CUC, DUNG = (f"{n}@{DOMAIN}" for n in ("lan", "an", "binh", "cuc", "dung"))
SUBMISSION = "urn:ietf:params:jmap:submission"
VACATION = "urn:ietf:params:jmap:vacationresponse"
c = Checks()


def jmap(port, user, account, calls):
    auth = base64.b64encode(f"{user}:{PW}".encode()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/jmap/api", json.dumps({
        "using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", VACATION, SUBMISSION],
        "methodCalls": [[n, dict(a, accountId=account), str(i)] for i, (n, a) in enumerate(calls)]}),
        {"Authorization": "Basic " + auth, "Content-Type": "application/json"})
    body = json.loads(conn.getresponse().read())
    conn.close()
    return body["methodResponses"]


def submit(srv, user, to_header, subject, extra="", rcpt=(LAN,)):
    msg = (f"From: {user}\r\nTo: {to_header}\r\nSubject: {subject}\r\n"
           f"Message-ID: <{subject.replace(' ', '.')}@{DOMAIN}>\r\n{extra}\r\nnội dung\r\n")
    with smtplib.SMTP("127.0.0.1", srv.submission, timeout=30) as s:
        s.login(user, PW)
        s.sendmail(user, list(rcpt), msg.encode())


def jmap_send(srv, db, user, subject, to=(LAN,), bcc=()):
    """Email/set (a draft) then EmailSubmission/set, as the webmail sends; envelope from headers."""
    account = "a" + psql(db.url, f"SELECT id FROM accounts WHERE address = '{user}'")
    boxes = jmap(srv.http, user, account, [["Mailbox/get", {}], ["Identity/get", {}]])
    drafts = next(m["id"] for m in boxes[0][1]["list"] if m["role"] == "drafts")
    identity = boxes[1][1]["list"][0]["id"]
    draft = {"mailboxIds": {drafts: True}, "keywords": {"$draft": True},
             "from": [{"email": user}], "to": [{"email": a} for a in to], "subject": subject,
             "messageId": [subject.replace(" ", ".") + "@" + DOMAIN],
             "textBody": [{"partId": "1", "type": "text/plain"}],
             "bodyValues": {"1": {"value": "nội dung"}}}
    if bcc:
        draft["bcc"] = [{"email": a} for a in bcc]
    res = jmap(srv.http, user, account, [
        ["Email/set", {"create": {"m": draft}}],
        ["EmailSubmission/set", {"create": {"s": {"identityId": identity, "emailId": "#m"}}}]])
    c.check("s" in (res[1][1].get("created") or {}), f"JMAP submission of {subject!r}: {res}")


def inbox(imap_port, user):
    m = imaplib.IMAP4("127.0.0.1", imap_port)
    m.login(user, PW)
    m.select("INBOX", readonly=True)
    _, data = m.search(None, "ALL")
    out = []
    for n in data[0].split():
        _, d = m.fetch(n, "(RFC822)")
        out.append(email.message_from_bytes(d[0][1], policy=email.policy.default))
    m.logout()
    return out


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    imap = srv.listen_imap()
    try:
        srv.admin("domain", "add", DOMAIN)
        for local in ("lan", "an", "binh", "cuc", "dung"):
            add_account(srv, local, PW)
        lan_id = "a" + psql(db.url, f"SELECT id FROM accounts WHERE address = '{LAN}'")
        srv.start()
        res = jmap(srv.http, LAN, lan_id, [["VacationResponse/set", {"update": {"singleton": {
            "isEnabled": True, "subject": "Vắng mặt đến thứ Hai",
            "textBody": "Tôi đang nghỉ phép, sẽ trả lời sau."}}}]])
        c.check("singleton" in (res[0][1].get("updated") or {}), f"vacation set: {res}")

        submit(srv, AN, LAN, "Cong van 1")
        replies = inbox(imap, AN)
        c.check(len(replies) == 1, f"the sender got one reply: {[r['Subject'] for r in replies]}")
        if replies:
            r = replies[0]
            c.check(r["Subject"] == "Vắng mặt đến thứ Hai" and r["Auto-Submitted"] == "auto-replied"
                    and r["In-Reply-To"] == f"<Cong.van.1@{DOMAIN}>"
                    and f"<Cong.van.1@{DOMAIN}>" in r["References"]
                    and r["Return-Path"] == "<>" and LAN in r["From"],
                    f"reply headers: {dict(r.items())}")
            c.check("Tôi đang nghỉ phép" in r.get_body(("plain",)).get_content(), "reply text")
        submit(srv, AN, f"Lan <{LAN}>", "Cong van 2")
        c.check(len(inbox(imap, AN)) == 1, "a second message from the same sender: no reply")

        # Never answered (binh's last, ordinary message shows binh is answered otherwise).
        submit(srv, BINH, LAN, "List mail", "List-Id: <tin.example.gov.vn>\r\n")
        submit(srv, BINH, LAN, "Unsubscribe", "List-Unsubscribe: <mailto:u@x.vn>\r\n")
        submit(srv, BINH, LAN, "Bulk", "Precedence: bulk\r\n")
        submit(srv, BINH, LAN, "Automatic", "Auto-Submitted: auto-generated\r\n")
        submit(srv, BINH, f"somebody@{DOMAIN}", "Bcc copy", rcpt=(LAN,))
        c.check(inbox(imap, BINH) == [], "no reply to list, bulk, automatic or Bcc mail: "
                f"{[r['Subject'] for r in inbox(imap, BINH)]}")
        submit(srv, BINH, LAN, "Ordinary", "Auto-Submitted: no\r\n")
        got = inbox(imap, BINH)
        c.check(len(got) == 1 and got[0]["In-Reply-To"] == f"<Ordinary@{DOMAIN}>",
                f"an ordinary message is answered: {[r['In-Reply-To'] for r in got]}")

        # A remote sender through the MX: the reply is queued for the outbound side, from <>.
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
            s.sendmail("friend@example.com", [LAN],
                       f"From: friend@example.com\r\nTo: {LAN}\r\nSubject: hello\r\n"
                       f"Message-ID: <hello@example.com>\r\n\r\nhi\r\n".encode())
        queued = psql(db.url, "SELECT q.envelope_from || '|' || r.address FROM outbound_queue q "
                      "JOIN outbound_recipients r ON r.queue_id = q.id")
        c.check(queued == "|friend@example.com", f"remote reply queued from <>: {queued!r}")

        # Through JMAP EmailSubmission (the webmail's send): answered once per sender, not by Bcc.
        jmap_send(srv, db, CUC, "Jmap one")
        got = inbox(imap, CUC)
        c.check(len(got) == 1 and got[0]["In-Reply-To"] == f"<Jmap.one@{DOMAIN}>"
                and got[0]["Auto-Submitted"] == "auto-replied"
                and got[0]["Subject"] == "Vắng mặt đến thứ Hai",
                f"a JMAP submission is answered: {[dict(r.items()) for r in got]}")
        jmap_send(srv, db, CUC, "Jmap two")
        c.check(len(inbox(imap, CUC)) == 1, "a second JMAP submission from the same sender: no reply")
        jmap_send(srv, db, DUNG, "Jmap bcc", to=(AN,), bcc=(LAN,))
        c.check(inbox(imap, DUNG) == [], f"no reply to a JMAP Bcc copy: {len(inbox(imap, DUNG))}")
        jmap_send(srv, db, DUNG, "Jmap to", to=(LAN,))
        got = inbox(imap, DUNG)
        c.check(len(got) == 1 and got[0]["In-Reply-To"] == f"<Jmap.to@{DOMAIN}>",
                f"dung is answered when named in To: {[r['In-Reply-To'] for r in got]}")

        # Off: nobody is answered.
        jmap(srv.http, LAN, lan_id, [["VacationResponse/set", {"update": {"singleton": {
            "isEnabled": False}}}]])
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
            s.sendmail("other@example.com", [LAN],
                       f"From: other@example.com\r\nTo: {LAN}\r\nSubject: x\r\n\r\nx\r\n".encode())
        c.check(psql(db.url, "SELECT count(*) FROM outbound_queue") == "1",
                "no reply once the response is off")
        c.check(len(inbox(imap, LAN)) == 14, f"lan received all 14 messages: {len(inbox(imap, LAN))}")
    finally:
        stop_server(srv, c)
c.finish()
