#!/usr/bin/env python3
"""The archive journal through the real binary: a message submitted to 3 local and 2 remote
recipients (one of them bcc) is journaled once with all 5, in its delivery's transaction, with
sender, direction, authenticated user and client IP; MX mail is journaled as inbound; IMAP
APPEND is not; an official's expunge (and the release sweeper) leave the journal entry and its
blob; then tampering through psql as the database owner (UPDATE, DELETE, two rows swapped, a
blob edited, a checkpointed tail cut off, a checkpoint re-signed with another key) is each
detected by `govmail archive verify`, which names the entry or checkpoint; plain UPDATE/DELETE
are refused by the database."""
import hashlib
import imaplib
import os
import re
import smtplib
import subprocess
import sys
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

sys.path.insert(0, os.path.dirname(__file__))
from support import Checks, FreshDatabase, psql  # noqa: E402
from smtp_support import DOMAIN, Server, add_account, client_tls  # noqa: E402
from archive_support import DatabaseCopy, archive, expunge_inbox, link_all, superuser  # noqa: E402

c = Checks()
PW = "correct horse battery"
AN, BINH, CHI = (f"{x}@{DOMAIN}" for x in ("an", "binh", "chi"))
REMOTE = ["ngoai1@other.example", "ngoai2@far.example"]


def journal(url, where="true"):
    return psql(url, "SELECT id, txid IS NOT NULL, content_hash IS NOT NULL, direction, envelope_from, "
                     "array_to_string(recipients, ','), auth_user, client_ip, encode(blob_sha256, 'hex') "
                     f"FROM archive_journal WHERE {where} ORDER BY id").splitlines()


with FreshDatabase() as db:
    srv = Server(db.url, allow_plaintext=True)
    imap_port = srv.listen_imap()
    srv.admin("domain", "add", DOMAIN)
    for name in ("an", "binh", "chi"):
        add_account(srv, name, PW)
    srv.start()
    try:
        msg = (f"From: {AN}\r\nTo: {BINH}, {REMOTE[0]}\r\nCc: {CHI}\r\n"
               "Subject: Công văn số 12\r\n\r\nNội dung công văn.\r\n").encode()
        with smtplib.SMTP("127.0.0.1", srv.submission, timeout=30) as s:
            s.starttls(context=client_tls())
            s.login(AN, PW)
            # bcc: AN to self and REMOTE[1], in no header.
            s.sendmail(AN, [BINH, CHI, AN, *REMOTE], msg)
        rows = journal(db.url)
        c.check(len(rows) == 1, f"one journal entry for one message to 5 recipients: {rows}")
        f = rows[0].split("|") if rows else [""] * 9
        rcpts = f[5].split(",") if len(f) > 5 else []
        c.check(sorted(rcpts) == sorted([BINH, CHI, AN, *REMOTE]),
                f"all 5 recipients, bcc and remote included: {rcpts}")
        c.check(f[1] == "t" and f[2] == "t", f"the entry has its transaction's id and content hash: {f}")
        c.check(f[3] == "out" and f[4] == AN and f[6] == AN and f[7] == "127.0.0.1",
                f"direction, sender, authenticated user, client IP: {f}")
        blob = f[8]
        stored = psql(db.url, f"SELECT encode(data, 'hex') FROM blobs WHERE encode(sha256, 'hex') = '{blob}'")
        c.check(hashlib.sha256(bytes.fromhex(stored)).hexdigest() == blob,
                "the journal's hash is the stored message's SHA-256")
        c.check(psql(db.url, "SELECT count(*) FROM outbound_recipients") == "2",
                "the 2 remote recipients queued in the same delivery")
        # The delivery computed the entry's content hash in C++ (migration 0027); SQL's form of
        # the same content must give the same hash, or verify and psql inserts would disagree.
        c.check(psql(db.url, "SELECT count(*) FROM archive_journal j WHERE content_hash = "
                             "sha256(govmail_journal_content(j))") == "1",
                "the content hash SMTP submission computed equals SQL's (Vietnamese subject)")

        # MX: inbound, no authenticated user.
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
            s.sendmail("sender@outside.example", [BINH],
                       b"From: sender@outside.example\r\nSubject: vao\r\n\r\nhello\r\n")
        rows = journal(db.url, "direction = 'in'")
        c.check(len(rows) == 1 and "|sender@outside.example|" + BINH + "||127.0.0.1|" in rows[0],
                f"MX mail journaled as inbound: {rows}")

        # IMAP APPEND (a client filing a draft) is not mail accepted for delivery.
        with imaplib.IMAP4("127.0.0.1", imap_port, timeout=30) as m:
            m.login(BINH, PW)
            m.append("INBOX", None, None, b"From: x@y\r\nSubject: draft\r\n\r\nd\r\n")
            c.check(len(journal(db.url)) == 2, "APPEND is not journaled")
            # Expunge everything BINH has: the journal must not care.
            m.select("INBOX")
            m.store("1:*", "+FLAGS", "\\Deleted")
            m.expunge()
        expunge_inbox(imap_port, AN, PW)
        expunge_inbox(imap_port, CHI, PW)
        psql(db.url, "DELETE FROM outbound_recipients; DELETE FROM outbound_queue")
        psql(db.url, "SELECT govmail_sweep_messages(1000)")  # what the release sweeper runs
        psql(db.url, "SELECT govmail_release_messages(array(SELECT id FROM messages))")
        c.check(psql(db.url, "SELECT count(*) FROM mailbox_entries") == "0"
                and psql(db.url, "SELECT count(*) FROM messages") == "0",
                "every mailbox copy expunged and released")
        c.check(len(journal(db.url)) == 2, "expunge leaves the journal entries")
        c.check(psql(db.url, f"SELECT count(*) FROM blobs WHERE encode(sha256, 'hex') = '{blob}'") == "1",
                "expunge leaves the journaled blob (the sweeper did not delete it)")
        first_id = journal(db.url)[0].split("|")[0]
        shown = archive(srv, "show", first_id)
        c.check(shown.returncode == 0 and "Nội dung công văn." in shown.stdout,
                f"the expunged message is still shown from the archive: {shown.stderr}")

        # Front-end SQL cannot change the archive.
        for sql in ("UPDATE archive_journal SET subject = 'x'", "DELETE FROM archive_journal",
                    "TRUNCATE archive_journal", "UPDATE audit_log SET actor = 'x'",
                    "TRUNCATE archive_checkpoints", "UPDATE archive_chain_heads SET seq = 0"):
            r = subprocess.run(["psql", db.url, "-qAtc", sql], capture_output=True, text=True)
            c.check(r.returncode != 0 and ("append-only" in r.stderr or "only move" in r.stderr),
                    f"refused: {sql}: {r.stderr.strip()}")

        # A few more messages, so that tampering has neighbours; one checkpoint signed.
        with smtplib.SMTP("127.0.0.1", srv.smtp, timeout=30) as s:
            for i in range(12):
                s.sendmail("sender@outside.example", [CHI],
                           f"From: sender@outside.example\r\nSubject: so {i}\r\n\r\nthan {i}\r\n".encode())
        # The checkpoint covers what is linked; another test's open transaction may hold that
        # back, and the tail-cut check below needs the last entry under the checkpoint.
        c.check(link_all(db.url), "every entry linked before the checkpoint")
        r = archive(srv, "checkpoint")
        c.check(r.returncode == 0 and "checkpoint(s) signed" in r.stdout, f"checkpoint: {r.stderr}")
        r = subprocess.run(["psql", db.url, "-qAtc", "DELETE FROM archive_checkpoints"],
                           capture_output=True, text=True)
        c.check(r.returncode != 0 and "append-only" in r.stderr, f"checkpoints stay: {r.stderr}")
        key = archive(srv, "public-key").stdout.strip()
        c.check(len(key) == 64, f"public key exported as hex: {key!r}")
        c.check(link_all(db.url), "every entry linked into its chain")
        r = archive(srv, "verify", "--progress")
        c.check(r.returncode == 0 and "archive intact" in r.stdout, f"clean verify: {r.stdout}{r.stderr}")
        c.check("verify [" in r.stderr and "100%" in r.stderr, "verify shows a progress bar")
        c.check(re.search(r"^blob check: [0-9.]+ MB read in [0-9.]+ s, hashed in [0-9.]+ s", r.stdout, re.M),
                f"verify reports the blob check's read and hash time: {r.stdout}")
    finally:
        srv.stop()

    # Every entry is in chain journal.32 (migration 0030: linked after its delivery committed,
    # by serve every second and by every reader of the chains).
    chain = "journal.32"
    n = int(psql(db.url, f"SELECT max(seq) FROM archive_links WHERE chain = '{chain}'"))
    c.check(n == int(psql(db.url, "SELECT count(*) FROM archive_journal")),
            f"{chain} links every entry: {n}")
    c.check(n >= 4, f"{chain} has {n} entries")
    name = chain + " #"

    def tampered(sql, expect, what):
        with DatabaseCopy(db.name) as copy:
            superuser(copy.url, sql)
            r = archive(srv, "verify", url=copy.url)
            c.check(r.returncode == 1 and expect in r.stdout,
                    f"{what}: expected '{expect}' in: {r.stdout}{r.stderr}")

    def entry(seq):
        return f"(SELECT id FROM archive_links WHERE chain = '{chain}' AND seq = {seq})"

    tampered(f"UPDATE archive_journal SET recipients = array['x@y'] WHERE id = {entry(2)}",
             f"TAMPERED: {name}2 (id", "UPDATE of a row")
    tampered(f"UPDATE archive_journal SET recipients = array['x@y'] WHERE id = {entry(2)}",
             "altered", "UPDATE named as alteration")
    tampered(f"UPDATE archive_journal SET content_hash = sha256('x') WHERE id = {entry(2)}",
             f"TAMPERED: {name}2 (id", "UPDATE of a content hash")
    tampered(f"DELETE FROM archive_journal WHERE id = {entry(3)}",
             f"TAMPERED: {name}3 (id", "DELETE of a row")
    tampered(f"DELETE FROM archive_journal WHERE id = {entry(3)}",
             "removed (its journal row is gone", "DELETE of a row named as removal")
    tampered(f"DELETE FROM archive_journal WHERE id = {entry(3)}; "
             f"DELETE FROM archive_links WHERE chain = '{chain}' AND seq = 3",
             f"TAMPERED: {name}3 removed", "DELETE of a row and its link")
    tampered(f"DELETE FROM archive_journal WHERE id = {entry(3)}; "
             f"DELETE FROM archive_links WHERE chain = '{chain}' AND seq = 3; "
             f"UPDATE archive_links SET seq = seq - 1 WHERE chain = '{chain}' AND seq > 3",
             f"TAMPERED: {name}3 (id", "DELETE with the rest renumbered")
    tampered(f"UPDATE archive_links SET seq = -1 WHERE chain = '{chain}' AND seq = 2; "
             f"UPDATE archive_links SET seq = 2 WHERE chain = '{chain}' AND seq = 3; "
             f"UPDATE archive_links SET seq = 3 WHERE chain = '{chain}' AND seq = -1",
             "reordered", "two rows swapped")
    tampered(f"UPDATE blobs SET data = data || 'x'::bytea WHERE sha256 = "
             f"(SELECT blob_sha256 FROM archive_journal WHERE id = {entry(n)})",
             "blob", "a blob edited")
    tampered(f"DELETE FROM archive_journal WHERE id = {entry(n)}; "
             f"DELETE FROM archive_links WHERE chain = '{chain}' AND seq = {n}; "
             f"UPDATE archive_chain_heads SET seq = seq - 1, hash = (SELECT hash FROM archive_links "
             f"WHERE chain = '{chain}' AND seq = {n - 1}) WHERE chain = '{chain}'",
             f"{name}{n} to #{n} removed (a signed checkpoint", "the tail cut off, head rewound")
    # An entry slipped in behind the linker's cursor (an old transaction id): in no chain.
    tampered("INSERT INTO archive_journal (txid, direction, envelope_from, recipients, subject, size) "
             "VALUES (1, 'in', 'x@y', array['a@b'], 'forged', 1)",
             "in no chain", "an entry inserted behind the chain's cursor")
    tampered("UPDATE audit_log SET detail = 'nothing' WHERE seq = 1",
             "TAMPERED: audit #1", "an audit entry altered")
    tampered(f"UPDATE archive_checkpoints SET seq = seq + 1",
             "bad signature", "a checkpoint altered")

    # A checkpoint re-signed with another key: a valid signature, by a key nobody pinned.
    cp = psql(db.url, "SELECT id, chain, seq, encode(hash, 'hex'), govmail_us(at)::bigint "
                      "FROM archive_checkpoints ORDER BY id LIMIT 1").split("|")
    other = Ed25519PrivateKey.generate()
    sig = other.sign(f"govmail-archive-checkpoint-v1\n{cp[1]}\n{cp[2]}\n{cp[3]}\n{cp[4]}\n".encode())
    pub = other.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    resign = (f"UPDATE archive_checkpoints SET public_key = '\\x{pub.hex()}', "
              f"signature = '\\x{sig.hex()}' WHERE id = {cp[0]}")
    tampered(resign, f"TAMPERED: checkpoint {cp[0]} of {cp[1]} #{cp[2]}: signed by an unknown key",
             "a checkpoint re-signed with another key (the pinned key)")
    # The attacker re-pins too: the exported public key still catches it.
    with DatabaseCopy(db.name) as copy:
        superuser(copy.url, resign + f"; UPDATE archive_signing_key SET public_key = '\\x{pub.hex()}'")
        r = archive(srv, "verify", "--public-key", key, url=copy.url)
        c.check(r.returncode == 1 and f"checkpoint {cp[0]} of" in r.stdout and "unknown key" in r.stdout,
                f"re-signed and re-pinned, caught by --public-key: {r.stdout}{r.stderr}")
        r = archive(srv, "verify", "--public-key", "00" * 32, url=copy.url)
        c.check(r.returncode == 1 and "unknown key" in r.stdout,
                f"no checkpoint passes under a key that signed none: {r.stdout}")
    pinned = psql(db.url, "SELECT encode(public_key, 'hex') FROM archive_signing_key")
    c.check(pinned == key, f"the first signing key is pinned: {pinned} vs {key}")
    r = subprocess.run(["psql", db.url, "-qAtc", "UPDATE archive_signing_key SET public_key = "
                        "public_key"], capture_output=True, text=True)
    c.check(r.returncode != 0 and "append-only" in r.stderr, f"the pin stays: {r.stderr}")
    srv.cleanup()

c.finish()
