-- govmail_expunge as in version 7, with the account row written once. Version 7 bumped the
-- account's modseq first and charged the freed bytes in a second UPDATE of the same row; a row
-- version this transaction made has its foreign keys checked again on the next UPDATE (the
-- domains FOR KEY SHARE lookup), so every EXPUNGE paid a third statement. Now the row is locked
-- (FOR NO KEY UPDATE, what the UPDATE takes: concurrent foreign-key checks on accounts go on),
-- the entries deleted under the next modseq, and one UPDATE writes modseq and usage. Nothing to
-- expunge writes nothing: the modseq bump without a change served no one.
CREATE OR REPLACE FUNCTION govmail_expunge(p_account bigint, p_mailbox bigint, p_first bigint[],
                                           p_last bigint[])
RETURNS TABLE (uid bigint, modseq bigint, prior bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_modseq bigint;
  v_prior bigint;
  v_uids bigint[];
  v_msgs bigint[];
  v_n bigint;
  v_unseen bigint;
  v_bytes bigint;
BEGIN
  SELECT a.modseq + 1 INTO v_modseq FROM accounts a WHERE a.id = p_account FOR NO KEY UPDATE;
  IF v_modseq IS NULL THEN PERFORM govmail_raise('GMNF0', 'account not found'); END IF;
  SELECT highestmodseq INTO v_prior FROM mailboxes
  WHERE id = p_mailbox AND account_id = p_account FOR NO KEY UPDATE;
  IF NOT FOUND THEN PERFORM govmail_raise('GMNF0', 'mailbox not found'); END IF;
  WITH del AS (
    DELETE FROM mailbox_entries e
    WHERE e.mailbox_id = p_mailbox AND e.flags & 8 <> 0
      AND (p_first IS NULL OR EXISTS (SELECT 1 FROM unnest(p_first, p_last) r(f, l)
                                      WHERE e.uid BETWEEN r.f AND r.l))
    RETURNING e.uid, e.message_id, e.size, e.flags),
  log AS (
    INSERT INTO change_log (account_id, modseq, kind, mailbox_id, uid, message_id)
    SELECT p_account, v_modseq, 5, p_mailbox, d.uid, d.message_id FROM del d
    RETURNING 1)
  SELECT array_agg(d.uid ORDER BY d.uid), array_agg(DISTINCT d.message_id), count(*),
         count(*) FILTER (WHERE d.flags & 1 = 0), coalesce(sum(d.size), 0)
  INTO v_uids, v_msgs, v_n, v_unseen, v_bytes FROM del d;
  IF v_n = 0 THEN RETURN; END IF;
  UPDATE accounts SET modseq = v_modseq, used_bytes = used_bytes - v_bytes,
         used_messages = used_messages - v_n
  WHERE id = p_account;
  UPDATE mailboxes SET messages = messages - v_n, unseen = unseen - v_unseen,
         size_bytes = size_bytes - v_bytes, highestmodseq = v_modseq
  WHERE id = p_mailbox;
  INSERT INTO message_release_queue (message_id) SELECT unnest(v_msgs);
  RETURN QUERY SELECT u, v_modseq, v_prior FROM unnest(v_uids) u;
END $$;
