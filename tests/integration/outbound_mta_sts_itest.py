#!/usr/bin/env python3
"""MTA-STS (RFC 8461) in outbound delivery, all on loopback: unbound serves the _mta-sts TXT
records, the MX records and the addresses of mta-sts.<domain>; a Python HTTPS server on
127.0.0.20:443 serves the policies with a certificate from a test CA made here with openssl;
scripted SMTP sinks on 127.0.0.21 (STARTTLS, certificate for mx.enforce.example and
mx.cache.example from the same CA) and 127.0.0.22 (no STARTTLS) are the MX hosts. govmail trusts
the test CA through outbound.tls_ca_file.

Cases: enforce with a valid certificate (delivered under TLS); enforce with an MX the policy does
not list, an MX without STARTTLS, and an MX whose certificate is for another name (deferred with
the reason, nothing sent; returned at the lifetime); enforce skipping an unlisted preferred MX;
testing mode without TLS and with a wrong certificate (delivered, logged); a policy that cannot
be fetched (404, a redirect, a wrong media type, a policy host whose certificate names other
hosts: delivered as before); two _mta-sts records (no policy); a cached policy that
survives a restart and a failed refetch; a new TXT id that makes govmail fetch the new policy.
Needs 127.0.0.20:443 (root): exits 77 (skipped) when it cannot listen there."""
import http.server
import os
import smtplib
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from dns_support import UnboundServer  # noqa: E402
from smtp_sink import Sink, can_bind  # noqa: E402
from support import Checks, FreshDatabase, free_port, psql, stop_server  # noqa: E402
from smtp_support import Server, add_account  # noqa: E402

c = Checks()
DOMAIN = "so.gov.vn"
SENDER = f"vanthu@{DOMAIN}"
PASSWORD = "mat khau dai du 2026"
HTTPS_IP, TLS_MX, PLAIN_MX = "127.0.0.20", "127.0.0.21", "127.0.0.22"
PORT = free_port()  # the MX port on both sinks

ENFORCE = "version: STSv1\nmode: enforce\nmx: {mx}\nmax_age: 86400\n"
TESTING = "version: STSv1\nmode: testing\nmx: {mx}\nmax_age: 86400\n"


def records(cache_id="c1", cache_mx="mx.cache.example"):
    out = []

    def domain(name, mx_host, mx_ip, sts_id):
        out.extend([f"{name}. 1 IN MX 10 {mx_host}.", f"{mx_host}. 1 IN A {mx_ip}",
                    f'_mta-sts.{name}. 1 IN TXT "v=STSv1; id={sts_id}"',
                    f"mta-sts.{name}. 1 IN A {HTTPS_IP}"])

    domain("enforce.example", "mx.enforce.example", TLS_MX, "e1")
    domain("badmx.example", "mx.badmx.example", TLS_MX, "b1")
    domain("notls.example", "mx.notls.example", PLAIN_MX, "t1")
    domain("wrongcert.example", "mx.wrongcert.example", TLS_MX, "w1")
    domain("testing.example", "mx.testing.example", PLAIN_MX, "g1")
    domain("nofetch.example", "mx.nofetch.example", PLAIN_MX, "n1")
    domain("redirect.example", "mx.redirect.example", PLAIN_MX, "r1")
    domain("html.example", "mx.html.example", PLAIN_MX, "h1")
    domain("testcert.example", "mx.testcert.example", TLS_MX, "k1")
    # Two MX hosts: the preferred one is not in the policy, the other is (and has a valid
    # certificate as mx.enforce.example).
    domain("partial.example", "mx1.partial.example", PLAIN_MX, "p1")
    out.append("partial.example. 1 IN MX 20 mx.enforce.example.")
    domain("badhttps.example", "mx.badhttps.example", PLAIN_MX, "x1")
    domain("multi.example", "mx.multi.example", PLAIN_MX, "m1")
    out.append('_mta-sts.multi.example. 1 IN TXT "v=STSv1; id=m2"')
    domain("cache.example", cache_mx, TLS_MX if cache_mx == "mx.cache.example" else PLAIN_MX,
           cache_id)
    return out


# Host: -> (status, content type, body, extra headers); changed by the test as it goes.
POLICIES = {
    "mta-sts.enforce.example": (200, "text/plain", ENFORCE.format(mx="*.enforce.example"), {}),
    "mta-sts.badmx.example": (200, "text/plain", ENFORCE.format(mx="mail.badmx.example"), {}),
    "mta-sts.notls.example": (200, "text/plain", ENFORCE.format(mx="mx.notls.example"), {}),
    "mta-sts.wrongcert.example": (200, "text/plain; charset=utf-8",
                                  ENFORCE.format(mx="mx.wrongcert.example"), {}),
    "mta-sts.testing.example": (200, "text/plain", TESTING.format(mx="other.testing.example"), {}),
    "mta-sts.testcert.example": (200, "text/plain", TESTING.format(mx="mx.testcert.example"),
                                 {}),
    "mta-sts.partial.example": (200, "text/plain", ENFORCE.format(mx="mx.enforce.example"), {}),
    "mta-sts.nofetch.example": (404, "text/plain", "not here\n", {}),
    "mta-sts.redirect.example": (
        301, "text/plain", "",
        {"Location": "https://mta-sts.enforce.example/.well-known/mta-sts.txt"}),
    "mta-sts.html.example": (200, "text/html", ENFORCE.format(mx="mail.html.example"), {}),
    # Served, but under a certificate that does not name this host: never fetched.
    "mta-sts.badhttps.example": (200, "text/plain", ENFORCE.format(mx="mail.badhttps.example"),
                                 {}),
    # Two _mta-sts records: no policy, whatever is served.
    "mta-sts.multi.example": (200, "text/plain", ENFORCE.format(mx="mail.multi.example"), {}),
    "mta-sts.cache.example": (200, "text/plain", ENFORCE.format(mx="mx.cache.example"), {}),
}
REQUESTS = {}  # Host: -> count of GETs of the policy path
LOCK = threading.Lock()


class PolicyHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        with LOCK:
            if self.path == "/.well-known/mta-sts.txt":
                REQUESTS[host] = REQUESTS.get(host, 0) + 1
            status, ctype, body, extra = POLICIES.get(host, (404, "text/plain", "", {}))
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(d):
    """A test CA and leaf certificates signed by it; the CA file and a server context per leaf."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=govmail test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)

    def leaf(name, sans):
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                    "subjectAltName=" + ",".join(f"DNS:{s}" for s in sans) + "\n")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={sans[0]}", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile",
                f"{name}.ext", cwd=d)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key"))
        return ctx

    https = leaf("https", [h for h in POLICIES if h != "mta-sts.badhttps.example"])
    mx = leaf("mx", ["mx.enforce.example", "mx.cache.example"])
    return os.path.join(d, "ca.pem"), https, mx


def submit(srv, rcpts, subject):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    body = (f"From: <{SENDER}>\r\nTo: {', '.join(rcpts)}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject}@so.gov.vn>\r\n\r\nCong van.\r\n").encode()
    with smtplib.SMTP_SSL("127.0.0.1", srv.submissions, context=ctx, timeout=30) as s:
        s.login(SENDER, PASSWORD)
        c.check(s.sendmail(SENDER, rcpts, body) == {}, f"{subject}: submission accepted")


def recipient(db_url, address):
    """(status, attempts, remote reply) of the newest queue row for the address."""
    out = psql(db_url, "SELECT status, attempts, remote_reply FROM outbound_recipients"
                       f" WHERE address = '{address}' ORDER BY queue_id DESC LIMIT 1")
    if not out:
        return None
    status, attempts, reply = out.split("|", 2)
    return int(status), int(attempts), reply


def wait(pred, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.2)
    return False


def deferred_with(db_url, address, text):
    r = recipient(db_url, address)
    return r is not None and r[0] == 1 and r[1] >= 1 and text in r[2]


def delivered(sink, address):
    return sink.wait_for(lambda s: len(s.delivered_to(address)) >= 1, 30)


def requests(host):
    with LOCK:
        return REQUESTS.get(host, 0)


if not can_bind(HTTPS_IP, 443):  # policies are fetched from port 443 only (RFC 8461 3.3)
    print(f"SKIP: cannot listen on {HTTPS_IP}:443 (run as root, or with CAP_NET_BIND_SERVICE)")
    sys.exit(77)
tmp = subprocess.run(["mktemp", "-d"], capture_output=True, text=True, check=True).stdout.strip()
ca_file, https_ctx, mx_ctx = make_pki(tmp)

httpd = http.server.ThreadingHTTPServer((HTTPS_IP, 443), PolicyHandler)
httpd.daemon_threads = True
httpd.socket = https_ctx.wrap_socket(httpd.socket, server_side=True)
threading.Thread(target=httpd.serve_forever, daemon=True).start()

with FreshDatabase() as db, UnboundServer(records()) as dns, \
        Sink(TLS_MX, PORT, tls=mx_ctx) as tls_sink, Sink(PLAIN_MX, PORT) as plain_sink:
    outbound = f"""enabled = true
resolvers = ["127.0.0.1@{dns.port}"]
dns_timeout = 2000
smtp_port = {PORT}
tls_ca_file = "{ca_file}"
mta_sts_timeout = 5
retry_min = 1
retry_max = 2
lifetime = 45
delay_warning = 0
poll_interval = 200
connection_idle = 200
connect_timeout = 3
"""
    srv = Server(db.url, domain=DOMAIN, outbound=outbound)
    try:
        srv.admin("domain", "add", DOMAIN)
        add_account(srv, "vanthu", PASSWORD)
        srv.start()

        # enforce, MX listed, certificate valid for the MX name: delivered under TLS.
        submit(srv, ["ok@enforce.example"], "enforce-ok")
        c.check(delivered(tls_sink, "ok@enforce.example"), "enforce: delivered")
        got = tls_sink.delivered_to("ok@enforce.example")
        c.check(got and got[0][4], "enforce: the message came under STARTTLS")
        c.check(requests("mta-sts.enforce.example") == 1, "enforce: policy fetched once")
        c.check(wait(lambda: "MTA-STS policy id e1 fetched: mode enforce" in srv.log(), 5),
                "enforce: fetch logged")

        # enforce, the MX is not in the policy: deferred with the reason, nothing sent.
        submit(srv, ["x@badmx.example"], "enforce-badmx")
        c.check(wait(lambda: deferred_with(db.url, "x@badmx.example", "allows none of its MX")),
                f"badmx: deferred with the reason: {recipient(db.url, 'x@badmx.example')}")
        r = recipient(db.url, "x@badmx.example")
        c.check(r and r[2].startswith("451 4.4.4 MTA-STS policy of badmx.example (enforce)"),
                f"badmx: reply recorded {r}")

        # enforce, the MX has no STARTTLS: deferred, nothing sent in clear.
        submit(srv, ["x@notls.example"], "enforce-notls")
        c.check(wait(lambda: deferred_with(db.url, "x@notls.example", "does not offer STARTTLS")),
                f"notls: deferred: {recipient(db.url, 'x@notls.example')}")
        r = recipient(db.url, "x@notls.example")
        c.check(r and "MTA-STS policy of notls.example (enforce)" in r[2], f"notls: reason {r}")

        # enforce, the MX's certificate is for other names: deferred after the handshake.
        failures_before = tls_sink.tls_failures
        submit(srv, ["x@wrongcert.example"], "enforce-wrongcert")
        c.check(wait(lambda: deferred_with(db.url, "x@wrongcert.example", "TLS handshake")),
                f"wrongcert: deferred: {recipient(db.url, 'x@wrongcert.example')}")
        r = recipient(db.url, "x@wrongcert.example")
        c.check(r and "MTA-STS policy of wrongcert.example (enforce)" in r[2]
                and "hostname mismatch" in r[2], f"wrongcert: reason names the mismatch: {r}")
        c.check(tls_sink.tls_failures > failures_before, "wrongcert: the handshake was refused")

        # testing: delivered as before (in clear here), what enforce would refuse is logged.
        submit(srv, ["x@testing.example"], "testing")
        c.check(delivered(plain_sink, "x@testing.example"), "testing: delivered")
        c.check(wait(lambda: "MTA-STS policy (testing) does not list MX mx.testing.example"
                     in srv.log(), 5), "testing: the unlisted MX is logged")
        c.check("MTA-STS policy (testing): mx.testing.example would be refused under enforce "
                "(no TLS)" in srv.log(), "testing: the missing TLS is logged")

        # testing, a certificate for other names: delivered under TLS all the same, logged.
        submit(srv, ["x@testcert.example"], "testing-cert")
        c.check(delivered(tls_sink, "x@testcert.example"), "testcert: delivered")
        got = tls_sink.delivered_to("x@testcert.example")
        c.check(got and got[0][4], "testcert: under STARTTLS")
        c.check(wait(lambda: "MTA-STS policy (testing): mx.testcert.example would be refused under "
                     "enforce (hostname mismatch)" in srv.log(), 5),
                "testcert: the certificate problem is logged")

        # enforce skips the preferred MX that the policy does not list and uses the one it does.
        submit(srv, ["x@partial.example"], "enforce-partial")
        c.check(delivered(tls_sink, "x@partial.example"), "partial: delivered to the listed MX")
        got = tls_sink.delivered_to("x@partial.example")
        c.check(got and got[0][4], "partial: under STARTTLS")
        c.check(not plain_sink.delivered_to("x@partial.example"), "partial: not to the other MX")
        c.check("MTA-STS policy (enforce) skips MX mx1.partial.example" in srv.log(),
                "partial: the skipped MX is logged")

        # No policy can be fetched (404, a redirect that is not followed, text/html): delivered
        # as without MTA-STS, and the failure logged.
        submit(srv, ["x@nofetch.example"], "nofetch")
        submit(srv, ["x@redirect.example"], "redirect")
        submit(srv, ["x@html.example"], "html")
        submit(srv, ["x@badhttps.example"], "badhttps")
        submit(srv, ["x@multi.example"], "multi")
        for d in ("nofetch", "redirect", "html", "badhttps", "multi"):
            c.check(delivered(plain_sink, f"x@{d}.example"), f"{d}: delivered without a policy")
        log = srv.log()
        c.check("nofetch.example: MTA-STS policy id n1 could not be fetched: HTTP status 404"
                in log, "nofetch: logged")
        c.check("redirect.example: MTA-STS policy id r1 could not be fetched: HTTP status 301"
                in log, "redirect: not followed, logged")
        c.check('html.example: MTA-STS policy id h1 could not be fetched: media type "text/html"'
                in log, "html: media type refused, logged")
        c.check("badhttps.example: MTA-STS policy id x1 could not be fetched: TLS with "
                "127.0.0.20:443: certificate verify failed (hostname mismatch)" in log,
                "badhttps: the policy host's certificate is checked")
        c.check("multi.example: more than one MTA-STS record" in log, "multi: logged")
        c.check(requests("mta-sts.multi.example") == 0, "multi: no policy fetched")

        # Nothing went to a sink for the refused domains.
        for a in ("x@badmx.example", "x@notls.example", "x@wrongcert.example"):
            c.check(not tls_sink.delivered_to(a) and not plain_sink.delivered_to(a),
                    f"{a}: nothing sent")
        c.check(not any(a in cmd for cmd in plain_sink.rcpt_commands + tls_sink.rcpt_commands
                        for a in ("notls.example", "badmx.example", "wrongcert.example")),
                "no RCPT for a refused domain reached a sink")

        # The cache: cache.example's policy (enforce, mx.cache.example) is fetched and kept in the
        # database; it survives a restart, and then a refetch that fails (TXT id c2, HTTP 500)
        # while the MX moved to a host the policy does not list: deferred, nothing sent in clear.
        submit(srv, ["one@cache.example"], "cache-1")
        c.check(delivered(tls_sink, "one@cache.example"), "cache: first message delivered")
        row = psql(db.url, "SELECT policy_id, expires_at > now() FROM mta_sts_policies"
                           " WHERE domain = 'cache.example'")
        c.check(row == "c1|t", f"cache: the policy is stored with its id: {row}")
        c.check(srv.stop() == 0, "stopped cleanly")
        with LOCK:
            POLICIES["mta-sts.cache.example"] = (500, "text/plain", "oops\n", {})
        dns.restart(records(cache_id="c2", cache_mx="mx2.cache.example"))
        time.sleep(2)  # the records' TTL (1 s)
        srv.start()
        fetched = requests("mta-sts.cache.example")
        submit(srv, ["two@cache.example"], "cache-2")
        c.check(wait(lambda: deferred_with(db.url, "two@cache.example", "allows none of its MX")),
                f"cache: the cached policy applies: {recipient(db.url, 'two@cache.example')}")
        c.check(requests("mta-sts.cache.example") == fetched + 1,
                "cache: the new id was fetched (and failed)")
        c.check(wait(lambda: "MTA-STS policy id c2 could not be fetched: HTTP status 500"
                     in srv.log(), 5), "cache: the failed refetch is logged")
        c.check("the cached policy (id c1, mode enforce) applies until it expires" in srv.log(),
                "cache: the log says the cached policy applies")
        c.check(not plain_sink.delivered_to("two@cache.example"), "cache: nothing sent in clear")

        # A new id: the new policy (testing, listing mx2) is fetched and applies; the deferred
        # message goes out on its retry.
        with LOCK:
            POLICIES["mta-sts.cache.example"] = (
                200, "text/plain", TESTING.format(mx="mx2.cache.example"), {})
        dns.restart(records(cache_id="c3", cache_mx="mx2.cache.example"))
        time.sleep(2)
        submit(srv, ["three@cache.example"], "cache-3")
        c.check(delivered(plain_sink, "three@cache.example"), "id change: delivered")
        c.check(delivered(plain_sink, "two@cache.example"), "id change: the deferred one too")
        c.check("MTA-STS policy id c3 fetched: mode testing" in srv.log(),
                "id change: the new policy was fetched")
        row = psql(db.url, "SELECT policy_id FROM mta_sts_policies WHERE domain = 'cache.example'")
        c.check(row == "c3", f"id change: the cache holds the new policy: {row}")
        n = requests("mta-sts.cache.example")
        submit(srv, ["four@cache.example"], "cache-4")
        c.check(delivered(plain_sink, "four@cache.example"), "same id: delivered")
        c.check(requests("mta-sts.cache.example") == n, "same id: no new fetch")
        c.check(requests("mta-sts.enforce.example") == 1, "enforce.example fetched only once")

        # What enforce keeps back expires like any deferred mail: returned to the sender at the
        # lifetime with the MTA-STS reason.
        c.check(wait(lambda: (recipient(db.url, "x@notls.example") or (0,))[0] == 3, 60),
                f"notls: bounced at the lifetime: {recipient(db.url, 'x@notls.example')}")
        r = recipient(db.url, "x@notls.example")
        c.check(r and "5.4.7" in r[2] and "MTA-STS policy of notls.example" in r[2],
                f"notls: the expiry names the MTA-STS reason: {r}")
        c.check(not plain_sink.delivered_to("x@notls.example"), "notls: never sent")
    finally:
        stop_server(srv, c)
        httpd.shutdown()
        subprocess.run(["rm", "-rf", tmp])
c.finish()
