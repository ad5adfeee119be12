#!/usr/bin/env python3
"""JMAP Email/query text filters and SearchSnippet/get through the search index (docs/JMAP.md):
mail delivered by smtplib, then Email/query over raw HTTP with Vietnamese text with and without
diacritics, first on one process whose indexer is off (every message still queued: the queue's
texts answer), then, after another process has indexed everything, on the index's texts (the
old body filter read the queue only, so it lost every indexed message). Also NOT and OR over
text conditions, an accented string that must not match the unaccented text, and the <mark>s of
SearchSnippet/get around accented words that an unaccented query found."""
import base64
import http.client
import json
import os
import smtplib
import sys
import time
from email.message import EmailMessage

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, psql, stop_server  # noqa: E402
from smtp_support import DOMAIN, Server, add_account  # noqa: E402

PW = "correct horse battery"
MAIL = "urn:ietf:params:jmap:mail"
USER = f"lan@{DOMAIN}"
c = Checks()


def call(port, name, args):
    auth = base64.b64encode(f"{USER}:{PW}".encode()).decode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/jmap/api", json.dumps({
        "using": ["urn:ietf:params:jmap:core", MAIL],
        "methodCalls": [[name, dict(args, accountId=ACCOUNT), "c"]]}),
        {"Authorization": "Basic " + auth, "Content-Type": "application/json"})
    r = conn.getresponse()
    body = json.loads(r.read())
    conn.close()
    return body["methodResponses"][0]


def subjects(port, flt):
    kind, out, _ = call(port, "Email/query", {"filter": flt})
    if kind != "Email/query":
        return f"{kind} {out}"
    _, got, _ = call(port, "Email/get", {"ids": out["ids"], "properties": ["subject"]})
    return sorted(e["subject"] for e in got["list"])


def send(port, subject, body, frm="Nguyễn Văn An <an@example.com>"):
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = frm, USER, subject
    m.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.send_message(m)


A = "Công văn số 45 về việc tiếp dân"
B = "Lịch họp tuần"
C = "Cong van khong dau"  # unaccented text: an accented query must not find it


def check_queries(port, where):
    c.check(subjects(port, {"text": "cong van so 45"}) == [A],
            f"{where}: text 'cong van so 45' finds the accented subject")
    c.check(subjects(port, {"subject": "CÔNG VĂN"}) == [A],
            f"{where}: subject 'CÔNG VĂN' (accented, upper case) finds only the accented one")
    c.check(subjects(port, {"body": "bao cao quy iv"}) == [A],
            f"{where}: body 'bao cao quy iv' finds the body text")
    c.check(subjects(port, {"body": "phòng họp số 2"}) == [B], f"{where}: accented body")
    c.check(subjects(port, {"from": "nguyen van an"}) == sorted([A, B]),
            f"{where}: from 'nguyen van an' finds the display name")
    c.check(subjects(port, {"text": "cong van"}) == sorted([A, C]),
            f"{where}: 'cong van' finds both spellings")
    c.check(subjects(port, {"operator": "NOT", "conditions": [{"text": "cong van"}]}) == [B],
            f"{where}: NOT text")
    c.check(subjects(port, {"operator": "OR", "conditions": [
        {"subject": "lich hop"}, {"body": "khong dau"}]}) == sorted([B, C]), f"{where}: OR")
    c.check(subjects(port, {"text": "không có từ này"}) == [], f"{where}: no match")
    kind, out, _ = call(port, "Email/query", {"filter": {"text": "cong van so 45"}})
    _, snip, _ = call(port, "SearchSnippet/get", {"filter": {"text": "cong van so 45"},
                                                 "emailIds": out.get("ids", [])})
    got = snip.get("list", [{}])[0] if snip.get("list") else {}
    c.check(got.get("subject") == "<mark>Công văn số 45</mark> về việc tiếp dân",
            f"{where}: snippet marks the accented words: {got}")
    _, snip, _ = call(port, "SearchSnippet/get", {"filter": {"body": "bao cao"},
                                                 "emailIds": out.get("ids", [])})
    got = snip.get("list", [{}])[0] if snip.get("list") else {}
    c.check("<mark>báo cáo</mark>" in (got.get("preview") or ""),
            f"{where}: body snippet: {got}")


with FreshDatabase() as db:
    queued = Server(db.url, allow_plaintext=True)
    queued.edit_config(lambda t: t + "\n[search]\nindexer = false\n")
    indexer = Server(db.url, allow_plaintext=True)
    try:
        queued.admin("domain", "add", DOMAIN)
        add_account(queued, "lan", PW)
        ACCOUNT = "a" + psql(db.url, f"SELECT id FROM accounts WHERE address = '{USER}'")
        queued.start()
        send(queued.smtp, A, "Kính gửi chị Lan,\nĐề nghị chuẩn bị báo cáo quý IV.\n")
        send(queued.smtp, B, "Họp tại phòng họp số 2.\n")
        send(queued.smtp, C, "Van ban khong dau.\n", frm="tran@example.com")
        pending = psql(db.url, "SELECT count(*) FROM index_queue")
        c.check(pending == "3", f"the three messages wait in the queue: {pending}")
        check_queries(queued.http, "queued")
        indexer.start()
        deadline = time.time() + 60
        while psql(db.url, "SELECT count(*) FROM index_queue") != "0" and time.time() < deadline:
            time.sleep(0.3)
        c.check(psql(db.url, "SELECT count(*) FROM index_queue") == "0", "the indexer drained it")
        check_queries(indexer.http, "indexed")  # its var_dir holds the index
    finally:
        stop_server(indexer, c)
        stop_server(queued, c)
c.finish()
