"""A real unbound DNS server on 127.0.0.1 for integration tests (the `unbound` package):
authoritative local data only, nothing recursive. C++ twin: tests/support/unbound_server.hpp.

    with UnboundServer(["mx.example. MX 10 a.mx.example.", "a.mx.example. A 127.0.0.1"]) as dns:
        ... forwarder f"127.0.0.1@{dns.port}" ...

Records are zone-file lines (unbound local-data); their names must lie in one of `zones`
(static local zones: other names there answer NXDOMAIN). A zone given as (name, type) has that
unbound local-zone type instead: ("down.example.", "refuse") answers REFUSED, which resolvers
treat as a server failure (a temporary DNS error). Avoid the zones libunbound answers
itself (RFC 6761: test., invalid., localhost., onion.): a govmail resolver never asks the
server for them.
"""
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time

UNBOUND = "/usr/sbin/unbound"


def _free_port():
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            with socket.socket() as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("UnboundServer: no free port")


def _answers(port, zone):
    """One SOA query for `zone`; True when any answer with our id comes back within 200 ms."""
    qname = b"".join(bytes([len(l)]) + l.encode() for l in zone.split(".") if l) + b"\x00"
    query = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 6, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        try:
            s.sendto(query, ("127.0.0.1", port))
            data = s.recv(512)
        except OSError:
            return False
    return len(data) >= 12 and data[:2] == b"\x12\x34"


class UnboundServer:
    def __init__(self, records, zones=("example.",)):
        self.records = list(records)
        self.zones = list(zones)
        self.dir = None
        self.proc = None
        self.port = None
        self.log_path = None

    @property
    def forwarder(self):
        return f"127.0.0.1@{self.port}"

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="govmail-unbound-")
        self.log_path = os.path.join(self.dir, "unbound.log")
        try:
            for _ in range(3):
                if self._start_once():
                    return self
                self._stop()
            with open(self.log_path) as f:
                raise RuntimeError(f"UnboundServer: unbound did not start: {f.read()}")
        except BaseException:
            self._stop()
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    def __exit__(self, *exc):
        self._stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def _start_once(self):
        self.port = _free_port()
        conf = os.path.join(self.dir, "unbound.conf")
        lines = [
            "server:",
            "  interface: 127.0.0.1",
            f"  port: {self.port}",
            "  do-ip6: no",
            "  num-threads: 1",
            "  do-daemonize: no",
            '  username: ""',
            '  chroot: ""',
            f'  directory: "{self.dir}"',
            '  pidfile: ""',
            "  use-syslog: no",
            '  logfile: ""',
            "  verbosity: 1",
            '  module-config: "iterator"',
            "  do-not-query-localhost: no",
            "  access-control: 127.0.0.0/8 allow",
        ]
        for z in self.zones:
            name, kind = (z, "static") if isinstance(z, str) else z
            lines.append(f'  local-zone: "{name}" {kind}')
        lines += [f"  local-data: '{r}'" for r in self.records]
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        log = open(self.log_path, "a")
        try:
            self.proc = subprocess.Popen([UNBOUND, "-d", "-c", conf], stdout=log, stderr=log)
        finally:
            log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:  # exited: config error or port taken
                self.proc = None
                return False
            first = self.zones[0] if self.zones else "."
            if _answers(self.port, first if isinstance(first, str) else first[0]):
                return True
            time.sleep(0.05)
        return False

    def _stop(self):
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
