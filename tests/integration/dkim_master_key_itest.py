#!/usr/bin/env python3
"""DKIM private keys at rest, through the real binary: `govmail serve` seals a key stored
unencrypted by an earlier version at its first start; `dkim generate` stores sealed keys (the
column is never the PEM) and rotation still works; a wrong, missing or world-readable master key
file stops `serve` and `dkim generate` with a clear reason instead of mail going out unsigned; a
key that stops opening while serving (its row altered) defers its domain's mail with the reason
and nothing reaches the remote (this part waits for the once-a-minute key reload).
(Signing with a sealed key, verified by dkimpy: outbound_postfix_itest, outbound_exchange_itest.)"""
import base64
import os
import re
import smtplib
import ssl
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from smtp_sink import Sink  # noqa: E402
from support import GOVMAIL, Checks, FreshDatabase, free_port, psql, stop_server  # noqa: E402
from smtp_support import Server, add_account  # noqa: E402

c = Checks()
GOV, HUE = "so.gov.vn", "hue.gov.vn"
PASSWORD = "mat khau dai du 2026"


def legacy_key():
    """An Ed25519 key as versions before sealing stored it: PEM, and the p= value."""
    pem = subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519"], capture_output=True,
                         text=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"], input=pem.encode(),
                         capture_output=True, check=True).stdout
    return pem, base64.b64encode(der[-32:]).decode()


def stored(db_url, selector):
    return psql(db_url, f"SELECT private_pem FROM dkim_keys WHERE selector = '{selector}'")


def serve_refused(srv):
    """Runs `govmail serve`, which must stop by itself: (exit code, its log)."""
    try:
        r = subprocess.run([GOVMAIL, "serve", "--config", srv.cfg], env=srv.env, cwd=srv.tmp,
                           capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return None, "still running after 60 s"
    return r.returncode, r.stdout + r.stderr


with FreshDatabase() as db:
    srv = Server(db.url, domain=GOV, outbound="enabled = true\npoll_interval = 200")
    key_file = os.path.join(srv.tmp, "dkim-master.key")
    try:
        srv.admin("domain", "add", GOV)
        srv.admin("domain", "add", HUE)
        pem, pub = legacy_key()
        psql(db.url, "INSERT INTO dkim_keys (domain, selector, algorithm, private_pem, public_b64)"
                     f" VALUES ('{HUE}', 'old', 'ed25519-sha256', $${pem}$$, '{pub}')")
        c.check(stored(db.url, "old").startswith("-----BEGIN PRIVATE KEY-----"),
                "a key stored unencrypted, as before")

        # First start: the development config makes the key file and seals the old key.
        srv.start()
        c.check(os.path.exists(key_file) and stat.S_IMODE(os.stat(key_file).st_mode) == 0o600,
                "master key file created, mode 0600")
        old = stored(db.url, "old")
        c.check(old.startswith("sealed1:") and "PRIVATE KEY" not in old,
                f"the old key is sealed at start: {old[:30]}")
        c.check("DKIM key old of hue.gov.vn sealed under the master key" in srv.log(),
                "the sealing is logged")
        srv.stop()

        # New keys are stored sealed; rotation and listing work as before.
        gen1 = srv.admin("dkim", "generate", GOV, "--selector", "s1", "--algorithm", "ed25519")
        gen2 = srv.admin("dkim", "generate", GOV, "--selector", "s2", "--algorithm", "rsa")
        c.check("s1._domainkey.so.gov.vn. IN TXT" in gen1 and "k=rsa" in gen2,
                "generate prints the TXT records")
        for sel in ("s1", "s2"):
            col = stored(db.url, sel)
            c.check(col.startswith("sealed1:") and "BEGIN" not in col and len(col) > 100,
                    f"{sel} stored sealed: {col[:30]}")
        listed = srv.admin("dkim", "list", GOV)
        c.check(f"{GOV}\ts2\trsa-sha256\tactive" in listed and f"{GOV}\ts1\ted25519-sha256\told"
                in listed, f"rotation: s2 active, s1 old: {listed}")

        # The right key: serve starts.
        srv.start()
        c.check("DKIM keys:" not in srv.log(), "serve starts with the right key")
        srv.stop()

        good = open(key_file).read()
        # A wrong key file: serve and generate refuse, naming the key and the setting.
        with open(key_file, "w") as f:
            f.write("ab" * 32 + "\n")
        rc, log = serve_refused(srv)
        c.check(rc == 1 and "does not decrypt" in log and "outbound.dkim_master_key_file" in log,
                f"serve refuses a wrong master key: {rc} {log[-600:]}")
        err = srv.admin_fail("dkim", "generate", GOV, "--selector", "s3")
        c.check("does not decrypt" in err, f"generate refuses a wrong master key: {err}")
        c.check(psql(db.url, "SELECT count(*) FROM dkim_keys WHERE selector = 's3'") == "0",
                "no key made under the wrong master key")

        # A missing file is not replaced by a new one, even with creation allowed.
        os.unlink(key_file)
        rc, log = serve_refused(srv)
        c.check(rc == 1 and "is missing" in log and "restore the file" in log,
                f"serve refuses a missing master key file: {rc} {log[-600:]}")
        c.check(not os.path.exists(key_file), "no new key file made over sealed keys")

        # Readable by others.
        with open(key_file, "w") as f:
            f.write(good)
        os.chmod(key_file, 0o644)
        rc, log = serve_refused(srv)
        c.check(rc == 1 and "readable or writable by other users" in log,
                f"serve refuses a world-readable key file: {rc} {log[-600:]}")
        os.chmod(key_file, 0o600)

        # While serving, the active key's row is altered (here: a key sealed for another row):
        # from the next key reload the domain's mail is deferred with the reason, never sent
        # unsigned. The remote is a sink that counts what reaches it.
        sink_port = free_port()
        add_account(srv, "vanthu", PASSWORD)
        srv.outbound = ("enabled = true\npoll_interval = 200\nretry_min = 1\nretry_max = 2\n"
                        f'routes = ["remote.vn [127.0.0.9]:{sink_port}"]')
        srv.write(False)
        with Sink("127.0.0.9", sink_port) as sink:
            srv.start()
            c.check(srv.proc.poll() is None, "the restored key file works again")
            psql(db.url, "UPDATE dkim_keys SET private_pem = (SELECT private_pem FROM dkim_keys"
                         " WHERE selector = 'old') WHERE selector = 's2'")
            deadline = time.time() + 90
            while time.time() < deadline and "mail from so.gov.vn is deferred" not in srv.log():
                time.sleep(0.5)
            c.check("DKIM key s2 of so.gov.vn does not decrypt" in srv.log(),
                    "the reload logs the key that does not open")
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            with smtplib.SMTP_SSL("127.0.0.1", srv.submissions, context=ctx, timeout=30) as s:
                s.login(f"vanthu@{GOV}", PASSWORD)
                s.sendmail(f"vanthu@{GOV}", ["ok@remote.vn"],
                           f"From: vanthu@{GOV}\r\nTo: ok@remote.vn\r\nSubject: unsigned?\r\n"
                           "\r\nKhông được gửi khi chưa ký.\r\n".encode())
            shown = ""
            deadline = time.time() + 20
            attempts = 0
            while time.time() < deadline and attempts < 2:
                ids = re.findall(r"^(\d+)\t", srv.admin("queue", "list"), re.M)
                shown = srv.admin("queue", "show", ids[-1]) if ids else ""
                # Retried every 1-2 s: a slow (sanitizer) admin call may first see any count >= 2.
                attempts = int((re.search(r"attempts: (\d+)", shown) or [0, "0"])[1])
                time.sleep(0.3)
            c.check("status: deferred" in shown and attempts >= 2 and
                    "451 4.7.0 Not sent: DKIM key s2 of so.gov.vn does not decrypt" in shown,
                    f"deferred, again and again, with the reason: {shown}")
            c.check(sink.messages == [] and sink.connections == 0,
                    f"nothing reached the remote: {len(sink.messages)} messages")
    finally:
        stop_server(srv, c)
c.finish()
