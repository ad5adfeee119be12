-- 0013: \Recent for IMAP4rev1 sessions (RFC 3501 2.3.2): a message is recent in exactly one
-- session, the first read-write one to see it, in whichever govmail process it runs.
--  * mailbox_recent.first_recent_uid: messages with uid >= it are claimed by no session yet. A
--    session claims them by moving it to the mailbox's uidnext in one INSERT ... ON CONFLICT DO
--    UPDATE (the row lock orders concurrent claims); claimed_from keeps the old value, so the
--    statement returns the UIDs [claimed_from, first_recent_uid) now recent for that session.
--  * UNLOGGED: a claim writes no WAL, so its commit waits for no fsync (a durable one cost a
--    SELECT or an APPEND ~4 ms on the benchmark's disk). After a crash the table is empty and a
--    missing row means 1: each message is then recent once more, for the next session to see it.
--  * No foreign key: its check would lock the mailboxes row, and that lock is logged. A deleted
--    mailbox leaves its row behind (mailbox ids are never reused).
CREATE UNLOGGED TABLE mailbox_recent (
  mailbox_id bigint PRIMARY KEY,
  claimed_from bigint NOT NULL,
  first_recent_uid bigint NOT NULL
);
-- Existing mailboxes start with nothing recent: no session told their messages apart.
INSERT INTO mailbox_recent (mailbox_id, claimed_from, first_recent_uid)
  SELECT id, uidnext, uidnext FROM mailboxes;
