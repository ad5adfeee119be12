#!/usr/bin/env python3
"""The admin API is never served in clear off loopback: `govmail serve` refuses a plaintext
listen.http on a non-loopback address (before binding anything), and listen.https serves the same
API over TLS 1.2+ with the mail ports' certificate (admin sign-in with password and TOTP over it;
a plaintext request to the TLS port gets no HTTP answer; TLS 1.1 is refused)."""
import json
import os
import socket
import ssl
import subprocess
import sys
import urllib.request
import warnings

sys.path.insert(0, os.path.dirname(__file__))
from support import GOVMAIL, Checks, FreshDatabase, free_port, stop_server  # noqa
from smtp_support import DOMAIN, Server, wait_port  # noqa
from admin_support import PW, add_units_and_people, totp  # noqa

c = Checks()


def with_listen(cfg, http_line, https_line):
    with open(cfg) as f:
        text = f.read()
    start = text.index("\nhttp = ")
    end = text.index("\n", text.index("\nhttps = ", start) + 1)
    with open(cfg, "w") as f:
        f.write(text[:start] + f"\nhttp = {http_line}\nhttps = {https_line}\n" + text[end:])


def port_open(port, host="127.0.0.1"):
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


with FreshDatabase() as db:
    srv = Server(db.url)
    try:
        # --- a plaintext HTTP listener off loopback: refused at start, nothing bound ----------
        for bad in (f"0.0.0.0:{srv.http}", f"[::]:{srv.http}"):
            with_listen(srv.cfg, f'["{bad}"]', "[]")
            r = subprocess.run([GOVMAIL, "serve", "--config", srv.cfg], env=srv.env,
                               capture_output=True, text=True, timeout=60, cwd=srv.tmp)
            c.check(r.returncode != 0 and "listen.http" in r.stderr and
                    "not a loopback address" in r.stderr,
                    f"serve with http {bad} refused: rc={r.returncode} {r.stderr[-400:]}")
            c.check(not port_open(srv.http), f"nothing listens on {bad} after the refusal")
            r = subprocess.run([GOVMAIL, "check-config", srv.cfg], env=srv.env,
                               capture_output=True, text=True, timeout=60)
            c.check(r.returncode != 0 and "listen.http" in r.stderr,
                    f"check-config names listen.http for {bad}: {r.stderr[-300:]}")

        # --- HTTPS: the admin API over TLS -----------------------------------------------------
        https = free_port()
        with_listen(srv.cfg, f'["127.0.0.1:{srv.http}"]', f'["127.0.0.1:{https}"]')
        add_units_and_people(srv, DOMAIN, {"prov": None})
        srv.admin("admins", "grant", f"prov@{DOMAIN}", "--role", "province")
        out = srv.admin("admins", "totp", f"prov@{DOMAIN}")
        secret = [l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("secret: ")][0]
        srv.start()
        wait_port(https)

        ctx = ssl.create_default_context(cafile=os.path.join(srv.var, "tls", "cert.pem"))
        base = f"https://127.0.0.1:{https}"
        with urllib.request.urlopen(base + "/healthz", context=ctx, timeout=30) as r:
            body = json.loads(r.read())
            hsts = r.headers.get("Strict-Transport-Security", "")
            sniff = r.headers.get("X-Content-Type-Options")
        c.check(r.status == 200 and body.get("status") == "ok", f"healthz over TLS: {body}")
        c.check(hsts.startswith("max-age=") and int(hsts[8:].split(";")[0]) >= 15552000,
                f"HSTS over TLS: {hsts!r}")
        c.check(sniff == "nosniff", f"X-Content-Type-Options: {sniff!r}")

        req = urllib.request.Request(
            base + "/admin/api/login", method="POST",
            data=json.dumps({"address": f"prov@{DOMAIN}", "password": PW,
                             "totp": totp(secret)}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=ctx, timeout=60) as r:
            login = json.loads(r.read())
        c.check(r.status == 200 and login.get("token"), f"admin sign-in over TLS: {login}")
        req = urllib.request.Request(base + f"/admin/api/accounts?domain={DOMAIN}",
                                     headers={"Authorization": "Bearer " + login["token"]})
        with urllib.request.urlopen(req, context=ctx, timeout=60) as r:
            listing = r.read().decode()
        c.check(r.status == 200 and f"prov@{DOMAIN}" in listing, "API call with the token")

        # A plaintext request to the TLS port: no HTTP answer in clear.
        with socket.create_connection(("127.0.0.1", https), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                got = s.recv(4096)
            except OSError:
                got = b""
        c.check(not got.startswith(b"HTTP/"), f"plaintext on the TLS port: {got[:60]!r}")

        # TLS 1.1 and older: refused.
        # (this client does TLS 1.1 with an OpenSSL server that allows it: the check can fail)
        warnings.simplefilter("ignore", DeprecationWarning)
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.check_hostname = False
        old.verify_mode = ssl.CERT_NONE
        old.set_ciphers("ALL:@SECLEVEL=0")
        old.minimum_version = ssl.TLSVersion.TLSv1
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        try:
            with socket.create_connection(("127.0.0.1", https), timeout=10) as s:
                with old.wrap_socket(s) as t:
                    version = t.version()
        except (ssl.SSLError, OSError) as e:
            version = f"refused ({type(e).__name__})"
        c.check(version.startswith("refused"), f"TLS 1.1 handshake: {version}")

        # Plaintext HTTP stays on loopback for local tools.
        with urllib.request.urlopen(f"http://127.0.0.1:{srv.http}/healthz", timeout=30) as r:
            c.check(r.status == 200, "loopback plaintext healthz")
            c.check("Strict-Transport-Security" not in r.headers, "no HSTS in plaintext")
    finally:
        stop_server(srv, c)

c.finish()
