#!/usr/bin/env python3
"""Full-text search (issue 17, docs/SEARCH.md) through the real binary, Python imaplib and mbsync:
two govmail processes on one database: A indexes and answers SEARCH through the index
(search.use_index = true), B answers through the slow path (use_index = false, indexer = false),
so that every IMAP SEARCH is compared between both on the same data:
- a Vietnamese corpus: accented, unaccented and mixed keys, đ, tone-mark placement variants and NFD
  input, RFC 2047 subjects, quoted-printable, base64 and HTML bodies, a document number;
- ranked queries (`govmail search query`): phrase, prefix, field, accent ranking, tone variants;
- equality: a generated mailbox of 300 messages, a list of queries (SEARCH, UID SEARCH, ESEARCH,
  SORT with text keys, AND/OR/NOT with flags and sizes), A's answers == B's;
- expunge: the document leaves the index; isolation: another account's words find nothing;
- mbsync pushes a Maildir, then SEARCH finds its messages;
- kill -9 of A while it indexes, restart: the index catches up, no document missing or twice;
- reindex with a progress bar; bad input (thousands of keys, a huge string, "*") answers NO/BAD
  quickly; a corrupted shard is detected and rebuilt while A keeps answering."""
import imaplib
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import unicodedata

sys.path.insert(0, os.path.dirname(__file__))
from support import (GOVMAIL, Checks, FreshDatabase, free_port, govmail, psql,  # noqa
                     traversable_tempdir, wait_port)

DOMAIN = "example.gov.vn"
PW = "correct horse battery"
c = Checks()
tmp = traversable_tempdir()
var = os.path.join(tmp, "var")


def write_cfg(name, imap_port, http_port, use_index, indexer, batch=50):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(f"""
[server]
hostname = "mail.{DOMAIN}"
var_dir = "{var}"

[tls]
cert_file = "{var}/tls/cert.pem"
key_file = "{var}/tls/key.pem"
self_signed = true

[listen]
smtp = []
submission = []
submissions = []
imap = ["127.0.0.1:{imap_port}"]
imaps = []
pop3 = []
pop3s = []
http = ["127.0.0.1:{http_port}"]
https = []

[auth]
allow_plaintext_on_loopback = true
argon2_opslimit = 1
argon2_memlimit = 8388608

[search]
use_index = {"true" if use_index else "false"}
indexer = {"true" if indexer else "false"}
shards = 4
batch = {batch}
poll_interval = "100ms"
lease_ttl = "10s"
max_query_terms = 64
max_query_bytes = 4096
""")
    return path


port_a, port_b = free_port(), free_port()
http_a = free_port()
cfg_a = write_cfg("a.toml", port_a, http_a, True, True)
# A with small batches: a kill -9 lands while the queue is half drained
cfg_a_small = write_cfg("a-small.toml", port_a, http_a, True, True, batch=5)
cfg_b = write_cfg("b.toml", port_b, free_port(), False, False)
# C searches through the index but never indexes: messages still queued are found all the same.
port_c = free_port()
cfg_c = write_cfg("c.toml", port_c, free_port(), True, False)


class Server:
    def __init__(self, cfg, port, env, name):
        self.cfg, self.port, self.env, self.name = cfg, port, env, name
        self.p = None

    def start(self):
        log = open(os.path.join(tmp, self.name + ".log"), "a")
        self.p = subprocess.Popen([GOVMAIL, "serve", "--config", self.cfg], env=self.env,
                                  stdout=log, stderr=log, cwd=tmp)
        wait_port(self.port)

    def stop(self, sig=signal.SIGINT):
        if self.p and self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode


def login(port, user):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    m.login(f"{user}@{DOMAIN}", PW)
    return m


def stats(cfg, env):
    r = govmail("search", "--config", cfg, "stats", env=env)
    out = r.stdout
    q = re.search(r"queue: (\d+) messages, oldest (\d+) s, (\d+) removals", out)
    d = re.search(r"documents: (\d+)", out)
    return (int(q.group(1)), int(q.group(3)), int(d.group(1))) if q and d else (None, None, None)


def wait_indexed(env, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        queued, removals, docs = stats(cfg_a, env)
        if queued == 0 and removals == 0:
            return docs
        time.sleep(0.2)
    raise AssertionError("the index did not catch up in time")


def message(subject, body, frm="Văn thư <van.thu@example.gov.vn>", to="alice@example.gov.vn",
            extra_headers="", ctype="text/plain; charset=utf-8", cte="8bit", mid=None):
    mid = mid or f"<{random.getrandbits(64):x}@{DOMAIN}>"
    return (f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Date: Tue, 04 Mar 2025 09:15:00 +0700\r\nMessage-ID: {mid}\r\n{extra_headers}"
            f"MIME-Version: 1.0\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: {cte}\r\n"
            f"\r\n{body}\r\n").encode()


def append(m, box, data):
    typ, _ = m.append(box, None, None, data)
    c.check(typ == "OK", f"APPEND: {typ}")


import base64
import quopri

CORPUS = [
    ("Công văn số 123/UBND-VP", "Kính gửi các xã. Đề nghị các đơn vị báo cáo hòa giải.", {}),
    ("Cong van so 45", "de nghi gui bao cao thuy loi dong thoi", {}),
    ("=?UTF-8?B?" + base64.b64encode("Kế hoạch thủy lợi".encode()).decode() + "?=",
     "hoà giải thuỷ lợi. Côn Đảo. Đồng thời được phê duyệt.", {}),
    ("Báo cáo quý", quopri.encodestring("Được phê duyệt, ĐỒNG THỜI gửi Sở.".encode()).decode(),
     {"cte": "quoted-printable"}),
    ("HTML message", "<html><body><p>Thông báo <b>khẩn</b> về phòng chống lụt bão</p></body></html>",
     {"ctype": "text/html; charset=utf-8"}),
    ("Base64 body", base64.b64encode("Nguyễn Quang Vinh ký duyệt ngày 4".encode()).decode(),
     {"cte": "base64"}),
    ("NFD text", unicodedata.normalize("NFD", "Quyết định về Trường Sa"), {}),
    ("English notice", "The meeting is postponed; council resolution 77/NQ-HDND attached.", {}),
]


def check_corpus(ma, mb):
    """Every key on both servers: A (index) must answer exactly as B (slow path)."""
    keys = [("BODY", "cong van"), ("BODY", "công văn"), ("TEXT", "cong van"), ("BODY", "đề nghị"),
            ("BODY", "de nghi"), ("BODY", "hòa"), ("BODY", "hoà"), ("BODY", "thủy"),
            ("BODY", "thuỷ"), ("BODY", "thuy"), ("BODY", "dong thoi"), ("BODY", "đồng thời"),
            ("BODY", "duoc"), ("BODY", "được"), ("SUBJECT", "thuy loi"), ("SUBJECT", "thủy lợi"),
            ("SUBJECT", "123/UBND"), ("TEXT", "123/UBND-VP"), ("BODY", "khẩn"), ("BODY", "khan"),
            ("BODY", "phòng chống"), ("BODY", "<b>"), ("BODY", "nguyen quang"),
            ("BODY", unicodedata.normalize("NFD", "Trường Sa")), ("BODY", "truong sa"),
            ("BODY", "ong"), ("BODY", "g v"), ("TEXT", "UBND-VP"), ("BODY", "77/NQ"),
            ("FROM", "van thu"), ("FROM", "văn thư"), ("TO", "alice"), ("HEADER", "Message-ID", DOMAIN),
            ("TEXT", "ký duyệt"), ("BODY", "postponed; council")]
    expected_nonempty = {("TEXT", "cong van"): 2, ("BODY", "cong van"): 0, ("BODY", "de nghi"): 2, ("BODY", "duoc"): 2,
                         ("BODY", "dong thoi"): 3, ("BODY", "thuy"): 2, ("BODY", "khan"): 1,
                         ("BODY", "truong sa"): 1, ("BODY", "nguyen quang"): 1,
                         ("SUBJECT", "thuy loi"): 1, ("TEXT", "123/UBND-VP"): 1}
    for key in keys:
        a, b = run_utf8(ma, list(key)), run_utf8(mb, list(key))
        if len(key) == 2:
            a, b = search_utf8(ma, *key), search_utf8(mb, *key)
        c.check(a is not None and a == b and (len(key) == 2 or a[0] == "OK"),
                f"corpus {key}: index {a} slow path {b}")
        if key in expected_nonempty:
            c.check(a is not None and len(a) == expected_nonempty[key],
                    f"corpus {key}: {expected_nonempty[key]} expected, got {a}")


def ids_by_subject(db_url):
    rows = psql(db_url, "SELECT id, subject FROM messages ORDER BY id")
    return {int(line.split("|", 1)[0]): line.split("|", 1)[1] for line in rows.splitlines()}


def query(env, user, text):
    r = govmail("search", "--config", cfg_a, "query", f"{user}@{DOMAIN}", text, env=env)
    if r.returncode != 0:
        return None
    return [int(line.split("\t")[0]) for line in r.stdout.splitlines() if line.strip()]


def check_ranked(env, db_url):
    subj = ids_by_subject(db_url)

    def q(text):
        r = query(env, "alice", text)
        return None if r is None else [subj.get(i, "?") for i in r]

    got = q('"cong van"')
    c.check(got is not None and set(got) == {"Công văn số 123/UBND-VP", "Cong van so 45"},
            f"query phrase unaccented: {got}")
    got = q('"công văn"')
    c.check(got is not None and got[:1] == ["Công văn số 123/UBND-VP"] and len(got) == 2,
            f"query accented ranks the exact text first: {got}")
    got = q("hòa")
    c.check(got is not None and set(got) == {"Công văn số 123/UBND-VP", "Kế hoạch thủy lợi"},
            f"query hòa finds hoà too (tone placement): {got}")
    got = q("thủy")
    c.check(got is not None and "Kế hoạch thủy lợi" in got and "Cong van so 45" in got,
            f"query thủy: {got}")
    got = q(unicodedata.normalize("NFD", "Trường"))
    c.check(got == ["NFD text"], f"query NFD: {got}")
    got = q("côn*")
    c.check(got is not None and {"Công văn số 123/UBND-VP", "Cong van so 45",
                                 "Kế hoạch thủy lợi"} <= set(got), f"query prefix côn*: {got}")
    got = q("subject:thuy")
    c.check(got == ["Kế hoạch thủy lợi"], f"query subject: {got}")
    got = q("from:van.thu")
    c.check(got is not None and len(got) >= len(CORPUS), f"query from: {got}")
    got = q("123/UBND-VP")
    c.check(got == ["Công văn số 123/UBND-VP"], f"query document number whole: {got}")
    got = q("đảo")
    c.check(got == ["Kế hoạch thủy lợi"], f"query đ: {got}")
    c.check(query(env, "alice", "*") is None, "query '*' alone is refused")
    c.check(query(env, "alice", '"unclosed') is None, "an unbalanced quote is refused")


WORDS = ("công văn số đề nghị báo cáo kế hoạch thủy lợi đồng thời được phê duyệt sở ban ngành "
         "ủy ban nhân dân tỉnh huyện xã phường hòa hoà giải quyết định thông báo khẩn meeting "
         "budget report council resolution draft final approved pending review "
         "lơ lợi so sợ de đê dễ 12 120 x12 CÔNG Văn").split()
# Texts where answering from the index's words alone goes wrong unless it tells exact needles
# from others (each is found by some EQUALITY_QUERIES needle through a different separator).
EDGE_BODIES = ["văn  số hai dấu cách", "văn, số", "văn\nsố xuống dòng", "văn-số", "van - so",
               "lơ là", "lợi ích", "so sợ", "sợ so", "sợ-so", "đê dê dễ", "ăn đề", "số 120", "x12",
               "văn/số", "VĂN-SỐ", "120/ubnd-vp", "ngành\tủy",
               "q" * 70 + "côngvăn" + "đề"]
# Separators other than one space (the index answers words one space apart without verifying).
SEPARATORS = ["  ", ", ", "\n", "-", "/", " - ", ".\n\n"]


def generated(i, rnd):
    words = [rnd.choice(WORDS) for _ in range(rnd.randint(5, 60))]
    if i % 7 == 0:
        words.insert(rnd.randint(0, len(words)), f"{100 + i}/UBND-VP")
    if i % 3 == 0:
        body = words[0]
        for w in words[1:]:
            body += (rnd.choice(SEPARATORS) if rnd.random() < 0.3 else " ") + w
    else:
        body = " ".join(words)
    if i % 50 == 0:  # a word longer than the index keeps, with known words inside it
        body += " " + "q" * 70 + "côngvăn" + "đề"
    subject = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 5)))
    sender = rnd.choice(["Nguyễn Quang Vinh <vinh@hanoi.gov.vn>", "Trần Thị Đào <dao@hue.gov.vn>",
                         "Le Van An <an@example.org>"])
    kind = i % 4
    if kind == 1:
        return message(subject, base64.b64encode(body.encode()).decode(), frm=sender, cte="base64")
    if kind == 2:
        return message(subject, quopri.encodestring(body.encode()).decode(), frm=sender,
                       cte="quoted-printable")
    if kind == 3:
        return message(subject, f"<p>{body}</p>", frm=sender, ctype="text/html; charset=utf-8")
    return message(subject, body, frm=sender)


EQUALITY_QUERIES = [
    ["BODY", "cong van"], ["BODY", "công văn"], ["TEXT", "đề nghị"], ["BODY", "de nghi"],
    ["BODY", "hòa"], ["BODY", "hoa"], ["SUBJECT", "báo cáo"], ["FROM", "nguyen"],
    ["FROM", "Đào"], ["FROM", "dao"], ["BODY", "UBND-VP"], ["BODY", "107/UBND"], ["BODY", "ông"],
    ["BODY", "a"], ["BODY", "uyết đ"], ["BODY", "t final"], ["TEXT", "hanoi.gov"],
    ["OR", "BODY", "khẩn", "SUBJECT", "meeting"], ["NOT", "BODY", "budget"],
    ["BODY", "report", "LARGER", "300"], ["BODY", "report", "UNSEEN"],
    ["BODY", "review", "NOT", "BODY", "draft"], ["HEADER", "Content-Transfer-Encoding", "base64"],
    ["TEXT", "quoted-printable"], ["BODY", "<p>"], ["BODY", "zzzz-nothing"], ["SUBJECT", ""],
    ["1:50", "BODY", "xã"], ["BODY", "thông báo khẩn"], ["BODY", "ủy ban nhân"],
    # exact through the index or not: one space, other separators, marks beside plain letters,
    # a letter inside another with more marks (ơ in ợ), digits, a cut word
    ["BODY", "ơ"], ["BODY", "ợ"], ["BODY", "lơ"], ["BODY", "so sợ"], ["BODY", "sợ so"],
    ["BODY", "de đê"], ["BODY", "dê"], ["BODY", "số 12"], ["BODY", "x12"], ["BODY", "12 1"],
    ["BODY", "văn  số"], ["BODY", "văn, số"], ["BODY", "văn\nsố"], ["BODY", "văn-số"],
    ["BODY", "van - so"], ["BODY", "văn số"], ["BODY", "công văn số"], ["BODY", "CÔNG VĂN"], ["BODY", "côngvăn"],
    ["BODY", "qcông"], ["BODY", "ăn đề"], ["TEXT", "báo cáo"], ["SUBJECT", "kế hoạch"],
    ["FROM", "quang vinh"], ["FROM", "vinh@hanoi"], ["OR", "BODY", "lơ", "BODY", "ợ"],
    ["BODY", "lợi", "NOT", "BODY", "lơ"], ["UNSEEN", "BODY", "đê"], ["1:100", "BODY", "sợ"],
    ["UID", "50:*", "BODY", "de nghi"], ["BODY", "de nghi", "BODY", "bao cao"],
    ["BODY", "văn-số"], ["BODY", "văn/số"], ["BODY", "VAN-SO"], ["BODY", "so sợ"],
    ["BODY", "sợ-so"], ["TEXT", "vinh@hanoi"], ["TEXT", "hanoi.gov"], ["TEXT", "Subject: edge"],
    ["HEADER", "Subject", "edge"], ["HEADER", "From", "hanoi.gov"], ["HEADER", "To", "gov.vn"],
    ["BODY", "120/UBND"], ["BODY", "0/UBND-V"], ["BODY", "UBND-VP"], ["BODY", "ngành ủy"],
]


ATOMS = {"OR", "NOT", "UID", "UNSEEN", "LARGER", "BODY", "TEXT", "SUBJECT", "FROM", "TO", "HEADER"}


def send_raw(m, words):
    """One command from words: ATOMS and sequence sets as atoms, ASCII strings quoted, other
    strings as non-synchronising literals (LITERAL+); (status, untagged lines)."""
    tag = m._new_tag()
    out = tag
    for w in words:
        if isinstance(w, bytes):
            out += b" " + w
        elif w in ATOMS or re.fullmatch(r"[0-9:*]+", w):
            out += b" " + w.encode()
        elif w.isascii() and '"' not in w and "\\" not in w:
            out += b' "' + w.encode() + b'"'
        else:
            data = w.encode()
            out += b" {%d+}\r\n" % len(data) + data
    m.send(out + b"\r\n")
    lines = []
    while True:
        line = m._get_line()
        if line.startswith(tag + b" "):
            return line.split()[1].decode(), lines
        lines.append(line.decode(errors="replace"))


def run_utf8(m, q, cmd="SEARCH", uid=False):
    if cmd == "SORT":
        return send_raw(m, [b"SORT (SUBJECT ARRIVAL) UTF-8"] + list(q))
    if cmd == "THREAD":
        return send_raw(m, [b"THREAD REFERENCES UTF-8"] + list(q))
    head = [b"UID SEARCH" if uid else b"SEARCH", b"CHARSET UTF-8"]
    return send_raw(m, head + list(q))


def search_utf8(m, key, text):
    typ, lines = run_utf8(m, [key, text])
    if typ != "OK":
        return None
    for line in lines:
        if line.startswith("* SEARCH"):
            return [int(x) for x in line.split()[2:]]
    return None


def as_uids(result, uids):
    """A SEARCH answer (status, untagged lines) with its sequence numbers as UIDs."""
    typ, lines = result
    return typ, [" ".join(["* SEARCH"] + [str(uids[int(n) - 1]) for n in line.split()[2:]])
                 if line.startswith("* SEARCH") else line for line in lines]


def check_equality(ma, mb):
    # The index side answers SEARCH and UID SEARCH for every query, the slow side (a read of every
    # message per query, ~0.7 s under the sanitizers) SEARCH once: its answer in UIDs is the
    # truth for UID SEARCH. SORT and THREAD run the same search before ordering it, so every
    # third query shows that they do.
    typ, lines = send_raw(mb, [b"UID SEARCH ALL"])
    uids = [int(n) for line in lines if line.startswith("* SEARCH") for n in line.split()[2:]]
    c.check(typ == "OK" and len(uids) > 300 and uids[0] == 2,
            f"the generated mailbox's UIDs (from 2): {typ} {uids[:3]}")
    for i, q in enumerate(EQUALITY_QUERIES):
        truth = run_utf8(mb, q, "SEARCH")
        answers = [("SEARCH", run_utf8(ma, q, "SEARCH"), truth),
                   ("UID SEARCH", run_utf8(ma, q, "SEARCH", True), as_uids(truth, uids))]
        if i % 3 == 0:
            answers += [(cmd, run_utf8(ma, q, cmd), run_utf8(mb, q, cmd))
                        for cmd in ("SORT", "THREAD")]
        for cmd, a, b in answers:
            c.check(a == b and a[0] == "OK", f"equality {cmd} {q}: "
                    f"index {str(a)[:300]} slow {str(b)[:300]}")
    # ESEARCH (RFC 4731) with a text key
    a = send_raw(ma, [b"SEARCH RETURN (MIN MAX COUNT) BODY", "report"])
    b = send_raw(mb, [b"SEARCH RETURN (MIN MAX COUNT) BODY", "report"])
    untag = lambda r: (r[0], [re.sub(r'\(TAG "[^"]*"\)', "", x) for x in r[1]])  # noqa: E731
    c.check(untag(a) == untag(b) and a[0] == "OK" and "COUNT" in str(a), f"ESEARCH equality: {a} vs {b}")


def timed_search(m, key, text, n=3):
    best = 1e9
    for _ in range(n):
        t0 = time.time()
        search_utf8(m, key, text)
        best = min(best, time.time() - t0)
    return best


with FreshDatabase() as db:
    env = dict(os.environ, GOVMAIL_DATABASE_URL=db.url)
    govmail("admin", "--config", cfg_a, "domain", "add", DOMAIN, env=env, check=True)
    for user in ("alice", "bob", "gen", "sync", "crash"):
        govmail("admin", "--config", cfg_a, "account", "add", f"{user}@{DOMAIN}", "--name", user,
                "--password-stdin", env=env, input=PW + "\n", check=True)
    A = Server(cfg_a, port_a, env, "a")
    B = Server(cfg_b, port_b, env, "b")
    A.start()
    B.start()
    try:
        random.seed(17)
        # --- the Vietnamese corpus
        m = login(port_a, "alice")
        for subject, body, kw in CORPUS:
            append(m, "INBOX", message(subject, body, **kw))
        mbob = login(port_a, "bob")
        append(mbob, "INBOX", message("Bob riêng", "từ khóa bí mật zebraquartz"))
        docs = wait_indexed(env)
        c.check(docs == len(CORPUS) + 1, f"one document per message and account: {docs}")
        ma, mb = login(port_a, "alice"), login(port_b, "alice")
        ma.select("INBOX")
        mb.select("INBOX")
        check_corpus(ma, mb)
        check_ranked(env, db.url)

        # --- isolation between accounts
        c.check(ma.search(None, "BODY", "zebraquartz")[1] == [b""],
                "alice does not find bob's word")
        mbob.select("INBOX")
        c.check(mbob.search(None, "BODY", "zebraquartz")[1] == [b"1"], "bob finds his word")
        c.check(query(env, "alice", "zebraquartz") == [], "alice's query: nothing of bob's")

        # --- expunge leaves the index
        before = stats(cfg_a, env)[2]
        ma.store("8", "+FLAGS", "\\Deleted")
        ma.expunge()
        after = wait_indexed(env)
        c.check(after == before - 1, f"expunged message left the index: {before} -> {after}")
        c.check(query(env, "alice", "postponed") == [], "expunged message no longer found")
        c.check(ma.search(None, "BODY", "postponed")[1] == [b""], "SEARCH: expunged not found")

        # --- equality on a generated mailbox of 300 messages
        mg = login(port_a, "gen")
        rnd = random.Random(4)
        # A first message expunged before the comparison: UIDs differ from sequence numbers.
        append(mg, "INBOX", message("placeholder", "expunged before the comparison"))
        for i in range(300):
            append(mg, "INBOX", generated(i, rnd))
        for body in EDGE_BODIES:
            append(mg, "INBOX", message("edge", body))
        mg.select("INBOX")
        mg.store("1", "+FLAGS", "\\Deleted")
        mg.expunge()
        mg.store("1:40", "+FLAGS", "\\Seen")
        wait_indexed(env)
        ga, gb = login(port_a, "gen"), login(port_b, "gen")
        ga.select("INBOX")
        gb.select("INBOX")
        check_equality(ga, gb)
        t_index = timed_search(ga, "BODY", "quyết định")
        t_slow = timed_search(gb, "BODY", "quyết định")
        print(f"BODY quyết định on 300 messages: index {t_index * 1000:.1f} ms, "
              f"slow path {t_slow * 1000:.1f} ms", flush=True)

        # --- bad input
        t0 = time.time()
        typ, out = send_raw(ga, [b"SEARCH"] + ["BODY", "x"] * 2000)
        c.check(typ == "NO" and time.time() - t0 < 10, f"2000 text keys: {typ} {out}")
        c.check(send_raw(ga, [b"NOOP"])[0] == "OK", "session usable after the refusal")
        t0 = time.time()
        typ, out = send_raw(ga, [b"SEARCH CHARSET UTF-8 BODY", "é" * 50000])
        c.check(typ in ("NO", "BAD") and time.time() - t0 < 10, f"100 KB search string: {typ}")
        c.check(send_raw(ga, [b"NOOP"])[0] == "OK", "session usable after the huge string")

        # --- mbsync pushes a Maildir to the server
        maildir = os.path.join(tmp, "maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(maildir, "INBOX", sub), exist_ok=True)
        for i in range(20):
            with open(os.path.join(maildir, "INBOX", "new", f"{i}.local:2,"), "wb") as f:
                f.write(message(f"Đồng bộ {i}", f"Tài liệu mbsync số {i} ô mai {'đặc biệt' if i == 5 else ''}",
                                to=f"sync@{DOMAIN}"))
        rc = os.path.join(tmp, "mbsyncrc")
        with open(rc, "w") as f:
            f.write(f"""FSync no
IMAPAccount gov
Host 127.0.0.1
Port {port_a}
User sync@{DOMAIN}
Pass "{PW}"
SSLType None
AuthMechs LOGIN
Timeout 60

IMAPStore remote
Account gov

MaildirStore local
Path {maildir}/
Inbox {maildir}/INBOX
SubFolders Verbatim

Channel gov
Far :remote:
Near :local:
Patterns INBOX
Create Both
Expunge Both
SyncState *
Sync All
""")
        r = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True, text=True, timeout=120)
        c.check(r.returncode == 0, f"mbsync: {r.stderr[-300:]}")
        wait_indexed(env)
        ms = login(port_a, "sync")
        ms.select("INBOX")
        c.check(len(ms.search(None, "ALL")[1][0].split()) == 20, "mbsync pushed 20 messages")
        c.check(len(search_utf8(ms, "BODY", "tai lieu mbsync") or []) == 20,
                "SEARCH on mbsync's messages (unaccented)")
        got = search_utf8(ms, "BODY", "đặc biệt")
        c.check(got is not None and len(got) == 1, f"SEARCH đặc biệt on mbsync data: {got}")
        msb = login(port_b, "sync")
        msb.select("INBOX")
        c.check(search_utf8(msb, "BODY", "đặc biệt") == got, "mbsync data: index == slow path")

        # --- kill -9 while indexing, restart: nothing missing, nothing twice
        A.stop()
        mc = login(port_b, "crash")
        for i in range(400):
            append(mc, "INBOX", message(f"Crash {i}", f"crashword{i} văn bản khôi phục"))
        queued_before = stats(cfg_a, env)[0]
        c.check(queued_before >= 400, f"queued while no indexer ran: {queued_before}")
        C = Server(cfg_c, port_c, env, "c")
        C.start()
        mcc = login(port_c, "crash")
        mcc.select("INBOX")
        got = search_utf8(mcc, "BODY", "khôi phục")
        c.check(got is not None and len(got) == 400,
                f"queued (not yet indexed) messages found through the queue's text: {got and len(got)}")
        got = search_utf8(mcc, "BODY", "crashword7 ")
        c.check(got is not None and len(got) == 1, f"one queued message by its word: {got}")
        mcc.logout()
        c.check(C.stop() == 0, "C stopped cleanly")
        A.cfg = cfg_a_small
        A.start()
        deadline = time.time() + 120  # slow under sanitizers
        while time.time() < deadline:
            q = int(psql(db.url, "SELECT count(*) FROM index_queue"))
            if q < queued_before - 20:
                break
            time.sleep(0.01)
        A.stop(signal.SIGKILL)
        left = int(psql(db.url, "SELECT count(*) FROM index_queue"))
        print(f"killed -9 with {left} of {queued_before} still queued", flush=True)
        c.check(0 < left < queued_before, f"the kill landed while indexing: {left} left")
        A.cfg = cfg_a
        A.start()
        docs = wait_indexed(env, timeout=180)
        entries = int(psql(db.url, "SELECT count(*) FROM (SELECT DISTINCT account_id, message_id "
                                   "FROM mailbox_entries) x"))
        c.check(docs == entries, f"after kill -9: {docs} documents for {entries} entries")
        mc = login(port_a, "crash")
        mc.select("INBOX")
        found = sum(1 for i in range(0, 400, 37)
                    if len(mc.search(None, "BODY", f'"crashword{i} "')[1][0].split()) == 1)
        c.check(found == len(range(0, 400, 37)), f"crash messages found one each: {found}")
        c.check(len(search_utf8(mc, "BODY", "khoi phuc") or []) == 400, "all 400 found")

        # --- reindex with a progress bar
        r = govmail("search", "--config", cfg_a, "reindex", "--account", f"alice@{DOMAIN}",
                    "--progress", env=env)
        c.check(r.returncode == 0 and "reindexed" in r.stdout, f"reindex: {r.stdout} {r.stderr}")
        c.check("indexing" in r.stderr, f"progress bar on stderr: {r.stderr[-200:]!r}")
        c.check(wait_indexed(env) == entries - 0, "reindex adds no document twice")
        ma2 = login(port_a, "alice")
        ma2.select("INBOX")
        mb.select("INBOX")
        check_corpus(ma2, mb)

        # --- a lost index directory: the indexer sees another INDEX-ID and queues everything
        A.stop()
        os.rename(os.path.join(var, "search"), os.path.join(tmp, "search-lost"))
        A.start()
        c.check(wait_indexed(env, timeout=180) == entries, "lost directory rebuilt in full")
        with open(os.path.join(tmp, "a.log")) as f:
            c.check("is not the index the queue was drained into" in f.read(),
                    "the lost directory was noticed")
        ma3 = login(port_a, "alice")
        ma3.select("INBOX")
        check_corpus(ma3, mb)

        # --- a corrupt shard: detected, logged, rebuilt while A serves
        shard = None
        gen_id = int(psql(db.url, f"SELECT id FROM accounts WHERE address = 'gen@{DOMAIN}'"))
        shard = os.path.join(var, "search", "shard-%03d" % (gen_id % 4))
        for name in os.listdir(shard):
            if name.endswith(".glass"):  # every block garbage: whatever a search reads
                path = os.path.join(shard, name)
                size = os.path.getsize(path)
                with open(path, "r+b") as f:
                    f.write(os.urandom(size))
        ga = login(port_a, "gen")
        ga.select("INBOX")
        a = run_utf8(ga, ["BODY", "cong van"])
        b = run_utf8(gb, ["BODY", "cong van"])
        c.check(a == b, f"corrupt shard: the answer is still right: {str(a)[:200]}")
        deadline = time.time() + 120
        rebuilt = False
        while time.time() < deadline:
            q, rm, docs = stats(cfg_a, env)
            if q == 0 and docs == entries and not os.path.exists(shard + ".rebuild"):
                rebuilt = True
                break
            time.sleep(0.5)
        c.check(rebuilt, f"shard rebuilt from the store: docs {docs} of {entries}")
        a = run_utf8(ga, ["BODY", "cong van"])
        c.check(a == b, "after the rebuild: same answer")
        with open(os.path.join(tmp, "a.log")) as f:
            log = f.read()
        c.check("marked for rebuild" in log and "rebuilt" in log, "the corruption was logged")
        c.check(A.p.poll() is None, "A kept running")

        # --- the admin API shows the same figures (province admins; an auditor is refused)
        from admin_support import Api, totp  # noqa: E402
        govmail("admin", "--config", cfg_a, "admins", "grant", f"alice@{DOMAIN}", "--role",
                "province", env=env, check=True)
        out = govmail("admin", "--config", cfg_a, "admins", "totp", f"alice@{DOMAIN}", env=env,
                      check=True).stdout
        secret = [x.split(": ", 1)[1] for x in out.splitlines() if x.startswith("secret: ")][0]
        api = Api(http_a)
        st, _ = api.call("GET", "/search/stats")
        c.check(st == 401, f"search stats without a login: {st}")
        st, _ = api.login(f"alice@{DOMAIN}", PW, totp(secret))
        c.check(st == 200, f"admin login: {st}")
        st, j = api.call("GET", "/search/stats")
        c.check(st == 200 and j.get("queued") == 0 and j.get("documents") == entries and
                len(j.get("shards", [])) == 4 and j.get("indexer"), f"GET search/stats: {st} {j}")
    finally:
        rc_a = A.stop()
        rc_b = B.stop()
    c.check(rc_a == 0 and rc_b == 0, f"clean exits: {rc_a} {rc_b}")
if c.failed:
    for name in ("a.log", "b.log"):
        try:
            print(name, open(os.path.join(tmp, name)).read()[-3000:])
        except OSError:
            pass
    print(f"kept {tmp} for inspection", flush=True)
else:
    subprocess.run(["rm", "-rf", tmp])
c.finish()
