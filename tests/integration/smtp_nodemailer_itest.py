#!/usr/bin/env python3
"""nodemailer (Node.js) submitting to govmail: STARTTLS + AUTH on submission, implicit TLS on
submissions; a raw message stored byte for byte, a composed one stored, a spoofed From refused.
nodemailer comes from tests/integration/package-lock.json: `npm ci` into a cache directory
(GOVMAIL_NODE_CACHE, default $TMPDIR/govmail-node-<lock hash>) when it is not there yet."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, node_modules  # noqa: E402
from smtp_support import DOMAIN, Server, add_account, body_of, inbox  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
c = Checks()
PW = "correct horse battery"


mods = node_modules()
with FreshDatabase() as db:
    srv = Server(db.url)
    srv.admin("domain", "add", DOMAIN)
    add_account(srv, "an", PW)
    add_account(srv, "binh", PW)
    srv.start()
    try:
        raw = ("From: an@example.gov.vn\r\nTo: binh@example.gov.vn\r\nSubject: =?UTF-8?B?"
               "Q8O0bmcgdsSDbg==?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8"
               "\r\nContent-Transfer-Encoding: 8bit\r\n\r\nNội dung gửi bằng nodemailer.\r\n"
               ".dòng có dấu chấm đầu\r\n").encode()
        with tempfile.NamedTemporaryFile(suffix=".eml") as f:
            f.write(raw)
            f.flush()
            for port, secure in ((srv.submission, "false"), (srv.submissions, "true")):
                r = subprocess.run(["node", os.path.join(HERE, "smtp_nodemailer.mjs"), str(port),
                                    secure, f"an@{DOMAIN}", PW, f"binh@{DOMAIN}", f.name],
                                   capture_output=True, text=True, timeout=120,
                                   env=dict(os.environ, GOVMAIL_NODE_MODULES=mods))
                ok = r.returncode == 0
                out = json.loads(r.stdout) if ok else {}
                c.check(ok and len(out["accepted"]) == 2 and
                        all(a.startswith("250 2.0.0 Ok: queued as") for a in out["accepted"]),
                        f"nodemailer secure={secure}: {r.stdout} {r.stderr[-500:]}")
                c.check(out.get("refused") == 553, f"nodemailer spoofed sender refused: {out}")
        msgs = inbox(db.url, f"binh@{DOMAIN}")
        c.check(len(msgs) == 4, f"four messages stored: {len(msgs)}")
        c.check(sum(body_of(m) == raw for m in msgs) == 2, "raw message byte for byte (twice)")
        composed = [m for m in msgs if body_of(m) != raw]
        c.check(len(composed) == 2 and all(b"with ESMTPSA id" in m and b"<an@example.gov.vn>" in m
                                           and b"multipart/alternative" in m for m in composed),
                f"composed messages stored with trace headers: {len(composed)}")
    finally:
        c.check(srv.stop() == 0, "clean stop")
    srv.cleanup()
c.finish()
