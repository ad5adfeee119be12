#!/usr/bin/env python3
"""The webmail in headless Chromium (playwright-core from package-lock.json, Debian chromium)
against the real govmail: the page and its headers; log in; read a message delivered by SMTP
(smtplib); a script inside a received HTML message never runs and its remote image loads only
when asked; attachment preview and download; send a message that an IMAP client (imaplib) then
receives; a draft saved by itself; reply with an attachment; search in Vietnamese without
diacritics; a new message appears by push without reloading; the vacation reply; a request
without the CSRF token (same page, and a form from another site) is refused and changes nothing;
English and a phone-sized screen. Screenshots go to <build>/test-artifacts/webmail/. Finally the
first page is measured on a throttled line (1.5 Mbit/s, 100 ms latency): bytes and time.

Each browser step runs only when the server has what it needs (probed first); a step that cannot
run is printed as NOT RUN and the test then exits 77 (skipped), never 0."""
import base64
import email
import email.policy
import http.server
import imaplib
import json
import os
import smtplib
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from email.message import EmailMessage

sys.path.insert(0, os.path.dirname(__file__))
from support import GOVMAIL, Checks, FreshDatabase, free_port, node_modules  # noqa: E402
from smtp_support import DOMAIN, Server, add_account  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARTEFACTS = os.path.join(os.path.dirname(os.path.abspath(GOVMAIL)), "test-artifacts", "webmail")
PW = "correct horse battery"
USER, PEER = f"binh@{DOMAIN}", f"an@{DOMAIN}"
ALIAS, ALIAS_REPLY_TO = f"vanthu@{DOMAIN}", f"hanhchinh@{DOMAIN}"
PLAIN_SUBJECT = "Công văn số 45 về việc tiếp dân"
PLAIN_TEXT = "Đề nghị đồng chí chuẩn bị báo cáo tiếp dân quý IV."
HTML_SUBJECT = "Thư có ảnh và mã lạ"
HTML_TEXT = "Nội dung HTML an toàn"
PUSH_SUBJECT = "Thông báo họp khẩn lúc 14 giờ"
# A 1x1 PNG: the attachment to preview and download.
MAIL = "urn:ietf:params:jmap:mail"
SUBMISSION = "urn:ietf:params:jmap:submission"
VACATION = "urn:ietf:params:jmap:vacationresponse"
DIRECTORY = "urn:govmail:params:jmap:directory"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGA"
                       "hKmMIQAAAABJRU5ErkJggg==")
c = Checks()


class Recorder(http.server.BaseHTTPRequestHandler):
    """Another site: records every request (a script that ran, a remote image fetched) and
    serves the attacker's page for the CSRF step."""
    hits = []

    def do_GET(self):
        Recorder.hits.append(self.path)
        body, ctype = (PNG, "image/png") if self.path.endswith(".png") else (
            b"<!doctype html><title>other site</title><body></body>", "text/html")
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def http_get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def http_post(url, body, headers):
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Jmap:
    """Python's own view through the API (bearer token), to probe and to verify."""

    def __init__(self, base):
        self.base = base
        self.token = None
        self.account = None

    def login(self, user, password):
        status, body = http_post(self.base + "jmap/login",
                                 json.dumps({"username": user, "password": password}).encode(),
                                 {"Content-Type": "application/json"})
        if status != 200:
            return status
        out = json.loads(body)
        self.token = out.get("accessToken")
        return status

    def session(self):
        status, _, body = http_get(self.base + ".well-known/jmap",
                                   {"Authorization": f"Bearer {self.token}"})
        if status != 200:
            return None
        s = json.loads(body)
        self.capabilities = s.get("capabilities", {})
        self.account = s.get("primaryAccounts", {}).get(MAIL) or next(iter(s.get("accounts", {})), None)
        return s

    def call(self, name, args, using=()):
        status, body = http_post(self.base + "jmap/api", json.dumps({
            "using": ["urn:ietf:params:jmap:core", *using],
            "methodCalls": [[name, {"accountId": self.account, **args}, "0"]]}).encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})
        if status != 200:
            return ["httpError", {"status": status}]
        return json.loads(body)["methodResponses"][0][:2]

    def supports(self, name, args, capability):
        if capability not in self.capabilities:
            return False
        kind, out = self.call(name, args, [capability])
        return kind == name or (kind == "error" and out.get("type") not in (
            "unknownMethod", "unknownCapability"))


def alias_identity(api):
    """An identity for binh's alias (Identity/set create, with a Reply-To): its id, or None."""
    if SUBMISSION not in api.capabilities:
        return None
    kind, out = api.call("Identity/set", {"create": {"v": {
        "email": ALIAS, "name": "Văn thư Sở", "replyTo": [{"email": ALIAS_REPLY_TO}]}}},
        [SUBMISSION])
    return ((out.get("created") or {}).get("v") or {}).get("id") if kind == "Identity/set" else None


def part_download_works(api, session):
    """An attachment of a delivered message downloads (the part blob ids of Email/get)."""
    kind, q = api.call("Email/query", {}, [MAIL])
    kind, got = api.call("Email/get", {"ids": q.get("ids", []), "properties": ["attachments"]},
                         [MAIL])
    parts = [a for e in got.get("list", []) for a in e.get("attachments") or []]
    if not parts:
        return False
    url = (session["downloadUrl"].replace("{accountId}", api.account)
           .replace("{blobId}", parts[0]["blobId"]).replace("{name}", "x")
           .replace("{type}", "application/octet-stream"))
    status, _, body = http_get(url, {"Authorization": f"Bearer {api.token}"})
    return status == 200 and len(body) == parts[0].get("size", -1) or (status == 200 and body == PNG)


def upload_in_email_works(api, session):
    """A blob uploaded to uploadUrl can be attached by Email/set (created, then destroyed)."""
    status, body = http_post(session["uploadUrl"].replace("{accountId}", api.account), b"probe",
                             {"Content-Type": "text/plain", "Authorization": f"Bearer {api.token}"})
    if status not in (200, 201):
        return False
    blob = json.loads(body)["blobId"]
    kind, boxes = api.call("Mailbox/get", {"ids": None}, [MAIL])
    drafts = next((m["id"] for m in boxes.get("list", []) if m.get("role") == "drafts"), None)
    kind, out = api.call("Email/set", {"create": {"p": {
        "mailboxIds": {drafts: True}, "keywords": {"$draft": True}, "subject": "probe",
        "textBody": [{"partId": "t", "type": "text/plain"}], "bodyValues": {"t": {"value": "x"}},
        "attachments": [{"blobId": blob, "type": "text/plain", "name": "p.txt"}]}}}, [MAIL])
    created = (out.get("created") or {}).get("p")
    if created:
        api.call("Email/set", {"destroy": [created["id"]]}, [MAIL])
    return created is not None


def folded_search_works(api):
    """Email/query text without diacritics finds what the same words with them find (waits,
    bounded, for the server's indexing of the mail just delivered)."""
    def found(text):
        kind, out = api.call("Email/query", {"filter": {"text": text}}, [MAIL])
        return kind == "Email/query" and len(out.get("ids", [])) > 0
    deadline = time.time() + 15
    while not found("Công văn số 45") and time.time() < deadline:
        time.sleep(0.5)
    return found("Công văn số 45") and found("cong van so 45")


def deliver(srv, msg):
    """From the peer's account: submission with STARTTLS and AUTH (the MX refuses a local
    sender that has not logged in)."""
    with smtplib.SMTP("127.0.0.1", srv.submission, timeout=30) as s:
        s.starttls(context=ssl._create_unverified_context())
        s.login(PEER, PW)
        s.send_message(msg)


def plain_message():
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = f"Nguyễn Văn An <{PEER}>", USER, PLAIN_SUBJECT
    m["Message-ID"] = f"<cv45@{DOMAIN}>"
    m.set_content(f"Kính gửi anh Bình,\n\n{PLAIN_TEXT}\n\nTrân trọng.\n")
    return m


def html_message(recorder):
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = f"Trần Thị Hoa <{PEER}>", USER, HTML_SUBJECT
    m.set_content("Bản văn bản thuần.")
    m.add_alternative(f"""<html><head><meta http-equiv="refresh" content="0;url={recorder}/script-refresh">
<script>top.postMessage('script-ran', '*'); new Image().src = '{recorder}/script-ran';</script>
</head><body><p>{HTML_TEXT}</p>
<img src="x" onerror="top.postMessage('onerror-ran', '*'); new Image().src='{recorder}/script-onerror'">
<img src="{recorder}/remote-image.png" alt="logo">
<a href="javascript:top.postMessage('href-ran','*')">liên kết</a>
<iframe src="{recorder}/script-iframe"></iframe></body></html>""", subtype="html")
    m.add_attachment(PNG, maintype="image", subtype="png", filename="anh-chup.png")
    return m


def push_message():
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = PEER, USER, PUSH_SUBJECT
    m.set_content("Mời các đồng chí dự họp.")
    return m


def imap_messages(port, user):
    """Every message in user's INBOX, parsed."""
    conn = imaplib.IMAP4("127.0.0.1", port, timeout=20)
    try:
        conn.login(user, PW)
        conn.select("INBOX", readonly=True)
        _, data = conn.uid("SEARCH", None, "ALL")
        out = []
        for uid in data[0].split():
            _, parts = conn.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
            flags = parts[0][0].decode()
            out.append((flags, email.message_from_bytes(parts[0][1], policy=email.policy.default)))
        return out
    finally:
        conn.logout()


def wait_imap(port, user, match, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for flags, m in imap_messages(port, user):
            if match(m):
                return flags, m
        time.sleep(0.5)
    return None, None


def check_static(base):
    """The page itself: served from the binary with its headers, gzip and caching."""
    status, h, body = http_get(base, {"Accept-Encoding": "gzip"})
    csp = h.get("Content-Security-Policy", "")
    c.check(status == 200 and h.get("Content-Type") == "text/html; charset=utf-8",
            f"GET / is the webmail: {status} {h.get('Content-Type')}")
    c.check("default-src 'self'" in csp and "script-src 'self';" in csp and
            "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp, f"strict CSP: {csp}")
    c.check(h.get("X-Content-Type-Options") == "nosniff" and
            h.get("Referrer-Policy") == "no-referrer", f"nosniff, no-referrer: {h}")
    c.check(h.get("Content-Encoding") == "gzip" and h.get("Cache-Control") == "no-cache",
            f"index gzipped, revalidated: {h.get('Content-Encoding')} {h.get('Cache-Control')}")
    status2, h2, _ = http_get(base, {"If-None-Match": h.get("ETag", "")})
    c.check(status2 == 304, f"If-None-Match -> 304: {status2}")
    import gzip as gz
    page = gz.decompress(body).decode()
    version = page.split("/app.js?v=")[1].split('"')[0]
    s3, h3, _ = http_get(f"{base}app.js?v={version}")
    c.check(s3 == 200 and h3.get("Content-Type") == "text/javascript; charset=utf-8" and
            "immutable" in h3.get("Cache-Control", ""), f"versioned app.js immutable: {h3}")


def main():
    os.makedirs(ARTEFACTS, exist_ok=True)
    mods = node_modules()
    recorder = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Recorder)
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    rec_url = f"http://127.0.0.1:{recorder.server_address[1]}"
    with FreshDatabase() as db:
        srv = Server(db.url, allow_plaintext=True)
        imap_port = srv.listen_imap()
        srv.admin("domain", "add", DOMAIN)
        add_account(srv, "binh", PW)
        add_account(srv, "an", PW)
        # In the directory only: never in binh's mail, so compose can find it only there.
        srv.admin("account", "add", f"vinhnq@{DOMAIN}", "--name", "Nguyễn Quang Vinh",
                  "--random-password")
        srv.admin("alias", "add", ALIAS, USER)  # binh is also the office's văn thư
        srv.start()
        not_run = []
        try:
            base = f"http://127.0.0.1:{srv.http}/"
            check_static(base)
            deliver(srv, plain_message())
            deliver(srv, html_message(rec_url))

            # What the server supports decides which browser steps run.
            api = Jmap(base)
            login_status = api.login(USER, PW)
            session = api.session() if login_status == 200 else None
            has = {"login": session is not None}
            if session:
                for name, args, cap in [("Mailbox/get", {"ids": None}, MAIL),
                                        ("Email/query", {"filter": {"text": "x"}}, MAIL),
                                        ("Email/get", {"ids": []}, MAIL),
                                        ("Thread/get", {"ids": []}, MAIL),
                                        ("Email/set", {}, MAIL),
                                        ("EmailSubmission/set", {}, SUBMISSION),
                                        ("Identity/get", {"ids": None}, SUBMISSION),
                                        ("VacationResponse/get", {"ids": None}, VACATION),
                                        ("VacationResponse/set", {}, VACATION)]:
                    has[name] = api.supports(name, args, cap)
                has["download"] = has["Email/get"] and part_download_works(api, session)
                has["upload"] = has["Email/set"] and upload_in_email_works(api, session)
                has["push"] = bool(session.get("eventSourceUrl"))
                has["folded search"] = has["Email/query"] and folded_search_works(api)
                has["alias identity"] = alias_identity(api)
                has["directory"] = api.supports("Directory/query", {"text": "x"}, DIRECTORY)
            print(f"server supports: {json.dumps(has)} (login: HTTP {login_status})", flush=True)
            listing = has["login"] and has.get("Mailbox/get") and has.get("Email/query") and \
                has.get("Email/get")
            sending = listing and has.get("Email/set") and has.get("EmailSubmission/set") and \
                has.get("Identity/get")
            needs = {
                "page": True,
                "login": listing,
                "read": listing and has.get("Email/set"),
                "html-script-blocked": listing,
                "remote-images": listing,
                "attachment-preview": listing and has.get("download"),
                "send": sending,
                "directory": listing and has.get("directory"),
                "draft-autosave": listing and has.get("Email/set"),
                "reply-attachment": sending and has.get("upload"),
                "search-folded": listing and has.get("folded search"),
                "push": listing and has.get("push"),
                "vacation": listing and has.get("VacationResponse/get") and
                has.get("VacationResponse/set"),
                "signature": sending and has.get("VacationResponse/get"),
                "identity": sending and bool(has.get("alias identity")),
                "csrf": has["login"],
                "english-and-phone": listing,
                "measure": True,
            }
            steps = [s for s, ok in needs.items() if ok]
            not_run = [s for s, ok in needs.items() if not ok]
            if not listing:
                steps = [s for s in steps if s in ("page", "measure", "csrf")]
                not_run = [s for s in needs if s not in steps]
            can_check_state = bool(has.get("Mailbox/get"))
            csrf_prefix = json.dumps({
                "using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
                "methodCalls": [["Mailbox/set", {"accountId": api.account,
                                                 "create": {"x": {"name": "CSRF"}}}, "0"]]})
            csrf_prefix = csrf_prefix[:-1] + ', "pad": "'
            cfg = {"base": base, "user": USER, "password": PW, "peer": PEER,
                   "artefacts": ARTEFACTS, "recorder": rec_url, "steps": steps,
                   "plainSubject": PLAIN_SUBJECT, "plainBodyText": PLAIN_TEXT,
                   "htmlSubject": HTML_SUBJECT, "htmlBodyText": HTML_TEXT,
                   "imageName": "anh-chup.png", "imageSize": len(PNG),
                   "sendSubject": "Báo cáo kết quả tiếp dân tháng 12",
                   "sendBody": "Kính gửi anh An,\nXin gửi báo cáo.\nBình",
                   "signature": "Trần Văn Bình\nPhòng Hành chính",
                   "signatureSubject": "Thư có chữ ký",
                   "aliasIdentity": has.get("alias identity") or "", "alias": ALIAS,
                   "identitySubject": "Công văn gửi từ văn thư",
                   "draftSubject": "Nháp: kế hoạch năm 2027",
                   "replyBody": "Đã nhận, xin gửi lại bảng tổng hợp.",
                   "replyFileName": "tong-hop.txt", "replyFileText": "Tổng hợp: 12 lượt tiếp dân.\n",
                   "foldedQuery": "cong van so 45", "pushSubject": PUSH_SUBJECT,
                   "csrfPrefix": csrf_prefix, "canCheckState": can_check_state,
                   "directoryTyped": "quang vinh", "directoryAddress": f"vinhnq@{DOMAIN}"}
            run_browser(cfg, mods, srv, imap_port, api)
        finally:
            c.check(srv.stop() == 0, "clean stop")
            recorder.shutdown()
        if c.failed:
            print(srv.log()[-3000:])
        srv.cleanup()
    print(f"screenshots: {ARTEFACTS}")
    for s in not_run:
        print(f"NOT RUN: {s} (the server does not support what it needs yet)")
    if not_run and not c.failed:
        print(f"{c.passed} passed, 0 failed, {len(not_run)} steps not run: skipped")
        raise SystemExit(77)
    c.finish()


def answer(want, msg, cfg, srv, imap_port, api):
    """What the browser script asks Python to do or check."""
    if want == "recorder-hits":
        return json.dumps(Recorder.hits)
    if want == "imap-subject":
        _, m = wait_imap(imap_port, PEER, lambda m: m["Subject"] == msg["subject"])
        return "found" if m is not None and "Xin gửi báo cáo" in m.get_body(
            ("plain",)).get_content() else "missing"
    if want == "imap-reply":
        _, m = wait_imap(imap_port, PEER, lambda m: m["Subject"] == msg["subject"])
        if m is None:
            return "missing"
        names = [p.get_filename() for p in m.iter_attachments()]
        files = {p.get_filename(): p.get_content() for p in m.iter_attachments()}
        body = m.get_body(("plain",)).get_content()
        ok = (cfg["replyFileName"] in names and
              files[cfg["replyFileName"]].strip() == cfg["replyFileText"].strip() and
              cfg["replyBody"] in body and m["In-Reply-To"] == f"<cv45@{DOMAIN}>")
        return "found" if ok else f"wrong: attachments {names}, In-Reply-To {m['In-Reply-To']}"
    if want == "sent-filed":
        kind, boxes = api.call("Mailbox/get", {"ids": None}, [MAIL])
        role = {m.get("role"): m["id"] for m in boxes.get("list", [])}
        kind, q = api.call("Email/query", {"filter": {"subject": msg["subject"]}}, [MAIL])
        kind, got = api.call("Email/get", {"ids": q.get("ids", []),
                                           "properties": ["mailboxIds", "keywords"]}, [MAIL])
        copies = got.get("list", [])
        ok = (len(copies) == 1 and copies[0]["mailboxIds"] == {role.get("sent"): True} and
              "$draft" not in copies[0]["keywords"])
        return "filed" if ok else json.dumps(copies)
    if want == "deliver-push":
        deliver(srv, push_message())
        return "ok"
    if want == "imap-signature":
        _, m = wait_imap(imap_port, PEER, lambda m: m["Subject"] == msg["subject"])
        body = m.get_body(("plain",)).get_content() if m is not None else ""
        return "found" if cfg["signature"] in body.replace("\r\n", "\n") else f"missing: {body!r}"
    if want == "imap-identity":
        _, m = wait_imap(imap_port, PEER, lambda m: m["Subject"] == msg["subject"])
        if m is None:
            return "missing"
        ok = ALIAS in (m["From"] or "") and ALIAS_REPLY_TO in (m["Reply-To"] or "")
        return "found" if ok else f"wrong: From {m['From']!r}, Reply-To {m['Reply-To']!r}"
    if want == "vacation-state":
        kind, out = api.call("VacationResponse/get", {"ids": None}, [MAIL, VACATION])
        v = (out.get("list") or [{}])[0]
        return "enabled" if v.get("isEnabled") and v.get("subject") == "Vắng mặt" else json.dumps(v)
    if want == "csrf-unchanged":
        if not cfg["canCheckState"]:
            return "not checked"
        kind, out = api.call("Mailbox/get", {"ids": None}, [MAIL])
        names = [mb.get("name") for mb in out.get("list", [])] if kind == "Mailbox/get" else None
        return "unchanged" if names is not None and "CSRF" not in names else f"changed: {names}"
    return "unknown request"


def run_browser(cfg, mods, srv, imap_port, api):
    proc = subprocess.Popen(["node", os.path.join(HERE, "webmail_browser.mjs"), json.dumps(cfg)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, GOVMAIL_NODE_MODULES=mods))
    seen = set()
    try:
        for line in proc.stdout:
            msg = json.loads(line)
            if "want" in msg:
                proc.stdin.write(answer(msg["want"], msg, cfg, srv, imap_port, api) + "\n")
                proc.stdin.flush()
            elif "figures" in msg:
                f = msg["figures"]
                print("first page on 1.5 Mbit/s, 100 ms latency (cold cache): "
                      f"login page {f['login_page_bytes']} bytes in {f['login_page_requests']} "
                      f"requests, visible after {f['login_page_ms']} ms", flush=True)
                if "login_to_list_ms" in f:
                    print(f"  log in -> first message list: {f['login_to_list_ms']} ms, "
                          f"{f['login_to_list_bytes']} bytes; returning user (cached files) "
                          f"reload -> list: {f['warm_reload_to_list_ms']} ms, "
                          f"{f['warm_reload_bytes']} bytes in {f['warm_reload_requests']} requests",
                          flush=True)
                c.check(f["login_page_bytes"] < 60_000, f"first page under 60 kB: {f}")
            else:
                seen.add(msg["step"])
                print(f"{'ok' if msg['ok'] else 'FAILED'}: {msg['step']}: {msg['detail']}",
                      flush=True)
                c.check(msg["ok"], f"browser step {msg['step']}")
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read()
    c.check(proc.returncode == 0, f"browser script exit {proc.returncode}: {err[-1500:]}")
    for s in cfg["steps"]:
        if s != "measure":
            c.check(s in seen, f"browser step {s} reported")


main()
