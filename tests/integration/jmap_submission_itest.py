#!/usr/bin/env python3
"""EmailSubmission/set with onSuccessUpdateEmail and onSuccessDestroyEmail (RFC 8621 7.5) over
raw HTTP, as the webmail sends: one request creates the draft, submits it and moves it to Sent
without $draft; the implicit Email/set answers after the EmailSubmission/set, the recipient's
INBOX (JMAP) receives the message once, and nothing is reported as notUpdated."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, psql, stop_server  # noqa: E402
from smtp_support import DOMAIN, Server, add_jmap_accounts  # noqa: E402
from jmap_support import JmapClient  # noqa: E402

PW = "correct horse battery"
c = Checks()


class Client(JmapClient):
    def __init__(self, port, user, account):
        super().__init__(port, user, PW, account)

    def subjects_in(self, mailbox):
        res = self.batch([
            ["Email/query", {"filter": {"inMailbox": mailbox}}, "q"],
            ["Email/get", {"#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                           "properties": ["subject", "mailboxIds", "keywords"]}, "g"]])
        return res[1][1]["list"]


def draft(boxes, subject, to):
    return {"mailboxIds": {boxes["drafts"]: True}, "keywords": {"$draft": True, "$seen": True},
            "from": [{"email": f"hoa@{DOMAIN}"}], "to": [{"email": to}], "subject": subject,
            "textBody": [{"partId": "t", "type": "text/plain"}],
            "bodyValues": {"t": {"value": "Nội dung thư."}}}


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    try:
        ids = add_jmap_accounts(srv, db.url, ("hoa", "minh"), PW)
        srv.start()
        hoa = Client(srv.http, f"hoa@{DOMAIN}", ids["hoa"])
        minh = Client(srv.http, f"minh@{DOMAIN}", ids["minh"])
        boxes = hoa.roles()
        [[_, idents, _]] = hoa.batch([["Identity/get", {"ids": None}, "i"]])
        identity = idents["list"][0]["id"]
        subject = "Báo cáo gửi kèm"
        res = hoa.batch([
            ["Email/set", {"create": {"m": draft(boxes, subject, f"minh@{DOMAIN}")}}, "0"],
            ["EmailSubmission/set", {
                "create": {"s": {"identityId": identity, "emailId": "#m"}},
                "onSuccessUpdateEmail": {"#s": {
                    f"mailboxIds/{boxes['drafts']}": None, f"mailboxIds/{boxes['sent']}": True,
                    "keywords/$draft": None}}}, "1"]])
        names = [r[0] for r in res]
        c.check(names == ["Email/set", "EmailSubmission/set", "Email/set"],
                f"responses: Email/set, EmailSubmission/set, the implicit Email/set: {res}")
        sub = res[1][1] if len(res) > 1 else {}
        c.check("s" in (sub.get("created") or {}) and sub.get("notUpdated") is None and
                sub.get("notCreated") is None, f"submission created, nothing notUpdated: {sub}")
        email_id = (res[0][1].get("created") or {}).get("m", {}).get("id")
        implicit = res[2][1] if len(res) > 2 else {}
        c.check(email_id in (implicit.get("updated") or {}) and
                implicit.get("notUpdated") is None, f"implicit Email/set updated it: {implicit}")
        sent = hoa.subjects_in(boxes["sent"])
        c.check([e["subject"] for e in sent] == [subject] and
                sent[0]["mailboxIds"] == {boxes["sent"]: True} and
                "$draft" not in sent[0]["keywords"], f"in Sent only, without $draft: {sent}")
        c.check(hoa.subjects_in(boxes["drafts"]) == [], "no longer in Drafts")
        # Journaled once as mail this account sent (docs/ARCHIVE.md), in the same transaction.
        j = psql(db.url, "SELECT direction, auth_user, client_ip, array_to_string(recipients, ','), "
                         "content_hash = sha256(govmail_journal_content(j)) FROM archive_journal j "
                         f"WHERE subject = '{subject}'")
        c.check(j == f"out|hoa@{DOMAIN}|127.0.0.1|minh@{DOMAIN}|t",
                f"the submission's journal entry: direction, submitter, client IP, recipients: {j}")
        inbox = minh.roles()["inbox"]
        got = []
        deadline = time.time() + 20
        while not got and time.time() < deadline:
            got = [e["subject"] for e in minh.subjects_in(inbox)]
            time.sleep(0.2)
        c.check(got == [subject], f"the recipient's INBOX has it once: {got}")

        # onSuccessDestroyEmail, and an update of a submission (cannotUnsend, under its id).
        res = hoa.batch([
            ["Email/set", {"create": {"d": draft(boxes, "Xoá sau khi gửi", f"minh@{DOMAIN}")}}, "0"],
            ["EmailSubmission/set", {"create": {"s2": {"identityId": identity, "emailId": "#d"}},
                                     "onSuccessDestroyEmail": ["#s2"]}, "1"]])
        destroyed_id = (res[0][1].get("created") or {}).get("d", {}).get("id")
        c.check(len(res) == 3 and res[2][0] == "Email/set" and
                res[2][1].get("destroyed") == [destroyed_id], f"onSuccessDestroyEmail: {res}")
        sid = (res[1][1].get("created") or {}).get("s2", {}).get("id")
        [[kind, out, _]] = hoa.batch([["EmailSubmission/set",
                                       {"update": {sid: {"undoStatus": "canceled"}}}, "u"]])
        c.check(kind == "EmailSubmission/set" and
                list((out.get("notUpdated") or {}).keys()) == [sid] and
                out["notUpdated"][sid]["type"] == "cannotUnsend", f"cannot unsend: {out}")

        # EmailSubmission/query and /changes: the two submissions above, newest first; the
        # second alone by emailId; /changes from 0 creates both, one at a time with maxChanges.
        first = (sub.get("created") or {}).get("s", {}).get("id")
        kind, q = hoa.one("EmailSubmission/query", {
            "sort": [{"property": "sentAt", "isAscending": False},
                     {"property": "emailId", "isAscending": False}], "calculateTotal": True})
        c.check(kind == "EmailSubmission/query" and q.get("ids") == [sid, first] and
                q.get("total") == 2, f"EmailSubmission/query newest first: {q}")
        _, q = hoa.one("EmailSubmission/query", {"filter": {
            "emailIds": [destroyed_id], "undoStatus": "final", "after": "2000-01-01T00:00:00Z"}})
        c.check(q.get("ids") == [sid], f"EmailSubmission/query by emailIds: {q}")
        _, q = hoa.one("EmailSubmission/query", {"filter": {"operator": "NOT", "conditions": [
            {"emailIds": [destroyed_id]}]}})
        c.check(q.get("ids") == [first], f"EmailSubmission/query NOT: {q}")
        kind, q = hoa.one("EmailSubmission/query", {"filter": {"undoStatus": "pending"}})
        c.check(q.get("ids") == [], f"none pending: {q}")
        kind, q = hoa.one("EmailSubmission/query", {"filter": {"deliveryStatus": 1}})
        c.check(kind == "error" and q.get("type") == "unsupportedFilter", f"unknown filter: {q}")
        _, ch = hoa.one("EmailSubmission/changes", {"sinceState": "0", "maxChanges": 1})
        c.check(ch.get("created") == [first] and ch.get("hasMoreChanges") is True,
                f"EmailSubmission/changes, one: {ch}")
        _, ch = hoa.one("EmailSubmission/changes", {"sinceState": ch.get("newState")})
        c.check(ch.get("created") == [sid] and ch.get("hasMoreChanges") is False and
                ch.get("updated") == [] and ch.get("destroyed") == [],
                f"EmailSubmission/changes, the rest: {ch}")
        _, again = hoa.one("EmailSubmission/changes", {"sinceState": ch.get("newState")})
        c.check(again.get("created") == [], f"nothing since: {again}")
        kind, bad = hoa.one("EmailSubmission/changes", {"sinceState": "999999"})
        c.check(kind == "error" and bad.get("type") == "cannotCalculateChanges",
                f"unknown state: {bad}")
    finally:
        stop_server(srv, c)
c.finish()
