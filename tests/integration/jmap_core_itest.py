#!/usr/bin/env python3
"""JMAP core (RFC 8620, issue 13) through the real binary, two govmail processes on one database:
the session resource, batching and result references, every request-level error as
problem+json and the method-level errors, blob upload and download with their limits and no
access across accounts, login with cookie and bearer token, CSRF and Origin refusal, logout,
idle and absolute expiry, revocation on password change and suspension, Basic over loopback and
TLS, failed logins locked out, and push: an EventSource on one process receives the StateChange
of an IMAP STORE made through the other within a second. Clients: Python's http.client and
imaplib, curl, and the npm library jmap-jam."""
import base64
import hashlib
import http.client
import imaplib
import json
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, free_port, node_modules, psql, stop_server  # noqa: E402
from smtp_support import DOMAIN, Server, add_account  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PW = "correct horse battery"
CORE = "urn:ietf:params:jmap:core"
ERR = "urn:ietf:params:jmap:error:"
c = Checks()

JMAP_LIMITS = """
[http]
rate_per_network = 0

[jmap]
max_size_upload = 4096
max_size_request = 8192
max_calls_in_request = 4
max_objects_in_get = 50
max_objects_in_set = 60
session_idle_timeout = 600
session_lifetime = 3600
eventsource_ping_min = 1
"""


def request(port, method, path, body=None, headers=None, tls=False):
    """(status, lower-case headers, body bytes)."""
    if tls:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30,
                                           context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    set_cookie = [v for k, v in r.getheaders() if k.lower() == "set-cookie"]
    hdrs["set-cookie"] = set_cookie
    conn.close()
    return r.status, hdrs, data


def basic(user, pw=PW):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


def bearer(token):
    return {"Authorization": "Bearer " + token}


def api(port, auth, calls, using=(CORE,), extra=None, tls=False):
    body = {"using": list(using), "methodCalls": calls}
    if extra:
        body.update(extra)
    st, h, data = request(port, "POST", "/jmap/api", body,
                          dict(auth, **{"Content-Type": "application/json"}), tls)
    try:
        return st, h, json.loads(data)
    except ValueError:
        return st, h, data


def login(port, user, pw=PW, tls=False, headers=None):
    st, h, data = request(port, "POST", "/jmap/login", {"username": user, "password": pw},
                          dict({"Content-Type": "application/json"}, **(headers or {})), tls)
    out = json.loads(data) if data.startswith(b"{") else {}
    return st, h, out


def check_problem(st, h, body, type_, what, limit=None):
    c.check(st == 400 and h.get("content-type") == "application/problem+json" and
            isinstance(body, dict) and body.get("type") == ERR + type_ and
            body.get("status") == 400 and (limit is None or body.get("limit") == limit),
            f"{what}: {st} {h.get('content-type')} {body}")


def raw_problem(port, auth, payload, type_, what, limit=None):
    st, h, data = request(port, "POST", "/jmap/api", payload, auth)
    try:
        body = json.loads(data)
    except ValueError:
        body = data
    check_problem(st, h, body, type_, what, limit)


with FreshDatabase() as db:
    one = Server(db.url, allow_plaintext=True)
    two = Server(db.url, allow_plaintext=False)  # passwords over TLS only
    imap_two = two.listen_imap()
    https_two = free_port()
    two.edit_config(lambda t: t.replace("https = []", f'https = ["127.0.0.1:{https_two}"]'))
    for s in (one, two):
        s.edit_config(lambda t: t + JMAP_LIMITS)
    # Process two limits each client network to 20 requests/s, bursts of 60 (the last part).
    two.edit_config(lambda t: t.replace("rate_per_network = 0", "rate_per_network = 20\n"
                                        "rate_burst = 60"))
    # Failed logins lock a network out after 5 (the last part of the test) on process one.
    one.edit_config(lambda t: t.replace("[auth]\n", "[auth]\nmax_failures_per_ip = 5\n"
                                        "lockout_base = 60\n"))
    try:
        one.admin("domain", "add", DOMAIN)
        for local in ("alice", "bob", "carol", "dave"):
            add_account(one, local, PW)
        ids = {l: int(psql(db.url, f"SELECT id FROM accounts WHERE address = '{l}@{DOMAIN}'"))
               for l in ("alice", "bob", "carol", "dave")}
        one.start()
        two.start()
        alice, bob = f"alice@{DOMAIN}", f"bob@{DOMAIN}"
        a_id, b_id = f"a{ids['alice']}", f"a{ids['bob']}"

        # --- Session resource (RFC 8620 2) ---------------------------------------------------
        st, h, data = request(one.http, "GET", "/.well-known/jmap")
        c.check(st == 401 and "Basic" in h.get("www-authenticate", ""),
                f"session without credentials: 401 with a Basic challenge ({st} {h})")
        st, h, data = request(one.http, "GET", "/.well-known/jmap", headers=basic(alice))
        c.check(st == 200, f"session with Basic over loopback (dev config): {st} {data[:200]}")
        s = json.loads(data) if st == 200 else {}
        core = s.get("capabilities", {}).get(CORE, {})
        c.check(core.get("maxSizeUpload") == 4096 and core.get("maxSizeRequest") == 8192 and
                core.get("maxCallsInRequest") == 4 and core.get("maxObjectsInGet") == 50 and
                core.get("maxObjectsInSet") == 60 and core.get("maxConcurrentUpload") == 4 and
                core.get("maxConcurrentRequests") == 8 and
                "i;unicode-casemap" in core.get("collationAlgorithms", []),
                f"core capability carries the configured limits: {core}")
        c.check(list(s.get("accounts", {}).keys()) == [a_id] and
                s["accounts"][a_id]["name"] == alice and s["accounts"][a_id]["isPersonal"],
                f"the one account of the user: {s.get('accounts')}")
        base = f"http://127.0.0.1:{one.http}"
        c.check(s.get("username") == alice and s.get("apiUrl") == base + "/jmap/api" and
                s.get("uploadUrl") == base + "/jmap/upload/{accountId}/" and
                s.get("downloadUrl") ==
                base + "/jmap/download/{accountId}/{blobId}/{name}?accept={type}" and
                s.get("eventSourceUrl") ==
                base + "/jmap/eventsource?types={types}&closeafter={closeafter}&ping={ping}" and
                isinstance(s.get("state"), str) and s["state"] and "primaryAccounts" in s,
                f"session URLs and state: {s}")
        st2, _, data2 = request(one.http, "GET", "/jmap/session", headers=basic(alice))
        c.check(st2 == 200 and json.loads(data2)["state"] == s.get("state"),
                "the session state is stable")
        st, h, data = request(one.http, "GET", "/.well-known/jmap", headers=basic(alice, "wrong"))
        c.check(st == 401, f"wrong Basic password: 401 ({st})")
        # Process two allows passwords over TLS only.
        st, h, data = request(two.http, "GET", "/.well-known/jmap", headers=basic(alice))
        c.check(st == 403, f"Basic over plaintext refused where the config wants TLS: {st}")
        st, h, data = request(https_two, "GET", "/.well-known/jmap", headers=basic(alice),
                              tls=True)
        c.check(st == 200 and json.loads(data)["apiUrl"].startswith("https://"),
                f"Basic over TLS: {st} {data[:200]}")
        r = subprocess.run(["curl", "-sk", "-u", f"{alice}:{PW}", "-o", "/dev/null", "-w",
                            "%{http_code}", f"https://127.0.0.1:{https_two}/.well-known/jmap"],
                           capture_output=True, text=True, timeout=60)
        c.check(r.stdout == "200", f"curl with Basic over TLS: {r.stdout} {r.stderr}")

        # --- Login: bearer and cookie ----------------------------------------------------------
        st, h, tok = login(one.http, alice)
        c.check(st == 200 and tok.get("accountId") == a_id and len(tok.get("accessToken", "")) >= 40
                and len(tok.get("csrfToken", "")) >= 40, f"login: {st} {tok}")
        cookie = h["set-cookie"][0] if h.get("set-cookie") else ""
        c.check(cookie.startswith("govmail_session=" + tok.get("accessToken", "-") + ";") and
                "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie,
                f"session cookie over plaintext loopback: {cookie}")
        st, h, tls_tok = login(https_two, alice, tls=True)
        tls_cookie = h["set-cookie"][0] if h.get("set-cookie") else ""
        c.check(st == 200 and "Secure" in tls_cookie and "HttpOnly" in tls_cookie,
                f"over TLS the cookie is Secure: {st} {tls_cookie}")
        st, _, _ = login(two.http, alice)
        c.check(st == 403, f"login over plaintext refused where the config wants TLS: {st}")
        st, h, _ = login(two.http, alice, headers={"X-Forwarded-Proto": "https"})
        proxied = h["set-cookie"][0] if h.get("set-cookie") else ""
        c.check(st == 200 and "Secure" in proxied,
                f"a TLS reverse proxy on loopback (X-Forwarded-Proto): {st} {proxied}")
        st, _, out = login(one.http, alice, "wrong password")
        c.check(st == 401, f"login with a wrong password: {st} {out}")
        st, _, _ = login(one.http, alice, headers={"Origin": "https://evil.example"})
        c.check(st == 403, f"login from a foreign Origin refused: {st}")
        st, _, data = request(one.http, "POST", "/jmap/login", "{not json",
                              {"Content-Type": "application/json"})
        c.check(st == 400, f"login with malformed JSON: {st}")
        token = tok["accessToken"]
        # Tokens are stored hashed: the database never holds the token itself.
        stored = psql(db.url, "SELECT encode(token_sha256, 'hex') FROM jmap_sessions")
        c.check(hashlib.sha256(token.encode()).hexdigest() in stored.split() and
                token not in stored, "the token is stored as its SHA-256 only")

        echo = [["Core/echo", {"hello": True}, "c1"]]
        st, _, out = api(one.http, bearer(token), echo)
        c.check(st == 200 and out["methodResponses"] == [["Core/echo", {"hello": True}, "c1"]],
                f"bearer token: {st} {out}")
        st, _, out = api(two.http, bearer(token), echo)
        c.check(st == 200, f"a token from process one works on process two: {st} {out}")
        ck = {"Cookie": "govmail_session=" + token}
        st, _, out = api(one.http, ck, echo)
        c.check(st == 403, f"cookie without X-CSRF-Token refused: {st} {out}")
        st, _, out = api(one.http, dict(ck, **{"X-CSRF-Token": "x" * 43}), echo)
        c.check(st == 403, f"cookie with a wrong CSRF token refused: {st}")
        good = dict(ck, **{"X-CSRF-Token": tok["csrfToken"]})
        st, _, out = api(one.http, good, echo)
        c.check(st == 200 and out["methodResponses"][0][0] == "Core/echo",
                f"cookie with the CSRF token: {st} {out}")
        st, _, out = api(one.http, dict(good, Origin="https://evil.example"), echo)
        c.check(st == 403, f"cookie request from a foreign Origin refused: {st}")
        st, _, out = api(one.http, dict(good, Origin=f"http://127.0.0.1:{one.http}"), echo)
        c.check(st == 200, f"same-origin request accepted: {st}")
        st, _, out = api(one.http, dict(bearer(token), Origin="https://evil.example"), echo)
        c.check(st == 403, f"even a bearer request from a foreign Origin is refused: {st}")
        st, _, _ = request(one.http, "GET", "/.well-known/jmap", headers=ck)
        c.check(st == 200, f"a GET with the cookie needs no CSRF token: {st}")
        st, _, _ = api(one.http, bearer("A" * 43), echo)
        c.check(st == 401, f"an unknown token: {st}")

        # --- Batching, result references, method-level errors -----------------------------------
        st, _, out = api(one.http, bearer(token), [
            ["Core/echo", {"list": [{"id": "x", "n": [1, 2]}, {"id": "y", "n": [3]}]}, "0"],
            ["Core/echo", {"#ids": {"resultOf": "0", "name": "Core/echo", "path": "/list/*/id"},
                           "#ns": {"resultOf": "0", "name": "Core/echo", "path": "/list/*/n"}},
             "1"],
            ["Core/echo", {"#ids": {"resultOf": "0", "name": "Email/query", "path": "/list"}},
             "2"],
            ["Core/echo", {"ids": [], "#ids": {"resultOf": "0", "name": "Core/echo",
                                               "path": "/list"}}, "3"]])
        r = out.get("methodResponses", []) if isinstance(out, dict) else []
        c.check(st == 200 and len(r) == 4 and r[1] == ["Core/echo", {"ids": ["x", "y"],
                                                                       "ns": [1, 2, 3]}, "1"],
                f"batch with a back-reference through /list/*/id (flattened): {out}")
        c.check(len(r) == 4 and r[2] == ["error", {"type": "invalidResultReference",
                                                    "description": r[2][1].get("description")},
                                          "2"], f"reference to a wrong name: {r[2:3]}")
        c.check(len(r) == 4 and r[3][0] == "error" and r[3][1]["type"] == "invalidArguments",
                f"argument with and without '#': {r[3:]}")
        st, _, out = api(one.http, bearer(token), [
            ["Email/get", {"accountId": a_id}, "m"], ["Core/echo", {"accountId": b_id}, "o"],
            ["Unknown/method", {}, "u"]], extra={"createdIds": {"k1": "X9"}})
        r = out.get("methodResponses", [])
        c.check(st == 200 and r[0] == ["error", {"type": "unknownMethod"}, "m"],
                f"a mail method without the mail capability in using: unknownMethod {r}")
        c.check(r[1][0] == "error" and r[1][1]["type"] == "accountNotFound",
                f"another account's id: accountNotFound {r[1:2]}")
        c.check(r[2] == ["error", {"type": "unknownMethod"}, "u"], f"unknown method: {r[2:]}")
        c.check(out.get("createdIds") == {"k1": "X9"}, "createdIds given come back")

        # --- Request-level errors (RFC 8620 3.6.1) ----------------------------------------------
        auth = dict(bearer(token), **{"Content-Type": "application/json"})
        raw_problem(one.http, auth, "{\"using\": [", "notJSON", "truncated JSON")
        raw_problem(one.http, auth, "\xff\xfe", "notJSON", "not JSON at all")
        raw_problem(one.http, auth, "[" * 2000 + "]" * 2000, "notJSON", "too deeply nested")
        raw_problem(one.http, auth, json.dumps({"using": [CORE]}), "notRequest",
                    "no methodCalls")
        raw_problem(one.http, auth, json.dumps({"using": [CORE], "methodCalls": [["a", {}]]}),
                    "notRequest", "an invocation of two elements")
        raw_problem(one.http, auth, json.dumps({"using": ["urn:example:nope"],
                                                "methodCalls": []}),
                    "unknownCapability", "unknown capability")
        raw_problem(one.http, auth, json.dumps({"using": [CORE], "methodCalls":
                                                [["Core/echo", {}, str(i)] for i in range(5)]}),
                    "limit", "five calls over maxCallsInRequest 4", "maxCallsInRequest")
        raw_problem(one.http, auth, json.dumps({"using": [CORE], "methodCalls":
                                                [["Core/echo", {"x": "y" * 9000}, "0"]]}),
                    "limit", "a request over maxSizeRequest", "maxSizeRequest")
        st, _, _ = api(one.http, bearer(token), echo)
        c.check(st == 200, "the server goes on after the bad requests")

        # --- Blobs: upload, download, limits, no access across accounts --------------------------
        st_b, _, tok_b = login(one.http, bob)
        bob_token = tok_b.get("accessToken", "")
        content = "báo cáo tháng 12".encode() * 10
        st, h, data = request(one.http, "POST", f"/jmap/upload/{a_id}/", content,
                              dict(bearer(token), **{"Content-Type": "text/plain; charset=utf-8"}))
        up = json.loads(data) if st == 201 else {}
        blob_id = "G" + hashlib.sha256(content).hexdigest()
        c.check(st == 201 and up == {"accountId": a_id, "blobId": blob_id,
                                     "type": "text/plain; charset=utf-8", "size": len(content)},
                f"upload: {st} {data[:300]}")
        st, h, data = request(one.http, "GET",
                              f"/jmap/download/{a_id}/{blob_id}/b%C3%A1o%20c%C3%A1o.txt"
                              "?accept=text/plain", headers=bearer(token))
        c.check(st == 200 and data == content and h.get("content-type") == "text/plain" and
                "filename*=UTF-8''b%C3%A1o%20c%C3%A1o.txt" in h.get("content-disposition", "")
                and h.get("content-disposition", "").startswith("attachment;"),
                f"download: {st} {h.get('content-type')} {h.get('content-disposition')}")
        st, _, _ = request(two.http, "GET", f"/jmap/download/{a_id}/{blob_id}/x",
                           headers=bearer(token))
        c.check(st == 200, f"an upload through one downloads through process two: {st}")
        st, _, _ = request(one.http, "GET", f"/jmap/download/{a_id}/{blob_id}/x",
                           headers=bearer(bob_token))
        c.check(st == 404, f"bob cannot download alice's upload through her account id: {st}")
        st, _, _ = request(one.http, "GET", f"/jmap/download/{b_id}/{blob_id}/x",
                           headers=bearer(bob_token))
        c.check(st == 404, f"nor through his own account id: {st}")
        st, _, data = request(one.http, "POST", f"/jmap/upload/{b_id}/", b"x",
                              bearer(token))
        c.check(st == 404, f"alice cannot upload into bob's account: {st} {data}")
        st, h, data = request(one.http, "POST", f"/jmap/upload/{a_id}/", b"z" * 5000,
                              bearer(token))
        body = json.loads(data) if data.startswith(b"{") else {}
        c.check(st == 413 and h.get("content-type") == "application/problem+json" and
                body.get("type") == ERR + "limit" and body.get("limit") == "maxSizeUpload",
                f"an upload over maxSizeUpload: {st} {body}")
        st, _, _ = request(one.http, "GET", f"/jmap/download/{a_id}/Gnothex/x",
                           headers=bearer(token))
        c.check(st == 404, f"an invalid blob id: {st}")
        # A message's raw bytes are a blob of its account only.
        with smtplib.SMTP("127.0.0.1", one.smtp, timeout=30) as smtp:
            smtp.sendmail("friend@example.com", [alice],
                          b"From: friend@example.com\r\nTo: alice@example.gov.vn\r\n"
                          b"Subject: push test\r\n\r\nhello\r\n")
        raw = psql(db.url, "SELECT encode(b.sha256, 'hex') FROM blobs b JOIN messages m ON "
                   "m.blob_sha256 = b.sha256 LIMIT 1")
        st, h, data = request(one.http, "GET", f"/jmap/download/{a_id}/G{raw}/m.eml",
                              headers=bearer(token))
        c.check(st == 200 and b"Subject: push test" in data and
                hashlib.sha256(data).hexdigest() == raw,
                f"a message's blob downloads for its account: {st} {data[:100]}")
        st, _, _ = request(one.http, "GET", f"/jmap/download/{b_id}/G{raw}/m.eml",
                           headers=bearer(bob_token))
        c.check(st == 404, f"bob cannot download alice's message: {st}")

        # --- Push: an IMAP STORE on process two reaches an EventSource on process one ------------
        sock = socket.create_connection(("127.0.0.1", one.http), timeout=10)
        sock.sendall((f"GET /jmap/eventsource?types=*&closeafter=no&ping=0 HTTP/1.1\r\n"
                      f"Host: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                      "Accept: text/event-stream\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        c.check(head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head,
                f"eventsource answers a stream: {head[:300]}")
        buf = head.split(b"\r\n\r\n", 1)[1]
        imap = imaplib.IMAP4("127.0.0.1", imap_two)
        imap.starttls(ssl_context=ssl._create_unverified_context())
        imap.login(alice, PW)
        imap.select("INBOX")
        time.sleep(0.3)  # the stream is subscribed
        t0 = time.monotonic()
        typ, _ = imap.store("1", "+FLAGS", "(\\Flagged)")
        t_stored = time.monotonic()
        sock.settimeout(0.05)
        while b"event: state" not in buf and time.monotonic() - t0 < 5:
            try:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                buf += chunk
            except socket.timeout:
                pass
        latency = time.monotonic() - t_stored
        c.check(typ == "OK" and b"event: state" in buf and latency < 1.0,
                f"StateChange within a second of the IMAP STORE on another process "
                f"({latency:.3f} s): {buf[-400:]}")
        print(f"push latency after IMAP STORE on another process: {latency * 1000:.0f} ms")
        modseq = psql(db.url, f"SELECT modseq FROM accounts WHERE id = {ids['alice']}")
        event = {}
        for line in buf.decode().splitlines():
            if line.startswith("data: ") and "StateChange" in line:
                event = json.loads(line[6:])
        c.check(event.get("@type") == "StateChange" and
                event.get("changed") == {a_id: {"Email": modseq, "Mailbox": modseq,
                                                "Thread": modseq}},
                f"the state is the account's modseq {modseq}: {event}")
        # A mailbox created over IMAP on process two changes the Mailbox state too.
        buf = b""
        t0 = time.monotonic()
        typ, _ = imap.create("\"D&ARE- &AOE-n\"")
        t_created = time.monotonic()
        while b"event: state" not in buf and time.monotonic() - t0 < 5:
            try:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                buf += chunk
            except socket.timeout:
                pass
        latency = time.monotonic() - t_created
        modseq2 = psql(db.url, f"SELECT modseq FROM accounts WHERE id = {ids['alice']}")
        c.check(typ == "OK" and b"event: state" in buf and latency < 1.0 and
                f'"Mailbox":"{modseq2}"'.encode() in buf and modseq2 != modseq,
                f"StateChange within a second of an IMAP CREATE on another process "
                f"({latency:.3f} s, modseq {modseq2}): {buf[-300:]}")
        imap.logout()
        sock.close()

        # A stream with closeafter=state ends after its event; ping comes at the asked interval.
        sock2 = socket.create_connection(("127.0.0.1", one.http), timeout=10)
        sock2.sendall((f"GET /jmap/eventsource?types=Email&closeafter=no&ping=1 HTTP/1.1\r\n"
                       f"Host: x\r\nAuthorization: Bearer {token}\r\n\r\n").encode())
        got = b""
        sock2.settimeout(5)
        t0 = time.monotonic()
        while b"event: ping" not in got and time.monotonic() - t0 < 5:
            got += sock2.recv(4096)
        c.check(b"event: ping" in got and b'"interval":1' in got,
                f"a ping within the interval asked: {got[-200:]}")

        # --- Logout, expiry, revocation ---------------------------------------------------------
        st, _, t2 = login(one.http, alice)
        t2tok = t2.get("accessToken", "")
        st, h, _ = request(one.http, "POST", "/jmap/logout", b"",
                           {"Cookie": "govmail_session=" + t2tok})
        c.check(st == 403, f"logout by cookie without the CSRF token refused: {st}")
        st, h, _ = request(one.http, "POST", "/jmap/logout", b"",
                           {"Cookie": "govmail_session=" + t2tok,
                            "X-CSRF-Token": t2.get("csrfToken", "")})
        c.check(st == 204 and any("Max-Age=0" in v for v in h.get("set-cookie", [])),
                f"logout: {st} {h.get('set-cookie')}")
        st, _, _ = api(one.http, bearer(t2tok), echo)
        c.check(st == 401, f"the token is gone after logout: {st}")
        st, _, _ = api(one.http, bearer(token), echo)
        c.check(st == 200, f"another session of the same account stays: {st}")

        st, _, t3 = login(one.http, alice)
        t3tok = t3.get("accessToken", "")
        h3 = hashlib.sha256(t3tok.encode()).hexdigest()
        psql(db.url, "UPDATE jmap_sessions SET last_used_at = now() - interval '11 minutes' "
             f"WHERE token_sha256 = '\\x{h3}'")
        st, _, _ = api(one.http, bearer(t3tok), echo)
        c.check(st == 401, f"idle for longer than session_idle_timeout: expired ({st})")
        st, _, t4 = login(one.http, alice)
        t4tok = t4.get("accessToken", "")
        h4 = hashlib.sha256(t4tok.encode()).hexdigest()
        psql(db.url, "UPDATE jmap_sessions SET expires_at = now() - interval '1 second' "
             f"WHERE token_sha256 = '\\x{h4}'")
        st, _, _ = api(one.http, bearer(t4tok), echo)
        c.check(st == 401, f"past session_lifetime: expired though used ({st})")

        # A push stream of carol, then her password changes: the stream ends, tokens stop.
        st, _, tc = login(one.http, f"carol@{DOMAIN}")
        carol_token = tc.get("accessToken", "")
        es = socket.create_connection(("127.0.0.1", one.http), timeout=10)
        es.sendall((f"GET /jmap/eventsource?types=*&closeafter=no&ping=0 HTTP/1.1\r\nHost: x\r\n"
                    f"Authorization: Bearer {carol_token}\r\n\r\n").encode())
        es.settimeout(5)
        first = es.recv(4096)
        c.check(first.startswith(b"HTTP/1.1 200"), f"carol's stream opens: {first[:100]}")
        two.admin("account", "password", f"carol@{DOMAIN}", "--password-stdin",
                  input="a brand new password\n")
        ended = False
        t0 = time.monotonic()
        while time.monotonic() - t0 < 5:
            try:
                if not es.recv(4096):
                    ended = True
                    break
            except socket.timeout:
                break
            except OSError:
                ended = True
                break
        c.check(ended, "a password change (another process) ends the push stream")
        st, _, _ = api(one.http, bearer(carol_token), echo)
        c.check(st == 401, f"a password change revokes the token: {st}")
        st, _, _ = login(one.http, f"carol@{DOMAIN}", "a brand new password")
        c.check(st == 200, f"the new password logs in: {st}")
        st, _, _ = api(two.http, bearer(bob_token), echo)
        c.check(st == 200, f"bob's token works before his suspension: {st}")
        two.admin("account", "suspend", bob)
        st, _, _ = api(one.http, bearer(bob_token), echo)
        c.check(st == 401, f"suspension revokes the token: {st}")
        two.admin("account", "restore", bob)
        st, _, _ = api(one.http, bearer(bob_token), echo)
        c.check(st == 401, f"restoring the account does not bring the old token back: {st}")

        # --- jmap-jam, a real JMAP client library from npm ---------------------------------------
        mods = node_modules()
        r = subprocess.run(["node", os.path.join(HERE, "jmap_core_jam.mjs"),
                            f"http://127.0.0.1:{one.http}/.well-known/jmap", token, a_id],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, GOVMAIL_NODE_MODULES=mods))
        try:
            jam = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            jam = {}
        c.check(jam.get("username") == alice and
                jam.get("coreCapability", {}).get("maxCallsInRequest") == 4,
                f"jmap-jam reads the session: {r.stdout[-500:]} {r.stderr[-1500:]}")
        c.check(jam.get("echo") == {"hello": "xin chào", "n": 3}, f"jmap-jam Core/echo: {jam}")
        c.check(jam.get("many", {}).get("second", {}).get("ids") == ["x", "y"],
                f"jmap-jam requestMany with a $ref: {jam.get('many')}")
        jam_bytes = "tệp đính kèm của jmap-jam".encode()
        c.check(jam.get("uploaded", {}).get("blobId") ==
                "G" + hashlib.sha256(jam_bytes).hexdigest() and
                jam.get("downloaded") == "tệp đính kèm của jmap-jam",
                f"jmap-jam upload and download: {jam.get('uploaded')} {jam.get('downloaded')}")
        c.check(jam.get("foreign") == "accountNotFound",
                f"jmap-jam sees accountNotFound for another account: {jam.get('foreign')}")

        # --- Failed logins are locked out per network like the other protocols -----------------
        statuses = [login(one.http, f"dave@{DOMAIN}", f"guess {i}")[0] for i in range(8)]
        # Two failures of this network were counted above (wrong Basic, wrong login).
        first_429 = statuses.index(429) if 429 in statuses else len(statuses)
        c.check(statuses[0] == 401 and 0 < first_429 <= 4 and
                all(x == 429 for x in statuses[first_429:]),
                f"after 5 failures of the network it is locked out: {statuses}")
        st, h, _ = login(one.http, f"dave@{DOMAIN}")
        c.check(st == 429 and int(h.get("retry-after", "0")) > 0,
                f"even the right password waits out the lock-out: {st} {h.get('retry-after')}")
        st, _, _ = request(one.http, "GET", "/.well-known/jmap", headers=basic(f"dave@{DOMAIN}"))
        c.check(st == 429, f"Basic shares the lock-out: {st}")
        st, _, _ = api(one.http, bearer(token), echo)
        c.check(st == 200, f"tokens already issued keep working: {st}")
        st, _, data = request(one.http, "GET", "/healthz")
        c.check(st == 200, "the server is still healthy")

        # --- Requests per client network (http.rate_per_network) on process two ---------------
        conn = http.client.HTTPConnection("127.0.0.1", two.http, timeout=30)
        answers = []
        for _ in range(100):
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            r.read()
            answers.append((r.status, r.getheader("Retry-After")))
        conn.close()
        ok = sum(1 for st, _ in answers if st == 200)
        refused = [ra for st, ra in answers if st == 429]
        c.check(60 <= ok < 100 and refused and all(ra and int(ra) >= 1 for ra in refused),
                f"a burst of 100 requests: the burst of 60 (and the refill) served, the rest 429 "
                f"with Retry-After ({ok} served, {len(refused)} refused)")
        time.sleep(1.2)
        st, _, _ = request(two.http, "GET", "/healthz")
        c.check(st == 200, f"the network is served again after a second: {st}")
    finally:
        stop_server(one, c)
        stop_server(two, c)

c.finish()
