#!/usr/bin/env python3
"""Directory/query (govmail's capability urn:govmail:params:jmap:directory), the address book the
webmail completes recipients from, over raw HTTP against the real binary: the session announces
the capability; a name typed without diacritics finds the accented one ("nguyen van" finds
"Nguyễn Văn An"), NFD input too, an address prefix finds its account, several words must all
match, groups are listed and marked, a suspended account is not; names typed from their start
come first; limit is honoured (and capped); a missing or oversize text is invalidArguments; the
method is unknownMethod without the capability in "using"."""
import http.client
import json
import os
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, psql, serving  # noqa: E402
from smtp_support import DOMAIN, Server, add_jmap_accounts  # noqa: E402
from jmap_support import USING, JmapClient  # noqa: E402

PW = "correct horse battery"
DIRECTORY = "urn:govmail:params:jmap:directory"
c = Checks()


def query(client, args, using=USING + [DIRECTORY]):
    conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=30)
    args = {"accountId": client.account, **args}
    conn.request("POST", "/jmap/api",
                 json.dumps({"using": using, "methodCalls": [["Directory/query", args, "d"]]}),
                 {"Authorization": client.auth, "Content-Type": "application/json"})
    [[kind, out, _]] = json.loads(conn.getresponse().read())["methodResponses"]
    conn.close()
    return kind, out


def emails(out):
    return [e["email"] for e in out.get("list", [])]


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    with serving(srv, c):
        locals_ = ("hoa", "annv", "binhnv", "vanthu", "tamtt", "khoa")
        ids = add_jmap_accounts(srv, db.url, locals_, PW)
        names = {"hoa": "Trần Thị Hoa", "annv": "Nguyễn Văn An", "binhnv": "Nguyễn Văn Bình",
                 "vanthu": "Văn thư Sở Nội vụ", "tamtt": "Trương Thị Tâm",
                 "khoa": "Đỗ Đăng Khoa"}
        for local, name in names.items():
            psql(db.url, f"UPDATE accounts SET display_name = '{name}' "
                         f"WHERE address = '{local}@{DOMAIN}'")
        psql(db.url, f"UPDATE accounts SET status = 1 WHERE address = 'tamtt@{DOMAIN}'")
        psql(db.url, f"INSERT INTO groups (address, display_name) "
                     f"VALUES ('phongtchc@{DOMAIN}', 'Phòng Tổ chức cán bộ')")
        srv.start()
        hoa = JmapClient(srv.http, f"hoa@{DOMAIN}", PW, ids["hoa"])

        conn = http.client.HTTPConnection("127.0.0.1", srv.http, timeout=30)
        conn.request("GET", "/jmap/session", headers={"Authorization": hoa.auth})
        session = json.loads(conn.getresponse().read())
        conn.close()
        c.check(DIRECTORY in session.get("capabilities", {}), f"announced: {session}")

        kind, out = query(hoa, {"text": "nguyen van"})
        c.check(kind == "Directory/query" and
                sorted(emails(out)) == [f"annv@{DOMAIN}", f"binhnv@{DOMAIN}"],
                f"unaccented 'nguyen van' finds both Nguyễn Văn: {kind} {out}")
        an = [e for e in out.get("list", []) if e["email"] == f"annv@{DOMAIN}"]
        c.check(an == [{"email": f"annv@{DOMAIN}", "name": "Nguyễn Văn An", "isGroup": False}],
                f"entry with its name: {an}")
        _, out = query(hoa, {"text": unicodedata.normalize("NFD", "Nguyễn Văn Bình")})
        c.check(emails(out) == [f"binhnv@{DOMAIN}"], f"NFD input: {out}")
        _, out = query(hoa, {"text": "do dang"})
        c.check(emails(out) == [f"khoa@{DOMAIN}"], f"đ typed as d: {out}")
        _, out = query(hoa, {"text": "binhn"})
        c.check(emails(out) == [f"binhnv@{DOMAIN}"], f"address prefix: {out}")
        _, out = query(hoa, {"text": "van an"})
        c.check(emails(out) == [f"annv@{DOMAIN}"], f"every word must match: {out}")
        _, out = query(hoa, {"text": "to chuc"})
        c.check(out.get("list") == [{"email": f"phongtchc@{DOMAIN}",
                                     "name": "Phòng Tổ chức cán bộ", "isGroup": True}],
                f"a group, marked: {out}")
        _, out = query(hoa, {"text": "truong thi"})
        c.check(emails(out) == [], f"a suspended account is not listed: {out}")
        # "van" is in four names; the one whose text starts with it (Văn thư) comes first.
        _, out = query(hoa, {"text": "van"})
        found = emails(out)
        c.check(len(found) == 3 and found[0] == f"vanthu@{DOMAIN}" and
                set(found) == {f"vanthu@{DOMAIN}", f"annv@{DOMAIN}", f"binhnv@{DOMAIN}"},
                f"'van': the name that starts with it first: {found}")
        _, out = query(hoa, {"text": "van", "limit": 1})
        c.check(emails(out) == [f"vanthu@{DOMAIN}"], f"limit 1: {out}")
        _, out = query(hoa, {"text": DOMAIN, "limit": 1000})
        c.check(len(emails(out)) == 6, f"a large limit is capped, all 6 listed: {out}")

        kind, out = query(hoa, {})
        c.check(kind == "error" and out.get("type") == "invalidArguments", f"no text: {out}")
        kind, out = query(hoa, {"text": "x" * 300})
        c.check(kind == "error" and out.get("type") == "invalidArguments", f"oversize: {out}")
        kind, out = query(hoa, {"text": "nguyen"}, using=USING)
        c.check(kind == "error" and out.get("type") == "unknownMethod",
                f"without the capability in using: {out}")
        kind, out = query(hoa, {"text": "nguyen", "accountId": ids["annv"]})
        c.check(kind == "error" and out.get("type") == "accountNotFound",
                f"another account's id: {out}")
c.finish()
