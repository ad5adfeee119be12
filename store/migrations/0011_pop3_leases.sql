-- govmail schema, version 11: the POP3 maildrop lock (RFC 1939 section 8: a session has the
-- maildrop to itself) across processes. A lease row per mailbox, held by one session's random
-- token until it expires: a session that dies without QUIT (process killed) blocks the mailbox
-- until then at most, never for ever. POP3 renews it while the session lives.
CREATE TABLE mailbox_leases (
  mailbox_id bigint PRIMARY KEY REFERENCES mailboxes (id) ON DELETE CASCADE,
  holder text NOT NULL,
  expires_at timestamptz NOT NULL
);

-- The POP3 UPDATE state: deletes the entries in the UID ranges whatever their flags, through
-- govmail_expunge (same change log kind, counters and release queue as an IMAP EXPUNGE), and
-- gives the lease back, in one transaction. GMCF0 (nothing deleted) when p_holder no longer
-- holds the lease: another session took it after it expired, and may see another view.
-- Locks in the writers' order: the account row, the mailbox, then the entries.
CREATE FUNCTION govmail_expunge_leased(p_account bigint, p_mailbox bigint, p_holder text,
                                       p_first bigint[], p_last bigint[])
RETURNS TABLE (uid bigint, modseq bigint, prior bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  PERFORM 1 FROM accounts WHERE id = p_account FOR UPDATE;
  PERFORM 1 FROM mailboxes WHERE id = p_mailbox AND account_id = p_account FOR UPDATE;
  IF NOT FOUND THEN PERFORM govmail_raise('GMNF0', 'mailbox not found'); END IF;
  DELETE FROM mailbox_leases l WHERE l.mailbox_id = p_mailbox AND l.holder = p_holder;
  IF NOT FOUND THEN PERFORM govmail_raise('GMCF0', 'maildrop lease lost'); END IF;
  -- Marked and expunged in one transaction: no other session ever sees the mark.
  UPDATE mailbox_entries e SET flags = e.flags | 8
  WHERE e.mailbox_id = p_mailbox AND e.flags & 8 = 0
    AND EXISTS (SELECT 1 FROM unnest(p_first, p_last) r(f, l) WHERE e.uid BETWEEN r.f AND r.l);
  RETURN QUERY SELECT x.uid, x.modseq, x.prior
               FROM govmail_expunge(p_account, p_mailbox, p_first, p_last) x;
END $$;
