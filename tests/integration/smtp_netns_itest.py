#!/usr/bin/env python3
"""AUTH is refused before TLS on a connection that is not loopback: govmail listens for
submission on the host end of a veth pair whose other end is in a network namespace made for this
test (10.x addresses, nothing else routed), and Python smtplib connects from inside it. The config
allows plaintext AUTH on loopback, so the refusal comes from the peer's address, not the config.
Then STARTTLS on the same connection makes AUTH work and a message goes through. Needs root (ip
netns); the namespace and the veth pair are removed whatever happens."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase  # noqa: E402
from smtp_support import DOMAIN, Server, add_account, body_of, inbox  # noqa: E402

c = Checks()
PW = "correct horse battery"
TAG = f"gm{os.getpid() % 100000}"
NS, HOST_IF, NS_IF = f"{TAG}ns", f"{TAG}h", f"{TAG}n"
NET = f"10.251.{os.getpid() % 250}"
HOST_ADDR, NS_ADDR = f"{NET}.1", f"{NET}.2"

CLIENT = r'''
import json, smtplib, ssl, sys
host, port, user, pw = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = {}
s = smtplib.SMTP(host, port, timeout=30)
code, ehlo = s.ehlo("client.test")
out["ehlo_auth"] = b"AUTH" in ehlo
out["ehlo_starttls"] = b"STARTTLS" in ehlo
out["auth_plain"] = list(s.docmd("AUTH", "PLAIN AGFuQGV4YW1wbGUuZ292LnZuAGNvcnJlY3QgaG9yc2UgYmF0dGVyeQ=="))
out["mail_before_auth"] = list(s.docmd("MAIL", "FROM:<" + user + ">"))
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s.starttls(context=ctx)
code, ehlo = s.ehlo("client.test")
out["tls_ehlo_auth"] = b"AUTH PLAIN" in ehlo
s.login(user, pw)
msg = "From: " + user + "\r\nTo: " + user + "\r\nSubject: netns\r\n\r\nqua namespace\r\n"
s.sendmail(user, [user], msg.encode())
s.quit()
out["sent"] = msg
print(json.dumps({k: (v if not isinstance(v, list) else [v[0], v[1].decode()]) for k, v in out.items()}))
'''


def ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def make_namespace():
    ip("netns", "add", NS)
    ip("link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF)
    ip("link", "set", NS_IF, "netns", NS)
    ip("addr", "add", f"{HOST_ADDR}/30", "dev", HOST_IF)
    ip("link", "set", HOST_IF, "up")
    ip("netns", "exec", NS, "ip", "addr", "add", f"{NS_ADDR}/30", "dev", NS_IF)
    ip("netns", "exec", NS, "ip", "link", "set", NS_IF, "up")
    ip("netns", "exec", NS, "ip", "link", "set", "lo", "up")


def remove_namespace():
    ip("link", "del", HOST_IF, check=False)  # deletes the peer too
    ip("netns", "del", NS, check=False)


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True, submission_host=HOST_ADDR)
    try:
        make_namespace()
        srv.admin("domain", "add", DOMAIN)
        add_account(srv, "an", PW)
        srv.start()
        user = f"an@{DOMAIN}"
        r = subprocess.run(["ip", "netns", "exec", NS, sys.executable, "-c", CLIENT, HOST_ADDR,
                            str(srv.submission), user, PW],
                           capture_output=True, text=True, timeout=120)
        c.check(r.returncode == 0, f"client in the namespace: {r.stdout}{r.stderr}")
        if r.returncode == 0:
            out = json.loads(r.stdout)
            c.check(not out["ehlo_auth"], f"no AUTH offered before TLS off loopback: {out}")
            c.check(out["ehlo_starttls"], f"STARTTLS offered: {out}")
            c.check(out["auth_plain"][0] == 538 and out["auth_plain"][1].startswith("5.7.11"),
                    f"AUTH before TLS refused with 538 5.7.11: {out['auth_plain']}")
            c.check(out["mail_before_auth"][0] == 530,
                    f"MAIL before AUTH refused: {out['mail_before_auth']}")
            c.check(out["tls_ehlo_auth"], f"AUTH offered after STARTTLS: {out}")
            raw = inbox(db.url, user)
            c.check(len(raw) == 1 and body_of(raw[0]) == out["sent"].encode(),
                    f"message sent after STARTTLS+AUTH stored byte for byte: {raw!r}")
            c.check(len(raw) == 1 and f"([{NS_ADDR}])".encode() in raw[0],
                    f"Received: names the namespace's address {NS_ADDR}: {raw[:1]!r}")
        log = srv.log()
        c.check("correct horse" not in log, "no password in the log")
    finally:
        srv.stop()
        srv.cleanup()
        remove_namespace()
    left = ip("netns", "list").stdout
    c.check(NS not in left, f"namespace removed: {left}")

c.finish()
