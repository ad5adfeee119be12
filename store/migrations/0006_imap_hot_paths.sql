-- govmail schema, version 6: cheaper hot paths of IMAP (figures: bench/imap, pg_stat_statements).
--  * Expunge (and mailbox deletion) no longer release orphaned messages and blobs in the user's
--    transaction: the entries go, the counters and the quota are fixed, and the messages are
--    queued in message_release_queue; a background sweeper (store/src/release_sweeper.cpp)
--    releases them in bounded batches with govmail_sweep_messages. Crash-safe: the queue rows
--    are deleted in the transaction that releases their messages. A queued message that got a
--    new reference meanwhile (COPY) is kept: release re-checks references under row locks.
--  * govmail_deliver's thread lookup starts from the referenced Message-IDs (index on
--    messages.message_id_hdr, then entries by message): its plan scanned every entry of the
--    recipients' accounts (~0.8 ms per delivery at 2,000 entries, growing with the store).
--  * govmail_set_flags locks the account and the mailbox without nested function calls, skips
--    the keyword merge when no keyword is given, and is planned once per connection.

CREATE TABLE message_release_queue (
  id bigserial PRIMARY KEY,
  message_id bigint NOT NULL,
  enqueued_at timestamptz NOT NULL DEFAULT now()
);

-- Releases up to p_limit queued messages (each only if nothing refers to it any more); returns
-- how many queue rows were taken. Several sweepers may run at once (SKIP LOCKED).
CREATE FUNCTION govmail_sweep_messages(p_limit integer) RETURNS integer LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_ids bigint[];
  v_n integer;
BEGIN
  WITH b AS (SELECT id FROM message_release_queue ORDER BY id LIMIT p_limit FOR UPDATE SKIP LOCKED),
  d AS (DELETE FROM message_release_queue q USING b WHERE q.id = b.id RETURNING q.message_id)
  SELECT array_agg(DISTINCT message_id), count(*) INTO v_ids, v_n FROM d;
  IF v_n = 0 THEN RETURN 0; END IF;
  -- Waits for transactions still adding entries that refer to these messages (their foreign key
  -- check holds a KEY SHARE lock), so that the release below, on a fresh snapshot, sees them.
  PERFORM 1 FROM messages WHERE id = ANY (v_ids) ORDER BY id FOR UPDATE;
  PERFORM govmail_release_messages(v_ids);
  RETURN v_n;
END $$;

-- As in version 1, except that released messages are queued for the sweeper.
CREATE OR REPLACE FUNCTION govmail_remove_entries(p_account bigint, p_mailbox bigint,
                                                  p_uids bigint[], p_modseq bigint,
                                                  p_release boolean) RETURNS bigint[]
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_uids bigint[];
  v_msgs bigint[];
  v_n bigint;
  v_unseen bigint;
  v_bytes bigint;
BEGIN
  WITH del AS (
    DELETE FROM mailbox_entries e WHERE e.mailbox_id = p_mailbox AND e.uid = ANY (p_uids)
    RETURNING e.uid, e.message_id, e.size, e.flags),
  log AS (
    INSERT INTO change_log (account_id, modseq, kind, mailbox_id, uid, message_id)
    SELECT p_account, p_modseq, 5, p_mailbox, d.uid, d.message_id FROM del d
    RETURNING 1)
  SELECT array_agg(d.uid ORDER BY d.uid), array_agg(DISTINCT d.message_id), count(*),
         count(*) FILTER (WHERE d.flags & 1 = 0), coalesce(sum(d.size), 0)
  INTO v_uids, v_msgs, v_n, v_unseen, v_bytes FROM del d;
  IF v_n = 0 THEN RETURN '{}'; END IF;
  UPDATE mailboxes SET messages = messages - v_n, unseen = unseen - v_unseen,
         size_bytes = size_bytes - v_bytes, highestmodseq = p_modseq
  WHERE id = p_mailbox;
  IF p_release THEN
    UPDATE accounts SET used_bytes = used_bytes - v_bytes, used_messages = used_messages - v_n
    WHERE id = p_account;
    INSERT INTO message_release_queue (message_id) SELECT unnest(v_msgs);
  END IF;
  RETURN v_uids;
END $$;

CREATE OR REPLACE FUNCTION govmail_set_flags(p_account bigint, p_mailbox bigint,
                                             p_first bigint[], p_last bigint[], p_op smallint,
                                             p_flags smallint, p_keywords text[],
                                             p_unchanged_since bigint)
RETURNS TABLE (conflict boolean, uid bigint, modseq bigint, flags smallint, keywords text[],
               message_id bigint, size integer, internal_date bigint, thread_id bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_modseq bigint;
BEGIN
  UPDATE accounts SET modseq = modseq + 1 WHERE id = p_account RETURNING modseq INTO v_modseq;
  IF v_modseq IS NULL THEN PERFORM govmail_raise('GMNF0', 'account not found'); END IF;
  PERFORM 1 FROM mailboxes WHERE id = p_mailbox AND account_id = p_account FOR UPDATE;
  IF NOT FOUND THEN PERFORM govmail_raise('GMNF0', 'mailbox not found'); END IF;
  RETURN QUERY
  WITH tgt AS (
    SELECT e.uid, e.flags, e.keywords, e.modseq FROM mailbox_entries e
    JOIN unnest(p_first, p_last) r(f, l) ON e.uid BETWEEN r.f AND r.l
    WHERE e.mailbox_id = p_mailbox FOR UPDATE OF e),
  calc AS (
    SELECT t.uid, t.flags AS oldf, t.keywords AS oldk,
           (CASE p_op WHEN 0 THEN t.flags | p_flags WHEN 1 THEN t.flags & ~p_flags
                      ELSE p_flags END)::smallint AS nf,
           CASE WHEN p_op <> 2 AND cardinality(p_keywords) = 0 THEN t.keywords
                ELSE govmail_keywords(p_op, t.keywords, p_keywords) END AS nk,
           (p_unchanged_since IS NOT NULL AND t.modseq > p_unchanged_since) AS c
    FROM tgt t),
  upd AS (
    UPDATE mailbox_entries e SET flags = c.nf, keywords = c.nk, modseq = v_modseq
    FROM calc c
    WHERE e.mailbox_id = p_mailbox AND e.uid = c.uid AND NOT c.c
      AND (c.nf <> c.oldf OR c.nk <> c.oldk)
    RETURNING e.uid, e.modseq, e.flags, e.keywords, e.message_id, e.size, e.thread_id, c.oldf),
  mbx AS (
    UPDATE mailboxes SET highestmodseq = v_modseq,
           unseen = unseen + (SELECT coalesce(sum((u.oldf & 1) - (u.flags & 1)), 0) FROM upd u)
    WHERE id = p_mailbox AND EXISTS (SELECT 1 FROM upd)
    RETURNING 1),
  log AS (
    INSERT INTO change_log (account_id, modseq, kind, mailbox_id, uid, message_id)
    SELECT p_account, v_modseq, 4, p_mailbox, u.uid, u.message_id FROM upd u
    RETURNING 1)
  SELECT false, u.uid, u.modseq, u.flags, u.keywords, u.message_id, u.size,
         extract(epoch FROM m.internal_date)::bigint, u.thread_id
  FROM upd u JOIN messages m ON m.id = u.message_id
  UNION ALL
  SELECT true, c.uid, 0::bigint, c.oldf, c.oldk, 0::bigint, 0, 0::bigint, 0::bigint
  FROM calc c WHERE c.c;
END $$;

ALTER FUNCTION govmail_set_flags(bigint, bigint, bigint[], bigint[], smallint, smallint, text[],
                                 bigint)
  SET plan_cache_mode = force_generic_plan;

-- As in version 4, with the thread lookup driven by the referenced Message-IDs.
CREATE OR REPLACE FUNCTION govmail_deliver(
  p_sha bytea, p_data bytea, p_internal_date bigint, p_envelope jsonb, p_bodystructure jsonb,
  p_subject text, p_from text, p_message_id_hdr text, p_thread_refs text[],
  p_accounts bigint[], p_mailboxes bigint[], p_flags smallint, p_keywords text[],
  p_search_text text, p_envelope_from text, p_remote text[], p_remote_notify text[],
  p_remote_orcpt text[], p_dsn_envid text, p_dsn_ret text)
RETURNS TABLE (ord bigint, mailbox_id bigint, uidvalidity bigint, uid bigint, modseq bigint,
               message_id bigint, outbound_id bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_size bigint := octet_length(p_data);
  v_msg bigint;
  v_out bigint;
  v_mbx bigint[];
  v_acc bigint[] := '{}';
  v_accmod bigint[] := '{}';
  v_mb bigint[] := '{}';
  v_base bigint[] := '{}';
  v_uidv bigint[] := '{}';
  v_mbmod bigint[] := '{}';
  r record;
  v_modseq bigint;
  v_quota bigint;
  v_used bigint;
  v_base1 bigint;
  v_uidv1 bigint;
  v_refs bigint[];
  v_th_acc bigint[];
  v_th_id bigint[];
BEGIN
  -- Targets, checked against their accounts.
  SELECT array_agg(coalesce(m.id, -1) ORDER BY t.o) INTO v_mbx
  FROM unnest(p_accounts, p_mailboxes) WITH ORDINALITY t(acc, mb, o)
  LEFT JOIN mailboxes m ON m.account_id = t.acc
    AND ((t.mb IS NULL AND m.name = 'INBOX') OR m.id = t.mb);
  IF -1 = ANY (v_mbx) THEN PERFORM govmail_raise('GMNF0', 'mailbox not found'); END IF;

  -- Accounts in id order: lock, bump modseq, charge and check quota.
  FOR r IN SELECT acc, count(*) AS n FROM unnest(p_accounts) acc GROUP BY acc ORDER BY acc LOOP
    UPDATE accounts a SET modseq = a.modseq + 1, used_bytes = a.used_bytes + v_size * r.n,
                          used_messages = a.used_messages + r.n
    WHERE a.id = r.acc AND a.status <> 2
    RETURNING a.modseq, a.quota_bytes, a.used_bytes INTO v_modseq, v_quota, v_used;
    IF NOT FOUND THEN PERFORM govmail_raise('GMNF0', 'account not found'); END IF;
    IF v_quota > 0 AND v_used > v_quota THEN PERFORM govmail_raise('GMQT0', 'over quota'); END IF;
    v_acc := v_acc || r.acc;
    v_accmod := v_accmod || v_modseq;
  END LOOP;

  -- Mailboxes in id order: reserve UIDs under the row lock (commit order = UID order).
  FOR r IN SELECT t.mb, count(*) AS n, min(t.acc) AS acc
           FROM unnest(v_mbx, p_accounts) t(mb, acc) GROUP BY t.mb ORDER BY t.mb LOOP
    v_modseq := v_accmod[array_position(v_acc, r.acc)];
    UPDATE mailboxes m SET uidnext = m.uidnext + r.n, messages = m.messages + r.n,
           unseen = m.unseen + CASE WHEN p_flags & 1 = 0 THEN r.n ELSE 0 END,
           size_bytes = m.size_bytes + v_size * r.n, highestmodseq = v_modseq
    WHERE m.id = r.mb RETURNING m.uidnext - r.n, m.uidvalidity INTO v_base1, v_uidv1;
    v_mb := v_mb || r.mb;
    v_base := v_base || v_base1;
    v_uidv := v_uidv || v_uidv1;
    v_mbmod := v_mbmod || v_modseq;
  END LOOP;

  INSERT INTO blobs AS b (sha256, size, refcount, data) VALUES (p_sha, v_size, 1, p_data)
  ON CONFLICT (sha256) DO UPDATE SET refcount = b.refcount + 1;
  INSERT INTO messages (blob_sha256, size, internal_date, envelope, bodystructure, subject,
                        from_address, message_id_hdr)
  VALUES (p_sha, v_size, to_timestamp(p_internal_date), p_envelope, p_bodystructure, p_subject,
          p_from, p_message_id_hdr)
  RETURNING id INTO v_msg;

  IF coalesce(array_length(p_remote, 1), 0) > 0 THEN
    INSERT INTO outbound_queue (message_id, envelope_from, dsn_envid, dsn_ret)
    VALUES (v_msg, p_envelope_from, p_dsn_envid, p_dsn_ret) RETURNING id INTO v_out;
    INSERT INTO outbound_recipients (queue_id, ordinal, address, dsn_notify, dsn_orcpt)
    SELECT v_out, o, a, coalesce(n, ''), coalesce(c, '')
    FROM unnest(p_remote, p_remote_notify, p_remote_orcpt) WITH ORDINALITY u(a, n, c, o);
  END IF;

  IF coalesce(array_length(p_accounts, 1), 0) = 0 THEN
    RETURN QUERY SELECT 0::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, v_msg, v_out;
    RETURN;
  END IF;

  INSERT INTO index_queue (message_id, account_ids, search_text) VALUES (v_msg, v_acc, p_search_text);

  -- Two single-table statements, so that each must use its index (messages by Message-ID,
  -- then entries by message): as one join, the planner preferred scanning the accounts' entries.
  SELECT array_agg(m.id) INTO v_refs FROM messages m
  WHERE m.message_id_hdr = ANY (p_thread_refs) AND m.message_id_hdr <> '';
  IF v_refs IS NOT NULL THEN
    SELECT array_agg(x.acc), array_agg(x.thread_id) INTO v_th_acc, v_th_id FROM (
      SELECT e.account_id AS acc, min(e.thread_id) AS thread_id FROM mailbox_entries e
      WHERE e.message_id = ANY (v_refs) AND e.account_id = ANY (v_acc)
      GROUP BY e.account_id) x;
  END IF;

  RETURN QUERY
  WITH threads AS (SELECT * FROM unnest(v_th_acc, v_th_id) th(acc, thread_id)),
  src AS (
    SELECT t.o, t.mb, t.acc, b.uidv,
           b.base + row_number() OVER (PARTITION BY t.mb ORDER BY t.o) - 1 AS uid, b.ms,
           coalesce(th.thread_id, v_msg) AS thread_id
    FROM unnest(v_mbx, p_accounts) WITH ORDINALITY t(mb, acc, o)
    JOIN unnest(v_mb, v_base, v_uidv, v_mbmod) b(mb, base, uidv, ms) ON b.mb = t.mb
    LEFT JOIN threads th ON th.acc = t.acc),
  ins AS (
    INSERT INTO mailbox_entries (mailbox_id, uid, account_id, message_id, modseq, flags, keywords,
                                 size, thread_id)
    SELECT s.mb, s.uid, s.acc, v_msg, s.ms, p_flags, p_keywords, v_size, s.thread_id FROM src s
    RETURNING 1),
  log AS (
    INSERT INTO change_log (account_id, modseq, kind, mailbox_id, uid, message_id)
    SELECT s.acc, s.ms, 3, s.mb, s.uid, v_msg FROM src s
    RETURNING 1)
  SELECT s.o, s.mb, s.uidv, s.uid, s.ms, v_msg, v_out FROM src s ORDER BY s.o;

END $$;

ALTER FUNCTION govmail_deliver(bytea, bytea, bigint, jsonb, jsonb, text, text, text, text[],
                               bigint[], bigint[], smallint, text[], text, text, text[], text[],
                               text[], text, text)
  SET plan_cache_mode = force_generic_plan;
