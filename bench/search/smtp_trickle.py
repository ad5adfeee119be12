#!/usr/bin/env python3
"""SMTP delivery at a steady rate while the indexer works (bench/search/run.sh, SMTP_RATE):
sends the corpus's messages over one connection (a new one every 200 messages) to RCPT at RATE
messages per second until STOP_FILE exists or SECONDS_MAX pass, then prints one line:
  SMTP: <accepted> accepted, <refused> refused in <s> s = <rate> msg/s (target <RATE>)
Every message must be accepted (250): a refusal or a dropped connection is counted and printed.
  smtp_trickle.py HOST PORT RATE SECONDS_MAX CORPUS_DIR RCPT STOP_FILE
"""
import os
import smtplib
import sys
import time


def main():
    host, port, rate, seconds_max, corpus, rcpt, stop_file = sys.argv[1:8]
    rate, seconds_max = float(rate), float(seconds_max)
    names = sorted(os.listdir(os.path.join(corpus, "cur")))
    accepted = refused = 0
    start = time.monotonic()
    conn = None
    i = 0
    while time.monotonic() - start < seconds_max and not os.path.exists(stop_file):
        due = start + i / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        with open(os.path.join(corpus, "cur", names[i % len(names)]), "rb") as f:
            raw = f.read()
        try:
            if conn is None:
                conn = smtplib.SMTP(host, int(port), timeout=30)
                conn.ehlo("sender.outside.test")
            conn.sendmail("bench-sender@outside.test", [rcpt], raw)
            accepted += 1
        except (smtplib.SMTPException, OSError) as e:
            refused += 1
            print(f"SMTP: message {i} not accepted: {e}", file=sys.stderr)
            conn = None
        i += 1
        if conn is not None and i % 200 == 0:
            conn.quit()
            conn = None
    if conn is not None:
        conn.quit()
    took = time.monotonic() - start
    print(f"SMTP: {accepted} accepted, {refused} refused in {took:.1f} s = "
          f"{accepted / took:.0f} msg/s (target {rate:.0f})")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
