-- 0010: \Recent for IMAP4rev1 sessions (RFC 3501 2.3.2): a message is recent in exactly one
-- session, the first read-write one to see it, in whichever govmail process it runs.
--  * first_recent_uid: messages of the mailbox with uid >= it are not yet claimed by a session.
--    A session claims them by moving it to uidnext in one UPDATE that returns the old value;
--    the UIDs in [old, new) are then recent for that session alone. Existing mailboxes start
--    with nothing recent (no session would have told their messages apart).
ALTER TABLE mailboxes ADD COLUMN first_recent_uid bigint;
UPDATE mailboxes SET first_recent_uid = uidnext;
ALTER TABLE mailboxes ALTER COLUMN first_recent_uid SET DEFAULT 1,
  ALTER COLUMN first_recent_uid SET NOT NULL;
