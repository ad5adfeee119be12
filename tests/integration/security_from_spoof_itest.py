#!/usr/bin/env python3
"""Issue 11, header From spoofing: a message from outside (MX, no AUTH) whose From, Sender or
Reply-To names one of our domains in any form RFC 5322 allows or a client shows (space after the
@, folded, comments, quoted local part, obsolete dotted syntax, group, an address inside an encoded
display name, upper case and trailing dot, full-width letters, the U-label of an IDN domain, a
field that does not parse, a second From) is refused with 550; legitimate outside forms are still
accepted and delivered; an authenticated user cannot use these forms to send as another local
user."""
import os
import smtplib
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, stop_server  # noqa: E402
from smtp_support import DOMAIN, Server, add_account, inbox  # noqa: E402

c = Checks()
PW = "correct horse battery"
AN, BINH = f"an@{DOMAIN}", f"binh@{DOMAIN}"
IDN = "b\u1ed9-t\u01b0-ph\u00e1p.gov.vn"  # a second local domain, stored as its A-label
IDN_ASCII = IDN.encode("idna").decode()

# Header lines naming a local domain, each sent from outside: all must be refused.
SPOOFS = [
    ("space after @", f"From: boss@ {DOMAIN}"),
    ("folded address", f"From: Boss <boss@\r\n {DOMAIN}>"),
    ("obsolete dotted", "From: boss @ example . gov . vn"),
    ("comment inside", f"From: boss@(ban giam doc){DOMAIN}"),
    ("comment in domain", "From: boss@example(x).gov.vn"),
    ("quoted local part", f'From: "boss" @ {DOMAIN}'),
    ("group", f"From: Team: a@other.vn, boss@ {DOMAIN};"),
    ("route", f"From: <@relay.other.vn:boss@{DOMAIN}>"),
    ("encoded display name", "From: =?UTF-8?Q?boss=40example=2Egov=2Evn?= <x@other.vn>"),
    ("full-width @ in encoded name", "From: =?UTF-8?B?Ym9zc++8oGV4YW1wbGUuZ292LnZu?= <x@other.vn>"),
    ("plain display name", f'From: "boss@{DOMAIN}" <x@other.vn>'),
    ("comment display name", f"From: x@other.vn (boss@{DOMAIN})"),
    ("comment after name-addr", f"From: X <x@other.vn> (boss@{DOMAIN})"),
    ("upper case trailing dot", "From: boss@EXAMPLE.GOV.VN."),
    ("full-width letter", "From: boss@\uff45xample.gov.vn"),
    ("IDN U-label", f"From: boss@{IDN}"),
    ("IDN A-label upper case", f"From: boss@{IDN_ASCII.upper()}"),
    ("ideographic full stops", "From: boss@example\u3002gov\u3002vn"),
    ("unparseable, two @", f"From: boss@{DOMAIN}@other.vn"),
    ("unparseable, unclosed quote", f'From: "boss@{DOMAIN}'),
    ("second From", "From: x@other.vn\r\nFrom: y@other.vn"),
    ("Sender", f"From: x@other.vn\r\nSender: boss@{DOMAIN}"),
    ("Sender spaced", f"From: x@other.vn\r\nSender: boss @{DOMAIN}"),
    ("Reply-To", f"From: x@other.vn\r\nReply-To: boss@{DOMAIN}"),
    ("Reply-To display",  # "boss@example.gov.vn" in base64
     "From: x@other.vn\r\nReply-To: =?utf-8?b?Ym9zc0BleGFtcGxlLmdvdi52bg==?= <x@other.vn>"),
]

# Outside senders as real mail writes them: accepted and delivered.
LEGIT = [
    ("8-bit name", "From: Tr\u1ea7n V\u0103n Ba <ba@other.gov.vn>"),
    ("encoded name", "From: =?UTF-8?B?VHLhuqduIFbEg24gQmE=?= <ba@other.gov.vn>"),
    ("quoted name and comment", 'From: "Nguyen, A" <a@other.vn> (work)'),
    ("obsolete phrase", "From: Joe Q. Public <john.q.public@other.vn>"),
    ("group", "From: Team: a@other.vn, b@other.vn;"),
    ("list with Sender and Reply-To",
     "From: a@other.vn\r\nSender: list@lists.other.vn\r\nReply-To: l@lists.other.vn"),
    ("display name with outside address", 'From: "a@other.vn" <a@other.vn>'),
]


def message(header_lines, n):
    return (f"{header_lines}\r\nTo: {BINH}\r\nSubject: case {n}\r\n"
            f"Message-ID: <case{n}@other.vn>\r\n\r\nbody {n}\r\n").encode()


def send(port, mail_from, raw, login=None):
    """The final reply code of one transaction (250 when accepted)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        if login:
            s.login(login, PW)
        try:
            s.sendmail(mail_from, [BINH], raw)
            return 250, ""
        except smtplib.SMTPDataError as e:
            return e.smtp_code, e.smtp_error.decode(errors="replace")


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    srv.admin("domain", "add", DOMAIN)
    srv.admin("domain", "add", IDN_ASCII)
    for name in ("an", "binh"):
        add_account(srv, name, PW)
    srv.start()
    try:
        n = 0
        for what, lines in SPOOFS:
            n += 1
            before = len(inbox(db.url, BINH))
            code, text = send(srv.smtp, "x@other.vn", message(lines, n))
            c.check(code == 550, f"MX spoof '{what}': {code} {text}")
            c.check(len(inbox(db.url, BINH)) == before, f"MX spoof '{what}': not delivered")
        for what, lines in LEGIT:
            n += 1
            code, text = send(srv.smtp, "x@other.vn", message(lines, n))
            c.check(code == 250, f"MX legitimate '{what}': {code} {text}")
            delivered = [m for m in inbox(db.url, BINH) if f"body {n}\r\n".encode() in m]
            c.check(len(delivered) == 1, f"MX legitimate '{what}': delivered")

        # Each named domain is a lookup: more than limits.smtp_sender_domains_max (32) is refused.
        n += 1
        many = ", ".join(f"r@d{i}.other.vn" for i in range(33))
        raw = message(f"From: x@other.vn\r\nReply-To: {many}", n)
        code, text = send(srv.smtp, "x@other.vn", raw)
        c.check(code == 550 and "smtp_sender_domains_max" in text,
                f"too many domains: {code} {text}")

        # The envelope sender is compared in the same normalised form.
        for sender in ("boss@EXAMPLE.GOV.VN.", "boss@example.gov.vn."):
            with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
                s.ehlo("x")
                code, text = s.mail(sender)
            c.check(code == 553, f"MX MAIL FROM:<{sender}>: {code} {text}")

        # Submission: an cannot present itself as binh in any of these forms.
        for what, lines in [("space after @", f"From: binh@ {DOMAIN}"),
                            ("obsolete dotted", "From: binh @ example . gov . vn"),
                            ("group", f"From: Team: {AN}, binh@ {DOMAIN};"),
                            ("Sender", f"From: {AN}\r\nSender: {BINH}"),
                            ("second From", f"From: {AN}\r\nFrom: {BINH}"),
                            ("unparseable", f"From: {AN}@other.vn")]:
            n += 1
            code, text = send(srv.submission, AN, message(lines, n), login=AN)
            c.check(code == 550, f"submission spoof '{what}': {code} {text}")
        for what, lines in [("own address", f"From: An <{AN}>"),
                            ("own address, obsolete spacing", f"From: An <an @ {DOMAIN}>"),
                            ("own address and Reply-To elsewhere",
                             f"From: {AN}\r\nReply-To: someone@other.vn")]:
            n += 1
            code, text = send(srv.submission, AN, message(lines, n), login=AN)
            c.check(code == 250, f"submission own '{what}': {code} {text}")
        c.check("refused unauthenticated From: naming local domain example.gov.vn" in srv.log(),
                "refusals logged with the field and the domain")
    finally:
        stop_server(srv, c)
c.finish()
