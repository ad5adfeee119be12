#!/usr/bin/env python3
"""Outbound delivery through MX lookup on a DNS server on loopback (unbound) to a scripted remote
server: grouping, the reply classes, retries, delivery reports in the sender's INBOX (failed,
delayed, relayed, expired), null MX and the queue commands. Lifetimes are shortened by config."""
import email
import email.policy
import os
import re
import smtplib
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from dns_support import UnboundServer  # noqa: E402
from smtp_sink import Sink  # noqa: E402
from support import Checks, FreshDatabase, free_port, stop_server  # noqa: E402
from smtp_support import Server, add_account, inbox  # noqa: E402
from admin_support import Api, totp  # noqa: E402

c = Checks()
DOMAIN = "so.gov.vn"
SENDER = f"vanthu@{DOMAIN}"
PASSWORD = "mat khau dai du 2026"
PORT = free_port()  # the remote MX port, on 127.0.0.3 (sink) and 127.0.0.4 (nothing)

RECORDS = [
    "sink.vn. MX 10 mx.sink.vn.",
    "mx.sink.vn. A 127.0.0.3",
    "down.vn. MX 10 mx.down.vn.",
    "mx.down.vn. A 127.0.0.4",
    "nullmx.vn. MX 0 .",
    "implicit.vn. A 127.0.0.3",
]


def submit(srv, rcpts, subject, mail_options=(), rcpt_options=()):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    body = (f"From: Van thu <{SENDER}>\r\nTo: {', '.join(rcpts)}\r\nSubject: {subject}\r\n"
            "Message-ID: <%s@so.gov.vn>\r\n\r\nCông văn số 123/UBND-VP gửi các đơn vị.\r\n"
            % subject).encode()
    with smtplib.SMTP_SSL("127.0.0.1", srv.submissions, context=ctx, timeout=30) as s:
        s.login(SENDER, PASSWORD)
        refused = s.sendmail(SENDER, rcpts, body, mail_options=list(mail_options),
                             rcpt_options=list(rcpt_options))
        c.check(refused == {}, f"{subject}: submission accepted every recipient")


def reports(db_url):
    """(kind, parsed message) of every delivery report in the sender's INBOX."""
    out = []
    for raw in inbox(db_url, SENDER):
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        if msg.get_content_type() != "multipart/report":
            continue
        status = [p for p in msg.iter_parts() if p.get_content_type() == "message/delivery-status"]
        text = status[0].as_string() if status else ""
        m = re.search(r"Action: (\w+)", text)
        out.append((m.group(1) if m else "?", msg, raw))
    return out


def wait(pred, timeout=40):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return False


def queue_show(srv, qid):
    return srv.admin("queue", "show", str(qid))


with FreshDatabase() as db, UnboundServer(RECORDS, ("vn.",)) as dns, Sink("127.0.0.3", PORT) as sink:
    outbound = f"""enabled = true
resolvers = ["127.0.0.1@{dns.port}"]
dns_timeout = 2000
smtp_port = {PORT}
routes = ["routed.vn [127.0.0.3]:{PORT}", "secure.vn [127.0.0.3]:{PORT} tls=required"]
retry_min = 1
retry_max = 2
lifetime = 25
delay_warning = 5
poll_interval = 200
connection_idle = 300
connect_timeout = 3
"""
    srv = Server(db.url, domain=DOMAIN, outbound=outbound)
    try:
        srv.admin("domain", "add", DOMAIN)
        add_account(srv, "vanthu", PASSWORD)
        add_account(srv, "it", PASSWORD)
        add_account(srv, "kiemtra", PASSWORD)
        srv.admin("admins", "grant", f"it@{DOMAIN}", "--role", "province")
        srv.admin("admins", "grant", f"kiemtra@{DOMAIN}", "--role", "auditor")
        secrets = {}
        for who in ("it", "kiemtra"):
            out = srv.admin("admins", "totp", f"{who}@{DOMAIN}")
            secrets[who] = [line.split(": ", 1)[1] for line in out.splitlines()
                            if line.startswith("secret: ")][0]
        srv.start()

        # One message, three recipients at one domain: one transaction for the two accepted,
        # a failure report for the refused one.
        submit(srv, ["ok1@sink.vn", "ok2@sink.vn", "reject1@sink.vn"], "grouped")
        c.check(sink.wait_for(lambda s: len(s.delivered_to("ok1@sink.vn")) == 1),
                "ok1@sink.vn delivered")
        grouped = [m for m in sink.messages if b"Subject: grouped" in m[2]]
        c.check(len(grouped) == 1 and sorted(grouped[0][1]) == ["ok1@sink.vn", "ok2@sink.vn"],
                f"both accepted recipients in one transaction: {[m[1] for m in grouped]}")
        c.check(grouped and grouped[0][0] == SENDER, "envelope sender kept")
        c.check(grouped and not grouped[0][2].startswith(b"Return-Path:"),
                "no Return-Path: sent to the remote")
        c.check(grouped and "Công văn số 123".encode() in grouped[0][2], "8-bit body byte-exact")
        c.check(grouped and "BODY=8BITMIME" in grouped[0][3].upper(),
                f"8-bit message sent with BODY=8BITMIME: {grouped[0][3] if grouped else ''}")
        c.check(wait(lambda: any(k == "failed" for k, _, _ in reports(db.url))),
                "failure report for reject1 in the sender's INBOX")
        failed = [r for r in reports(db.url) if r[0] == "failed"]
        if failed:
            raw = failed[0][2].decode("utf-8", "replace")
            msg = failed[0][1]
            c.check("reject1@sink.vn" in raw and "550 5.1.1" in raw and "Status: 5.1.1" in raw,
                    "report names the recipient, the remote reply and the status")
            c.check("ok1@sink.vn" not in raw.split("text/rfc822-headers")[0],
                    "delivered recipients are not in the failure report")
            text = msg.get_body(preferencelist=("plain",)).get_content()
            c.check("KHÔNG gửi được" in text and "could NOT be delivered" in text,
                    "readable text in Vietnamese and English")
            c.check(str(msg["From"]).startswith("Mail Delivery System <MAILER-DAEMON@"),
                    "report from MAILER-DAEMON")
            c.check("Subject: grouped" in raw, "report carries the original headers")

        # 4xx at RCPT, then success on the retry.
        submit(srv, ["defer1@sink.vn"], "deferred-once")
        c.check(sink.wait_for(lambda s: len(s.delivered_to("defer1@sink.vn")) == 1, 20),
                "defer1 delivered on retry")
        time.sleep(1.5)
        c.check(len(sink.delivered_to("defer1@sink.vn")) == 1, "defer1 delivered exactly once")
        c.check(sink.seen.get("defer1@sink.vn") == 2, f"two attempts: {sink.seen}")

        # No MX: the domain's own address (RFC 5321 5.1).
        submit(srv, ["x@implicit.vn"], "implicit-mx")
        c.check(sink.wait_for(lambda s: len(s.delivered_to("x@implicit.vn")) == 1),
                "domain without MX delivered to its A record")

        # Static routes: no DNS for routed.vn; a TLS-required route to a host without STARTTLS
        # defers with the reason instead of sending in clear.
        submit(srv, ["x@routed.vn", "y@secure.vn"], "routes")
        c.check(sink.wait_for(lambda s: len(s.delivered_to("x@routed.vn")) == 1),
                "static route delivered without DNS")
        c.check(wait(lambda: "secure.vn" in srv.log() and "4.7" in srv.log(), 15),
                "TLS-required route deferred")
        shown = srv.admin("queue", "list")
        c.check("STARTTLS" in shown or "TLS" in shown, f"the TLS reason is recorded: {shown}")
        c.check(not sink.delivered_to("y@secure.vn"), "nothing sent in clear on a TLS route")

        # NOTIFY=SUCCESS to a server without DSN: a "relayed" report; ENVID echoed.
        submit(srv, ["ok-notify@sink.vn"], "notify-success", mail_options=["ENVID=QD-2026-17"],
               rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
        c.check(sink.wait_for(lambda s: len(s.delivered_to("ok-notify@sink.vn")) == 1),
                "ok-notify delivered")
        c.check(not any("NOTIFY=" in cmd for cmd in sink.rcpt_commands),
                "no NOTIFY= to a server that does not offer DSN")
        c.check(wait(lambda: any(k == "relayed" for k, _, _ in reports(db.url))),
                "relayed report for NOTIFY=SUCCESS")
        relayed = [r for r in reports(db.url) if r[0] == "relayed"]
        c.check(relayed and b"Original-Envelope-Id: QD-2026-17" in relayed[0][2],
                "ENVID echoed as Original-Envelope-Id")

        # Null MX: bounced at once.
        before = len([r for r in reports(db.url) if r[0] == "failed"])
        submit(srv, ["user@nullmx.vn"], "null-mx")
        c.check(wait(lambda: len([r for r in reports(db.url) if r[0] == "failed"]) > before, 15),
                "null MX: failure report at once")
        nullmx = [r for r in reports(db.url) if r[0] == "failed" and b"nullmx.vn" in r[2]]
        c.check(nullmx and b"5.1.10" in nullmx[0][2], "null MX report says 5.1.10")

        # Unreachable: a delay report, then a failure report at expiry.
        t0 = time.time()
        submit(srv, ["user@down.vn"], "unreachable")
        c.check(wait(lambda: any(k == "delayed" and b"down.vn" in raw
                                 for k, _, raw in reports(db.url)), 20),
                "delay report for the unreachable host")
        listing = srv.admin("queue", "list")
        c.check("1 pending" in listing or "pending" in listing, f"queue list shows it: {listing}")
        qid = re.findall(r"^(\d+)\t.*<vanthu@so\.gov\.vn>", listing, re.M)
        if qid:
            shown = queue_show(srv, qid[-1])
            c.check("user@down.vn" in shown and "deferred" in shown and "attempts" in shown,
                    f"queue show: {shown}")
        # The same through the admin API: province admins only.
        api, auditor = Api(srv.http), Api(srv.http)
        c.check(api.login(f"it@{DOMAIN}", PASSWORD, totp(secrets["it"]))[0] == 200, "IT login")
        c.check(auditor.login(f"kiemtra@{DOMAIN}", PASSWORD, totp(secrets["kiemtra"]))[0] == 200,
                "auditor login")
        st, q = api.call("GET", "/queue")
        c.check(st == 200 and q.get("pending_recipients", 0) >= 1 and q.get("oldest_age_seconds", -1) >= 0,
                f"GET /queue: depth and oldest age ({st} {q if st != 200 else ''})")
        down = [e for e in (q.get("entries", []) if st == 200 else [])
                if any(r["address"] == "user@down.vn" for r in e["recipients"])]
        c.check(len(down) == 1 and down[0]["recipients"][0]["status"] == "deferred",
                "GET /queue lists the deferred recipient")
        if down:
            st, one = api.call("GET", f"/queue/{down[0]['id']}")
            c.check(st == 200 and one["recipients"][0]["attempts"] >= 1, f"GET /queue/id ({st})")
            st, _ = auditor.call("POST", f"/queue/{down[0]['id']}/retry")
            c.check(st == 403, f"auditor may not retry ({st})")
            st, r = api.call("POST", f"/queue/{down[0]['id']}/retry")
            c.check(st == 200, f"POST /queue/id/retry ({st} {r})")
        st, _ = auditor.call("GET", "/queue")
        c.check(st == 403, f"auditor may not read the queue ({st})")
        st, _ = api.call("GET", "/queue/999999")
        c.check(st == 404, f"unknown entry 404 ({st})")

        c.check(wait(lambda: any(k == "failed" and b"down.vn" in raw
                                 for k, _, raw in reports(db.url)), 40),
                "failure report at expiry")
        expired = [r for r in reports(db.url) if r[0] == "failed" and b"down.vn" in r[2]]
        c.check(expired and b"5.4.7" in expired[0][2], "expiry report says 5.4.7")
        c.check(time.time() - t0 >= 20, "not expired before the lifetime")
        delayed = [r for r in reports(db.url) if r[0] == "delayed" and b"user@down.vn" in r[2]]
        c.check(len(delayed) == 1, f"exactly one delay report for down.vn: {len(delayed)}")

        # An operator deletes a queued message: gone, no report.
        submit(srv, ["user@down.vn"], "to-delete")
        listing = srv.admin("queue", "list")
        ids = re.findall(r"^(\d+)\t", listing, re.M)
        c.check(ids != [], f"queued again: {listing}")
        if ids:
            srv.admin("queue", "delete", ids[-1])
            c.check("not found" in srv.admin_fail("queue", "show", ids[-1]),
                    "deleted entry is gone")
            audit = srv.admin("audit", "list", "--action", "queue")
            c.check("queue.delete" in audit and f"queue:{ids[-1]}" in audit,
                    f"deletion audited: {audit}")

        # Reports never go out for reports, and the queue ends empty.
        stats = srv.admin("queue", "list")
        c.check(stats.startswith("queue: 0 recipients pending"), f"queue drained: {stats}")
        c.check("status=delivered" in srv.log() and "status=bounced" in srv.log(),
                "outcomes logged")
    finally:
        stop_server(srv, c)
c.finish()
