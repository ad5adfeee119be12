#!/usr/bin/env python3
"""Identity/set (RFC 8621 6.3) over raw HTTP against the real binary: the account's own
identity takes a new name, replyTo, bcc and signatures; Identity/get returns them (from
PostgreSQL: the row is checked too), Identity/changes reports the identity as updated and the
state moves; the address cannot change; the own identity cannot be destroyed. An identity for
an alias the account owns can be created (one for another account's address: forbiddenFrom),
read, edited, used by EmailSubmission (its address is the envelope sender), reported by
Identity/changes as created/updated/destroyed, and destroyed; another account never sees it.
EmailSubmission with the identity still works and still checks the sender."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, psql, serving  # noqa: E402
from smtp_support import DOMAIN, Server, add_jmap_accounts  # noqa: E402
from jmap_support import JmapClient  # noqa: E402

PW = "correct horse battery"
SIG = "-- \nNguyễn Thị Hoa\nSở Nội vụ"
c = Checks()


def draft(boxes, sender, subject, to):
    return {"mailboxIds": {boxes["drafts"]: True}, "keywords": {"$draft": True, "$seen": True},
            "from": [{"email": sender}], "to": [{"email": to}], "subject": subject,
            "textBody": [{"partId": "t", "type": "text/plain"}],
            "bodyValues": {"t": {"value": "Nội dung.\n\n" + SIG}}}


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    with serving(srv, c):
        ids = add_jmap_accounts(srv, db.url, ("hoa", "minh"), PW)
        srv.start()
        hoa = JmapClient(srv.http, f"hoa@{DOMAIN}", PW, ids["hoa"])
        minh = JmapClient(srv.http, f"minh@{DOMAIN}", PW, ids["minh"])
        _, got = hoa.one("Identity/get", {"ids": None})
        ident = got["list"][0]
        iid, state0 = ident["id"], got["state"]
        c.check(ident["textSignature"] == "" and ident["replyTo"] is None,
                f"no signature at first: {ident}")

        reply_to = [{"name": "Văn thư", "email": f"vanthu@{DOMAIN}"}]
        patch = {"name": "Nguyễn Thị Hoa", "replyTo": reply_to, "bcc": None,
                 "textSignature": SIG, "htmlSignature": "<p>Nguyễn Thị Hoa</p>"}
        kind, out = hoa.one("Identity/set", {"ifInState": state0, "update": {iid: patch}})
        c.check(kind == "Identity/set" and list((out.get("updated") or {}).keys()) == [iid] and
                out.get("notUpdated") is None and out.get("oldState") == state0 and
                out.get("newState") != state0, f"Identity/set updated it: {out}")
        _, got = hoa.one("Identity/get", {"ids": [iid]})
        ident = got["list"][0] if got.get("list") else {}
        c.check(ident.get("name") == patch["name"] and ident.get("replyTo") == reply_to and
                ident.get("textSignature") == SIG and
                ident.get("htmlSignature") == patch["htmlSignature"] and
                ident.get("email") == f"hoa@{DOMAIN}" and got.get("state") == out.get("newState"),
                f"Identity/get returns the edit: {got}")
        row = psql(db.url, "SELECT text_signature FROM identity_settings WHERE account_id = "
                   + ids["hoa"][1:])
        c.check(row == SIG, f"stored in identity_settings: {row!r}")

        _, ch = hoa.one("Identity/changes", {"sinceState": state0})
        c.check(ch.get("updated") == [iid] and ch.get("created") == [] and
                ch.get("newState") == out.get("newState"), f"Identity/changes: {ch}")
        _, ch = hoa.one("Identity/changes", {"sinceState": out.get("newState")})
        c.check(ch.get("updated") == [], f"nothing since the new state: {ch}")
        kind, bad = hoa.one("Identity/changes", {"sinceState": "999"})
        c.check(kind == "error" and bad.get("type") == "cannotCalculateChanges",
                f"unknown state: {bad}")
        kind, bad = hoa.one("Identity/set", {"ifInState": state0, "update": {iid: {"name": "x"}}})
        c.check(kind == "error" and bad.get("type") == "stateMismatch", f"stale ifInState: {bad}")

        _, out = hoa.one("Identity/set", {"update": {iid: {"email": f"minh@{DOMAIN}"},
                                                    "I999999": {"name": "x"}}})
        nu = out.get("notUpdated") or {}
        c.check(nu.get(iid, {}).get("type") == "invalidProperties" and
                nu.get(iid, {}).get("properties") == ["email"] and
                nu.get("I999999", {}).get("type") == "notFound", f"address is fixed: {out}")
        _, out = hoa.one("Identity/set", {"update": {iid: {"textSignature": 5}}})
        c.check((out.get("notUpdated") or {}).get(iid, {}).get("properties") == ["textSignature"],
                f"a signature must be a string: {out}")
        _, out = hoa.one("Identity/set", {"create": {"n": {"email": f"minh@{DOMAIN}"}},
                                          "destroy": [iid]})
        c.check((out.get("notCreated") or {}).get("n", {}).get("type") == "forbiddenFrom" and
                (out.get("notDestroyed") or {}).get(iid, {}).get("type") == "forbidden",
                f"another account's address and the own identity refused: {out}")
        _, got = hoa.one("Identity/get", {"ids": None})
        c.check(len(got["list"]) == 1 and got["list"][0]["textSignature"] == SIG and
                got["list"][0]["name"] == patch["name"], f"refused edits changed nothing: {got}")

        # An identity for an alias hoa owns: create, get, changes, update, submit, destroy.
        srv.admin("alias", "add", f"vanthu@{DOMAIN}", f"hoa@{DOMAIN}")
        before = got["state"]
        _, out = hoa.one("Identity/set", {"create": {"v": {
            "email": f"VanThu@{DOMAIN}", "name": "Văn thư Sở", "textSignature": "Văn thư"}}})
        made = (out.get("created") or {}).get("v", {})
        vid = made.get("id")
        c.check(vid and vid != iid and made.get("mayDelete") is True and
                out.get("newState") != before, f"alias identity created: {out}")
        _, ch = hoa.one("Identity/changes", {"sinceState": before})
        c.check(ch.get("created") == [vid] and ch.get("updated") == [] and
                ch.get("destroyed") == [], f"changes name the created one only: {ch}")
        _, got = hoa.one("Identity/get", {"ids": [vid, "IX999999"]})
        v = got["list"][0] if got.get("list") else {}
        c.check(v.get("email") == f"vanthu@{DOMAIN}" and v.get("name") == "Văn thư Sở" and
                v.get("mayDelete") is True and got.get("notFound") == ["IX999999"],
                f"Identity/get of the alias identity: {got}")
        _, other = minh.one("Identity/get", {"ids": [vid]})
        c.check(other.get("list") == [] and other.get("notFound") == [vid],
                f"another account cannot see it: {other}")
        _, out = minh.one("Identity/set", {"update": {vid: {"name": "x"}}, "destroy": [vid]})
        c.check((out.get("notUpdated") or {}).get(vid, {}).get("type") == "notFound" and
                (out.get("notDestroyed") or {}).get(vid, {}).get("type") == "notFound",
                f"nor change or destroy it: {out}")
        mid = out.get("newState")
        _, out = hoa.one("Identity/set", {"update": {vid: {"name": "Văn thư"}}})
        _, ch = hoa.one("Identity/changes", {"sinceState": out.get("oldState")})
        c.check(vid in (out.get("updated") or {}) and ch.get("updated") == [vid] and
                ch.get("created") == [], f"update of the alias identity: {out} {ch}")
        boxes = hoa.roles()
        res = hoa.batch([
            ["Email/set", {"create": {"m": draft(boxes, f"vanthu@{DOMAIN}", "Từ văn thư",
                                                 f"minh@{DOMAIN}")}}, "0"],
            ["EmailSubmission/set", {"create": {"s": {"identityId": vid, "emailId": "#m"}}}, "1"]])
        sub = (res[1][1].get("created") or {}).get("s", {})
        _, got = hoa.one("EmailSubmission/get", {"ids": [sub.get("id")]})
        env = (got.get("list") or [{}])[0].get("envelope") or {}
        c.check(sub and env.get("mailFrom", {}).get("email") == f"vanthu@{DOMAIN}" and
                got["list"][0].get("identityId") == vid,
                f"submitted with the alias identity, envelope from the alias: {res} {got}")
        before = hoa.one("Identity/get", {"ids": []})[1]["state"]
        _, out = hoa.one("Identity/set", {"destroy": [vid]})
        _, ch = hoa.one("Identity/changes", {"sinceState": before})
        _, got = hoa.one("Identity/get", {"ids": None})
        c.check(out.get("destroyed") == [vid] and ch.get("destroyed") == [vid] and
                [i["id"] for i in got["list"]] == [iid], f"destroyed: {out} {ch} {got}")
        res = hoa.batch([
            ["Email/set", {"create": {"m": draft(boxes, f"vanthu@{DOMAIN}", "Sau khi xoá",
                                                 f"minh@{DOMAIN}")}}, "0"],
            ["EmailSubmission/set", {"create": {"s": {"identityId": vid, "emailId": "#m"}}}, "1"]])
        nc = res[1][1].get("notCreated") or {}
        c.check(nc.get("s", {}).get("properties") == ["identityId"],
                f"a destroyed identity cannot send: {res}")
        _, out = hoa.one("Identity/set", {"destroy": [vid]})
        c.check((out.get("notDestroyed") or {}).get(vid, {}).get("type") == "notFound",
                f"destroyed twice: notFound: {out}")
        c.check(mid is not None, "minh's refused set still answered a state")
        _, other = minh.one("Identity/get", {"ids": None})
        c.check(other["list"][0]["textSignature"] == "", f"another account unaffected: {other}")

        # EmailSubmission with the edited identity: delivered; a From of another account: refused.
        res = hoa.batch([
            ["Email/set", {"create": {"m": draft(boxes, f"hoa@{DOMAIN}", "Có chữ ký",
                                                 f"minh@{DOMAIN}")}}, "0"],
            ["EmailSubmission/set", {"create": {"s": {"identityId": iid, "emailId": "#m"}}}, "1"]])
        c.check("s" in (res[1][1].get("created") or {}), f"submitted with the identity: {res}")
        res = hoa.batch([
            ["Email/set", {"create": {"f": draft(boxes, f"minh@{DOMAIN}", "Giả mạo",
                                                 f"minh@{DOMAIN}")}}, "0"],
            ["EmailSubmission/set", {"create": {"s": {"identityId": iid, "emailId": "#f"}}}, "1"]])
        nc = res[1][1].get("notCreated") or {}
        c.check(nc.get("s", {}).get("type") == "forbiddenFrom", f"sender still checked: {res}")
        inbox = minh.roles()["inbox"]
        subjects, deadline = [], time.time() + 20
        while len(subjects) < 2 and time.time() < deadline:
            res = minh.batch([
                ["Email/query", {"filter": {"inMailbox": inbox}}, "q"],
                ["Email/get", {"#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                               "properties": ["subject"]}, "g"]])
            subjects = [e["subject"] for e in res[1][1]["list"]]
            time.sleep(0.2)
        c.check(sorted(subjects) == sorted(["Có chữ ký", "Từ văn thư"]),
                f"the recipient got the signed one and the alias's only: {subjects}")
c.finish()
