"""Shared by the admin API integration tests: a small client of /admin/api (JSON or CSV bodies,
bearer token) and RFC 6238 TOTP codes made here, independent of the server's code."""
import base64
import hashlib
import hmac
import json
import os
import smtplib
import struct
import time
import urllib.error
import urllib.parse
import urllib.request

PW = "correct horse battery"


def totp(secret, at=None, step_offset=0):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((at or time.time()) // 30) + step_offset
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000
    return f"{code:06d}"


class Totp:
    """The codes of one admin's secret, each time step given once: the server refuses a code
    whose step was used before. Waits for the next step when the window (one step either side
    of now) is used up."""

    def __init__(self, secret):
        self.secret = secret
        self.last = None

    def code(self):
        while True:
            now = int(time.time() // 30)
            step = now if self.last is None else max(now, self.last + 1)
            if step <= now + 1:
                self.last = step
                return totp(self.secret, at=step * 30)
            time.sleep(max(0.1, (step - 1) * 30 - time.time() + 0.2))


def grant(srv, address, role, units=()):
    """Grants an admin role through the CLI."""
    args = ["admins", "grant", address, "--role", role]
    if units:
        args += ["--units", ",".join(units)]
    srv.admin(*args)


def enrol_totp(srv, address):
    """A new TOTP secret for an admin through the CLI: its base32 secret."""
    out = srv.admin("admins", "totp", address)
    return [l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("secret: ")][0]


def seed_admins(srv, roles):
    """Grants {local: (role, units)} in srv.domain and enrols each in TOTP: {local: Totp}."""
    codes = {}
    for local, (role, units) in roles.items():
        address = f"{local}@{srv.domain}"
        grant(srv, address, role, units)
        codes[local] = Totp(enrol_totp(srv, address))
    return codes


class Api:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}/admin/api"
        self.token = None

    def call(self, method, path, body=None, csv=None, token=None):
        data, headers = None, {}
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        if csv is not None:
            data, headers["Content-Type"] = csv.encode(), "text/csv"
        tok = token if token is not None else self.token
        if tok:
            headers["Authorization"] = "Bearer " + tok
        # Non-ASCII and spaces in the path or query (Vietnamese subjects) go percent-encoded.
        url = self.base + urllib.parse.quote(path, safe="/?&=@%:+,;")
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                raw = r.read().decode()
                status = r.status
        except urllib.error.HTTPError as e:
            raw, status = e.read().decode(), e.code
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw

    def login(self, address, password=PW, code=None):
        body = {"address": address, "password": password}
        if code is not None:
            body["totp"] = code
        st, out = self.call("POST", "/login", body)
        if st == 200:
            self.token = out["token"]
        return st, out


def add_units_and_people(srv, domain, people, must_change=()):
    """The units 27 > 27001, 27002 and one account per {local: unit or None} (password PW)."""
    srv.admin("domain", "add", domain)
    units = os.path.join(srv.tmp, "units.csv")
    with open(units, "w") as f:
        f.write("code,name,parent_code\n27,Tỉnh Bắc Ninh,\n27001,Phường Kinh Bắc,27\n"
                "27002,Xã Tiên Du,27\n")
    srv.admin("unit", "import", units)
    for local, unit in people.items():
        args = ["account", "add", f"{local}@{domain}", "--name", f"Người {local}",
                "--password-stdin"] + (["--unit", unit] if unit else [])
        if local in must_change:
            args.append("--must-change")
        srv.admin(*args, input=PW + "\n")


def smtp_login(srv, address, password):
    """True when SMTP AUTH on the submission port succeeds, else the exception."""
    try:
        with smtplib.SMTP("127.0.0.1", srv.submission, timeout=30) as s:
            s.ehlo("client.example")
            s.login(address, password)
        return True
    except smtplib.SMTPException as e:
        return e

