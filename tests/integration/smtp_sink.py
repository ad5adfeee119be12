"""A scripted remote SMTP server for outbound tests, on a loopback address of the test's choice.

Recipients decide the answer by their local part:
  ok...      250 at RCPT and after DATA
  defer...   451 4.3.0 at RCPT the first time this address is seen, 250 afterwards
  reject...  550 5.1.1 at RCPT
  slow...    250, but the reply to the final dot comes after `slow_seconds`
Every accepted transaction is kept in `messages` as (mail_from, [rcpts], data bytes, esmtp params,
tls: whether it came under STARTTLS) and every connection counted, so tests can count deliveries
at the sink. With `tls` (a server ssl.SSLContext) the sink offers STARTTLS; a handshake the client
gives up (a certificate it refuses) is counted in `tls_failures`."""
import socket
import socketserver
import ssl
import threading
import time


class _Handler(socketserver.StreamRequestHandler):
    timeout = 60

    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        sink = self.server.sink
        with sink.lock:
            sink.connections += 1
        self.reply("220 sink.test ESMTP scripted sink")
        mail_from, rcpts, params = None, [], ""
        secure = False
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            cmd = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = cmd[:4].upper()
            if verb in ("EHLO", "HELO"):
                if verb == "HELO" or not sink.esmtp:
                    self.reply("250 sink.test")
                else:
                    ext = ["PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE 100000000",
                           "ENHANCEDSTATUSCODES"] + sink.extensions
                    if sink.tls and not secure:
                        ext.append("STARTTLS")
                    lines = ["sink.test"] + ext
                    for i, x in enumerate(lines):
                        self.reply(("250 " if i == len(lines) - 1 else "250-") + x)
            elif cmd.strip().upper() == "STARTTLS" and sink.tls and not secure:
                self.reply("220 2.0.0 Ready to start TLS")
                try:
                    self.request = sink.tls.wrap_socket(self.request, server_side=True)
                except (ssl.SSLError, OSError):
                    with sink.lock:
                        sink.tls_failures += 1
                    return
                self.rfile = self.request.makefile("rb")
                self.wfile = socketserver._SocketWriter(self.request)
                secure, mail_from, rcpts = True, None, []
            elif verb == "MAIL":
                mail_from, rcpts = cmd[10:].split(">")[0].lstrip("<"), []
                params = cmd.split(">", 1)[1].strip() if ">" in cmd else ""
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                addr = cmd[8:].split(">")[0].lstrip("<")
                local = addr.split("@")[0].lower()
                with sink.lock:
                    sink.rcpt_commands.append(cmd)
                    seen = sink.seen.get(addr, 0)
                    sink.seen[addr] = seen + 1
                if local.startswith("reject"):
                    self.reply("550 5.1.1 <%s>: Recipient address rejected" % addr)
                elif local.startswith("defer") and seen == 0:
                    self.reply("451 4.3.0 <%s>: Try again later" % addr)
                else:
                    rcpts.append(addr)
                    self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if not rcpts:
                    self.reply("554 5.5.1 No valid recipients")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = bytearray()
                while True:
                    chunk = self.rfile.readline(1 << 20)
                    if not chunk:
                        return
                    if chunk == b".\r\n":
                        break
                    if chunk.startswith(b".."):
                        chunk = chunk[1:]
                    data += chunk
                if any(r.split("@")[0].lower().startswith("slow") for r in rcpts):
                    time.sleep(sink.slow_seconds)
                with sink.lock:
                    sink.messages.append((mail_from, list(rcpts), bytes(data), params, secure))
                self.reply("250 2.0.0 Ok: queued")
            elif verb == "RSET":
                mail_from, rcpts = None, []
                self.reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Error: command not recognized")


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    request_queue_size = 256  # the default 5 drops connection bursts (SYN retransmits: stalls)
    daemon_threads = True


class Sink:
    def __init__(self, host, port, esmtp=True, extensions=(), slow_seconds=3, tls=None):
        self.lock = threading.RLock()
        self.tls = tls
        self.tls_failures = 0
        self.messages = []
        self.rcpt_commands = []
        self.seen = {}
        self.connections = 0
        self.esmtp = esmtp
        self.extensions = list(extensions)
        self.slow_seconds = slow_seconds
        self.server = _Server((host, port), _Handler)
        self.server.sink = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def delivered_to(self, address):
        with self.lock:
            return [m for m in self.messages if address in m[1]]

    def wait_for(self, predicate, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if predicate(self):
                    return True
            time.sleep(0.1)
        return False


def can_bind(host, port=0):
    with socket.socket() as s:
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False
