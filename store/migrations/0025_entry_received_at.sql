-- Each mailbox entry carries its message's received date (JMAP receivedAt, IMAP INTERNALDATE),
-- indexed with the mailbox: the webmail's first page (Email/query inMailbox, receivedAt desc,
-- limit 50) reads 50 index entries instead of joining every entry of the mailbox with its
-- message and sorting them (bench/jmap, docs/JMAP.md). A message's date never changes, so the
-- copy cannot go stale. govmail_deliver (as in 0017) and govmail_copy (as in 0001) fill it.
-- govmail_deliver also finds its target mailboxes by index now (see the comment there): the OR
-- join condition before made the generic plan scan every mailbox of every account for each
-- delivery (600 rows in bench/imap, tens of thousands in a province). This was migration 0024
-- for a few hours of one development session (a database at version 24 has only that part).
ALTER TABLE mailbox_entries ADD COLUMN received_at timestamptz;
UPDATE mailbox_entries e SET received_at = m.internal_date FROM messages m
WHERE m.id = e.message_id;
ALTER TABLE mailbox_entries ALTER COLUMN received_at SET NOT NULL;
CREATE INDEX mailbox_entries_received ON mailbox_entries (mailbox_id, received_at DESC,
                                                          message_id DESC);

CREATE OR REPLACE FUNCTION govmail_deliver(
  p_sha bytea, p_data bytea, p_internal_date bigint, p_envelope jsonb, p_bodystructure jsonb,
  p_subject text, p_from text, p_message_id_hdr text, p_thread_refs text[],
  p_accounts bigint[], p_mailboxes bigint[], p_flags smallint, p_keywords text[],
  p_search_text text, p_envelope_from text, p_remote text[], p_remote_notify text[],
  p_remote_orcpt text[], p_dsn_envid text, p_dsn_ret text,
  p_journal boolean, p_direction text, p_auth_user text, p_client_ip text, p_rcpts text[])
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
  -- Off only to measure its cost (bench/archive: ALTER DATABASE ... SET govmail.journal = off).
  v_journal boolean := p_journal AND current_setting('govmail.journal', true) IS DISTINCT FROM 'off';
BEGIN
  -- Targets, checked against their accounts.
  -- Each target by its own index: the account's INBOX by (account_id, name), a named mailbox
  -- by id. One join condition with an OR could use neither, and the generic plan scanned every
  -- mailbox of every account for each delivery.
  SELECT array_agg(coalesce(x.id, -1) ORDER BY t.o) INTO v_mbx
  FROM unnest(p_accounts, p_mailboxes) WITH ORDINALITY t(acc, mb, o)
  LEFT JOIN LATERAL (
    SELECT m.id FROM mailboxes m WHERE t.mb IS NULL AND m.account_id = t.acc AND m.name = 'INBOX'
    UNION ALL
    SELECT m.id FROM mailboxes m WHERE m.id = t.mb AND m.account_id = t.acc) x ON true;
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

  -- A journal entry holds its own reference to the blob: expunge and the release sweeper drop
  -- the message's reference only, so the blob stays until the archive purge lets it go.
  INSERT INTO blobs AS b (sha256, size, refcount, data)
  VALUES (p_sha, v_size, CASE WHEN v_journal THEN 2 ELSE 1 END, p_data)
  ON CONFLICT (sha256) DO UPDATE SET refcount = b.refcount + CASE WHEN v_journal THEN 2 ELSE 1 END;
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

  IF v_journal THEN
    INSERT INTO archive_journal (direction, envelope_from, recipients, auth_user, client_ip,
                                 blob_sha256, size, subject, from_address, message_id_hdr)
    VALUES (p_direction, p_envelope_from,
            CASE WHEN coalesce(array_length(p_rcpts, 1), 0) > 0 THEN p_rcpts
                 ELSE ARRAY(SELECT a.address FROM unnest(p_accounts) WITH ORDINALITY t(acc, o)
                            JOIN accounts a ON a.id = t.acc ORDER BY t.o) || p_remote END,
            p_auth_user, p_client_ip, p_sha, v_size, p_subject, p_from, p_message_id_hdr);
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
                                 size, thread_id, received_at)
    SELECT s.mb, s.uid, s.acc, v_msg, s.ms, p_flags, p_keywords, v_size, s.thread_id,
           to_timestamp(p_internal_date) FROM src s
    RETURNING 1),
  log AS (
    INSERT INTO change_log (account_id, modseq, kind, mailbox_id, uid, message_id)
    SELECT s.acc, s.ms, 3, s.mb, s.uid, v_msg FROM src s
    RETURNING 1)
  SELECT s.o, s.mb, s.uidv, s.uid, s.ms, v_msg, v_out FROM src s ORDER BY s.o;

END $$;

ALTER FUNCTION govmail_deliver(bytea, bytea, bigint, jsonb, jsonb, text, text, text, text[],
                               bigint[], bigint[], smallint, text[], text, text, text[], text[],
                               text[], text, text, boolean, text, text, text, text[])
  SET plan_cache_mode = force_generic_plan;

CREATE OR REPLACE FUNCTION govmail_copy(p_account bigint, p_from bigint, p_to bigint, p_first bigint[],
                             p_last bigint[], p_move boolean)
RETURNS TABLE (src_uid bigint, dst_uid bigint, uidvalidity bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_modseq bigint := govmail_bump(p_account);
  v_src bigint[];
  v_msg bigint[];
  v_flags smallint[];
  v_kw text[];
  v_size integer[];
  v_thread bigint[];
  v_received timestamptz[];
  v_n bigint;
  v_unseen bigint;
  v_bytes bigint;
  v_base bigint;
  v_uidv bigint;
  v_quota bigint;
  v_used bigint;
BEGIN
  PERFORM govmail_lock_mailbox(p_account, x) FROM unnest(ARRAY[p_from, p_to]) x
  GROUP BY x ORDER BY x;
  -- keywords travel as a text[] of text-encoded arrays (plpgsql has no arrays of arrays)
  SELECT array_agg(e.uid ORDER BY e.uid), array_agg(e.message_id ORDER BY e.uid),
         array_agg(e.flags ORDER BY e.uid), array_agg(e.keywords::text ORDER BY e.uid),
         array_agg(e.size ORDER BY e.uid), array_agg(e.thread_id ORDER BY e.uid),
         array_agg(e.received_at ORDER BY e.uid), count(*),
         count(*) FILTER (WHERE e.flags & 1 = 0), coalesce(sum(e.size), 0)
  INTO v_src, v_msg, v_flags, v_kw, v_size, v_thread, v_received, v_n, v_unseen, v_bytes
  FROM mailbox_entries e JOIN unnest(p_first, p_last) r(f, l) ON e.uid BETWEEN r.f AND r.l
  WHERE e.mailbox_id = p_from;

  UPDATE mailboxes m SET uidnext = m.uidnext + v_n, messages = m.messages + v_n,
         unseen = m.unseen + v_unseen, size_bytes = m.size_bytes + v_bytes,
         highestmodseq = CASE WHEN v_n > 0 THEN v_modseq ELSE m.highestmodseq END
  WHERE m.id = p_to RETURNING m.uidnext - v_n, m.uidvalidity INTO v_base, v_uidv;
  RETURN QUERY SELECT NULL::bigint, NULL::bigint, v_uidv;
  IF v_n = 0 THEN RETURN; END IF;

  IF NOT p_move THEN
    UPDATE accounts SET used_bytes = used_bytes + v_bytes, used_messages = used_messages + v_n
    WHERE id = p_account RETURNING quota_bytes, used_bytes INTO v_quota, v_used;
    IF v_quota > 0 AND v_used > v_quota THEN PERFORM govmail_raise('GMQT0', 'over quota'); END IF;
  END IF;

  INSERT INTO mailbox_entries (mailbox_id, uid, account_id, message_id, modseq, flags, keywords,
                               size, thread_id, received_at)
  SELECT p_to, v_base + o - 1, p_account, mid, v_modseq, f, k::text[], s, th, rcv
  FROM unnest(v_msg, v_flags, v_kw, v_size, v_thread, v_received)
       WITH ORDINALITY u(mid, f, k, s, th, rcv, o);
  INSERT INTO change_log (account_id, modseq, kind, mailbox_id, uid, message_id)
  SELECT p_account, v_modseq, 3, p_to, v_base + o - 1, mid
  FROM unnest(v_msg) WITH ORDINALITY u(mid, o);
  IF p_move THEN
    PERFORM govmail_remove_entries(p_account, p_from, v_src, v_modseq, false);
  END IF;
  RETURN QUERY SELECT s, v_base + o - 1, NULL::bigint FROM unnest(v_src) WITH ORDINALITY u(s, o);
END $$;
