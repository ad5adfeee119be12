-- govmail schema, version 4: govmail_deliver is planned once per connection.
-- Its statements take arrays that change with every call, and PostgreSQL re-planned them (custom
-- plans) on every delivery: the thread lookup's generic plan could not use the partial index on
-- messages.message_id_hdr (it says nothing about ''), so custom plans always looked cheaper. The
-- lookup now states message_id_hdr <> '' (an empty id names no thread), which lets one generic
-- plan use that index, and the function asks for generic plans.
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

  RETURN QUERY
  WITH threads AS (
    SELECT e.account_id AS acc, min(e.thread_id) AS thread_id
    FROM messages m JOIN mailbox_entries e ON e.message_id = m.id
    WHERE coalesce(array_length(p_thread_refs, 1), 0) > 0
      AND m.message_id_hdr = ANY (p_thread_refs) AND m.message_id_hdr <> ''
      AND e.account_id = ANY (v_acc)
    GROUP BY e.account_id),
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
