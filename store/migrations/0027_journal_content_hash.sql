-- A cheaper journal append (docs/ARCHIVE.md, "Benchmark"). Two costs of the insert trigger go:
--  * The canonical form was built in plpgsql for every delivery (a third of the trigger's CPU,
--    measured with pgbench). Now the delivery passes the SHA-256 of the entry's content, computed
--    in C++ by the same function that `archive verify` uses (store::journal_content_canon), and
--    the chain links that content hash: hash = SHA-256(prev_hash || "GMJ2" || lp(chain) ||
--    lp(time in us) || content_hash). Rows inserted without it (psql, internal deliveries whose
--    recipients SQL fills in) get it from govmail_journal_content below, the same form in SQL.
--    verify recomputes the content hash from the row, so a content hash that does not match the
--    content (a wrong one passed in, or the content changed afterwards) is reported as altered.
--    Rows written before this migration keep the "GMJ1" hash (content_hash NULL).
--  * The chain was picked by locking head rows FOR UPDATE SKIP LOCKED: a row lock writes WAL and
--    dirties the head's page before the head is even updated. Now a transaction-level advisory
--    lock per chain (in memory only) says which transaction appends to which chain; the head
--    row is then updated as before. The advisory lock is released after COMMIT is visible, so
--    the next holder reads the committed head.
ALTER TABLE archive_journal ADD COLUMN content_hash bytea;

-- No govmail_lp / govmail_us in these: an SQL function that the planner cannot inline (govmail_us
-- holds a STABLE extract, so govmail_lp(govmail_us(..)) inlines neither) is parsed and planned
-- again in every transaction that calls it from plpgsql: that was most of the journal's and the
-- audit log's trigger time (pgbench of govmail_deliver, journal on vs off: 27% slower with them,
-- 5-10% without). The forms are the same as 0017's, field for field.
CREATE FUNCTION govmail_journal_content(r archive_journal) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  c text := 'GMJ2';
  x text;
BEGIN
  FOREACH x IN ARRAY ARRAY[r.direction, r.envelope_from, coalesce(cardinality(r.recipients), 0)::text]
                     || coalesce(r.recipients, '{}')
                     || ARRAY[r.auth_user, r.client_ip, encode(r.blob_sha256, 'hex'), r.size::text,
                              r.subject, r.from_address, r.message_id_hdr] LOOP
    x := coalesce(x, '');
    c := c || octet_length(x) || ':' || x;
  END LOOP;
  RETURN convert_to(c, 'UTF8');
END $$;

CREATE OR REPLACE FUNCTION govmail_audit_canon(r audit_log) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  c text := 'GMA1';
  x text;
BEGIN
  FOREACH x IN ARRAY ARRAY[((extract(epoch FROM r.at) * 1000000)::bigint)::text, r.actor, r.source,
                           r.action, r.target, r.detail, CASE WHEN r.ok THEN 't' ELSE 'f' END] LOOP
    x := coalesce(x, '');
    c := c || octet_length(x) || ':' || x;
  END LOOP;
  RETURN convert_to(c, 'UTF8');
END $$;

-- The journal chain of this transaction: the first whose advisory lock no other transaction
-- holds, starting from one that depends on the backend; when all 32 are held, this backend's own
-- (waits). Kept for the rest of the transaction, so that a transaction appends to one chain.
CREATE OR REPLACE FUNCTION govmail_journal_chain() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  v text := current_setting('govmail.journal_chain', true);
  first int := (32 - pg_backend_pid() % 32) % 32;
  n int;
BEGIN
  IF v IS NOT NULL AND v <> '' THEN RETURN v; END IF;
  FOR i IN 0..31 LOOP
    n := (first + i) % 32;
    IF pg_try_advisory_xact_lock(1735223857, n) THEN  -- 1735223857 = 'gmj1'
      v := 'journal.' || n::text;
      EXIT;
    END IF;
  END LOOP;
  IF v IS NULL THEN
    PERFORM pg_advisory_xact_lock(1735223857, first);
    v := 'journal.' || first::text;
  END IF;
  PERFORM set_config('govmail.journal_chain', v, true);
  RETURN v;
END $$;

CREATE OR REPLACE FUNCTION govmail_journal_append() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE v_us text;
BEGIN
  NEW.chain := govmail_journal_chain();
  NEW.purged_at := NULL;
  NEW.purge_audit_id := NULL;
  IF NEW.content_hash IS NULL THEN
    NEW.content_hash := sha256(govmail_journal_content(NEW));
  ELSIF octet_length(NEW.content_hash) <> 32 THEN
    PERFORM govmail_raise('GMIV0', 'a journal content hash is 32 bytes');
  END IF;
  v_us := ((extract(epoch FROM NEW.at) * 1000000)::bigint)::text;
  SELECT h.hash INTO NEW.prev_hash FROM archive_chain_heads h WHERE h.chain = NEW.chain;
  UPDATE archive_chain_heads h
  SET seq = h.seq + 1,
      hash = sha256(NEW.prev_hash || convert_to('GMJ2' || octet_length(NEW.chain) || ':' || NEW.chain
                                                || octet_length(v_us) || ':' || v_us, 'UTF8')
                    || NEW.content_hash)
  WHERE h.chain = NEW.chain RETURNING h.seq, h.hash INTO NEW.seq, NEW.hash;
  RETURN NEW;
END $$;

-- govmail_deliver as in 0025, with the content hash of its journal entry (NULL: the trigger
-- computes it, e.g. when the recipients are the accounts' addresses, filled in here).
DROP FUNCTION govmail_deliver(bytea, bytea, bigint, jsonb, jsonb, text, text, text, text[],
                              bigint[], bigint[], smallint, text[], text, text, text[], text[],
                              text[], text, text, boolean, text, text, text, text[]);
CREATE FUNCTION govmail_deliver(
  p_sha bytea, p_data bytea, p_internal_date bigint, p_envelope jsonb, p_bodystructure jsonb,
  p_subject text, p_from text, p_message_id_hdr text, p_thread_refs text[],
  p_accounts bigint[], p_mailboxes bigint[], p_flags smallint, p_keywords text[],
  p_search_text text, p_envelope_from text, p_remote text[], p_remote_notify text[],
  p_remote_orcpt text[], p_dsn_envid text, p_dsn_ret text,
  p_journal boolean, p_direction text, p_auth_user text, p_client_ip text, p_rcpts text[],
  p_content_hash bytea)
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
                                 blob_sha256, size, subject, from_address, message_id_hdr,
                                 content_hash)
    VALUES (p_direction, p_envelope_from,
            CASE WHEN coalesce(array_length(p_rcpts, 1), 0) > 0 THEN p_rcpts
                 ELSE ARRAY(SELECT a.address FROM unnest(p_accounts) WITH ORDINALITY t(acc, o)
                            JOIN accounts a ON a.id = t.acc ORDER BY t.o) || p_remote END,
            p_auth_user, p_client_ip, p_sha, v_size, p_subject, p_from, p_message_id_hdr,
            p_content_hash);
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
                               text[], text, text, boolean, text, text, text, text[], bytea)
  SET plan_cache_mode = force_generic_plan;
