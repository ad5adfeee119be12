#!/usr/bin/python3
"""SPF (RFC 7208) checked twice over the same test zone on a DNS server on loopback (unbound):
by govmail's MX, through the spf= result of the Authentication-Results field it writes on each
message, and by an independent implementation, Debian's pyspf (python3-spf). For every case the
two must agree, and agree with the result RFC 7208 gives (written in the table), so that two
implementations wrong in the same way, or a DNS set-up that fails every lookup, cannot pass.
Runs under Debian's /usr/bin/python3, which has python3-spf and python3-dnspython."""
import os
import re
import smtplib
import sys

import dns.resolver
import spf

sys.path.insert(0, os.path.dirname(__file__))
from dns_support import UnboundServer  # noqa: E402
from support import Checks, FreshDatabase, free_port, stop_server  # noqa: E402
from smtp_support import Server, add_account, inbox  # noqa: E402

c = Checks()
DOMAIN = "so.gov.vn"
RCPT = f"nhan@{DOMAIN}"
PORT = free_port()
HELO = "client.example.vn"
MANY = " ".join(["a:h.spf.vn"] * 11)
TEN = " ".join(["a:h.spf.vn"] * 10)

RECORDS = [
    'pass.spf.vn. TXT "v=spf1 ip4:127.0.0.0/24 -all"',
    'fail.spf.vn. TXT "v=spf1 ip4:192.0.2.0/24 -all"',
    'soft.spf.vn. TXT "v=spf1 ip4:192.0.2.1 ~all"',
    'neutral.spf.vn. TXT "v=spf1 ?all"',
    'norecord.spf.vn. A 127.0.0.10',
    'other.spf.vn. TXT "not an spf record"',
    'upper.spf.vn. TXT "V=SPF1 IP4:127.0.0.10 -ALL"',
    'twice.spf.vn. TXT "v=spf1 -all"', 'twice.spf.vn. TXT "v=spf1 +all"',
    'syntax.spf.vn. TXT "v=spf1 ip4:300.1.1.1 -all"',
    'unknown.spf.vn. TXT "v=spf1 frobnicate -all"',
    'modifier.spf.vn. TXT "v=spf1 foo=bar ip4:127.0.0.10 -all"',
    'empty.spf.vn. TXT "v=spf1"',
    'plusall.spf.vn. TXT "v=spf1 +all"',
    'exp.spf.vn. TXT "v=spf1 -all exp=explain.spf.vn"', 'explain.spf.vn. TXT "Not from %{d}"',
    'cidr33.spf.vn. TXT "v=spf1 ip4:127.0.0.10/33 -all"',
    f'{HELO}. TXT "v=spf1 ip4:127.0.0.10 -all"',
    'split.spf.vn. TXT "v=spf1 ip4:127.0.0.10" " -all"',  # character-strings joined as they are
    'spf10.spf.vn. TXT "v=spf10 +all"',
    'minus.spf.vn. TXT "v=spf1 -ip4:127.0.0.10 +all"',
    'spaces.spf.vn. TXT "v=spf1  ip4:192.0.2.1   ip4:127.0.0.10  -all"',
    'incneutral.spf.vn. TXT "v=spf1 include:neutral.spf.vn -all"',
    'mxnone.spf.vn. TXT "v=spf1 mx ip4:127.0.0.10 -all"',
    # include and redirect
    'inc.spf.vn. TXT "v=spf1 include:pass.spf.vn -all"',
    'incfail.spf.vn. TXT "v=spf1 include:fail.spf.vn ~all"',
    'incnone.spf.vn. TXT "v=spf1 include:norecord.spf.vn -all"',
    'redir.spf.vn. TXT "v=spf1 redirect=fail.spf.vn"',
    'redirpass.spf.vn. TXT "v=spf1 ip4:192.0.2.9 redirect=pass.spf.vn"',
    'redirnone.spf.vn. TXT "v=spf1 redirect=norecord.spf.vn"',
    'redirall.spf.vn. TXT "v=spf1 -all redirect=pass.spf.vn"',
    # a, mx, ip4, ip6
    'a.spf.vn. TXT "v=spf1 a -all"', 'a.spf.vn. A 127.0.0.11',
    'acidr.spf.vn. TXT "v=spf1 a:host.spf.vn/30 -all"', 'host.spf.vn. A 127.0.0.8',
    'mx.spf.vn. TXT "v=spf1 mx -all"', 'mx.spf.vn. MX 10 mail1.spf.vn.',
    'mx.spf.vn. MX 20 mail2.spf.vn.', 'mail1.spf.vn. A 192.0.2.5', 'mail2.spf.vn. A 127.0.0.13',
    'mxcidr.spf.vn. TXT "v=spf1 mx:mx.spf.vn/24 -all"',
    'ip6.spf.vn. TXT "v=spf1 ip6:::1 -all"',
    'ip6net.spf.vn. TXT "v=spf1 ip6:2001:db8::/32 ip4:127.0.0.10 -all"',
    'aaaa.spf.vn. TXT "v=spf1 a/24//128 -all"', 'aaaa.spf.vn. AAAA ::1',
    # macros (RFC 7208 7)
    'mac1.spf.vn. TXT "v=spf1 exists:%{ir}._ip.%{d} -all"', '10.0.0.127._ip.mac1.spf.vn. A 127.0.0.2',
    'mac2.spf.vn. TXT "v=spf1 exists:%{l1r-}.%{o}._u.spf.vn -all"',
    'first.mac2.spf.vn._u.spf.vn. A 127.0.0.2',
    'mac3.spf.vn. TXT "v=spf1 exists:%{h}._h.spf.vn -all"', f'{HELO}._h.spf.vn. A 127.0.0.2',
    'mac4.spf.vn. TXT "v=spf1 include:%{d2} -all"', 'spf.vn. TXT "v=spf1 ip4:127.0.0.10 -all"',
    'mac6.spf.vn. TXT "v=spf1 exists:%{i}._i6.spf.vn -all"',
    '0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1._i6.spf.vn. A 127.0.0.2',
    'mac5.spf.vn. TXT "v=spf1 exists:%{v}.%{d1r}._v.spf.vn -all"',
    'in-addr.mac5._v.spf.vn. A 127.0.0.2',
    # void lookups and the lookup limit (RFC 7208 4.6.4)
    'void2.spf.vn. TXT "v=spf1 a:nx1.spf.vn a:nx2.spf.vn ip4:127.0.0.0/24 -all"',
    'void3.spf.vn. TXT "v=spf1 a:nx1.spf.vn a:nx2.spf.vn a:nx3.spf.vn ip4:127.0.0.0/24 -all"',
    'voidex.spf.vn. TXT "v=spf1 exists:nx1.spf.vn exists:nx2.spf.vn exists:nx3.spf.vn +all"',
    'h.spf.vn. A 192.0.2.7',
    'mx11.spf.vn. TXT "v=spf1 mx ip4:127.0.0.0/24 -all"',
    *[f'mx11.spf.vn. MX {i} m{i}.spf.vn.' for i in range(11)],
    *[f'm{i}.spf.vn. A 192.0.2.{i + 20}' for i in range(11)],
    f'ten.spf.vn. TXT "v=spf1 {TEN} ip4:127.0.0.0/24 -all"',
    f'many.spf.vn. TXT "v=spf1 {MANY} ip4:127.0.0.0/24 -all"',
    'loop.spf.vn. TXT "v=spf1 include:loop.spf.vn -all"',
    # temporary DNS failures: the zone below answers REFUSED
    'inctemp.spf.vn. TXT "v=spf1 include:temp.spf.vn -all"',
]
ZONES = ("vn.", ("temp.spf.vn.", "refuse"))

# (client address, MAIL FROM, the RFC 7208 result). Temporary failures come last: a resolver may
# hold a server that refused for a while against later queries.
CASES = [
    ("127.0.0.10", "a@pass.spf.vn", "pass"),
    ("127.0.0.10", "a@fail.spf.vn", "fail"),
    ("127.0.0.10", "a@soft.spf.vn", "softfail"),
    ("127.0.0.10", "a@neutral.spf.vn", "neutral"),
    ("127.0.0.10", "a@norecord.spf.vn", "none"),
    ("127.0.0.10", "a@other.spf.vn", "none"),
    ("127.0.0.10", "a@nx.spf.vn", "none"),
    ("127.0.0.10", "a@upper.spf.vn", "pass"),
    ("127.0.0.10", "a@twice.spf.vn", "permerror"),
    ("127.0.0.10", "a@syntax.spf.vn", "permerror"),
    ("127.0.0.10", "a@unknown.spf.vn", "permerror"),
    ("127.0.0.10", "a@modifier.spf.vn", "pass"),
    ("127.0.0.10", "a@empty.spf.vn", "neutral"),
    ("127.0.0.10", "a@plusall.spf.vn", "pass"),
    ("127.0.0.10", "a@exp.spf.vn", "fail"),
    ("127.0.0.10", "a@cidr33.spf.vn", "permerror"),
    ("127.0.0.10", "a@split.spf.vn", "pass"),
    ("127.0.0.10", "a@spf10.spf.vn", "none"),
    ("127.0.0.10", "a@minus.spf.vn", "fail"),
    ("127.0.0.10", "a@spaces.spf.vn", "pass"),
    ("127.0.0.10", "a@incneutral.spf.vn", "fail"),
    ("127.0.0.10", "a@mxnone.spf.vn", "pass"),
    ("::1", "a@mac6.spf.vn", "pass"),
    ("127.0.0.10", "a@mac6.spf.vn", "fail"),
    ("127.0.0.10", "", "pass"),  # null reverse-path: the HELO name is checked
    ("127.0.0.12", "", "fail"),
    ("127.0.0.10", "a@inc.spf.vn", "pass"),
    ("127.0.0.10", "a@incfail.spf.vn", "softfail"),
    ("127.0.0.10", "a@incnone.spf.vn", "permerror"),
    ("127.0.0.10", "a@redir.spf.vn", "fail"),
    ("127.0.0.10", "a@redirpass.spf.vn", "pass"),
    ("127.0.0.10", "a@redirnone.spf.vn", "permerror"),
    ("127.0.0.10", "a@redirall.spf.vn", "fail"),
    ("127.0.0.11", "a@a.spf.vn", "pass"),
    ("127.0.0.10", "a@a.spf.vn", "fail"),
    ("127.0.0.10", "a@acidr.spf.vn", "pass"),
    ("127.0.0.12", "a@acidr.spf.vn", "fail"),
    ("127.0.0.13", "a@mx.spf.vn", "pass"),
    ("127.0.0.10", "a@mx.spf.vn", "fail"),
    ("127.0.0.10", "a@mxcidr.spf.vn", "pass"),
    ("::1", "a@ip6.spf.vn", "pass"),
    ("127.0.0.10", "a@ip6.spf.vn", "fail"),
    ("::1", "a@ip6net.spf.vn", "fail"),
    ("127.0.0.10", "a@ip6net.spf.vn", "pass"),
    ("::1", "a@aaaa.spf.vn", "pass"),
    ("127.0.0.10", "a@mac1.spf.vn", "pass"),
    ("127.0.0.12", "a@mac1.spf.vn", "fail"),
    ("127.0.0.10", "first-last@mac2.spf.vn", "pass"),
    ("127.0.0.10", "last-first@mac2.spf.vn", "fail"),
    ("127.0.0.10", "a@mac3.spf.vn", "pass"),
    ("127.0.0.10", "a@mac4.spf.vn", "pass"),
    ("127.0.0.12", "a@mac4.spf.vn", "fail"),
    ("127.0.0.10", "a@mac5.spf.vn", "pass"),
    ("127.0.0.10", "a@void2.spf.vn", "pass"),
    ("127.0.0.10", "a@void3.spf.vn", "permerror"),
    ("127.0.0.10", "a@voidex.spf.vn", "permerror"),
    ("127.0.0.10", "a@mx11.spf.vn", "permerror"),
    ("127.0.0.10", "a@ten.spf.vn", "pass"),
    ("127.0.0.10", "a@many.spf.vn", "permerror"),
    ("127.0.0.10", "a@loop.spf.vn", "permerror"),
    ("127.0.0.10", "a@temp.spf.vn", "temperror"),
    ("127.0.0.10", "a@inctemp.spf.vn", "temperror"),
]


def pyspf_result(dns_port, ip, sender):
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = ["127.0.0.1"]
    res.port = dns_port
    res.lifetime = 5
    dns.resolver.default_resolver = res  # what pyspf's dnspython lookups use
    result, _ = spf.check2(i=ip, s=sender, h=HELO, querytime=20)
    return result


def govmail_result(srv, n, ip, sender):
    """Sends case n to the MX from `ip`; the spf= value of the Authentication-Results on it."""
    subject = f"spf-case-{n}"
    msg = (f"From: {sender or 'postmaster@' + HELO}\r\nTo: {RCPT}\r\nSubject: {subject}\r\n"
           f"Message-ID: <{subject}@x>\r\n\r\nSPF case {n}.\r\n").encode()
    host = "::1" if ":" in ip else "127.0.0.2"
    with smtplib.SMTP(host, PORT, timeout=60, source_address=(ip, 0)) as s:
        s.ehlo(HELO)
        s.sendmail(sender, [RCPT], msg)
    for raw in inbox(srv.db_url, RCPT):
        if f"Subject: {subject}\r\n".encode() in raw:
            m = re.search(rb"Authentication-Results: mail\.so\.gov\.vn;.*?\r\n(?![ \t])", raw, re.S)
            found = re.search(rb"\bspf=([a-z]+)", m.group(0)) if m else None
            return found.group(1).decode() if found else f"no spf= in {raw[:400]!r}"
    return "message not delivered"


with FreshDatabase() as db, UnboundServer(RECORDS, ZONES) as dns_server:
    srv = Server(db.url, domain=DOMAIN, smtp_host="127.0.0.2", smtp_port=PORT,
                 smtp_extra="check_authentication = true",
                 outbound=f'enabled = false\nresolvers = ["127.0.0.1@{dns_server.port}"]\n'
                          "dns_timeout = 3000")
    srv.edit_config(lambda t: t.replace(f'smtp = ["127.0.0.2:{PORT}"]',
                                        f'smtp = ["127.0.0.2:{PORT}", "[::1]:{PORT}"]'))
    try:
        srv.admin("domain", "add", DOMAIN)
        add_account(srv, "nhan")
        srv.start()
        for n, (ip, sender, expected) in enumerate(CASES):
            ours = govmail_result(srv, n, ip, sender)
            theirs = pyspf_result(dns_server.port, ip, sender)
            c.check(ours == theirs == expected,
                    f"{sender} from {ip}: govmail {ours}, pyspf {theirs}, RFC 7208 {expected}")
    finally:
        stop_server(srv, c)
c.finish()
