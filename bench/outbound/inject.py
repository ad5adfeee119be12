#!/usr/bin/env python3
"""Puts COUNT messages of SIZE bytes into an SMTP server's queue over CLIENTS connections:
message i goes to u<i>@d<i % DOMAINS>.bench.example, Subject "bench-<i>" (the sink counts them).
usage: inject.py HOST PORT COUNT SIZE DOMAINS CLIENTS [USER PASSWORD]"""
import smtplib
import sys
import threading

host, port, count, size, domains, clients = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:7])
user = sys.argv[7] if len(sys.argv) > 8 else None
password = sys.argv[8] if len(sys.argv) > 8 else None
sender = user or "sender@bench.example"
filler = ("Nội dung công văn thử nghiệm. " * (size // 30 + 1)).encode()[:size]


def worker(k):
    with smtplib.SMTP(host, port, timeout=120) as s:
        if user:
            s.login(user, password)
        for i in range(k, count, clients):
            body = (f"From: {sender}\r\nTo: u{i}@d{i % domains}.bench.example\r\n"
                    f"Subject: bench-{i}\r\nMessage-ID: <bench-{i}@bench.example>\r\n\r\n").encode()
            body += b"\r\n".join(filler[j:j + 76] for j in range(0, len(filler), 76)) + b"\r\n"
            s.sendmail(sender, [f"u{i}@d{i % domains}.bench.example"], body)


threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
