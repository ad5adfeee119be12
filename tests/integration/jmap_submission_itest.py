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
from smtp_support import DOMAIN, Server, add_account  # noqa: E402
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
        srv.admin("domain", "add", DOMAIN)
        for local in ("hoa", "minh"):
            add_account(srv, local, PW)
        ids = {l: "a" + psql(db.url, f"SELECT id FROM accounts WHERE address = '{l}@{DOMAIN}'")
               for l in ("hoa", "minh")}
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
    finally:
        stop_server(srv, c)
c.finish()
