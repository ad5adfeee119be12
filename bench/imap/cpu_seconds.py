#!/usr/bin/env python3
"""CPU seconds (user + system) used so far by one server under test, read from /proc:
  cpu_seconds.py govmail GOVMAIL_PID POSTMASTER_PID  govmail (all threads) + its PostgreSQL
  cpu_seconds.py dovecot                             every Dovecot process
A process's exited children count once reaped (cutime/cstime of the parent), so Dovecot's imap
processes that ended count through the dovecot master. The difference across a round, divided
by its cycles, is the CPU cost of a cycle: unlike ops/s it does not depend on what else runs on
the machine, so it compares the two servers even on a busy machine."""
import os
import sys

HZ = os.sysconf("SC_CLK_TCK")
DOVECOT = {"dovecot", "imap", "imap-login", "auth", "anvil", "config", "log", "stats", "pop3",
           "pop3-login", "lmtp", "indexer", "indexer-worker", "dict"}


def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    name = s[s.index("(") + 1:s.rindex(")")]
    fields = s[s.rindex(")") + 2:].split()
    return name, int(fields[1]), [int(x) for x in fields[11:15]]  # name, ppid, ut st cut cst


def processes():
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                yield int(p), *stat(p)
            except (OSError, ValueError):
                pass  # ended meanwhile


def main():
    total = 0
    if sys.argv[1] == "govmail":
        govmail, postmaster = int(sys.argv[2]), int(sys.argv[3])
        for pid, _, ppid, t in processes():
            if pid == govmail:
                total += t[0] + t[1]
            elif pid == postmaster:
                total += sum(t)  # backends that ended are reaped by the postmaster
            elif ppid == postmaster:
                total += t[0] + t[1]
    else:
        for pid, name, ppid, t in processes():
            if name in DOVECOT:
                total += sum(t) if name == "dovecot" else t[0] + t[1]
    print(f"{total / HZ:.2f}")


main()
