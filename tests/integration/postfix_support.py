"""Postfix from Debian as a live remote peer for integration tests: a private instance
(`postfix -c DIR`) with its own config, queue and data directories under a temp dir, listening on
one loopback address and port, never touching the system's /etc/postfix instance (the approach of
bench/outbound/run.sh). It receives mail for its virtual domains into Maildirs under the temp dir
and sends mail for other domains where its transport map says.

    with PostfixServer("127.0.0.5", port, "bo.gov.vn", ["chanh", "vanthu"],
                       transports={"so.gov.vn": "smtp:[127.0.0.2]:2525"}) as pf:
        ... pf.maildir("chanh") ...

Needs root (Postfix's master runs as root and drops to the postfix user) and the Debian
`postfix` package (scripts/packages.txt)."""
import grp
import os
import pwd
import shutil
import socket
import subprocess
import time

from support import traversable_tempdir

POSTFIX = "/usr/sbin/postfix"


def _run(*args, check=True):
    return subprocess.run(list(args), capture_output=True, text=True, check=check, timeout=60)


def self_signed_cert(directory, name):
    """A self-signed certificate and key (PEM) for `name`; their paths."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    _run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
         "-keyout", key, "-out", cert)
    os.chmod(key, 0o600)
    return cert, key


class PostfixServer:
    def __init__(self, address, port, domain, users, transports=None, access=None,
                 hostname=None, extra=None):
        self.address = address
        self.port = port
        self.domain = domain  # its virtual mailbox domain
        self.users = list(users)
        self.transports = dict(transports or {})  # domain -> "smtp:[host]:port"
        self.access = dict(access or {})  # recipient -> action (check_recipient_access)
        self.hostname = hostname or f"mx.{domain}"
        self.extra = dict(extra or {})  # more main.cf settings
        self.dir = None
        self.etc = None

    # ---- set-up ---------------------------------------------------------------------------

    def __enter__(self):
        if not os.path.exists(POSTFIX):
            raise SystemExit("postfix is not installed (scripts/install-deps)")
        self.dir = traversable_tempdir()
        try:
            self._configure()
            self.start()
            return self
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *exc):
        if self.dir is None:
            return False
        _run(POSTFIX, "-c", self.etc, "stop", check=False)
        self._wait_master_gone()
        if os.environ.get("GOVMAIL_IT_KEEP"):
            print(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
        return False

    def _configure(self):
        d = self.dir
        self.etc = os.path.join(d, "etc")
        self.spool = os.path.join(d, "spool")
        self.mail = os.path.join(d, "mail")
        self.log_path = os.path.join(d, "log", "maillog")
        for sub in ("etc", "spool", "data", "log", "mail", "tls"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        pf = pwd.getpwnam("postfix")
        os.chown(os.path.join(d, "data"), pf.pw_uid, pf.pw_gid)
        # Mail is written by virtual(8) as this user (at least virtual_minimum_uid = 100).
        self.mail_uid = pwd.getpwnam("nobody").pw_uid
        self.mail_gid = grp.getgrnam("nogroup").gr_gid
        os.chown(self.mail, self.mail_uid, self.mail_gid)
        self.cert, self.key = self_signed_cert(os.path.join(d, "tls"), self.hostname)
        # The package's own copy, not the system instance's (which its admin may have edited).
        shutil.copy("/usr/share/postfix/master.cf.dist", os.path.join(self.etc, "master.cf"))
        with open(os.path.join(self.etc, "vmailbox"), "w") as f:
            for u in self.users:
                f.write(f"{u}@{self.domain} {self.domain}/{u}/\n")
        with open(os.path.join(self.etc, "transport"), "w") as f:
            for dom, dest in self.transports.items():
                f.write(f"{dom} {dest}\n")
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": self.spool,
            "data_directory": os.path.join(d, "data"),
            "maillog_file": self.log_path,
            "maillog_file_prefixes": f"/var, /dev/stdout, {d}",
            "myhostname": self.hostname,
            "mydomain": self.domain,
            "myorigin": self.domain,
            "mydestination": "",
            "inet_interfaces": "loopback-only",  # 127.0.0.x other than .1 is no "interface"
            "proxy_interfaces": self.address,
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "smtpd_peername_lookup": "no",  # no reverse DNS of loopback peers
            "smtp_bind_address": self.address,  # what the peer's SPF check sees
            "virtual_mailbox_domains": self.domain,
            "virtual_mailbox_base": self.mail,
            "virtual_mailbox_maps": f"texthash:{self.etc}/vmailbox",
            "virtual_uid_maps": f"static:{self.mail_uid}",
            "virtual_gid_maps": f"static:{self.mail_gid}",
            "transport_maps": f"texthash:{self.etc}/transport",
            "smtpd_recipient_restrictions": f"check_recipient_access hash:{self.etc}/access, "
                                            "permit_mynetworks, reject_unauth_destination",
            "smtpd_tls_security_level": "may",
            "smtpd_tls_cert_file": self.cert,
            "smtpd_tls_key_file": self.key,
            "smtpd_tls_received_header": "yes",
            "smtp_tls_security_level": "may",
            "smtp_tls_loglevel": "1",
            "smtpd_tls_loglevel": "1",
            "biff": "no",
            "append_dot_mydomain": "no",
            "delay_warning_time": "0",
            "minimal_backoff_time": "2s",
            "maximal_backoff_time": "4s",
            "queue_run_delay": "2s",
        }
        settings.update(self.extra)
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            for k, v in settings.items():
                f.write(f"{k} = {v}\n")
        self.write_access(self.access, reload=False)
        # Its own listener only; no chroot (the temp dir is not a prepared jail).
        _run("postconf", "-c", self.etc, "-M", "-#", "smtp/inet")
        _run("postconf", "-c", self.etc, "-M",
             f"{self.address}:{self.port}/inet={self.address}:{self.port} inet n - n - - smtpd")
        _run("postconf", "-c", self.etc, "-F", "*/*/chroot=n")

    def start(self):
        r = _run(POSTFIX, "-c", self.etc, "start", check=False)
        if r.returncode != 0:
            raise RuntimeError(f"postfix start: {r.stdout}{r.stderr}\n{self.log()}")
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection((self.address, self.port), timeout=1) as s:
                    s.settimeout(5)
                    if s.recv(512).startswith(b"220 "):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"postfix did not listen on {self.address}:{self.port}\n{self.log()}")

    def _wait_master_gone(self):
        pid_file = os.path.join(self.spool, "pid", "master.pid")
        deadline = time.time() + 15
        while time.time() < deadline and os.path.exists(pid_file):
            try:
                pid = int(open(pid_file).read().split()[0])
                os.kill(pid, 0)
            except (OSError, ValueError, IndexError):
                return
            time.sleep(0.1)

    # ---- while it runs ----------------------------------------------------------------------

    def write_access(self, access, reload=True):
        """Replaces the check_recipient_access table (postmap), then `postfix reload`."""
        self.access = dict(access)
        path = os.path.join(self.etc, "access")
        with open(path, "w") as f:
            for rcpt, action in self.access.items():
                f.write(f"{rcpt} {action}\n")
        _run("postmap", "-c", self.etc, f"hash:{path}")
        if reload:
            _run(POSTFIX, "-c", self.etc, "reload")

    def sendmail(self, sender, recipients, message):
        """Mail injected into Postfix through its sendmail(1) (postdrop, pickup)."""
        r = subprocess.run(["/usr/sbin/sendmail", "-C", self.etc, "-i", "-f", sender, "--",
                            *recipients], input=message, capture_output=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"sendmail: {r.stdout!r} {r.stderr!r}")

    def maildir(self, user):
        """The messages delivered to a user's Maildir (new/), oldest first, as bytes."""
        new = os.path.join(self.mail, self.domain, user, "new")
        if not os.path.isdir(new):
            return []
        names = sorted(os.listdir(new), key=lambda n: os.stat(os.path.join(new, n)).st_mtime_ns)
        return [open(os.path.join(new, n), "rb").read() for n in names]

    def queue_empty(self):
        r = _run("postqueue", "-c", self.etc, "-p", check=False)
        return "Mail queue is empty" in r.stdout

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""
