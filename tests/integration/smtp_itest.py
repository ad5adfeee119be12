#!/usr/bin/env python3
"""SMTP with real clients (Python smtplib, swaks, curl) against govmail on real PostgreSQL: every
accepted message is read back from the store and compared byte for byte (plus Return-Path and
Received). MX, submission with STARTTLS then AUTH, implicit TLS, AUTH refused without TLS,
wrong password, spoofed senders, unknown recipient, quota, group expansion, over-size, BDAT,
pipelining, 8-bit and SMTPUTF8 Vietnamese, a client gone mid-DATA, the idle timeout."""
import os
import smtplib
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, psql  # noqa: E402
from smtp_support import (DOMAIN, Raw, Server, add_account, body_of, client_tls, count,  # noqa
                          inbox)

c = Checks()
PW = "correct horse battery"
AN, BINH, CHI = (f"{x}@{DOMAIN}" for x in ("an", "binh", "chi"))


def expect_code(fn, code, what):
    try:
        fn()
        c.check(False, f"{what}: accepted, expected {code}")
    except smtplib.SMTPRecipientsRefused as e:
        got = list(e.recipients.values())[0][0]
        c.check(got == code, f"{what}: got {e.recipients}")
    except smtplib.SMTPResponseException as e:
        c.check(e.smtp_code == code, f"{what}: got {e.smtp_code} {e.smtp_error!r}")


def last_message(addr):
    msgs = inbox(db.url, addr)
    return msgs[-1] if msgs else b""


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=False,
                 limits="max_message_bytes = 1048576\nsmtp_command_timeout = 4")
    srv.admin("domain", "add", DOMAIN)
    for name in ("an", "binh", "chi", "dung"):
        add_account(srv, name, PW)
    add_account(srv, "full", PW, quota_mb=1)
    psql(db.url, f"UPDATE accounts SET used_bytes = 1048576 WHERE address = 'full@{DOMAIN}'")
    add_account(srv, "small", PW, quota_mb=1)
    psql(db.url, f"""
INSERT INTO aliases (address, account_id) SELECT 'van.an@{DOMAIN}', id FROM accounts WHERE address = '{AN}';
INSERT INTO groups (address, display_name) VALUES ('phong@{DOMAIN}', 'Phòng');
INSERT INTO group_members SELECT g.id, a.id FROM groups g, accounts a
  WHERE g.address = 'phong@{DOMAIN}' AND a.address IN ('{AN}', '{BINH}', '{CHI}', 'full@{DOMAIN}');
INSERT INTO group_senders SELECT g.id, a.id FROM groups g, accounts a
  WHERE g.address = 'phong@{DOMAIN}' AND a.address = '{AN}';""")
    srv.start()
    try:
        # --- MX with smtplib: 8-bit Vietnamese, dot-stuffing, byte for byte.
        msg = ("From: Trần Văn Ba <ba@other.gov.vn>\r\nTo: binh@example.gov.vn\r\n"
               "Subject: Công văn số 12\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
               "Kính gửi đồng chí Bình,\r\n.dòng bắt đầu bằng dấu chấm\r\n..\r\n.\r\nhết\r\n")
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
            code, ehlo = s.ehlo("relay.other.gov.vn")
            for ext in (b"PIPELINING", b"SIZE 1048576", b"8BITMIME", b"SMTPUTF8",
                        b"ENHANCEDSTATUSCODES", b"CHUNKING", b"DSN", b"STARTTLS"):
                c.check(ext in ehlo, f"EHLO offers {ext}: {ehlo}")
            c.check(b"AUTH" not in ehlo, "MX offers no AUTH")
            s.sendmail("ba@other.gov.vn", [BINH], msg.encode(), mail_options=["BODY=8BITMIME"])
        raw = last_message(BINH)
        c.check(body_of(raw) == msg.encode(), f"MX message byte for byte: {raw[-200:]!r}")
        c.check(raw.startswith(b"Return-Path: <ba@other.gov.vn>\r\nReceived: from relay.other.gov.vn"
                               b" ([127.0.0.1])\r\n\tby mail.example.gov.vn (govmail) with ESMTP id "),
                f"trace headers: {raw[:200]!r}")

        # --- MX: relay refused, unknown user, quota, VRFY disabled.
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
            expect_code(lambda: s.sendmail("x@other.vn", ["someone@gmail.com"], b"Subject: x\r\n\r\nx\r\n"),
                        554, "relay through MX")
            expect_code(lambda: s.sendmail("x@other.vn", [f"nobody@{DOMAIN}"], b"Subject: x\r\n\r\nx\r\n"),
                        550, "unknown user 550")
            expect_code(lambda: s.sendmail("x@other.vn", [f"full@{DOMAIN}"], b"Subject: x\r\n\r\nx\r\n"),
                        452, "over quota 452")
            s.ehlo("x")
            expect_code(lambda: s.sendmail("x@other.vn", [f"small@{DOMAIN}"], b"Subject: x\r\n\r\nx\r\n",
                                           mail_options=["SIZE=2000000"]), 552, "SIZE over limit")
            expect_code(lambda: s.sendmail(AN, [BINH], b"Subject: x\r\n\r\nx\r\n"), 553,
                        "MX: unauthenticated local envelope sender")
            expect_code(lambda: s.sendmail("x@other.vn", [BINH], f"From: {AN}\r\n\r\nx\r\n".encode()),
                        550, "MX: unauthenticated local From:")
            code, text = s.verify(AN)
            c.check(code == 252, f"VRFY disabled: {code} {text}")

        # --- Over-size message (limits.max_message_bytes = 1 MiB) refused, nothing stored.
        before = count(db.url, "messages")
        big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 1100
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
            expect_code(lambda: s.sendmail("x@other.vn", [AN], big), 552, "over-size message")
        c.check(count(db.url, "messages") == before, "over-size message not stored")

        # --- Group expansion: group + a member directly = one copy each; over-quota member left out.
        before_blobs = count(db.url, "blobs")
        gmsg = b"From: x@other.vn\r\nSubject: circular\r\n\r\nto the whole department\r\n"
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
            s.sendmail("x@other.vn", [f"phong@{DOMAIN}", BINH, f"PHONG@{DOMAIN}"], gmsg)
        for who in (AN, BINH, CHI):
            got = [m for m in inbox(db.url, who) if m.endswith(b"to the whole department\r\n")]
            c.check(len(got) == 1 and body_of(got[0]) == gmsg, f"group copy for {who}: {len(got)}")
        # One blob for the circular, one for the DSN about the member left out (full@), queued
        # from <> to the remote sender.
        c.check(count(db.url, "blobs") == before_blobs + 2, "group message stored as one blob")
        dsn = psql(db.url, "SELECT r.address FROM outbound_queue q JOIN outbound_recipients r"
                           " ON r.queue_id = q.id WHERE q.envelope_from = ''")
        c.check(dsn == "x@other.vn", f"DSN for the member over quota queued to the sender: {dsn!r}")
        c.check(not any(b"circular" in m for m in inbox(db.url, f"full@{DOMAIN}")),
                "over-quota member left out")

        # --- Submission: AUTH refused before TLS (plaintext disallowed), STARTTLS then AUTH.
        with smtplib.SMTP("127.0.0.1", srv.submission, timeout=30) as s:
            code, ehlo = s.ehlo("laptop")
            c.check(b"AUTH" not in ehlo and b"STARTTLS" in ehlo, f"no AUTH before TLS: {ehlo}")
            code, text = s.docmd("AUTH", "PLAIN AGFuQGV4YW1wbGUuZ292LnZuAGNvcnJlY3QgaG9yc2UgYmF0dGVyeQ==")
            c.check(code == 538, f"AUTH before TLS refused: {code} {text}")
            code, text = s.docmd("MAIL", "FROM:<an@example.gov.vn>")
            c.check(code == 530, f"MAIL without AUTH refused: {code} {text}")
        with smtplib.SMTP("127.0.0.1", srv.submission, timeout=30) as s:
            s.starttls(context=client_tls())
            code, ehlo = s.ehlo("laptop")
            c.check(b"AUTH PLAIN LOGIN" in ehlo, f"AUTH after STARTTLS: {ehlo}")
            expect_code(lambda: s.login(AN, "wrong password"), 535, "wrong password")
            s.login(AN, PW)
            expect_code(lambda: s.sendmail(BINH, [CHI], b"From: binh@example.gov.vn\r\n\r\nspoof\r\n"),
                        553, "spoofed envelope sender")
            expect_code(lambda: s.sendmail(AN, [CHI], b"From: binh@example.gov.vn\r\n\r\nspoof\r\n"),
                        550, "spoofed From: header")
            sub = (f"From: An <van.an@{DOMAIN}>\r\nTo: chi@{DOMAIN}, x@gmail.com\r\n"
                   "Subject: submission\r\n\r\nsent through 587\r\n").encode()
            s.sendmail(f"van.an@{DOMAIN}", [CHI, "x@gmail.com"], sub,
                       mail_options=["RET=HDRS", "ENVID=abc"],
                       rcpt_options=["NOTIFY=FAILURE,DELAY"])
            s.sendmail(f"phong@{DOMAIN}", [CHI], f"From: phong@{DOMAIN}\r\n\r\nas group\r\n".encode())
        raw = last_message(CHI)
        c.check(body_of(raw) == f"From: phong@{DOMAIN}\r\n\r\nas group\r\n".encode(),
                "send as a group listed in group_senders")
        got = [m for m in inbox(db.url, CHI) if m.endswith(b"sent through 587\r\n")]
        c.check(len(got) == 1 and body_of(got[0]) == sub and b"with ESMTPSA id" in got[0],
                f"submission delivered locally: {got[:1]!r}")
        q = psql(db.url, "SELECT q.envelope_from, q.dsn_ret, q.dsn_envid, r.address, r.dsn_notify "
                         "FROM outbound_queue q JOIN outbound_recipients r ON r.queue_id = q.id "
                         "WHERE q.envelope_from <> ''")
        c.check(q == f"van.an@{DOMAIN}|HDRS|abc|x@gmail.com|FAILURE,DELAY", f"queued with DSN: {q!r}")

        # --- Implicit TLS (submissions).
        with smtplib.SMTP_SSL("127.0.0.1", srv.submissions, timeout=30, context=client_tls()) as s:
            s.login(f"dung@{DOMAIN}", PW)
            m = f"From: dung@{DOMAIN}\r\nSubject: implicit\r\n\r\nover 465\r\n".encode()
            s.sendmail(f"dung@{DOMAIN}", [AN], m)
        c.check(body_of(last_message(AN)) == m, "implicit TLS submission")

        # --- SMTPUTF8: UTF-8 envelope and headers.
        um = "From: Nguyễn <nguyen@bo.gov.vn>\r\nSubject: Thông báo\r\n\r\nNội dung tiếng Việt\r\n"
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
            s.ehlo("x")
            s.sendmail("nguyễn@bộ.gov.vn", [CHI], um.encode(), mail_options=["SMTPUTF8", "BODY=8BITMIME"])
        raw = last_message(CHI)
        c.check(body_of(raw) == um.encode() and "Return-Path: <nguyễn@bộ.gov.vn>".encode() in raw
                and b"with UTF8SMTP id" in raw, f"SMTPUTF8: {raw[:300]!r}")

        # --- Pipelining: one write, replies in order.
        r = Raw(srv.smtp)
        r.send(f"EHLO pipe\r\nMAIL FROM:<p@other.vn>\r\nRCPT TO:<{AN}>\r\nRCPT TO:<no@{DOMAIN}>\r\n"
               f"RCPT TO:<{BINH}>\r\nDATA\r\n")
        replies = [r.reply() for _ in range(6)]
        codes = [x[-1][:3] for x in replies]
        c.check(codes == ["250", "250", "250", "550", "250", "354"], f"pipelined replies: {replies}")
        pm = b"Subject: pipelined\r\n\r\none write\r\n"
        r.send(pm + b".\r\nQUIT\r\n")
        c.check(r.reply()[0].startswith("250 2.0.0 Ok: queued as"), "pipelined DATA accepted")
        c.check(r.reply()[0].startswith("221"), "QUIT")
        r.close()
        c.check(body_of(last_message(AN)) == pm and body_of(last_message(BINH)) == pm,
                "pipelined message in both mailboxes")

        # --- BDAT (CHUNKING), binary-safe chunks, no dot-unstuffing.
        r = Raw(srv.smtp)
        p1 = b"Subject: chunks\r\n\r\n.not unstuffed\r\n"
        p2 = "đoạn hai\r\n".encode()
        r.send(f"EHLO b\r\nMAIL FROM:<b@other.vn>\r\nRCPT TO:<{BINH}>\r\nBDAT {len(p1)}\r\n".encode()
               + p1 + f"BDAT {len(p2)} LAST\r\n".encode() + p2)
        replies = [r.reply() for _ in range(5)]
        c.check([x[-1][:3] for x in replies] == ["250"] * 5, f"BDAT replies: {replies}")
        r.close()
        c.check(body_of(last_message(BINH)) == p1 + p2, "BDAT message byte for byte")

        # --- A client that disconnects mid-DATA leaves nothing behind.
        before = (count(db.url, "messages"), count(db.url, "blobs"), count(db.url, "mailbox_entries"))
        r = Raw(srv.smtp)
        r.send(f"EHLO gone\r\nMAIL FROM:<g@other.vn>\r\nRCPT TO:<{AN}>\r\nDATA\r\n")
        for _ in range(4):
            r.reply()
        r.send(b"Subject: half\r\n\r\nhalf a message\r\n")
        r.close()
        time.sleep(0.5)
        after = (count(db.url, "messages"), count(db.url, "blobs"), count(db.url, "mailbox_entries"))
        c.check(before == after, f"mid-DATA disconnect stored nothing: {before} -> {after}")

        # --- Idle timeout (limits.smtp_command_timeout = 4 s): 421 then close.
        r = Raw(srv.smtp)
        t0 = time.time()
        line = r.reply()
        c.check(line[0].startswith("421 4.4.2") and 3 < time.time() - t0 < 15, f"timeout: {line}")
        r.close()

        # --- swaks: MX, then submission with STARTTLS + AUTH LOGIN.
        sw = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(srv.smtp),
                             "--from", "sw@other.vn", "--to", AN, "--helo", "swaks.test",
                             "--header", "Subject: swaks mx", "--body", "hello from swaks"],
                            capture_output=True, text=True, timeout=60)
        c.check(sw.returncode == 0 and b"hello from swaks" in last_message(AN),
                f"swaks MX: {sw.stdout[-400:]}")
        sw = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(srv.submission), "-tls",
                             "--auth", "LOGIN", "--auth-user", BINH, "--auth-password", PW,
                             "--from", BINH, "--to", AN, "--header", f"From: {BINH}",
                             "--header", "Subject: swaks sub", "--body", "swaks submission"],
                            capture_output=True, text=True, timeout=60)
        c.check(sw.returncode == 0 and b"swaks submission" in last_message(AN),
                f"swaks STARTTLS AUTH LOGIN: {sw.stdout[-600:]} {sw.stderr[-600:]}")

        # --- curl: smtp:// with STARTTLS required, and smtps://.
        cm = f"From: {CHI}\r\nTo: {AN}\r\nSubject: curl\r\n\r\nfrom curl over smtp\r\n".encode()
        with tempfile.NamedTemporaryFile() as f:
            f.write(cm)
            f.flush()
            for url, extra in ((f"smtp://127.0.0.1:{srv.submission}", ["--ssl-reqd"]),
                               (f"smtps://127.0.0.1:{srv.submissions}", [])):
                cu = subprocess.run(["curl", "-sS", "-k", *extra, url, "--mail-from", CHI,
                                     "--mail-rcpt", AN, "--user", f"{CHI}:{PW}", "--upload-file",
                                     f.name], capture_output=True, text=True, timeout=60)
                c.check(cu.returncode == 0 and body_of(last_message(AN)) == cm,
                        f"curl {url}: {cu.returncode} {cu.stderr}")

        # --- Lock-out (AuthService counts failures per IP and account): 421, then even the right
        # password is refused until the back-off ends.
        with smtplib.SMTP("127.0.0.1", srv.submission, timeout=30) as s:
            s.starttls(context=client_tls())
            s.ehlo("x")
            codes = []
            for pw in ["bad"] * 6 + [PW]:
                try:
                    s.login(f"dung@{DOMAIN}", pw)
                    codes.append(235)
                except smtplib.SMTPAuthenticationError as e:
                    codes.append(e.smtp_code)
                except smtplib.SMTPServerDisconnected:
                    codes.append("closed")
                    break
            c.check(codes[0] == 535 and 421 in codes and 235 not in codes,
                    f"lock-out after repeated failures: {codes}")

        log = srv.log()
        c.check(PW not in log and "correct horse" not in log, "no password in the log")
        c.check("half a message" not in log and "Công văn" not in log, "no content in the log")
        c.check("smtp auth ip=127.0.0.1 user=an@example.gov.vn mech=PLAIN tls=true result=bad_credentials"
                in log, "auth attempts logged")
        c.check("smtp tx id=" in log and "result=\"250 2.0.0 Ok: queued as" in log,
                "transactions logged")
    finally:
        rc = srv.stop()
    c.check(rc == 0, f"clean stop: {rc}")
    if c.failed:
        print(srv.log()[-3000:])
    srv.cleanup()
c.finish()
