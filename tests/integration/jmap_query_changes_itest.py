#!/usr/bin/env python3
"""Email/queryChanges (RFC 8620 5.6) over raw HTTP against the real server: after messages are
created, flagged, moved and destroyed (through JMAP and through IMAP), applying the answer's
removed and added to the ids a client held gives exactly what Email/query answers now, for the
webmail's query (inMailbox, receivedAt descending) and for one with keyword conditions; total,
maxChanges (tooManyChanges), upToId, and cannotCalculateChanges for text filters, collapsed
threads and states the account never had; Mailbox/queryChanges after a create and a rename."""
import imaplib
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, psql, stop_server  # noqa: E402
from smtp_support import DOMAIN, Server, add_account  # noqa: E402
from jmap_support import JmapClient  # noqa: E402

PW = "correct horse battery"
c = Checks()


def email(box, subject, day, keywords=None):
    return {"mailboxIds": {box: True}, "keywords": keywords or {}, "subject": subject,
            "from": [{"email": f"a@{DOMAIN}"}], "receivedAt": f"2026-11-{day:02d}T08:00:00Z",
            "textBody": [{"partId": "t", "type": "text/plain"}],
            "bodyValues": {"t": {"value": subject}}}


def apply(old, changes):
    """A client's update of its cached ids: drop every removed id, insert the added ones."""
    ids = [i for i in old if i not in set(changes["removed"])]
    for a in sorted(changes["added"], key=lambda a: a["index"]):
        ids.insert(a["index"], a["id"])
    return ids


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    try:
        srv.admin("domain", "add", DOMAIN)
        add_account(srv, "hoa", PW)
        imap_port = srv.listen_imap()
        account = "a" + psql(db.url, f"SELECT id FROM accounts WHERE address = 'hoa@{DOMAIN}'")
        srv.start()
        hoa = JmapClient(srv.http, f"hoa@{DOMAIN}", PW, account)
        role = hoa.roles()
        inbox, archive = role["inbox"], role["archive"]
        _, made = hoa.one("Email/set", {"create": {
            f"e{d}": email(inbox, f"Thư {d}", d, {"$seen": True} if d % 2 else {})
            for d in range(1, 9)}})
        eid = {k: v["id"] for k, v in made["created"].items()}
        queries = {
            "webmail": ({"inMailbox": inbox}, [{"property": "receivedAt", "isAscending": False}]),
            "unread": ({"operator": "AND", "conditions": [
                {"inMailbox": inbox}, {"notKeyword": "$seen"}]},
                [{"property": "sentAt", "isAscending": True}]),
        }
        before = {}
        for name, (flt, sort) in queries.items():
            _, q = hoa.one("Email/query", {"filter": flt, "sort": sort})
            c.check(q.get("canCalculateChanges") is True, f"{name}: canCalculateChanges: {q}")
            before[name] = q

        # Changes: one new message, one read, one flagged (stays where it is), one moved out,
        # one destroyed, and one marked read over IMAP.
        _, out = hoa.one("Email/set", {
            "create": {"n": email(inbox, "Thư mới", 20)},
            "update": {eid["e2"]: {"keywords/$seen": True}, eid["e4"]: {"keywords/$flagged": True},
                       eid["e6"]: {"mailboxIds": {archive: True}}},
            "destroy": [eid["e8"]]})
        c.check(out.get("notUpdated") is None and out.get("notCreated") is None and
                out.get("notDestroyed") is None, f"Email/set: {out}")
        imap = imaplib.IMAP4("127.0.0.1", imap_port)
        imap.login(f"hoa@{DOMAIN}", PW)
        imap.select("INBOX")
        typ, data = imap.uid("SEARCH", None, "UNSEEN")
        unseen = data[0].split()
        c.check(len(unseen) >= 1, f"IMAP sees unread mail: {data}")
        imap.uid("STORE", unseen[0], "+FLAGS", "(\\Seen)")
        imap.logout()

        for name, (flt, sort) in queries.items():
            _, now = hoa.one("Email/query", {"filter": flt, "sort": sort, "calculateTotal": True})
            kind, ch = hoa.one("Email/queryChanges", {
                "filter": flt, "sort": sort, "sinceQueryState": before[name]["queryState"],
                "calculateTotal": True})
            c.check(kind == "Email/queryChanges", f"{name}: answered: {kind} {ch}")
            if kind != "Email/queryChanges":
                continue
            c.check(ch["oldQueryState"] == before[name]["queryState"] and
                    ch["newQueryState"] == now["queryState"], f"{name}: states: {ch} {now}")
            c.check(apply(before[name]["ids"], ch) == now["ids"],
                    f"{name}: old ids + changes = the new query: {before[name]['ids']} + {ch} "
                    f"!= {now['ids']}")
            c.check(ch.get("total") == now["total"], f"{name}: total {ch.get('total')}")
            c.check(eid["e8"] in ch["removed"] and eid["e6"] in ch["removed"],
                    f"{name}: destroyed and moved are removed: {ch['removed']}")
            # Nothing changed since the new state: nothing to tell.
            _, again = hoa.one("Email/queryChanges", {
                "filter": flt, "sort": sort, "sinceQueryState": ch["newQueryState"]})
            c.check(again.get("removed") == [] and again.get("added") == [],
                    f"{name}: no changes since the new state: {again}")

        flt, sort = queries["webmail"]
        _, now = hoa.one("Email/query", {"filter": flt, "sort": sort})
        since = before["webmail"]["queryState"]
        kind, out = hoa.one("Email/queryChanges", {"filter": flt, "sort": sort,
                                                   "sinceQueryState": since, "maxChanges": 2})
        c.check(kind == "error" and out.get("type") == "tooManyChanges", f"maxChanges: {out}")
        # upToId: the client holds the first result only; e4 (flagged, further down) is left out.
        _, full = hoa.one("Email/queryChanges", {"filter": flt, "sort": sort, "sinceQueryState": since})
        _, upto = hoa.one("Email/queryChanges", {"filter": flt, "sort": sort, "sinceQueryState": since,
                                                 "upToId": now["ids"][0]})
        c.check(any(a["id"] == eid["e4"] for a in full["added"]) and
                not any(a["id"] == eid["e4"] for a in upto["added"]) and
                upto["removed"] == full["removed"], f"upToId: {full} / {upto}")
        for args, why in (({"filter": {"text": "Thư"}}, "text filter"),
                          ({"filter": flt, "collapseThreads": True}, "collapsed threads"),
                          ({"filter": flt, "sinceQueryState": "99999999"}, "a future state"),
                          ({"filter": flt, "sinceQueryState": "x"}, "a malformed state")):
            args.setdefault("sinceQueryState", since)
            kind, out = hoa.one("Email/queryChanges", args)
            c.check(kind == "error" and out.get("type") == "cannotCalculateChanges",
                    f"{why}: cannotCalculateChanges: {kind} {out}")
        _, q = hoa.one("Email/query", {"filter": {"text": "Thư"}})
        c.check(q.get("canCalculateChanges") is False, f"text query: canCalculateChanges false: {q}")
        kind, out = hoa.one("Email/queryChanges", {"filter": flt})
        c.check(kind == "error" and out.get("type") == "invalidArguments",
                f"no sinceQueryState: invalidArguments: {out}")

        # States within one request: the reading methods before a write share the state they
        # read (the server reads it once); a write's newState is what every method after it says.
        q, g, s, g2 = hoa.batch([
            ["Email/query", {"filter": flt, "sort": sort}, "q"],
            ["Email/get", {"#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                           "properties": ["keywords"]}, "g"],
            ["Email/set", {"update": {eid["e1"]: {"keywords/$flagged": True}}}, "s"],
            ["Email/get", {"ids": [eid["e1"]], "properties": ["keywords"]}, "g2"]])
        _, q2 = hoa.one("Email/query", {"filter": flt, "sort": sort})
        c.check(q[1]["queryState"] == g[1]["state"], f"one request: one state read: {q} {g}")
        c.check(s[0] == "Email/set" and s[1].get("oldState") == g[1]["state"] and
                s[1]["newState"] != s[1]["oldState"],
                f"one request: Email/set's oldState is what Email/get said: {g} {s}")
        c.check(g2[1]["state"] == s[1]["newState"] and
                g2[1]["list"][0]["keywords"].get("$flagged") is True and
                q2["queryState"] == s[1]["newState"],
                f"one request: the Email/get after Email/set says its newState: {s} {g2} {q2}")
        _, changes = hoa.one("Email/changes", {"sinceState": g[1]["state"]})
        c.check(changes.get("updated") == [eid["e1"]] and
                changes.get("newState") == s[1]["newState"],
                f"Email/changes from the batch's read state: exactly the flagged one: {changes}")

        # Mailbox/queryChanges: a mailbox created and one renamed (moving in the name order).
        msort = [{"property": "name"}]
        _, mq = hoa.one("Mailbox/query", {"sort": msort})
        c.check(mq.get("canCalculateChanges") is True, f"Mailbox/query: {mq}")
        _, out = hoa.one("Mailbox/set", {"create": {"d": {"name": "Dự án"}},
                                         "update": {archive: {"name": "Zz lưu trữ"}}})
        c.check(out.get("notCreated") is None and out.get("notUpdated") is None,
                f"Mailbox/set: {out}")
        _, mnow = hoa.one("Mailbox/query", {"sort": msort})
        kind, mch = hoa.one("Mailbox/queryChanges", {"sort": msort,
                                                     "sinceQueryState": mq["queryState"]})
        c.check(kind == "Mailbox/queryChanges" and apply(mq["ids"], mch) == mnow["ids"] and
                mch["newQueryState"] == mnow["queryState"],
                f"Mailbox: old ids + changes = the new query: {mq} + {mch} != {mnow}")
        kind, out = hoa.one("Mailbox/queryChanges", {"filter": {"isSubscribed": True},
                                                     "sinceQueryState": mq["queryState"]})
        c.check(kind == "error" and out.get("type") == "cannotCalculateChanges",
                f"Mailbox isSubscribed: cannotCalculateChanges: {out}")
    finally:
        stop_server(srv, c)
c.finish()
