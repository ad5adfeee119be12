#!/usr/bin/env python3
"""IMAP conformance of LIST/LSUB, SEARCH, SORT and THREAD against a real govmail, driven by
Python imaplib with raw commands, asserting the untagged responses exactly:
- RFC 5258 (LIST-EXTENDED): every example of section 5 on its own mailbox hierarchy, with the
  subscriptions it states (a subscription outlives its mailbox: \\NonExistent); RFC 3501 6.3.8/
  6.3.9 (LSUB '%' shows an unsubscribed parent of a subscribed child as \\Noselect); RFC 6154.
- RFC 3501 6.4.4 SEARCH: a field with "" matches exactly the messages that have the field, TO a
  group's display name, substrings case-insensitive and RFC 2047 decoded, internal vs sent
  dates, LARGER/SMALLER, OR/NOT nesting, CHARSET UTF-8 with a literal, an unknown charset.
- RFC 5256 SORT: base subjects compared by i;unicode-casemap (imaptest's sort-subject), the
  other keys; THREAD=REFERENCES step by step (imaptest's thread.mbox, a step 1.B loop, quoted
  Message-IDs) and ORDEREDSUBJECT.
Where our answer differs from an RFC example in what the RFC leaves to the server, the check
says so: INBOX has neither \\Marked nor \\NoInferiors here, responses come INBOX first then in
name order, and our store makes the parents of a mailbox (qux2 exists in example 9)."""
import imaplib
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import (GOVMAIL, Checks, FreshDatabase, free_port, govmail,  # noqa
                     traversable_tempdir, wait_port, write_config)

c = Checks()
tmp = traversable_tempdir()
http, imap_port = free_port(), free_port()
cfg = os.path.join(tmp, "govmail.toml")
write_config(cfg, os.path.join(tmp, "var"), http, imap=imap_port,
             extra="\n[auth]\nallow_plaintext_on_loopback = true\n")
PASSWORD = "correct horse battery"
DEFAULTS = ["Archive", "Drafts", "Junk", "Sent", "Trash"]  # made with every account
USERS = ["list1", "list8", "list9", "list10", "lsub", "imaptest", "search", "sort", "thread"]


def login(user):
    m = imaplib.IMAP4("127.0.0.1", imap_port)
    m.login(f"{user}@example.gov.vn", PASSWORD)
    return m


def run(m, name, *args):
    """(status, untagged lines "* KIND ...") of one raw command, in the order received."""
    m.untagged_responses.clear()
    try:
        typ, _ = m._simple_command(name, *args)
    except imaplib.IMAP4.error:  # imaplib raises on a tagged BAD
        return "BAD", []
    out = []
    for kind, items in m.untagged_responses.items():
        for item in items:
            if isinstance(item, tuple):
                item = b"".join(item)
            out.append(f"* {kind} {item.decode()}".rstrip())
    return typ, out


def lines(m, name, *args):
    typ, out = run(m, name, *args)
    c.check(typ == "OK", f"{name} {args}: {typ}")
    return out


def expect(m, want, name, *args, what=""):
    got = lines(m, name, *args)
    c.check(got == want, f"{what or name} {' '.join(args)}:\n  got  {got}\n  want {want}")


def fresh_hierarchy(m, create, subscribe=(), delete=()):
    """Only INBOX and `create`; exactly `subscribe` subscribed; then `delete` deleted."""
    for box in DEFAULTS:
        lines(m, "DELETE", box)
        lines(m, "UNSUBSCRIBE", box)
    for box in create:
        lines(m, "CREATE", f'"{box}"')
    for line in lines(m, "LSUB", '""', '"*"'):  # CREATE subscribes, parents made too
        lines(m, "UNSUBSCRIBE", line[line.rindex(' "') + 1:])
    for box in subscribe:
        lines(m, "SUBSCRIBE", f'"{box}"')
    for box in delete:
        lines(m, "DELETE", f'"{box}"')


def numbers(m, name, *args):
    typ, out = run(m, name, *args)
    c.check(typ == "OK", f"{name} {args}: {typ}")
    c.check(len(out) == 1, f"{name} {args}: one response: {out}")
    return out[0].split()[2:] if out else None


def search(m, *args):
    got = numbers(m, "SEARCH", *args)
    return [int(x) for x in got] if got is not None else None


def check_list_examples():
    # RFC 5258 5, examples 1 to 6 (REMOTE has no remote mailboxes here: the local ones only).
    m = login("list1")
    fresh_hierarchy(m, ["Fruit", "Fruit/Apple", "Fruit/Banana", "Fruit/Peach", "Tofu", "Vegetable",
                        "Vegetable/Broccoli", "Vegetable/Corn"],
                    subscribe=["INBOX", "Fruit/Banana", "Fruit/Peach", "Vegetable",
                               "Vegetable/Broccoli"],
                    delete=["Fruit/Peach"])
    expect(m, ['* LIST (\\HasNoChildren) "/" "INBOX"',
               '* LIST (\\HasChildren) "/" "Fruit"',
               '* LIST (\\HasNoChildren) "/" "Fruit/Apple"',
               '* LIST (\\HasNoChildren) "/" "Fruit/Banana"',
               '* LIST (\\HasNoChildren) "/" "Tofu"',
               '* LIST (\\HasChildren) "/" "Vegetable"',
               '* LIST (\\HasNoChildren) "/" "Vegetable/Broccoli"',
               '* LIST (\\HasNoChildren) "/" "Vegetable/Corn"'], "LIST", '""', '"*"',
           what="example 1 (plain LIST: CHILDREN attributes always)")
    example2 = ['* LIST (\\Subscribed) "/" "INBOX"',
                '* LIST (\\Subscribed) "/" "Fruit/Banana"',
                '* LIST (\\Subscribed \\NonExistent) "/" "Fruit/Peach"',
                '* LIST (\\Subscribed) "/" "Vegetable"',
                '* LIST (\\Subscribed) "/" "Vegetable/Broccoli"']
    expect(m, example2, "LIST", "(SUBSCRIBED)", '""', '"*"', what="example 2")
    expect(m, ['* LIST (\\HasNoChildren) "/" "INBOX"',
               '* LIST (\\HasChildren) "/" "Fruit"',
               '* LIST (\\HasNoChildren) "/" "Tofu"',
               '* LIST (\\HasChildren) "/" "Vegetable"'], "LIST", "()", '""', '"%"', "RETURN",
           "(CHILDREN)", what="example 3")
    expect(m, ['* LIST (\\HasNoChildren) "/" "INBOX"',
               '* LIST (\\HasChildren) "/" "Fruit"',
               '* LIST (\\HasNoChildren) "/" "Tofu"',
               '* LIST (\\HasChildren) "/" "Vegetable"'], "LIST", "(REMOTE)", '""', '"%"', "RETURN",
           "(CHILDREN)", what="example 4")
    expect(m, example2, "LIST", "(REMOTE SUBSCRIBED)", '""', '"*"', what="example 5")
    expect(m, ['* LIST (\\Subscribed) "/" "INBOX"',
               '* LIST () "/" "Fruit"',
               '* LIST () "/" "Fruit/Apple"',
               '* LIST (\\Subscribed) "/" "Fruit/Banana"',
               '* LIST () "/" "Tofu"',
               '* LIST (\\Subscribed) "/" "Vegetable"',
               '* LIST (\\Subscribed) "/" "Vegetable/Broccoli"',
               '* LIST () "/" "Vegetable/Corn"'], "LIST", "(REMOTE)", '""', '"*"', "RETURN",
           "(SUBSCRIBED)", what="example 6 (no Fruit/Peach: it does not exist)")
    # RFC 3501 6.3.9: LSUB lists the subscribed names, existing or not; with '%', an
    # unsubscribed parent of a subscribed child is \Noselect.
    expect(m, ['* LSUB () "/" "INBOX"',
               '* LSUB (\\Noselect) "/" "Fruit"',
               '* LSUB () "/" "Vegetable"'], "LSUB", '""', '"%"', what="LSUB %")
    expect(m, ['* LSUB () "/" "INBOX"',
               '* LSUB () "/" "Fruit/Banana"',
               '* LSUB () "/" "Fruit/Peach"',
               '* LSUB () "/" "Vegetable"',
               '* LSUB () "/" "Vegetable/Broccoli"'], "LSUB", '""', '"*"', what="LSUB *")
    expect(m, ['* LSUB () "/" "Fruit/Banana"', '* LSUB () "/" "Fruit/Peach"'], "LSUB", '"Fruit"',
           '"%"', what="LSUB with a reference")
    # UNSUBSCRIBE of a name whose mailbox is gone works; SUBSCRIBE needs the mailbox.
    lines(m, "UNSUBSCRIBE", "Fruit/Peach")
    expect(m, ['* LIST (\\Subscribed) "/" "Fruit/Banana"'], "LIST", "(SUBSCRIBED)", '""',
           '"Fruit/*"', what="after UNSUBSCRIBE of a deleted mailbox")
    typ, _ = run(m, "SUBSCRIBE", "Fruit/Peach")
    c.check(typ == "NO", f"SUBSCRIBE to no mailbox: {typ}")
    # CREATE does not subscribe; once the mailbox exists SUBSCRIBE works; RENAME takes the
    # subscriptions of the mailbox and its children along.
    lines(m, "CREATE", "Fruit/Peach")
    expect(m, ['* LIST (\\Subscribed) "/" "Fruit/Banana"'], "LIST", "(SUBSCRIBED)", '""',
           '"Fruit/*"', what="after CREATE")
    lines(m, "SUBSCRIBE", "Fruit/Peach")
    lines(m, "RENAME", "Fruit", "Fruits")
    expect(m, ['* LIST (\\Subscribed) "/" "Fruits/Banana"', '* LIST (\\Subscribed) "/" "Fruits/Peach"'],
           "LIST", "(SUBSCRIBED)", '""', '"Fruit*"', what="after CREATE and RENAME")
    m.logout()

    # Example 7: several patterns.
    m = login("list8")
    fresh_hierarchy(m, ["Drafts", "Sent/March2004", "Sent/December2003", "Sent/August2004"])
    expect(m, ['* LIST () "/" "INBOX"',
               '* LIST () "/" "Drafts"',
               '* LIST () "/" "Sent/August2004"',
               '* LIST () "/" "Sent/December2003"',
               '* LIST () "/" "Sent/March2004"'], "LIST", '""', '("INBOX" "Drafts" "Sent/%")',
           what="example 7")
    # Example 8: Foo, Foo/Bar, Foo/Baz, Moo.
    lines(m, "DELETE", "Drafts")
    for box in ["Sent/March2004", "Sent/December2003", "Sent/August2004", "Sent"]:
        lines(m, "DELETE", box)
        lines(m, "UNSUBSCRIBE", box)
    for box in ["Foo", "Foo/Bar", "Foo/Baz", "Moo"]:
        lines(m, "CREATE", box)
        lines(m, "UNSUBSCRIBE", box)
    expect(m, ['* LIST (\\HasNoChildren) "/" "INBOX"',
               '* LIST (\\HasChildren) "/" "Foo"',
               '* LIST (\\HasNoChildren) "/" "Moo"'], "LIST", '""', '"%"', "RETURN", "(CHILDREN)",
           what="example 8")
    lines(m, "SUBSCRIBE", "Foo/Baz")  # A
    expect(m, ['* LIST (\\Subscribed) "/" "Foo/Baz"'], "LIST", "(SUBSCRIBED)", '""', '"*"',
           what="example 8 A")
    expect(m, [], "LIST", "(SUBSCRIBED)", '""', '"%"', what="example 8 A, %")
    expect(m, ['* LIST () "/" "Foo" ("CHILDINFO" ("SUBSCRIBED"))'], "LIST",
           "(SUBSCRIBED RECURSIVEMATCH)", '""', '"%"', what="example 8 A, RECURSIVEMATCH")
    lines(m, "SUBSCRIBE", "Foo")  # A1
    expect(m, ['* LIST (\\Subscribed) "/" "Foo" ("CHILDINFO" ("SUBSCRIBED"))'], "LIST",
           "(SUBSCRIBED RECURSIVEMATCH)", '""', '"%"', what="example 8 A1")
    expect(m, ['* LIST (\\Subscribed \\HasChildren) "/" "Foo" ("CHILDINFO" ("SUBSCRIBED"))'],
           "LIST", "(SUBSCRIBED RECURSIVEMATCH)", '""', '"%"', "RETURN", "(CHILDREN)",
           what="example 8 A1 with CHILDREN")
    # A2: Foo does not exist (here: deleted once its children were) and is not subscribed.
    lines(m, "UNSUBSCRIBE", "Foo")
    for box in ["Foo/Bar", "Foo/Baz", "Foo"]:
        lines(m, "DELETE", box)
    expect(m, ['* LIST (\\NonExistent) "/" "Foo" ("CHILDINFO" ("SUBSCRIBED"))'], "LIST",
           "(SUBSCRIBED RECURSIVEMATCH)", '""', '"%"', what="example 8 A2")
    for box in ["Foo", "Foo/Bar", "Foo/Baz"]:
        lines(m, "CREATE", box)
        lines(m, "UNSUBSCRIBE", box)
    expect(m, [], "LIST", "(SUBSCRIBED RECURSIVEMATCH)", '""', '"%"', what="example 8 B")
    lines(m, "SUBSCRIBE", "Foo")  # C
    lines(m, "SUBSCRIBE", "Moo")
    # Attributes are a set: the RFC writes them in either order (8 A1 and 8 C); ours come
    # \Subscribed first, as Dovecot's, whose order imaptest's listext checks.
    expect(m, ['* LIST (\\Subscribed \\HasChildren) "/" "Foo"',
               '* LIST (\\Subscribed \\HasNoChildren) "/" "Moo"'], "LIST",
           "(SUBSCRIBED RECURSIVEMATCH)", '""', '"%"', "RETURN", "(CHILDREN)",
           what="example 8 C")
    typ, _ = run(m, "LIST", "(RECURSIVEMATCH)", '""', '"%"')
    c.check(typ == "BAD", f"RECURSIVEMATCH alone: {typ}")
    typ, _ = run(m, "LIST", "(REMOTE RECURSIVEMATCH)", '""', '"%"')
    c.check(typ == "BAD", f"REMOTE RECURSIVEMATCH: {typ}")
    m.logout()

    # Example 9: CHILDINFO whether or not the children match the pattern.
    m = login("list9")
    fresh_hierarchy(m, ["foo2", "foo2/bar1", "foo2/bar2", "baz2", "baz2/bar2", "baz2/bar22",
                        "baz2/bar222", "eps2", "eps2/mamba", "qux2/bar2"],
                    subscribe=["foo2/bar1", "foo2/bar2", "baz2/bar2", "baz2/bar22", "baz2/bar222",
                               "eps2", "eps2/mamba", "qux2/bar2"])
    # The RFC's order differs; no order is required. baz2 and qux2 are left out: their only
    # subscribed children are listed themselves (the SHOULD of RFC 5258 3.5).
    expect(m, ['* LIST (\\Subscribed) "/" "baz2/bar2"',
               '* LIST (\\Subscribed) "/" "baz2/bar22"',
               '* LIST (\\Subscribed) "/" "baz2/bar222"',
               '* LIST (\\Subscribed) "/" "eps2" ("CHILDINFO" ("SUBSCRIBED"))',
               '* LIST () "/" "foo2" ("CHILDINFO" ("SUBSCRIBED"))',
               '* LIST (\\Subscribed) "/" "foo2/bar2"',
               '* LIST (\\Subscribed) "/" "qux2/bar2"'], "LIST", "(RECURSIVEMATCH SUBSCRIBED)",
           '""', '"*2"', what="example 9")
    # With "*" every subscribed child is listed: only the subscribed eps2 keeps CHILDINFO (the
    # RFC's example also shows the redundant foo2 and baz2, which 3.3 and 3.5 advise against).
    expect(m, ['* LIST (\\Subscribed) "/" "baz2/bar2"',
               '* LIST (\\Subscribed) "/" "baz2/bar22"',
               '* LIST (\\Subscribed) "/" "baz2/bar222"',
               '* LIST (\\Subscribed) "/" "eps2" ("CHILDINFO" ("SUBSCRIBED"))',
               '* LIST (\\Subscribed) "/" "eps2/mamba"',
               '* LIST (\\Subscribed) "/" "foo2/bar1"',
               '* LIST (\\Subscribed) "/" "foo2/bar2"',
               '* LIST (\\Subscribed) "/" "qux2/bar2"'], "LIST", "(RECURSIVEMATCH SUBSCRIBED)",
           '""', '"*"', what="example 9 with *")
    m.logout()

    # Example 10: multiple patterns; CHILDINFO without \HasChildren.
    m = login("list10")
    fresh_hierarchy(m, ["foo", "foo/bar"], subscribe=["foo/bar"], delete=["foo/bar"])
    expect(m, ['* LIST () "/" "foo"'], "LIST", '""', '("foo" "foo/*")', what="example 10 a1")
    expect(m, ['* LIST (\\Subscribed \\NonExistent) "/" "foo/bar"'], "LIST", "(SUBSCRIBED)", '""',
           '"foo/*"', what="example 10 a2")
    expect(m, ['* LIST (\\HasNoChildren) "/" "foo" ("CHILDINFO" ("SUBSCRIBED"))'], "LIST",
           "(SUBSCRIBED RECURSIVEMATCH)", '""', "foo", "RETURN", "(CHILDREN)",
           what="example 10 a3")
    # LIST-STATUS (RFC 5819): STATUS for a listed mailbox, none for a \NonExistent name.
    expect(m, ['* LIST () "/" "foo" ("CHILDINFO" ("SUBSCRIBED"))', '* STATUS "foo" (MESSAGES 0)'],
           "LIST", "(SUBSCRIBED RECURSIVEMATCH)", '""', "foo", "RETURN", "(STATUS (MESSAGES))",
           what="LIST-STATUS")
    expect(m, ['* LIST (\\Subscribed \\NonExistent) "/" "foo/bar"'], "LIST", "(SUBSCRIBED)",
           '""', '"foo/*"', "RETURN", "(STATUS (MESSAGES))", what="LIST-STATUS, \\NonExistent")
    m.logout()

    # RFC 6154 SPECIAL-USE with LIST-EXTENDED, on an account's own mailboxes.
    m = login("lsub")
    expect(m, ['* LIST (\\Archive) "/" "Archive"',
               '* LIST (\\Drafts) "/" "Drafts"',
               '* LIST (\\Junk) "/" "Junk"',
               '* LIST (\\Sent) "/" "Sent"',
               '* LIST (\\Trash) "/" "Trash"'], "LIST", "(SPECIAL-USE)", '""', '"*"',
           what="RFC 6154 selection")
    expect(m, ['* LIST () "/" "INBOX"', '* LIST (\\Sent) "/" "Sent"'], "LIST", '""', '("INBOX" "S*")',
           "RETURN", "(SPECIAL-USE)", what="RFC 6154 return option")
    lines(m, "UNSUBSCRIBE", "Drafts")
    expect(m, ['* LIST (\\Subscribed \\HasNoChildren \\Archive) "/" "Archive"',
               '* LIST (\\Subscribed \\HasNoChildren \\Junk) "/" "Junk"',
               '* LIST (\\Subscribed \\HasNoChildren \\Sent) "/" "Sent"',
               '* LIST (\\Subscribed \\HasNoChildren \\Trash) "/" "Trash"'], "LIST",
           "(SPECIAL-USE SUBSCRIBED)", '""', '"*"', "RETURN", "(CHILDREN)",
           what="SPECIAL-USE and SUBSCRIBED selection")
    # RFC 6154 5.3: CREATE with USE; a use we cannot give is NO [USEATTR]. A special-use
    # mailbox is subscribed when made, a plain one is not.
    for args, want in [(("MySpecial", "(USE (\\Drafts \\Sent))"), "NO"),
                       (("Everything", "(USE (\\All))"), "NO"), (("Plain", "(USE ())"), "OK"),
                       (("Old/Sent", "(USE (\\Sent))"), "OK")]:
        typ, _ = run(m, "CREATE", *args)
        c.check(typ == want, f"CREATE {args}: {typ}, want {want}")
    expect(m, ['* LIST (\\Subscribed \\Sent) "/" "Old/Sent"'], "LIST", "(SUBSCRIBED)", '""',
           "(Old* Plain)", "RETURN", "(SPECIAL-USE)", what="CREATE USE subscribes")
    expect(m, ['* LIST () "/" "Old"', '* LIST (\\Sent) "/" "Old/Sent"', '* LIST () "/" "Plain"'],
           "LIST", '""', "(Old* Plain)", "RETURN", "(SPECIAL-USE)", what="RFC 6154 5.2 shape")
    # RFC 3501 6.3.9 / 6.3.8 with a deeper hierarchy: '%' at every level.
    lines(m, "CREATE", "a/b/c")
    lines(m, "SUBSCRIBE", "a/b/c")
    expect(m, ['* LSUB (\\Noselect) "/" "a"'], "LSUB", '""', '"a%"', what="LSUB a%")
    expect(m, ['* LSUB (\\Noselect) "/" "a/b"'], "LSUB", '""', '"a/%"', what="LSUB a/%")
    expect(m, ['* LSUB () "/" "a/b/c"'], "LSUB", '""', '"a/*"', what="LSUB a/*")
    expect(m, ['* LIST (\\HasChildren) "/" "a"'], "LIST", '""', '"a"', what="LIST a")
    expect(m, ['* LIST (\\Noselect) "/" ""'], "LIST", '""', '""', what="LIST \"\" \"\"")
    m.logout()


def check_imaptest_lists():
    """imaptest's listext and subscribe scripts (Dovecot passes them), with their mailboxes under
    "box" and "box2"; our full answers, which contain every line they require and none they ban."""
    m, m2 = login("imaptest"), login("imaptest")
    for box in ["box/test1", "box/test2/", "box/test2/test1", "box/test3", "box/test4/test5",
                "box/test4/test52", "box/test6", "box/test7/test7", "box/test8/test8",
                "box/test8/test9"]:
        lines(m, "CREATE", box)
    for box in ["box/test1", "box/test2/test1", "box/test6", "box/test7/test7", "box/test8/test8",
                "box/test8/test9"]:
        lines(m, "SUBSCRIBE", box)
    lines(m, "DELETE", "box/test6")
    expect(m, ['* LIST () "/" "box/test2"', '* LIST () "/" "box/test3"',
               '* LIST () "/" "box/test4/test52"'], "LIST", '""', "(box/*2 box/test3)",
           what="listext: several patterns")
    for args in [("(imaptest)", '""', '""'), ("(recursivematch)", '""', '""'),
                 ("(recursivematch remote)", '""', '""'), ('""', '""', "return", "(imaptest)")]:
        typ, _ = run(m, "LIST", *args)
        c.check(typ == "BAD", f"listext: LIST {args}: {typ}")
    lines(m, "LIST", "(remote)", '""', "%")
    expect(m, ['* LIST (\\Subscribed) "/" "box/test1"',
               '* LIST (\\Subscribed) "/" "box/test2/test1"',
               '* LIST (\\Subscribed \\NonExistent) "/" "box/test6"',
               '* LIST (\\Subscribed) "/" "box/test7/test7"',
               '* LIST (\\Subscribed) "/" "box/test8/test8"',
               '* LIST (\\Subscribed) "/" "box/test8/test9"'], "LIST", "(subscribed)", '""',
           "box/*", what="listext")
    expect(m, ['* LIST (\\HasChildren) "/" "box/test2" ("CHILDINFO" ("SUBSCRIBED"))'], "LIST",
           "(subscribed recursivematch)", '""', "box/test2%", "return", "(children)",
           what="listext")
    expect(m, ['* LIST (\\Subscribed \\HasNoChildren) "/" "box/test1"',
               '* LIST (\\HasChildren) "/" "box/test2"',
               '* LIST (\\HasNoChildren) "/" "box/test3"',
               '* LIST (\\HasChildren) "/" "box/test4"',
               '* LIST (\\HasChildren) "/" "box/test7"',
               '* LIST (\\HasChildren) "/" "box/test8"'], "LIST", '""', "box/%", "return",
           "(children subscribed)", what="listext")
    expect(m, ['* LIST (\\Subscribed) "/" "box/test7/test7"'], "LIST",
           "(subscribed recursivematch)", '""', "*test7", what="listext")
    expect(m, ['* LIST () "/" "box/test8" ("CHILDINFO" ("SUBSCRIBED"))',
               '* LIST (\\Subscribed) "/" "box/test8/test8"'], "LIST",
           "(subscribed recursivematch)", '""', "*test8", what="listext")
    expect(m, ['* LIST () "/" "box/test2" ("CHILDINFO" ("SUBSCRIBED"))'], "LIST",
           "(subscribed recursivematch)", '""', "(box/test2)", what="listext")
    expect(m, ['* LIST (\\Subscribed) "/" "box/test2/test1"'], "LIST",
           "(subscribed recursivematch)", '""', "(box/test2 box/test2/test1)", what="listext")
    expect(m, ['* LIST () "/" "box/test7"', '* LIST () "/" "box/test7/test7"'], "LIST", '""',
           "(box/test7 box/test7/test7)", what="listext")

    # subscribe: one session changes the subscriptions, the other lists them.
    for box in ["box2/", "box2/test", "box2/test2/", "box2/test3/", "box2/test2/test",
                "box2/test3/test3"]:
        lines(m, "CREATE", box)
    for box in ["box2/test", "box2/test2/test", "box2/test3/test3"]:
        lines(m, "SUBSCRIBE", box)
    expect(m2, ['* LSUB () "/" "box2/test"', '* LSUB (\\Noselect) "/" "box2/test2"',
                '* LSUB (\\Noselect) "/" "box2/test3"'], "LSUB", '""', "box2/%",
           what="subscribe")
    expect(m2, ['* LSUB () "/" "box2/test"', '* LSUB () "/" "box2/test2/test"'], "LSUB", '""',
           "*test", what="subscribe")
    lines(m, "UNSUBSCRIBE", "box2/test")
    expect(m2, ['* LSUB (\\Noselect) "/" "box2/test2"', '* LSUB (\\Noselect) "/" "box2/test3"'],
           "LSUB", '""', "box2/%", what="subscribe")
    lines(m, "UNSUBSCRIBE", "box2/test2/test")
    expect(m2, ['* LSUB () "/" "box2/test3/test3"'], "LSUB", '""', "box2/*", what="subscribe")
    lines(m, "UNSUBSCRIBE", "box2/test3/test3")
    expect(m2, [], "LSUB", '""', "box2/%", what="subscribe")
    m.logout()
    m2.logout()


SEARCH_MSGS = [
    # 1: a group in To, Cc; Date a day before its internal date.
    ("01-Mar-2025 12:00:00 +0000",
     "Subject: Hello World\r\nTo: list: a@x.vn, b@y.vn;\r\nCc: c@x.vn\r\nFrom: f@x.vn\r\n"
     "Date: Fri, 28 Feb 2025 23:30:00 +0700\r\n\r\nshort\r\n"),
    # 2: no Subject field at all.
    ("02-Mar-2025 12:00:00 +0000",
     "To: x@x.vn\r\nFrom: g@x.vn\r\nDate: Sun, 02 Mar 2025 10:00:00 +0000\r\n\r\n" + "y" * 500 +
     "\r\n"),
    # 3: an empty Subject; Bcc; no To.
    ("03-Mar-2025 12:00:00 +0000",
     "Subject: \r\nBcc: z@x.vn\r\nFrom: h@x.vn\r\nX-Custom: \r\n\r\nbody\r\n"),
    # 4: RFC 2047 subject; an empty group.
    ("04-Mar-2025 12:00:00 +0000",
     "Subject: =?UTF-8?B?Q8O0bmcgdsSDbiBz4buRIDU=?=\r\nTo: undisclosed-recipients:;\r\n"
     "From: i@x.vn\r\n\r\nbody\r\n"),
    # 5: quoted-printable encoded word.
    ("05-Mar-2025 12:00:00 +0000",
     "Subject: =?utf-8?q?Caf=C3=A9_au_lait?=\r\nFrom: j@x.vn\r\nCC: \r\n\r\nbody\r\n"),
]


def check_search():
    m = login("search")
    for date, msg in SEARCH_MSGS:
        typ, _ = m.append("INBOX", None, f'"{date}"', msg.encode())
        c.check(typ == "OK", f"append: {typ}")
    c.check(m.select("INBOX")[0] == "OK", "SELECT")
    cases = [
        # A field with "" matches exactly the messages with the field, whatever its content.
        (("HEADER", "Subject", '""'), [1, 3, 4, 5]),
        (("NOT", "HEADER", "Subject", '""'), [2]),
        (("SUBJECT", '""'), [1, 3, 4, 5]),
        (("HEADER", "To", '""'), [1, 2, 4]),
        (("NOT", "HEADER", "TO", '""'), [3, 5]),
        (("HEADER", "Cc", '""'), [1, 5]),
        (("CC", '""'), [1, 5]),
        (("HEADER", "Bcc", '""'), [3]),
        (("BCC", '""'), [3]),
        (("HEADER", "X-Custom", '""'), [3]),
        (("HEADER", "X-Absent", '""'), []),
        # A group's display name; substrings, any case; RFC 2047 decoded.
        (("TO", "list"), [1]),
        (("TO", "UNDISCLOSED"), [4]),
        (("TO", "b@y.vn"), [1]),
        (("SUBJECT", "wORLD"), [1]),
        (("HEADER", "Subject", '"lo Wo"'), [1]),
        (("SUBJECT", '"au lait"'), [5]),
        (("FROM", "X.VN"), [1, 2, 3, 4, 5]),
        # BEFORE/ON/SINCE: internal date; SENT*: the Date field's own day, else internal date.
        (("ON", "1-Mar-2025"), [1]),
        (("SENTON", "28-Feb-2025"), [1]),
        (("SENTBEFORE", "1-Mar-2025"), [1]),
        (("BEFORE", "2-Mar-2025"), [1]),
        (("SINCE", "4-Mar-2025"), [4, 5]),
        (("SENTSINCE", "3-Mar-2025"), [3, 4, 5]),
        (("SENTON", "3-Mar-2025"), [3]),
        (("LARGER", "400"), [2]),
        (("SMALLER", "65"), [3]),
        (("OR", "SUBJECT", "hello", "NOT", "HEADER", "Subject", '""'), [1, 2]),
        (("NOT", "OR", "HEADER", "Cc", '""', "OR", "TO", "x@x", "BCC", '""'), [4]),
        (("CHARSET", "US-ASCII", "SUBJECT", "hello"), [1]),
        (("CHARSET", "utf-8", "SUBJECT", "hello"), [1]),  # charset names are case-insensitive
    ]
    sizes = [len(msg.encode()) for _, msg in SEARCH_MSGS]
    c.check(sizes[2] < 65 <= min(sizes[:2] + sizes[3:]) and sizes[1] > 400 > max(sizes[:1] + sizes[2:]),
            f"sizes for LARGER/SMALLER: {sizes}")
    for args, want in cases:
        got = search(m, *args)
        c.check(got == want, f"SEARCH {' '.join(args)}: {got}, want {want}")
    # UTF-8 strings go as literals with CHARSET UTF-8.
    for field, text, want in [("SUBJECT", "CÔNG VĂN", [4]), ("SUBJECT", "café", [5]),
                              ("HEADER", "Subject", [4])]:
        args = ("CHARSET", "UTF-8") + ((field,) if field != "HEADER" else (field, text))
        m.literal = (text if field != "HEADER" else "văn").encode()
        got = search(m, *args)
        c.check(got == want, f"SEARCH {args} literal: {got}, want {want}")
    typ, _ = run(m, "SEARCH", "CHARSET", "KOI8-R", "SUBJECT", "x")
    c.check(typ == "NO", f"unknown charset: {typ}")

    # imaptest's search-addresses and search-header, whose answers Dovecot gives.
    lines(m, "CREATE", "A")
    for msg in IMAPTEST_ADDRESSES + IMAPTEST_HEADER:
        m.append("A", None, '"22-Feb-2008 17:06:23 +0000"', msg.replace("\n", "\r\n").encode())
    c.check(m.select("A")[0] == "OK", "SELECT")
    for query, want in [
            ("FROM user-from@domain.org", [1, 2, 3, 4]), ("TO user-to@domain.org", [1, 2, 3, 4]),
            ("CC user-cc@domain.org", [1, 2, 3, 4, 5]), ("BCC user-bcc@domain.org", [1, 2, 3, 4]),
            ("FROM realfrom", [2, 4]), ("TO realto", [2, 4]), ("CC realcc", [2, 4]),
            ("BCC realbcc", [2, 4]),
            ('HEADER FROM ""', [1, 2, 3, 4, 5]), ('HEADER TO ""', [1, 2, 3, 4, 6]),
            ('HEADER CC ""', [1, 2, 3, 4, 5]), ('HEADER BCC ""', [1, 2, 3, 4]),
            ("FROM ser-fro", [1, 2, 3, 4, 5]), ("TO ser-t", [1, 2, 3, 4]),
            ("CC ser-c", [1, 2, 3, 4, 5]), ("BCC ser-bc", [1, 2, 3, 4]),
            ("FROM ealfro", [2, 4]), ("TO ealt", [2, 4]), ("CC ealc", [2, 4]),
            ("BCC ealbc", [2, 4]), ("FROM user-from1", [5]), ("FROM user-from2", [5]),
            ("TO groupname", [6]), ("TO groupname2", [6]), ("TO groupuser1", [6]),
            ("TO groupuser2", [6]), ("TO groupuser3", [6]), ("TO groupuser4", []),
            ("SUBJECT hello", [7]), ('SUBJECT "eautiful worl"', [7]),
            ('HEADER SUBJECT ""', [7]), ('NOT HEADER SUBJECT ""', [1, 2, 3, 4, 5, 6, 8]),
            ('HEADER X-EXTRA ""', [8]), ('NOT HEADER X-EXTRA ""', [1, 2, 3, 4, 5, 6, 7]),
            ("HEADER X-EXTRA hello", [8]), ('HEADER X-EXTRA "eautiful head"', [8])]:
        got = search(m, *query.split(" ", 1) if '"' in query else query.split())
        c.check(got == want, f"imaptest SEARCH {query}: {got}, want {want}")
    m.logout()


IMAPTEST_ADDRESSES = [
    "From: user-from@domain.org\nTo: user-to@domain.org\nCc: user-cc@domain.org\n"
    "Bcc: user-bcc@domain.org\n\nbody\n",
    "From: RealFrom <user-from@domain.org>\nTo: RealTo <user-to@domain.org>\n"
    "Cc: RealCc <user-cc@domain.org>\nBcc: RealBcc <user-bcc@domain.org>\n\nbody2\n",
    "From: <user-from (comment)@ (comment) domain.org>\nTo: <user-to@domain.org>\n"
    "Cc: <user-cc@domain.org>\nBcc: <user-bcc@domain.org>\n\nbody3\n",
    "From: user-from@domain.org (RealFrom)\nTo: user-to@domain.org (RealTo)\n"
    "Cc: user-cc@domain.org (RealCc)\nBcc: user-bcc@domain.org (RealBcc)\n\nbody4\n",
    "From: user-from1@domain.org, user-from2@domain.org\nCc: user-cc@domain.org\n\nbody5\n",
    "To: groupname: groupuser1@domain.org, groupuser2@domain.org;,\n"
    "  groupname2: groupuser3@domain.org;\n\nbody5\n",
]
IMAPTEST_HEADER = ["Subject: hello beautiful world\n\nbody\n",
                   "X-Extra: hello beautiful header\n\nbody\n"]


# imaptest's sort-subject.mbox: one internal date, no Date field.
SORT_SUBJECTS = ["a", "C", "b", "_", "[foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)", "b (a)",
                 "Re: [FWD: c]", "[xyz]", None]
SORT_BODIES = ["1", "2", "3", "4", "55", "66", "77", "88", "9"]


def check_sort():
    m = login("sort")
    lines(m, "CREATE", "S")
    for subject, body in zip(SORT_SUBJECTS, SORT_BODIES):
        msg = (f"Subject: {subject}\r\n" if subject is not None else "") + f"\r\n{body}\r\n"
        m.append("S", None, '"22-Feb-2008 23:00:00 +0200"', msg.encode())
    c.check(m.select("S")[0] == "OK", "SELECT")
    for crit, want in [("(SUBJECT)", "9 1 3 5 6 2 7 8 4"),
                       ("(REVERSE SUBJECT)", "4 8 2 7 6 3 5 1 9"),
                       ("(SUBJECT REVERSE SIZE)", "9 1 5 3 6 7 2 8 4")]:
        got = numbers(m, "SORT", crit, "US-ASCII", "ALL")
        c.check(" ".join(got or []) == want, f"SORT {crit}: {got}, want {want}")
    # The other keys: addresses by i;unicode-casemap of the mailbox (DISPLAY*: of the display
    # name, else of mailbox@host, RFC 5957 3), DATE falls back to the internal date, ties in
    # sequence order.
    lines(m, "CREATE", "K")
    k_msgs = [
        ("05-Mar-2025 00:00:00 +0000", "From: _u@x.vn\r\nTo: b@x.vn\r\nCc: Zed <c@x.vn>\r\n"
         "Date: Sat, 01 Mar 2025 00:00:00 +0000\r\nSubject: k1\r\n\r\n" + "x" * 30 + "\r\n"),
        ("02-Mar-2025 00:00:00 +0000", "From: Bob <B@x.vn>\r\nTo: _a@x.vn\r\n"
         "Subject: k2\r\n\r\nx\r\n"),  # no Date: its internal date, 2 March
        ("03-Mar-2025 00:00:00 +0000", "From: a@x.vn\r\nTo: b@a.vn\r\nCc: Amy <a@x.vn>\r\n"
         "Date: Mon, 03 Mar 2025 12:00:00 +0700\r\nSubject: k3\r\n\r\n" + "x" * 10 + "\r\n"),
    ]
    for date, msg in k_msgs:
        m.append("K", None, f'"{date}"', msg.encode())
    c.check(m.select("K")[0] == "OK", "SELECT")
    for crit, want in [("(ARRIVAL)", "2 3 1"), ("(REVERSE ARRIVAL)", "1 3 2"),
                       ("(DATE)", "1 2 3"), ("(FROM)", "3 2 1"), ("(TO)", "1 3 2"),
                       ("(CC)", "2 3 1"), ("(SIZE)", "2 3 1"), ("(DISPLAYFROM)", "3 2 1"),
                       ("(DISPLAYTO)", "3 1 2"), ("(TO REVERSE DATE)", "3 1 2")]:
        got = numbers(m, "SORT", crit, "UTF-8", "ALL")
        c.check(" ".join(got or []) == want, f"SORT {crit}: {got}, want {want}")
    m.logout()


def check_thread():
    m = login("thread")

    def mailbox(name, msgs):
        lines(m, "CREATE", name)
        for date, msg in msgs:
            m.append(name, None, f'"{date}"', msg.encode())
        c.check(m.select(name)[0] == "OK", "SELECT")

    def thread(algorithm, want, what):
        typ, out = run(m, "THREAD", algorithm, "US-ASCII", "ALL")
        c.check(typ == "OK" and out == [f"* THREAD {want}"], f"{what}: {out}, want {want}")

    # imaptest's thread.mbox: (3 1 2), then (2 1) once the first message is expunged.
    mailbox("T1", [("22-Feb-2008 17:06:23 +0000", "Message-ID: <a@b>\r\n\r\nbody\r\n"),
                   ("22-Feb-2008 15:06:23 +0000",
                    "Message-Id: <b@b>\r\nReferences: <c@b> <a@b>\r\n\r\nbody\r\n"),
                   ("22-Feb-2008 16:06:25 +0000",
                    "Message-Id: <c@b>\r\nReferences: <b@b>\r\n\r\nbody\r\n")])
    thread("REFERENCES", "(3 1 2)", "thread.mbox")
    lines(m, "STORE", "1", "+FLAGS", "(\\Deleted)")
    lines(m, "EXPUNGE")
    thread("REFERENCES", "(2 1)", "thread.mbox less its first message")
    # Step 1.B: message 3's own last reference (2, its child) would loop; the parent (1) that
    # 2's References gave it is broken all the same: two threads, by their first sent date.
    mailbox("T2", [("05-Mar-2025 00:00:00 +0000", "Message-ID: <a@x>\r\nSubject: s\r\n\r\nb\r\n"),
                   ("01-Mar-2025 00:00:00 +0000",
                    "Message-ID: <b@x>\r\nReferences: <a@x> <c@x>\r\nSubject: t\r\n\r\nb\r\n"),
                   ("03-Mar-2025 00:00:00 +0000",
                    "Message-ID: <c@x>\r\nReferences: <b@x>\r\nSubject: u\r\n\r\nb\r\n")])
    thread("REFERENCES", "(3 2)(1)", "step 1.B")
    # Quoted Message-IDs are normalised; In-Reply-To when there are no References; subjects
    # gather roots (step 5), a reply under its original, two originals under a dummy.
    mailbox("T3", [("01-Mar-2025 00:00:00 +0000",
                    'Message-ID: <"q.1"@x>\r\nSubject: Plan\r\n\r\nb\r\n'),
                   ("02-Mar-2025 00:00:00 +0000",
                    "Message-ID: <q2@x>\r\nIn-Reply-To: <q.1@x> (the plan)\r\n"
                    "Subject: Re: Plan B\r\n\r\nb\r\n"),
                   ("03-Mar-2025 00:00:00 +0000", "Message-ID: <q3@x>\r\nSubject: RE: plan\r\n\r\nb\r\n"),
                   ("04-Mar-2025 00:00:00 +0000", "Message-ID: <q4@x>\r\nSubject: other\r\n\r\nb\r\n"),
                   ("05-Mar-2025 00:00:00 +0000", "Message-ID: <q5@x>\r\nSubject: Other\r\n\r\nb\r\n")])
    thread("REFERENCES", "(1 (2)(3))((4)(5))", "normalised ids, subject grouping")
    thread("ORDEREDSUBJECT", "(1 3)(2)(4 5)", "ORDEREDSUBJECT")
    m.logout()


with FreshDatabase() as db:
    env = dict(os.environ, GOVMAIL_DATABASE_URL=db.url)
    r = govmail("admin", "--config", cfg, "domain", "add", "example.gov.vn", env=env)
    c.check(r.returncode == 0, f"domain add: {r.stderr}")
    for user in USERS:
        r = govmail("admin", "--config", cfg, "account", "add", f"{user}@example.gov.vn", "--name",
                    user, "--password-stdin", env=env, input=PASSWORD + "\n")
        c.check(r.returncode == 0, f"account add {user}: {r.stderr}")
    log = open(os.path.join(tmp, "serve.log"), "w")
    p = subprocess.Popen([GOVMAIL, "serve", "--config", cfg], env=env, stdout=log, stderr=log,
                         cwd=tmp)
    try:
        wait_port(imap_port)
        for part in (check_list_examples, check_imaptest_lists, check_search, check_sort,
                     check_thread):
            try:
                part()
            except Exception as e:  # one part's failure must not hide the others' results
                c.check(False, f"{part.__name__} raised {type(e).__name__}: {e}")
    finally:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
    c.check(p.returncode == 0, f"clean exit: {p.returncode}")
    if c.failed:
        print(open(os.path.join(tmp, "serve.log")).read()[-3000:])
subprocess.run(["rm", "-rf", tmp])
c.finish()
