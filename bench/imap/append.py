#!/usr/bin/env python3
"""APPEND as a migration tool or a mail client does it, with Python imaplib (Nagle on, as
shipped): single-client latency of a 1 KB and a ~370 KB message, then bulk APPEND of every
message of an mbox (the 2,000-message bench set, attachments up to ~300 KB) from CONNS
connections (one connection's run also gives its p90/p99 and the mean APPEND time of the
messages over 100 KB and of the rest). Prints one line per measure for each server and the
govmail/Dovecot ratio.
Usage: append.py MBOX NAME=HOST:PORT:USER:PASSWORD ... (the first server is compared to the
second). Each server's user INBOX is emptied first. SETTLE_<NAME> (a shell command), when set,
runs after each emptying and before the next timed measure of either server: append.sh uses it
to wait until govmail's background work (releasing the expunged messages, indexing the ones
appended before) is done, as Dovecot's expunge is done when it answers; Dovecot's measures do
not share the CPU with govmail's indexing either."""
import imaplib
import os
import statistics
import subprocess
import sys
import threading
import time

LATENCY_RUNS = 200
BIG_RUNS = 40
CONNS = 4
BIG_BYTES = 100_000  # bulk messages above this are reported apart


def read_mbox(path):
    msgs, cur = [], None
    with open(path, "rb") as f:
        for line in f:
            if line.startswith(b"From "):
                if cur is not None:
                    msgs.append(b"".join(cur))
                cur = []
                continue
            line = line.rstrip(b"\n")
            if line.startswith(b">") and line.lstrip(b">").startswith(b"From "):
                line = line[1:]
            cur.append(line + b"\r\n")
    if cur:
        msgs.append(b"".join(cur))
    return msgs


def connect(server):
    host, port, user, password = server
    m = imaplib.IMAP4(host, int(port))
    m.login(user, password)
    return m


def empty_inbox(server):
    m = connect(server)
    if int(m.select("INBOX")[1][0]) > 0:
        m.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
        m.expunge()
    m.logout()


def settle(names):
    """Every server's SETTLE_<NAME>: one server's background work (govmail indexing what the last
    measure appended) must not run into the next measure, whichever server that measures."""
    for name in names:
        cmd = os.environ.get(f"SETTLE_{name.upper()}")
        if cmd:
            subprocess.run(cmd, shell=True, check=True, stdout=sys.stderr)


def latencies_ms(server, message, runs):
    m = connect(server)
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        typ, _ = m.append("INBOX", None, None, message)
        out.append((time.perf_counter() - t) * 1000)
        if typ != "OK":
            raise SystemExit(f"APPEND answered {typ}")
    m.logout()
    out.sort()
    return statistics.median(out), out[int(len(out) * 0.99) - 1]


def bulk_rate(server, messages, conns, latencies=None):
    """Messages and MB per second; with `latencies` (one connection), each APPEND's ms, in order."""
    errors = []

    def worker(part):
        try:
            m = connect(server)
            for msg in part:
                t = time.perf_counter()
                if m.append("INBOX", None, None, msg)[0] != "OK":
                    errors.append("NO")
                if latencies is not None:
                    latencies.append((time.perf_counter() - t) * 1000)
            m.logout()
        except Exception as e:  # reported below, the run counts as failed
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(messages[i::conns],)) for i in range(conns)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    if errors:
        raise SystemExit(f"bulk APPEND failed: {errors[:3]}")
    return len(messages) / elapsed, sum(len(x) for x in messages) / elapsed / 1e6


def main():
    messages = read_mbox(sys.argv[1])
    servers = [(a.split("=", 1)[0], a.split("=", 1)[1].split(":", 3)) for a in sys.argv[2:]]
    small = b"From: a@bench.test\r\nTo: b@bench.test\r\nSubject: small\r\n\r\n" + b"x" * 940 + b"\r\n"
    big = max(messages, key=len)
    names = [name for name, _ in servers]
    results = {}
    for name, server in servers:
        empty_inbox(server)
        settle(names)
        r = {}
        r["append_1k_p50_ms"], r["append_1k_p99_ms"] = latencies_ms(server, small, LATENCY_RUNS)
        r["append_big_p50_ms"], r["append_big_p99_ms"] = latencies_ms(server, big, BIG_RUNS)
        empty_inbox(server)
        settle(names)
        lat = []
        r["bulk_1conn_msg_s"], r["bulk_1conn_mb_s"] = bulk_rate(server, messages, 1, lat)
        # Where a bulk run's time goes: the spread, and the big messages apart (their bytes
        # cost govmail more than Dovecot: PostgreSQL stores them as ~2 KB TOAST chunks).
        ordered = sorted(lat)
        r["bulk_1conn_p90_ms"] = ordered[int(len(ordered) * 0.9)]
        r["bulk_1conn_p99_ms"] = ordered[int(len(ordered) * 0.99)]
        big_lat = [ms for ms, msg in zip(lat, messages) if len(msg) > BIG_BYTES]
        small_lat = [ms for ms, msg in zip(lat, messages) if len(msg) <= BIG_BYTES]
        r["bulk_1conn_over_100k_mean_ms"] = statistics.mean(big_lat) if big_lat else 0.0
        r["bulk_1conn_rest_mean_ms"] = statistics.mean(small_lat) if small_lat else 0.0
        empty_inbox(server)
        settle(names)
        r[f"bulk_{CONNS}conn_msg_s"], r[f"bulk_{CONNS}conn_mb_s"] = bulk_rate(server, messages, CONNS)
        results[name] = r
        print(f"{name}: " + " ".join(f"{k}={v:.2f}" for k, v in r.items()), flush=True)
        print(f"{name}: 1 KB {len(small)} bytes, big {len(big)} bytes, bulk {len(messages)} "
              f"messages of {sum(map(len, messages)) / len(messages) / 1000:.1f} KB average, "
              f"{sum(len(x) > BIG_BYTES for x in messages)} over {BIG_BYTES} bytes")
    if len(servers) >= 2:
        a, b = results[servers[0][0]], results[servers[1][0]]
        # Latency: lower is better, so the ratio is theirs/ours (above 1 = govmail faster).
        for k in a:
            if a[k] == 0 or b[k] == 0:
                continue
            ratio = b[k] / a[k] if k.endswith("_ms") else a[k] / b[k]
            print(f"RATIO {k} {servers[0][0]}={a[k]:.2f} {servers[1][0]}={b[k]:.2f} "
                  f"speedup={ratio:.2f}x")


if __name__ == "__main__":
    main()
