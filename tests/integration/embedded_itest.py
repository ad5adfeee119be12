#!/usr/bin/env python3
"""The embedded default: `govmail serve` with no database.url initialises and starts a private
PostgreSQL cluster under var/pg, seeds the demo accounts (passwords printed once), makes a
self-signed certificate, serves /healthz; SIGINT stops govmail and the cluster; a second start
reuses var/ and loses nothing; admin commands work with the server stopped."""
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from support import (GOVMAIL, Checks, free_port, govmail, traversable_tempdir, wait_http,  # noqa
                     write_config)

c = Checks()
tmp = traversable_tempdir()
var = os.path.join(tmp, "var")
http = free_port()
pg_port = free_port()
cfg = os.path.join(tmp, "govmail.toml")
write_config(cfg, var, http, extra=f"""
[database]
embedded_port = {pg_port}

[demo]
seed = true
domain = "example.gov.vn"
accounts = ["demo1", "demo2"]
""")
env = dict(os.environ)
env.pop("GOVMAIL_DATABASE_URL", None)


def serve():
    out = open(os.path.join(tmp, "serve.log"), "a")
    return subprocess.Popen([GOVMAIL, "serve", "--config", cfg], env=env, stdout=subprocess.PIPE,
                            stderr=out, text=True, cwd=tmp)


def stop(p):
    p.send_signal(signal.SIGINT)
    try:
        rc = p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = -9
    return rc


def postmaster_running():
    return os.path.exists(os.path.join(var, "pg", "data", "postmaster.pid"))


p = serve()
try:
    body = wait_http(http)
    c.check(json.loads(body).get("status") == "ok", f"healthz: {body}")
finally:
    rc = stop(p)
out = p.stdout.read()
c.check(rc == 0, f"SIGINT exits 0 (got {rc})")
pw = dict(re.findall(r"(demo\d@example\.gov\.vn)\s+password:\s+(\S+)", out))
c.check(set(pw) == {"demo1@example.gov.vn", "demo2@example.gov.vn"}, f"demo passwords printed: {out!r}")
c.check(os.path.exists(os.path.join(var, "pg", "data", "PG_VERSION")), "cluster initialised under var/pg")
c.check(not postmaster_running(), "cluster stopped with govmail")
cert = os.path.join(var, "tls", "cert.pem")
r = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-ext", "subjectAltName"],
                   capture_output=True, text=True)
c.check(r.returncode == 0 and "localhost" in r.stdout, f"self-signed certificate: {r.stdout}{r.stderr}")
key_mode = os.stat(os.path.join(var, "tls", "key.pem")).st_mode & 0o777
c.check(key_mode == 0o600, f"private key mode 0600 (got {oct(key_mode)})")

# Admin with the server stopped: starts the cluster for the command, stops it after.
r = govmail("admin", "--config", cfg, "account", "add", "demo3@example.gov.vn", "--name",
            "Đặng Văn Đức", "--password-stdin", env=env, input="a long password\n")
c.check(r.returncode == 0, f"admin account add on the embedded cluster: {r.stdout}{r.stderr}")
c.check(not postmaster_running(), "admin left no cluster running")

p = serve()
try:
    wait_http(http)
    r = govmail("admin", "--config", cfg, "account", "list", "--domain", "example.gov.vn", env=env)
    addrs = [l.split("\t")[0] for l in r.stdout.strip().split("\n") if l]
    c.check(addrs == ["demo1@example.gov.vn", "demo2@example.gov.vn", "demo3@example.gov.vn"],
            f"accounts kept across restarts, admin works while serving: {r.stdout!r} {r.stderr}")
    c.check(postmaster_running(), "admin did not stop the cluster that serve is using")
finally:
    rc = stop(p)
out = p.stdout.read()
c.check(rc == 0, "second SIGINT exits 0")
c.check("password" not in out, f"passwords printed only once: {out!r}")
c.check(not postmaster_running(), "cluster stopped again")

# A killed govmail leaves the cluster running: the next start adopts it.
p = serve()
wait_http(http)
p.kill()
p.wait()
c.check(postmaster_running(), "cluster survives kill -9 of govmail")
p = serve()
try:
    wait_http(http)
    c.check(True, "restart after kill -9 adopts the running cluster")
finally:
    c.check(stop(p) == 0, "third SIGINT exits 0")
c.check(not postmaster_running(), "adopted cluster stopped at exit")
subprocess.run(["rm", "-rf", tmp])
c.finish()
