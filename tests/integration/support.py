"""Helpers for integration tests: a fresh database on the ctest PostgreSQL fixture, free ports,
and running build/govmail. Every test runs real govmail against real PostgreSQL."""
import contextlib
import hashlib
import json
import os
import shutil
import random
import socket
import subprocess
import tempfile
import time
import uuid

GOVMAIL = os.environ.get("GOVMAIL_BIN", "build/govmail")
SOURCE_DIR = os.environ.get("GOVMAIL_SOURCE_DIR", os.getcwd())
ADMIN_URL = os.environ.get("GOVMAIL_TEST_DATABASE_URL", "")


def psql(url, sql):
    return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


class FreshDatabase:
    """CREATE DATABASE on the fixture cluster; DROP at exit."""

    def __enter__(self):
        if not ADMIN_URL:
            raise SystemExit("GOVMAIL_TEST_DATABASE_URL is not set: run through ctest")
        self.name = "govmail_it_" + uuid.uuid4().hex[:12]
        psql(ADMIN_URL, f"CREATE DATABASE {self.name}")
        self.url = " ".join(p for p in ADMIN_URL.split() if not p.startswith("dbname=")) + \
            f" dbname={self.name}"
        return self

    def __exit__(self, *exc):
        psql(ADMIN_URL, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


# Listening ports for test servers come from below the kernel's ephemeral range: a port the kernel
# handed out (bind to 0) is free only until the next outgoing connection takes it as its source
# port, and the servers under test make many (outbound delivery, DNS, PostgreSQL). CI once lost a
# run to exactly that: "submission 127.0.0.1:46417: Address already in use".
_TEST_PORTS = range(20000, 32000)


_PORT_MARKS = os.path.join(tempfile.gettempdir(), "govmail-test-ports")


def _reserve(port):
    """A mark file per port, created exclusively: tests running in parallel (ctest -j) never get
    the same port between checking it free and their server binding it. Marks older than ten
    minutes are taken over."""
    mark = os.path.join(_PORT_MARKS, str(port))
    try:
        os.close(os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        return True
    except FileExistsError:
        try:
            if time.time() - os.path.getmtime(mark) < 600:
                return False
            os.utime(mark)
            return True
        except OSError:
            return False
    except OSError:  # marks not writable here (another user's directory): no reservation
        return True


def free_port():
    try:
        os.makedirs(_PORT_MARKS, mode=0o1777, exist_ok=True)
    except OSError:
        pass
    for _ in range(500):
        port = random.choice(_TEST_PORTS)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        if _reserve(port):
            return port
    raise AssertionError(f"no free loopback port in {_TEST_PORTS}")


def traversable_tempdir():
    """A temp dir the unprivileged 'postgres' user can reach (mkdtemp makes 0700 dirs)."""
    d = tempfile.mkdtemp(prefix="govmail-it-")
    os.chmod(d, 0o755)
    return d


def write_config(path, var_dir, http_port, extra="", imap=None, imaps=None, pop3=None,
                 pop3s=None):
    """A test config: loopback services off except HTTP (and IMAP/IMAPS/POP3/POP3S when given a
    port)."""
    imap_l = f'["127.0.0.1:{imap}"]' if imap else "[]"
    imaps_l = f'["127.0.0.1:{imaps}"]' if imaps else "[]"
    pop3_l = f'["127.0.0.1:{pop3}"]' if pop3 else "[]"
    pop3s_l = f'["127.0.0.1:{pop3s}"]' if pop3s else "[]"
    with open(path, "w") as f:
        f.write(f"""
[server]
hostname = "mail.example.gov.vn"
var_dir = "{var_dir}"

[tls]
cert_file = "{var_dir}/tls/cert.pem"
key_file = "{var_dir}/tls/key.pem"
self_signed = true

[listen]
smtp = []
submission = []
submissions = []
imap = {imap_l}
imaps = {imaps_l}
pop3 = {pop3_l}
pop3s = {pop3s_l}
http = ["127.0.0.1:{http_port}"]
https = []
{extra}
""")


def govmail(*args, env=None, input=None, check=False):
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run([GOVMAIL, *args], env=e, input=input, capture_output=True,
                          text=True, check=check, timeout=120)


def wait_port(port, timeout=60):
    """Until a TCP listener answers on 127.0.0.1:port."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"port {port} not open")


def wait_http(port, path="/healthz", timeout=60, proc=None):
    """Until GET path answers 200; with `proc`, fails at once when that process has exited
    (a port taken by another test between free_port() and the bind, a bad config)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"govmail exited with code {proc.returncode} before "
                                 f"http://127.0.0.1:{port}{path} answered")
        r = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}",
                            f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True)
        if r.stdout.endswith("200"):
            return r.stdout.rsplit("\n", 1)[0]
        time.sleep(0.2)
    raise AssertionError(f"http://127.0.0.1:{port}{path} did not answer 200 in {timeout}s")


class Checks:
    """Counts checks and prints the 'N passed, N failed' line; exit code 1 on any failure."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL: {what}", flush=True)

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        raise SystemExit(1 if self.failed else 0)


def stop_server(srv, checks):
    """The end of a test that runs a server: stop it, show the tail of its log when a check
    failed (the log goes with the server's files), then remove its files."""
    srv.stop()
    if checks.failed:
        print(srv.log()[-3000:])
    srv.cleanup()


@contextlib.contextmanager
def serving(srv, checks):
    """The body of a test that runs a server: an exception shows the tail of the server's log
    and goes on up; the server is stopped either way (stop_server)."""
    try:
        yield srv
    except Exception:
        print(srv.log()[-3000:], flush=True)
        raise
    finally:
        stop_server(srv, checks)


def node_modules():
    """node_modules for tests/integration/package-lock.json: `npm ci` into a cache directory
    (GOVMAIL_NODE_CACHE, default $TMPDIR/govmail-node-<lock hash>) when it is not there yet."""
    here = os.path.dirname(os.path.abspath(__file__))
    lock = open(os.path.join(here, "package-lock.json"), "rb").read()
    cache = os.environ.get("GOVMAIL_NODE_CACHE") or os.path.join(
        tempfile.gettempdir(), "govmail-node-" + hashlib.sha256(lock).hexdigest()[:12])
    mods = os.path.join(cache, "node_modules")
    deps = json.load(open(os.path.join(here, "package.json")))["dependencies"]
    if not all(os.path.isdir(os.path.join(mods, d)) for d in deps):
        os.makedirs(cache, exist_ok=True)
        for f in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(here, f), cache)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=cache, check=True,
                       capture_output=True, timeout=300)
    return mods
