#!/usr/bin/python3
"""Postfix from Debian as a live remote peer (a private instance, tests/integration/
postfix_support.py) exchanging mail with govmail through MX lookup on a DNS server on loopback:
(a) govmail -> Postfix over STARTTLS, byte-exact in Postfix's Maildir, DKIM-signed and verified by
dkimpy; (b) Postfix refuses an unknown user (550) -> a delivery report in the sender's INBOX, read
over IMAP; (c) Postfix answers 450 until its access map is changed (postmap, postfix reload) ->
deferred, then delivered exactly once; (d) Postfix -> govmail: mail injected with Postfix's
sendmail lands in the INBOX with govmail's Authentication-Results. Runs under Debian's
/usr/bin/python3 (python3-dkim, python3-dnspython); needs root for Postfix."""
import email
import email.policy
import imaplib
import os
import re
import smtplib
import ssl
import sys
import time

import dkim
import dns.resolver

sys.path.insert(0, os.path.dirname(__file__))
from dns_support import UnboundServer  # noqa: E402
from postfix_support import PostfixServer  # noqa: E402
from support import Checks, FreshDatabase, free_port, stop_server  # noqa: E402
from smtp_support import Server, add_account  # noqa: E402

c = Checks()
PORT = free_port()  # govmail's MX on 127.0.0.2, Postfix on 127.0.0.5: both on this port
GOV, PF = "so.gov.vn", "bo.gov.vn"
SENDER = f"vanthu@{GOV}"
PASSWORD = "mat khau dai du 2026"


def txt_value(generate_output):
    m = re.search(r'^(\S+)\. IN TXT "(.*)"$', generate_output, re.M)
    assert m, generate_output
    return m.group(1), m.group(2)


def txt_record(owner, value):
    parts = " ".join('"%s"' % value[i:i + 255] for i in range(0, len(value), 255))
    return f"{owner}. TXT {parts}"


def message(sender, rcpt, subject, text):
    return (f"From: Văn thư <{sender}>\r\nTo: {rcpt}\r\nSubject: {subject}\r\n"
            f"Date: Fri, 04 Dec 2026 08:00:00 +0700\r\nMessage-ID: <{subject}@{GOV}>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n" + text).encode()


def submit(srv, rcpt, subject, text):
    """Submits on govmail's submission port; the bytes sent."""
    raw = message(SENDER, rcpt, subject, text)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP_SSL("127.0.0.1", srv.submissions, context=ctx, timeout=30) as s:
        s.login(SENDER, PASSWORD)
        refused = s.sendmail(SENDER, [rcpt], raw)
        c.check(refused == {}, f"{subject}: submission accepted")
    return raw


def wait(pred, timeout=40):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.2)
    return None


def crlf(maildir_bytes):
    """A Maildir file (LF line ends, as Postfix stores mail) as it went over SMTP (CRLF)."""
    return maildir_bytes.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def imap_inbox(port, user):
    """Every message in the INBOX, read with imaplib (the user's own client view)."""
    with imaplib.IMAP4("127.0.0.1", port) as m:
        m.login(user, PASSWORD)
        m.select("INBOX", readonly=True)
        _, data = m.uid("SEARCH", None, "ALL")
        out = []
        for uid in data[0].split():
            _, parts = m.uid("FETCH", uid, "(BODY.PEEK[])")
            out.append(parts[0][1])
        return out


def dkim_verify(raw, dns_port):
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = ["127.0.0.1"]
    res.port = dns_port

    def dnsfunc(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        return b"".join(b"".join(r.strings) for r in res.resolve(name, "TXT", lifetime=timeout))

    return dkim.verify(raw, dnsfunc=dnsfunc)


def queue_recipient(srv, address):
    """The `govmail queue show` line of a remote recipient ("" when not queued)."""
    listing = srv.admin("queue", "list", "--all")
    for qid in re.findall(r"^(\d+)\t", listing, re.M):
        for line in srv.admin("queue", "show", qid).splitlines():
            if line.startswith(f"recipient: <{address}>"):
                return line
    return ""


with FreshDatabase() as db:
    srv = Server(db.url, domain=GOV, smtp_host="127.0.0.2", smtp_port=PORT,
                 smtp_extra="check_authentication = true", allow_plaintext=True)
    try:
        srv.admin("domain", "add", GOV)
        add_account(srv, "vanthu", PASSWORD)
        add_account(srv, "giamdoc", PASSWORD)
        srv.outbound = (f'enabled = true\nresolvers = ["127.0.0.1@{{dns}}"]\nsmtp_port = {PORT}\n'
                        "retry_min = 1\nretry_max = 2\npoll_interval = 200\nconnection_idle = 300\n")
        srv.write(True)
        gen = srv.admin("dkim", "generate", GOV, "--selector", "pf2026")
        records = [
            f"{GOV}. MX 10 mx.{GOV}.", f"mx.{GOV}. A 127.0.0.2",
            f"{PF}. MX 10 mx.{PF}.", f"mx.{PF}. A 127.0.0.5",
            txt_record(*txt_value(gen)),
            f'{GOV}. TXT "v=spf1 ip4:127.0.0.0/8 -all"', f'_dmarc.{GOV}. TXT "v=DMARC1; p=reject"',
            f'{PF}. TXT "v=spf1 ip4:127.0.0.5 -all"', f'_dmarc.{PF}. TXT "v=DMARC1; p=reject"',
        ]
        with UnboundServer(records, ("gov.vn.",)) as dns_server, PostfixServer(
                "127.0.0.5", PORT, PF, ["chanh", "later"],
                transports={GOV: f"smtp:[127.0.0.2]:{PORT}"},
                access={f"later@{PF}": "450 4.2.0 Mailbox busy, try again later"}) as pf:
            srv.outbound = srv.outbound.replace("{dns}", str(dns_server.port))
            srv.write(True)
            imap_port = srv.listen_imap()
            srv.start()

            # (a) govmail -> Postfix: MX lookup, STARTTLS, byte-exact, DKIM verified by dkimpy.
            text = ("Kính gửi Bộ,\r\nCông văn số 77/UBND-VP về việc báo cáo.\r\n"
                    ".dòng bắt đầu bằng dấu chấm\r\n\r\nTrân trọng.\r\n")
            sent = submit(srv, f"chanh@{PF}", "to-postfix", text)
            got = wait(lambda: pf.maildir("chanh"))
            c.check(got is not None and len(got) == 1, "delivered to Postfix's Maildir")
            if got:
                raw = crlf(got[0])
                c.check(raw.endswith(sent), "the submitted message arrived byte-exact (its end)")
                c.check(raw.count(b"DKIM-Signature:") == 1 and b"d=so.gov.vn" in raw
                        and b"s=pf2026" in raw, "one DKIM-Signature, d=so.gov.vn s=pf2026")
                c.check(dkim_verify(raw, dns_server.port), "dkimpy verifies govmail's signature")
                c.check(not dkim_verify(raw.replace("77/UBND".encode(), "78/UBND".encode()),
                                        dns_server.port), "dkimpy refuses an altered body")
                received = re.search(rb"Received: from \S+ \(\S+ \[127\.0\.0\.\d+\]\)\r\n(.*?)\r\n(?![ \t])",
                                     raw, re.S)
                c.check(received is not None and re.search(rb"with (ESMTPS|UTF8SMTPS) id", received.group(0))
                        and b"(using TLSv1" in received.group(0),
                        f"Postfix received it over TLS: {received.group(0)[:300] if received else raw[:300]}")
                c.check(b"Return-Path: <vanthu@so.gov.vn>" in raw, "envelope sender kept")
            c.check("TLS connection established from" in pf.log(), "Postfix logged the STARTTLS")

            # (b) Postfix refuses an unknown user: the sender gets a report in the INBOX.
            submit(srv, f"khongco@{PF}", "to-unknown", "Gửi nhầm địa chỉ.\r\n")

            def failure_report():
                for raw in imap_inbox(imap_port, SENDER):
                    msg = email.message_from_bytes(raw, policy=email.policy.default)
                    if msg.get_content_type() == "multipart/report" and b"khongco@" in raw:
                        return msg, raw
                return None
            report = wait(failure_report)
            c.check(report is not None, "a delivery report reached the sender's INBOX (IMAP)")
            if report:
                msg, raw = report
                c.check(msg.get_param("report-type") == "delivery-status", "report-type=delivery-status")
                status = [p for p in msg.iter_parts() if p.get_content_type() == "message/delivery-status"]
                st = status[0].as_string() if status else ""
                c.check("Action: failed" in st and "Status: 5.1.1" in st
                        and f"rfc822;khongco@{PF}" in st.replace(" ", ""),
                        f"delivery-status: failed 5.1.1 for the recipient: {st}")
                c.check("550 5.1.1" in st and "User unknown in virtual mailbox table" in st,
                        f"Postfix's own reply is quoted: {st}")
                body = msg.get_body(preferencelist=("plain",)).get_content()
                c.check("KHÔNG gửi được" in body and "could NOT be delivered" in body,
                        "readable text in Vietnamese and English")
                c.check(b"Subject: to-unknown" in raw, "the report carries the original headers")
            c.check(pf.maildir("khongco") == [], "nothing delivered for the unknown user")

            # (c) 450 from Postfix: deferred; once the access map says OK, delivered once.
            submit(srv, f"later@{PF}", "to-later", "Gửi lại sau.\r\n")
            deferred = wait(lambda: "status: deferred" in (line := queue_recipient(srv, f"later@{PF}"))
                            and line)
            c.check(deferred is not None and "450 4.2.0" in deferred and "try again later" in deferred,
                    f"deferred with Postfix's 450: {deferred}")
            c.check("450 4.2.0 <later@bo.gov.vn>" in pf.log(), "Postfix logged its 450")
            c.check(pf.maildir("later") == [], "nothing delivered while Postfix says 450")
            pf.write_access({f"later@{PF}": "OK"})
            got = wait(lambda: pf.maildir("later"))
            c.check(got is not None and len(got) == 1 and b"Subject: to-later" in got[0],
                    "delivered on a retry after postmap + postfix reload")
            time.sleep(3)  # any second copy would arrive now (retries every 1-2 s)
            c.check(len(pf.maildir("later")) == 1, "delivered exactly once")
            line = queue_recipient(srv, f"later@{PF}")
            m = re.search(r"attempts: (\d+)", line)
            c.check("status: delivered" in line and m and int(m.group(1)) >= 2,
                    f"recorded delivered after more than one attempt: {line}")

            # (d) Postfix -> govmail: injected with Postfix's sendmail, relayed by its transport
            # map to govmail's MX, checked there (SPF of bo.gov.vn names 127.0.0.5).
            inbound = (f"From: Chánh văn phòng <chanh@{PF}>\nTo: giamdoc@{GOV}\n"
                       f"Subject: from-postfix\nDate: Fri, 04 Dec 2026 09:00:00 +0700\n"
                       f"Message-ID: <from-postfix@{PF}>\nMIME-Version: 1.0\n"
                       "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
                       "Bộ trả lời công văn số 77.\n.dòng chấm\n").encode()
            pf.sendmail(f"chanh@{PF}", [f"giamdoc@{GOV}"], inbound)

            def arrived():
                for raw in imap_inbox(imap_port, f"giamdoc@{GOV}"):
                    if b"Subject: from-postfix\r\n" in raw:
                        return raw
                return None
            raw = wait(arrived)
            c.check(raw is not None, "Postfix -> govmail: in the INBOX (IMAP)")
            if raw:
                if os.environ.get("GOVMAIL_IT_SHOW"):
                    print(raw.decode("utf-8", "replace"))
                c.check(raw.endswith("\r\n\r\nBộ trả lời công văn số 77.\r\n.dòng chấm\r\n".encode()),
                        "body byte-exact, dot line kept")
                pf_received = b"Received: by mx.bo.gov.vn (Postfix, from userid 0)"
                c.check(pf_received in raw, "Postfix's Received field (pickup) is there")
                ar = re.search(rb"Authentication-Results: mail\.so\.gov\.vn;(.*?)\r\n(?![ \t])", raw, re.S)
                res = ar.group(1).decode() if ar else ""
                c.check("spf=pass" in res and "smtp.mailfrom=bo.gov.vn" in res, f"spf=pass: {res}")
                c.check("dkim=none" in res, f"dkim=none (Postfix does not sign): {res}")
                c.check("dmarc=pass" in res and "header.from=bo.gov.vn" in res, f"dmarc=pass: {res}")
                c.check(ar is not None and pf_received in raw
                        and raw.index(b"Authentication-Results: mail.so.gov.vn") < raw.index(pf_received),
                        "Authentication-Results above the fields the message came with")
            c.check(wait(lambda: "TLS connection established to 127.0.0.2" in pf.log(), 10),
                    "Postfix used STARTTLS to govmail's MX")
            c.check(wait(pf.queue_empty, 10), "Postfix's queue is empty at the end")
    finally:
        stop_server(srv, c)
c.finish()
