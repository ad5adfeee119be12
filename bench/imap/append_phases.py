#!/usr/bin/env python3
"""Where one connection's APPEND time goes, seen from the client: for each message of an mbox,
the wait from the APPEND command line to the server's "+" continuation, and from the literal's
last byte to the tagged OK (the server's parse, store and commit). Raw socket, Nagle on and the
literal's CRLF sent apart, as Python imaplib does; the INBOX is emptied first so that servers
start alike, and every server's SETTLE_<NAME> command (as append.py) runs before each server is
measured. Bounded: at most N messages (default 2000), each reply within 30 s.

  append_phases.py MBOX NAME=HOST:PORT:USER:PASSWORD [NAME=...]   (N=2000)
"""
import mailbox
import os
import socket
import statistics
import sys
import time

from append import settle  # noqa: E402 (this folder)


class Client:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        self.reader = self.sock.makefile("rb")
        self.reader.readline()  # greeting

    def command(self, tag, text):
        self.sock.sendall(f"{tag} {text}\r\n".encode())
        return self.until_tagged(tag)

    def until_tagged(self, tag):
        while True:
            line = self.reader.readline()
            if not line:
                raise SystemExit("connection closed")
            if line.startswith(tag.encode() + b" "):
                return line


def empty_inbox(c):
    c.command("e1", "SELECT INBOX")
    c.command("e2", "STORE 1:* +FLAGS.SILENT (\\Deleted)")  # NO/BAD on an empty INBOX is fine
    c.command("e3", "EXPUNGE")
    c.command("e4", "UNSELECT")


def measure(name, spec, messages):
    host, port, user, password = spec.split(":", 3)
    c = Client(host, port)
    if b" OK" not in c.command("a1", f'LOGIN "{user}" "{password}"'):
        raise SystemExit(f"{name}: LOGIN refused")
    empty_inbox(c)
    plus, to_ok = [], []
    for i, m in enumerate(messages):
        t0 = time.perf_counter()
        c.sock.sendall(f"b{i} APPEND INBOX {{{len(m)}}}\r\n".encode())
        line = c.reader.readline()
        if not line.startswith(b"+"):
            raise SystemExit(f"{name}: no continuation: {line!r}")
        t1 = time.perf_counter()
        c.sock.sendall(m)
        c.sock.sendall(b"\r\n")
        line = c.until_tagged(f"b{i}")
        if b" OK" not in line:
            raise SystemExit(f"{name}: APPEND answered {line!r}")
        t2 = time.perf_counter()
        plus.append((t1 - t0) * 1000)
        to_ok.append((t2 - t1) * 1000)
    c.command("z1", "LOGOUT")
    total = sum(plus) + sum(to_ok)
    print(f"{name}: {len(messages)} messages; command -> '+' p50 {statistics.median(plus):.3f} ms; "
          f"literal -> OK p50 {statistics.median(to_ok):.3f} ms, mean {statistics.mean(to_ok):.3f} "
          f"ms; {len(messages) / total * 1000:.0f} msg/s")


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    n = int(os.environ.get("N", "2000"))
    messages = []
    for msg in mailbox.mbox(sys.argv[1]):
        raw = msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        messages.append(raw)
        if len(messages) >= n:
            break
    names = [arg.split("=", 1)[0] for arg in sys.argv[2:]]
    for arg in sys.argv[2:]:
        name, spec = arg.split("=", 1)
        settle(names)  # nobody's background work runs into this measure
        measure(name, spec, messages)


if __name__ == "__main__":
    main()
