-- govmail schema, version 7: writes say which modseq step they made.
-- Setting flags and govmail_expunge also return `prior`, the mailbox's HIGHESTMODSEQ just
-- before the write (read under the mailbox row lock, so no other change of the mailbox lies
-- between it and the write's modseq). An IMAP session that knew `prior` applies its own result
-- and moves on without asking changes_since again: one query fewer per STORE and EXPUNGE
-- (bench/imap).

-- Flags are now set by one statement (store/src/sql/mailbox_sql.hpp kSetFlags): the plpgsql call
-- around the same work cost 40% of it.
DROP FUNCTION govmail_set_flags(bigint, bigint, bigint[], bigint[], smallint, smallint, text[],
                                bigint);

DROP FUNCTION govmail_expunge(bigint, bigint, bigint[], bigint[]);
-- Version 1's expunge (and its govmail_remove_entries, as in version 6) in one function without
-- nested calls, the entries found and deleted by one statement.
CREATE FUNCTION govmail_expunge(p_account bigint, p_mailbox bigint, p_first bigint[],
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
  UPDATE accounts SET modseq = modseq + 1 WHERE id = p_account RETURNING modseq INTO v_modseq;
  IF v_modseq IS NULL THEN PERFORM govmail_raise('GMNF0', 'account not found'); END IF;
  SELECT highestmodseq INTO v_prior FROM mailboxes
  WHERE id = p_mailbox AND account_id = p_account FOR UPDATE;
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
  UPDATE mailboxes SET messages = messages - v_n, unseen = unseen - v_unseen,
         size_bytes = size_bytes - v_bytes, highestmodseq = v_modseq
  WHERE id = p_mailbox;
  UPDATE accounts SET used_bytes = used_bytes - v_bytes, used_messages = used_messages - v_n
  WHERE id = p_account;
  INSERT INTO message_release_queue (message_id) SELECT unnest(v_msgs);
  RETURN QUERY SELECT u, v_modseq, v_prior FROM unnest(v_uids) u;
END $$;
