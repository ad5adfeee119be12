#!/usr/bin/python3
"""Verifies the first DKIM-Signature of a message with dkimpy (Debian python3-dkim), an
implementation independent of govmail's signer. The key record comes from a file instead of DNS.

usage: /usr/bin/python3 dkim_verify.py MESSAGE_FILE TXT_RECORD_FILE [EXPECTED_QUERY_NAME]
exit 0: the signature verifies; 1: dkimpy rejects it (the reason on stderr); 2: usage or
environment error; 3: dkimpy failed in an unexpected way (a traceback on stderr).
"""
import logging
import sys
import traceback

try:
    import dkim
except ImportError as e:
    print(f"dkim_verify: python3-dkim is missing: {e}", file=sys.stderr)
    sys.exit(2)


def main() -> int:
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        message = f.read()
    with open(sys.argv[2], "rb") as f:
        record = f.read().strip()
    expected = sys.argv[3].encode() if len(sys.argv) == 4 else None

    def dnsfunc(name, timeout=5):
        name = name if isinstance(name, bytes) else name.encode()
        if expected is not None and name.rstrip(b".") != expected.rstrip(b"."):
            print(f"dkim_verify: unexpected key query {name!r}", file=sys.stderr)
            return None
        return record

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    verifier = dkim.DKIM(message, logger=logging.getLogger("dkim_verify"))
    try:
        ok = verifier.verify(dnsfunc=dnsfunc)
    except dkim.DKIMException as e:
        print(f"dkim_verify: {e}", file=sys.stderr)
        return 1
    except Exception:  # not a verdict: make it distinguishable from a rejection
        traceback.print_exc()
        return 3
    if not ok:
        print("dkim_verify: signature did not verify", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
