#!/usr/bin/env python3
"""Runs the bench/search queries (queries.py) through IMAP UID SEARCH CHARSET UTF-8 against one
or more servers side by side, and prints per query: the ground truth's hit count, each server's
hit count, p50/p99 latency (ms, wall clock from sending the command to its tagged reply), and
whether the server's result equals the ground truth (same set of messages, mapped through
Message-ID: <corpus-N@bench.search>); then per query kind the worst p99 and the ratio of p50s.

Usage: run_queries.py TRUTH.json NAME=HOST:PORT:USER:PASSWORD [NAME=...]
  REPS (20) timed repetitions per query and server after one untimed first run (whose result is
  the one checked); BUDGET_S (20) stops repeating a query on a server after that many seconds;
  TIMEOUT_S (300) per command. Servers alternate within each repetition. n= counts the timed
  runs; n=0 means the first run alone took longer than BUDGET_S, and its time is the figure."""
import imaplib
import json
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import queries  # noqa: E402

REPS = int(os.environ.get("REPS", "20"))
BUDGET_S = float(os.environ.get("BUDGET_S", "20"))
TIMEOUT_S = float(os.environ.get("TIMEOUT_S", "300"))


class Client:
    """A minimal IMAP client that sends synchronizing literals and times one command at a time."""

    def __init__(self, host, port, user, password):
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT_S)
        self.rf = self.sock.makefile("rb")
        self.n = 0
        self.rf.readline()
        self.run([b"LOGIN", quote(user), quote(password)])
        self.run([b"SELECT", b"INBOX"])

    def run(self, args):
        """Sends one command; returns (tagged status line, untagged lines)."""
        self.n += 1
        tag = b"b%d" % self.n
        pending = tag
        for a in args:
            if isinstance(a, tuple):  # a literal: wait for the continuation
                self.sock.sendall(pending + b" {%d}\r\n" % len(a[0]))
                while True:
                    line = self.rf.readline()
                    if not line:
                        raise ConnectionError("closed")
                    if line.startswith(b"+"):
                        break
                    if line.startswith(tag + b" "):
                        raise RuntimeError(line.decode(errors="replace").strip())
                pending = a[0]
            else:
                pending += b" " + a
        self.sock.sendall(pending + b"\r\n")
        untagged = []
        while True:
            line = self.rf.readline()
            if not line:
                raise ConnectionError("closed")
            if line.startswith(tag + b" "):
                return line.strip(), untagged
            untagged.append(line)

    def search(self, keys):
        args = [b"UID", b"SEARCH", b"CHARSET", b"UTF-8"]
        for field, needle in keys:
            args += [field.upper().encode(), quote(needle)]
        status, lines = self.run(args)
        if not status.split(b" ", 2)[1:2] == [b"OK"]:
            raise RuntimeError(status.decode(errors="replace"))
        uids = set()
        for line in lines:
            if line.startswith(b"* SEARCH"):
                uids.update(int(x) for x in line.split()[2:])
        return uids


def quote(s):
    b = s.encode() if isinstance(s, str) else s
    if b.isascii() and b'"' not in b and b"\\" not in b:
        return b'"' + b + b'"'
    return (b,)


def corpus_numbers(host, port, user, password):
    """UID -> corpus number, from every message's Message-ID."""
    m = imaplib.IMAP4(host, port, timeout=TIMEOUT_S)
    m.login(user, password)
    m.select("INBOX", readonly=True)
    typ, data = m.uid("FETCH", "1:*", "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    m.logout()
    out = {}
    for item in data:
        if isinstance(item, tuple):
            u = re.search(rb"UID (\d+)", item[0])
            c = re.search(rb"<corpus-(\d+)@bench\.search>", item[1])
            if u and c:
                out[int(u.group(1))] = int(c.group(1))
    return out


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else float("nan")


def main():
    truth = json.load(open(sys.argv[1]))
    servers = []
    for spec in sys.argv[2:]:
        name, rest = spec.split("=", 1)
        host, port, user, password = rest.split(":", 3)
        servers.append((name, (host, int(port), user, password)))
    maps, clients = {}, {}
    for name, conn in servers:
        maps[name] = corpus_numbers(*conn)
        clients[name] = Client(*conn)
        print(f"{name}: {len(maps[name])} messages in INBOX (of {truth['count']} generated)", flush=True)
    results = []
    for q, t in zip(queries.QUERIES, truth["queries"]):
        assert q["name"] == t["name"], "truth file from another queries.py"
        want = set(t["hits"])
        row = {"kind": q["kind"], "name": q["name"], "truth": len(want), "servers": {}}
        for name, _ in servers:
            t0 = time.perf_counter()
            try:
                got = {maps[name].get(u, -u) for u in clients[name].search(q["keys"])}
                err = None
            except (RuntimeError, OSError) as e:
                got, err = set(), str(e)[:60]
            first = (time.perf_counter() - t0) * 1000
            missing, extra = len(want - got), len(got - want)
            verdict = "equal" if not missing and not extra and not err else \
                (f"error {err}" if err else f"UNEQUAL -{missing} +{extra}")
            if missing or extra:  # a few corpus numbers, to look at: corpus-N/cur/18000000NN.*
                verdict += " (e.g." + "".join(f" -{n}" for n in sorted(want - got)[:2]) + \
                    "".join(f" +{n}" for n in sorted(got - want)[:2]) + ")"
            row["servers"][name] = {"hits": len(got), "first_ms": first, "times": [], "verdict": verdict,
                                    "spent": first / 1000, "err": err}
        for _ in range(REPS):
            for name, _ in servers:
                s = row["servers"][name]
                if s["err"] or s["spent"] > BUDGET_S:
                    continue
                t0 = time.perf_counter()
                try:
                    clients[name].search(q["keys"])
                except (RuntimeError, OSError) as e:
                    s["err"] = str(e)[:60]
                    continue
                dt = time.perf_counter() - t0
                s["times"].append(dt * 1000)
                s["spent"] += dt
        line = f"{q['kind']:<10} {q['name']:<32} truth={len(want):<6}"
        for name, _ in servers:
            s = row["servers"][name]
            times = s["times"] or [s["first_ms"]]
            s["p50"], s["p99"] = pct(times, 50), pct(times, 99)
            line += (f" | {name} hits={s['hits']:<6} p50={s['p50']:8.1f} p99={s['p99']:8.1f} ms"
                     f" n={len(s['times'])} {s['verdict']}")
        print(line, flush=True)
        results.append(row)
    names = [n for n, _ in servers]
    print("\nper kind: worst p99 (ms) and median p50 (ms) per server; ratio of the p50s (first/other)")
    for kind in dict.fromkeys(r["kind"] for r in results):
        rows = [r for r in results if r["kind"] == kind]
        line = f"KIND {kind:<10}"
        p50s = {}
        for name in names:
            worst = max(r["servers"][name]["p99"] for r in rows)
            p50s[name] = sorted(r["servers"][name]["p50"] for r in rows)[len(rows) // 2]
            ok = sum(r["servers"][name]["verdict"] == "equal" for r in rows)
            line += f" | {name} p99max={worst:8.1f} p50med={p50s[name]:8.1f} equal={ok}/{len(rows)}"
        for other in names[1:]:  # time ratio: below 1, the first server answers faster
            line += f" | {names[0]}/{other}={p50s[names[0]] / p50s[other]:.2f}"
        print(line)
    for name in names:
        ok = sum(r["servers"][name]["verdict"] == "equal" for r in results)
        print(f"SUMMARY {name}: {ok}/{len(results)} queries equal to the ground truth")


if __name__ == "__main__":
    main()
