#!/usr/bin/env python3
"""`govmail serve --config conf/govmail.toml` given only a database URL (GOVMAIL_DATABASE_URL):
uses that PostgreSQL, starts no cluster of its own, applies the migrations, makes the
self-signed certificate itself, and refuses to start on a database newer than the binary."""
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from support import (GOVMAIL, Checks, FreshDatabase, free_port, psql, traversable_tempdir,  # noqa
                     wait_http, write_config)

c = Checks()
tmp = traversable_tempdir()
var = os.path.join(tmp, "var")
http = free_port()
cfg = os.path.join(tmp, "govmail.toml")
write_config(cfg, var, http, extra="\n[database]\nurl = \"host=/nonexistent dbname=overridden\"\n")

with FreshDatabase() as db:
    env = dict(os.environ, GOVMAIL_DATABASE_URL=db.url)
    p = subprocess.Popen([GOVMAIL, "serve", "--config", cfg], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, cwd=tmp)
    try:
        body = json.loads(wait_http(http))
        c.check(body["status"] == "ok" and body["checks"]["database"] == "ok", f"healthz: {body}")
    finally:
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    c.check(p.returncode == 0, f"clean exit: {p.returncode} {err[-500:]}")
    c.check(not os.path.exists(os.path.join(var, "pg")), "no embedded cluster with an external URL")
    c.check(os.path.exists(os.path.join(var, "tls", "cert.pem")), "self-signed certificate made")
    v = psql(db.url, "SELECT max(version) FROM schema_migrations")
    c.check(int(v) >= 1, f"migrations applied: {v}")

    # A database whose schema is newer than this binary: refuse with a clear message.
    psql(db.url, "INSERT INTO schema_migrations (version, name) VALUES (9999, 'from_the_future')")
    r = subprocess.run([GOVMAIL, "serve", "--config", cfg], env=env, capture_output=True,
                       text=True, timeout=60, cwd=tmp)
    c.check(r.returncode != 0 and "newer than this govmail" in r.stderr,
            f"newer schema refused: rc={r.returncode} {r.stderr[-400:]}")

# Bad configuration: refused before anything starts, naming file:line and key.
bad = os.path.join(tmp, "bad.toml")
with open(bad, "w") as f:
    f.write("[listen]\nhttp = [\"127.0.0.1:99999\"]\n")
r = subprocess.run([GOVMAIL, "serve", "--config", bad], capture_output=True, text=True, timeout=60)
c.check(r.returncode == 1 and f"{bad}:2" in r.stderr and "listen.http" in r.stderr,
        f"bad listen address refused: {r.stderr}")
c.check(not os.path.exists(os.path.join(tmp, "var", "pg")), "nothing started on a bad config")
subprocess.run(["rm", "-rf", tmp])
c.finish()
