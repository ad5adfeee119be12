"""Shared by the SMTP integration tests: a govmail with SMTP listeners on free ports against a
fresh database, accounts made through the admin CLI, raw messages read back from the store."""
import base64
import os
import signal
import socket
import ssl
import subprocess
import time

from support import GOVMAIL, govmail, psql, free_port, traversable_tempdir, wait_http

DOMAIN = "example.gov.vn"


class Server:
    def __init__(self, db_url, allow_plaintext=False, limits="", submission_host="127.0.0.1",
                 smtp_extra="", domain=DOMAIN, smtp_host="127.0.0.1", smtp_port=None,
                 outbound="enabled = false"):
        self.db_url = db_url
        self.domain = domain
        self.smtp_host = smtp_host  # the MX listener's address (outbound tests: 127.0.0.x)
        self.outbound = outbound  # lines of the [outbound] section
        self.submission_host = submission_host  # another address: a test network namespace
        self.smtp_extra = smtp_extra  # lines of the [smtp] section
        self.tmp = traversable_tempdir()
        self.var = os.path.join(self.tmp, "var")
        self.http = free_port()
        self.smtp = smtp_port or free_port()
        self.submission = free_port()
        self.submissions = free_port()
        self.cfg = os.path.join(self.tmp, "govmail.toml")
        self.env = dict(os.environ, GOVMAIL_DATABASE_URL=db_url)
        self.proc = None
        self.log_path = os.path.join(self.tmp, "serve.log")
        self.write(allow_plaintext, limits)

    def write(self, allow_plaintext, limits=""):
        with open(self.cfg, "w") as f:
            f.write(f"""
[server]
hostname = "mail.{self.domain}"
var_dir = "{self.var}"
threads = 2

[tls]
cert_file = "{self.var}/tls/cert.pem"
key_file = "{self.var}/tls/key.pem"
self_signed = true

[listen]
smtp = ["{self.smtp_host}:{self.smtp}"]
submission = ["{self.submission_host}:{self.submission}"]
submissions = ["127.0.0.1:{self.submissions}"]
imap = []
imaps = []
pop3 = []
pop3s = []
http = ["127.0.0.1:{self.http}"]
https = []

[auth]
allow_plaintext_on_loopback = {"true" if allow_plaintext else "false"}
argon2_opslimit = 1
argon2_memlimit = 8388608

[smtp]
{self.smtp_extra if "check_authentication" in self.smtp_extra else "check_authentication = false"}
{"" if "check_authentication" in self.smtp_extra else self.smtp_extra}

[outbound]
{self.outbound}
{"" if "dkim_master_key_file" in self.outbound else self.dkim_master_key()}

[limits]
{limits}

[log]
level = "{os.environ.get("GOVMAIL_IT_LOG", "info")}"
""")

    def dkim_master_key(self):
        """[outbound] lines for a DKIM master key file in the server's temp dir, made when
        missing (DKIM keys are stored sealed under it)."""
        return (f'dkim_master_key_file = "{self.tmp}/dkim-master.key"\n'
                "dkim_master_key_create = true")

    def edit_config(self, change):
        """Rewrites the config file through change(text) -> text (before start())."""
        with open(self.cfg) as f:
            text = f.read()
        with open(self.cfg, "w") as f:
            f.write(change(text))

    def listen_imap(self):
        """Adds an IMAP listener on a free port to the config (before start()); its port."""
        port = free_port()
        with open(self.cfg) as f:
            text = f.read()
        with open(self.cfg, "w") as f:
            f.write(text.replace("imap = []", f'imap = ["127.0.0.1:{port}"]'))
        return port

    def listen_pop3(self):
        """Adds POP3 (STLS) and POP3S listeners on free ports to the config (before start());
        their ports."""
        pop3, pop3s = free_port(), free_port()
        with open(self.cfg) as f:
            text = f.read()
        with open(self.cfg, "w") as f:
            f.write(text.replace("pop3 = []", f'pop3 = ["127.0.0.1:{pop3}"]')
                    .replace("pop3s = []", f'pop3s = ["127.0.0.1:{pop3s}"]'))
        return pop3, pop3s

    def admin(self, *args, input=None):
        r = govmail("admin", "--config", self.cfg, *args, env=self.env, input=input)
        if r.returncode != 0:
            raise AssertionError(f"admin {args}: {r.stdout}{r.stderr}")
        return r.stdout

    def admin_fail(self, *args):
        """An admin command that must fail: its stderr."""
        r = govmail("admin", "--config", self.cfg, *args, env=self.env)
        if r.returncode == 0:
            raise AssertionError(f"admin {args} succeeded: {r.stdout}")
        return r.stderr

    def start(self):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([GOVMAIL, "serve", "--config", self.cfg], env=self.env,
                                     stdout=log, stderr=log, cwd=self.tmp)
        try:
            wait_http(self.http, proc=self.proc)
        except AssertionError:
            print(self.log()[-2000:], flush=True)  # why it did not start
            raise
        wait_port(self.smtp, self.smtp_host)
        wait_port(self.submissions)
        wait_port(self.submission, self.submission_host)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else 0

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def cleanup(self):
        if os.environ.get("GOVMAIL_IT_KEEP"):  # debugging: keep config and logs
            print(f"kept {self.tmp}")
            return
        subprocess.run(["rm", "-rf", self.tmp])


def wait_port(port, host="127.0.0.1", timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"port {port} not listening")


def add_account(server, local, password="correct horse battery", quota_mb=None):
    args = ["account", "add", f"{local}@{server.domain}", "--name", local, "--password-stdin"]
    if quota_mb is not None:
        args += ["--quota-mb", str(quota_mb)]
    server.admin(*args, input=password + "\n")


def add_jmap_accounts(server, db_url, locals_, password="correct horse battery"):
    """Adds the domain and an account per local part; their JMAP account ids ("a<id>")."""
    server.admin("domain", "add", server.domain)
    for local in locals_:
        add_account(server, local, password)
    return {l: "a" + psql(db_url, f"SELECT id FROM accounts WHERE address = '{l}@{server.domain}'")
            for l in locals_}


def inbox(db_url, address):
    """Raw messages in the INBOX of an account, oldest first (bytes)."""
    out = psql(db_url, f"""
SELECT translate(encode(b.data, 'base64'), E'\\n', '') FROM mailbox_entries e
JOIN mailboxes m ON m.id = e.mailbox_id JOIN accounts a ON a.id = e.account_id
JOIN messages g ON g.id = e.message_id JOIN blobs b ON b.sha256 = g.blob_sha256
WHERE a.address = '{address}' AND m.name = 'INBOX' ORDER BY e.uid""")
    return [base64.b64decode(line) for line in out.split("\n") if line.strip()]


def count(db_url, table):
    return int(psql(db_url, f"SELECT count(*) FROM {table}"))


def body_of(raw):
    """The message as the client sent it: what follows our Return-Path and Received fields."""
    assert raw.startswith(b"Return-Path: <"), raw[:200]
    i = raw.index(b"\r\nReceived: ")
    j = raw.index(b"\r\n", raw.index(b"; ", i)) + 2
    return raw[j:]


def client_tls():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def raw_connect(port, source="127.0.0.1", timeout=10):
    """A TCP connection to a loopback port from the given source address (its own network)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_line(s):
    """One line read byte by byte (nothing after it is consumed); b"" or partial at EOF."""
    out = b""
    while not out.endswith(b"\n"):
        chunk = s.recv(1)
        if not chunk:
            break
        out += chunk
    return out


class Lines:
    """A bare connection read line by line (CRLF), for protocols spoken by hand."""

    def __init__(self, port, timeout=30, tls=False):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:  # implicit TLS (submissions)
            self.s = client_tls().wrap_socket(self.s)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def close(self):
        self.s.close()


class Raw(Lines):
    """A bare SMTP connection: send bytes, read replies (for PIPELINING, BDAT, disconnects)."""

    def __init__(self, port, timeout=30, tls=False):
        super().__init__(port, timeout, tls)
        self.greeting = self.reply()

    def reply(self):
        """One complete (possibly multi-line) reply as a list of lines."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines
