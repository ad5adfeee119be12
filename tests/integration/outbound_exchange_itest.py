#!/usr/bin/python3
"""Two provinces, two govmail instances with their own databases, exchange official mail through
MX lookup on a DNS server on loopback: each signs with its DKIM key (RSA 2048 for one, Ed25519
for the other) and the signatures are verified by an independent implementation, dkimpy (Debian
python3-dkim), against the TXT records `govmail admin dkim generate` printed and the DNS server
publishes. Runs under Debian's /usr/bin/python3, which has python3-dkim and python3-dnspython."""
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
from support import Checks, FreshDatabase, free_port, psql, stop_server  # noqa: E402
from smtp_support import Server, add_account, inbox  # noqa: E402

c = Checks()
PORT = free_port()
PASSWORD = "mat khau dai du 2026"
HANOI, HUE = "hanoi.gov.vn", "hue.gov.vn"


def txt_value(generate_output):
    """The quoted TXT value from `govmail admin dkim generate` output, and its owner name."""
    m = re.search(r'^(\S+)\. IN TXT "(.*)"$', generate_output, re.M)
    assert m, generate_output
    return m.group(1), m.group(2)


def txt_record(owner, value):
    """unbound local-data for a TXT value of any length (character-strings of <= 255)."""
    parts = " ".join('"%s"' % value[i:i + 255] for i in range(0, len(value), 255))
    return f"{owner}. TXT {parts}"


def submit(srv, sender, rcpts, subject, body_text):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    body = (f"From: {sender}\r\nTo: {', '.join(rcpts)}\r\nSubject: {subject}\r\n"
            f"Date: Thu, 03 Dec 2026 08:00:00 +0700\r\nMessage-ID: <{subject}@x>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n" + body_text).encode()
    with smtplib.SMTP_SSL("127.0.0.1", srv.submissions, context=ctx, timeout=30) as s:
        s.login(sender, PASSWORD)
        s.sendmail(sender, rcpts, body)


def wait_inbox(db_url, address, subject, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for raw in inbox(db_url, address):
            if f"Subject: {subject}\r\n".encode() in raw:
                return raw
        time.sleep(0.2)
    return None


def dkim_verify(raw, dns_port):
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = ["127.0.0.1"]
    res.port = dns_port

    def dnsfunc(name, timeout=5):
        name = name.decode() if isinstance(name, bytes) else name
        answer = res.resolve(name, "TXT", lifetime=timeout)
        return b"".join(b"".join(r.strings) for r in answer)

    return dkim.verify(raw, dnsfunc=dnsfunc)


with FreshDatabase() as db_a, FreshDatabase() as db_b:
    outbound = "enabled = true\nresolvers = [\"127.0.0.1@{dns}\"]\nsmtp_port = %d\n" \
        "retry_min = 1\nretry_max = 2\npoll_interval = 200\nconnection_idle = 300\n" % PORT
    checks = "check_authentication = true"
    a = Server(db_a.url, domain=HANOI, smtp_host="127.0.0.2", smtp_port=PORT, smtp_extra=checks)
    b = Server(db_b.url, domain=HUE, smtp_host="127.0.0.3", smtp_port=PORT, smtp_extra=checks)
    try:
        for srv, alg in ((a, "rsa"), (b, "ed25519")):
            srv.admin("domain", "add", srv.domain)
            add_account(srv, "vanthu", PASSWORD)
            add_account(srv, "giamdoc", PASSWORD)
        gen_a = a.admin("dkim", "generate", HANOI, "--algorithm", "rsa", "--selector", "s2026")
        gen_b = b.admin("dkim", "generate", HUE, "--algorithm", "ed25519")
        c.check("k=rsa" in gen_a and "k=ed25519" in gen_b, "TXT records printed")
        listed = a.admin("dkim", "list")
        c.check("s2026" in listed and "active" in listed, f"dkim list: {listed}")
        records = [
            f"{HANOI}. MX 10 mx.{HANOI}.", f"mx.{HANOI}. A 127.0.0.2",
            f"{HUE}. MX 10 mx.{HUE}.", f"mx.{HUE}. A 127.0.0.3",
            txt_record(*txt_value(gen_a)), txt_record(*txt_value(gen_b)),
            f'{HANOI}. TXT "v=spf1 ip4:127.0.0.0/8 -all"', f'{HUE}. TXT "v=spf1 ip4:127.0.0.0/8 -all"',
            f'_dmarc.{HANOI}. TXT "v=DMARC1; p=reject"', f'_dmarc.{HUE}. TXT "v=DMARC1; p=reject"',
            '_dmarc.quar.gov.vn. TXT "v=DMARC1; p=quarantine"', 'quar.gov.vn. A 127.0.0.9',
            'evil.gov.vn. TXT "v=spf1 +all"',
        ]
        with UnboundServer(records, ("gov.vn.",)) as dns_server:
            for srv in (a, b):
                srv.outbound = outbound.replace("{dns}", str(dns_server.port))
                srv.write(False)
                srv.start()
            text = "Kính gửi đồng chí Giám đốc,\r\nCông văn số 45/UBND-VP.\r\n.dòng bắt đầu bằng dấu chấm\r\n"
            submit(a, f"vanthu@{HANOI}", [f"giamdoc@{HUE}", f"giamdoc@{HANOI}"], "hn-to-hue", text)
            submit(b, f"vanthu@{HUE}", [f"giamdoc@{HANOI}"], "hue-to-hn", text)
            got_b = wait_inbox(db_b.url, f"giamdoc@{HUE}", "hn-to-hue")
            got_a = wait_inbox(db_a.url, f"giamdoc@{HANOI}", "hue-to-hn")
            local = wait_inbox(db_a.url, f"giamdoc@{HANOI}", "hn-to-hue", 5)
            c.check(got_b is not None, "Hà Nội -> Huế delivered through MX lookup")
            c.check(got_a is not None, "Huế -> Hà Nội delivered through MX lookup")
            c.check(local is not None and b"DKIM-Signature" not in local,
                    "the local recipient got it directly, unsigned")
            for raw, who in ((got_b, "rsa-sha256 from Hà Nội"), (got_a, "ed25519-sha256 from Huế")):
                if raw is None:
                    continue
                c.check(raw.count(b"DKIM-Signature:") == 1, f"{who}: one DKIM-Signature")
                c.check(text.encode() in raw, f"{who}: body byte-exact, dot line kept")
                c.check(dkim_verify(raw, dns_server.port), f"{who}: dkimpy verifies the signature")
                tampered = raw.replace("Công văn số 45".encode(), "Công văn số 46".encode())
                c.check(not dkim_verify(tampered, dns_server.port),
                        f"{who}: dkimpy refuses an altered body")
            # What the receiving province wrote: every check passes, both ways.
            for raw, them, us in ((got_b, HANOI, HUE), (got_a, HUE, HANOI)):
                ar = re.search(rb"Authentication-Results: mail\." + us.encode() + rb";(.*?)\r\n(?![ \t])",
                               raw or b"", re.S)
                text = ar.group(1).decode() if ar else ""
                c.check("dkim=pass" in text and f"header.d={them}" in text,
                        f"{us} verified {them}'s DKIM: {text}")
                c.check("spf=pass" in text and f"smtp.mailfrom={them}" in text, f"{us}: spf=pass")
                c.check("dmarc=pass" in text and f"header.from={them}" in text, f"{us}: dmarc=pass")

            # Forgeries arriving at Huế's MX from outside.
            def to_mx(mail_from, from_hdr, subject, extra=""):
                msg = (f"From: {from_hdr}\r\nTo: giamdoc@{HUE}\r\nSubject: {subject}\r\n{extra}"
                       "\r\nGiả mạo.\r\n").encode()
                with smtplib.SMTP("127.0.0.3", PORT, timeout=30) as s:
                    s.ehlo("forger.example")
                    try:
                        s.sendmail(mail_from, [f"giamdoc@{HUE}"], msg)
                        return 250, ""
                    except smtplib.SMTPDataError as e:
                        return e.smtp_code, e.smtp_error.decode()
            code, why = to_mx("attacker@evil.gov.vn", f"Giám đốc <giamdoc@{HANOI}>", "forged-ministry")
            c.check(code == 550 and "DMARC" in why and HANOI in why,
                    f"a forged {HANOI} message is refused by its p=reject: {code} {why}")
            code, _ = to_mx("attacker@evil.gov.vn", "x@quar.gov.vn", "quarantined")
            c.check(code == 250, "a p=quarantine failure is accepted")
            boxes = psql(db_b.url, "SELECT m.name FROM mailbox_entries e JOIN mailboxes m ON"
                         " m.id = e.mailbox_id JOIN messages g ON g.id = e.message_id"
                         " WHERE g.subject = 'quarantined'")
            c.check(boxes == "Junk", f"...and put in Junk: {boxes!r}")
            code, _ = to_mx("someone@evil.gov.vn", "someone@evil.gov.vn", "preset-results",
                            f"Authentication-Results: mail.{HUE}; dkim=pass header.d={HANOI}\r\n"
                            f"Authentication-Results: other.example; spf=pass\r\n")
            preset = wait_inbox(db_b.url, f"giamdoc@{HUE}", "preset-results", 10)
            c.check(preset is not None and preset.count(f"Authentication-Results: mail.{HUE};".encode()) == 1
                    and f"dkim=pass header.d={HANOI}".encode() not in preset,
                    "a forged Authentication-Results of ours is removed, ours written")
            c.check(preset is not None and b"Authentication-Results: other.example; spf=pass" in preset,
                    "another server's Authentication-Results is kept")

            c.check(got_b is not None and b"a=rsa-sha256" in got_b and b"d=hanoi.gov.vn" in got_b,
                    "Hà Nội signs rsa-sha256 d=hanoi.gov.vn")
            c.check(got_a is not None and b"a=ed25519-sha256" in got_a,
                    "Huế signs ed25519-sha256")
    finally:
        stop_server(a, c)
        stop_server(b, c)
c.finish()
