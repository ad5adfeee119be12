-- govmail schema, version 17: the archive (docs/ARCHIVE.md).
--  * archive_journal: one row per message accepted for delivery (SMTP MX and submission, and
--    anything else that comes through govmail_deliver; IMAP APPEND does not), written by
--    govmail_deliver in the transaction that delivers the message. The row holds a reference to
--    the blob (blobs.refcount), so expunge and the release sweeper never remove it.
--  * Tamper evidence: journal rows and audit_log rows are hash chains. A BEFORE INSERT trigger
--    takes the chain's head row FOR UPDATE (appends to one chain are serialised until COMMIT),
--    and sets seq, prev_hash and hash = sha256(prev_hash || canonical form of the row). The
--    journal has 32 chains (a head is held until COMMIT, so the chains bound how many
--    deliveries share one WAL flush): a delivery takes the first head no other transaction holds (SKIP
--    LOCKED), so concurrent deliveries do not queue behind one lock. archive_checkpoints holds
--    Ed25519-signed (chain, seq, hash) triples written by govmail (the key never enters the
--    database). `govmail archive verify` recomputes everything in C++ (admin/src/archive_*.cpp);
--    the canonical forms here and there must stay identical.
--  * Append-only: UPDATE, DELETE and TRUNCATE of journal, checkpoints, heads and audit rows
--    raise, except the purge path: govmail_archive_purge turns purgeable journal rows into
--    tombstones (content cleared, chain fields kept, purge audit id set) and
--    govmail_audit_prune deletes audit rows older than the retention; both set a
--    transaction-local flag that the guards check.
--  * archive_retention (policies by default/domain/unit/group, in years; 0 = permanent) and
--    archive_holds (legal holds by account, unit and date range).

-- One head per 8 kB page (fillfactor 10 and a 1000-byte pad: a second row never fits): the
-- heads are updated by every delivery, and rows sharing a page share its buffer lock.
CREATE TABLE archive_chain_heads (
  chain text PRIMARY KEY,
  pad char(1000) NOT NULL DEFAULT '',
  seq bigint NOT NULL DEFAULT 0,
  hash bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000',
  -- After an audit prune: the first seq kept and the prev_hash it links to.
  floor_seq bigint NOT NULL DEFAULT 1,
  floor_hash bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'
) WITH (fillfactor = 10);
INSERT INTO archive_chain_heads (chain)
SELECT 'journal.' || i FROM generate_series(0, 31) i UNION ALL SELECT 'audit';

CREATE TABLE archive_journal (
  id bigserial PRIMARY KEY,
  chain text NOT NULL,
  seq bigint NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  direction text CHECK (direction IN ('in', 'out', 'internal')),  -- NULL once purged
  envelope_from text,
  recipients text[],
  auth_user text,
  client_ip text,
  blob_sha256 bytea,
  size bigint,
  subject text,
  from_address text,
  message_id_hdr text,
  prev_hash bytea NOT NULL,
  hash bytea NOT NULL,
  purged_at timestamptz,
  purge_audit_id bigint,
  UNIQUE (chain, seq)
);
CREATE INDEX archive_journal_at ON archive_journal (at);

CREATE TABLE archive_checkpoints (
  id bigserial PRIMARY KEY,
  chain text NOT NULL,
  seq bigint NOT NULL,
  hash bytea NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  public_key bytea NOT NULL,
  signature bytea NOT NULL
);
CREATE INDEX archive_checkpoints_chain ON archive_checkpoints (chain, seq);

CREATE TABLE archive_retention (
  id bigserial PRIMARY KEY,
  scope text NOT NULL CHECK (scope IN ('default', 'domain', 'unit', 'group')),
  value text NOT NULL DEFAULT '',  -- domain name, unit code or group address; '' for default
  years integer NOT NULL CHECK (years >= 0),  -- 0 = permanent
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (scope, value)
);

CREATE TABLE archive_holds (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  account text,           -- a participant address (sender or any recipient)
  unit text,              -- a participant account in this unit or below
  from_at timestamptz,
  to_at timestamptz,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  released_at timestamptz
);

-- Length-prefixed field: "5:hello". Canonical forms are sequences of these, so that no two
-- different rows serialise alike.
CREATE FUNCTION govmail_lp(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT octet_length(coalesce(t, ''))::text || ':' || coalesce(t, '')
$$;

CREATE FUNCTION govmail_us(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT ((extract(epoch FROM t) * 1000000)::bigint)::text
$$;

-- plpgsql, not SQL: an SQL function with a subquery is planned again at every call (~0.5 ms
-- each, measured), a plpgsql one keeps its plans for the session.
CREATE FUNCTION govmail_journal_canon(r archive_journal) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  c text := 'GMJ1' || govmail_lp(r.chain) || govmail_lp(govmail_us(r.at))
            || govmail_lp(r.direction) || govmail_lp(r.envelope_from)
            || govmail_lp(coalesce(cardinality(r.recipients), 0)::text);
  x text;
BEGIN
  IF r.recipients IS NOT NULL THEN
    FOREACH x IN ARRAY r.recipients LOOP
      c := c || govmail_lp(x);
    END LOOP;
  END IF;
  RETURN convert_to(c || govmail_lp(r.auth_user) || govmail_lp(r.client_ip)
    || govmail_lp(encode(r.blob_sha256, 'hex')) || govmail_lp(r.size::text)
    || govmail_lp(r.subject) || govmail_lp(r.from_address) || govmail_lp(r.message_id_hdr), 'UTF8');
END $$;

CREATE FUNCTION govmail_audit_canon(r audit_log) RETURNS bytea LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN convert_to('GMA1' || govmail_lp(govmail_us(r.at)) || govmail_lp(r.actor)
    || govmail_lp(r.source) || govmail_lp(r.action) || govmail_lp(r.target)
    || govmail_lp(r.detail) || govmail_lp(CASE WHEN r.ok THEN 't' ELSE 'f' END), 'UTF8');
END $$;

-- The journal chain of this transaction: the first head no other transaction holds; when all
-- are held, this backend's own (waits). Kept for the rest of the transaction, so that a
-- transaction never holds two heads.
CREATE FUNCTION govmail_journal_chain() RETURNS text LANGUAGE plpgsql AS $$
DECLARE v text := current_setting('govmail.journal_chain', true);
BEGIN
  IF v IS NOT NULL AND v <> '' THEN RETURN v; END IF;
  SELECT chain INTO v FROM archive_chain_heads WHERE chain LIKE 'journal.%'
  ORDER BY (split_part(chain, '.', 2)::int + pg_backend_pid()) % 32 FOR UPDATE SKIP LOCKED LIMIT 1;
  IF v IS NULL THEN
    v := 'journal.' || (pg_backend_pid() % 32)::text;
    PERFORM 1 FROM archive_chain_heads WHERE chain = v FOR UPDATE;
  END IF;
  PERFORM set_config('govmail.journal_chain', v, true);
  RETURN v;
END $$;

-- Two statements per append: the head row is already locked by govmail_journal_chain, so its
-- committed hash is read plainly and moved with one UPDATE (the canonical form holds neither seq
-- nor prev_hash, so it is computed before).
CREATE FUNCTION govmail_journal_append() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE v_canon bytea;
BEGIN
  NEW.chain := govmail_journal_chain();
  NEW.purged_at := NULL;
  NEW.purge_audit_id := NULL;
  v_canon := govmail_journal_canon(NEW);
  SELECT h.hash INTO NEW.prev_hash FROM archive_chain_heads h WHERE h.chain = NEW.chain;
  UPDATE archive_chain_heads h SET seq = h.seq + 1, hash = sha256(NEW.prev_hash || v_canon)
  WHERE h.chain = NEW.chain RETURNING h.seq, h.hash INTO NEW.seq, NEW.hash;
  RETURN NEW;
END $$;
CREATE TRIGGER archive_journal_append BEFORE INSERT ON archive_journal
  FOR EACH ROW EXECUTE FUNCTION govmail_journal_append();

-- Only the purge may touch a journal row, and only to clear its content (chain fields stay).
CREATE FUNCTION govmail_journal_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND current_setting('govmail.archive_purge', true) = 'on'
     AND NEW.chain = OLD.chain AND NEW.seq = OLD.seq AND NEW.hash = OLD.hash
     AND NEW.prev_hash = OLD.prev_hash AND NEW.at = OLD.at AND OLD.purged_at IS NULL
     AND NEW.purged_at IS NOT NULL AND NEW.purge_audit_id IS NOT NULL THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'archive_journal is append-only (govmail archive purge is the only way out)'
    USING ERRCODE = 'GMIV0';
END $$;
CREATE TRIGGER archive_journal_guard BEFORE UPDATE OR DELETE ON archive_journal
  FOR EACH ROW EXECUTE FUNCTION govmail_journal_guard();
CREATE TRIGGER archive_journal_no_truncate BEFORE TRUNCATE ON archive_journal
  FOR EACH STATEMENT EXECUTE FUNCTION govmail_audit_append_only();
CREATE TRIGGER archive_checkpoints_no_update BEFORE UPDATE OR DELETE ON archive_checkpoints
  FOR EACH ROW EXECUTE FUNCTION govmail_audit_append_only();
CREATE TRIGGER archive_checkpoints_no_truncate BEFORE TRUNCATE ON archive_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION govmail_audit_append_only();

-- A head only moves forward by one (an append), or its floor moves during an audit prune.
CREATE FUNCTION govmail_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.chain = OLD.chain AND NEW.seq = OLD.seq + 1
     AND NEW.floor_seq = OLD.floor_seq AND NEW.floor_hash = OLD.floor_hash THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND current_setting('govmail.audit_prune', true) = 'on'
     AND NEW.chain = OLD.chain AND NEW.seq = OLD.seq AND NEW.hash = OLD.hash
     AND NEW.floor_seq >= OLD.floor_seq THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'archive chain heads only move by appends' USING ERRCODE = 'GMIV0';
END $$;
CREATE TRIGGER archive_heads_guard BEFORE UPDATE OR DELETE ON archive_chain_heads
  FOR EACH ROW EXECUTE FUNCTION govmail_head_guard();
CREATE TRIGGER archive_heads_no_truncate BEFORE TRUNCATE ON archive_chain_heads
  FOR EACH STATEMENT EXECUTE FUNCTION govmail_audit_append_only();

-- The audit log becomes a chain too; rows written before this version are chained in id order.
ALTER TABLE audit_log ADD COLUMN seq bigint, ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);
CREATE INDEX audit_log_actor ON audit_log (actor, at);

CREATE FUNCTION govmail_audit_append() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE h archive_chain_heads;
BEGIN
  SELECT * INTO h FROM archive_chain_heads WHERE chain = 'audit' FOR UPDATE;
  NEW.seq := h.seq + 1;
  NEW.prev_hash := h.hash;
  NEW.hash := sha256(h.hash || govmail_audit_canon(NEW));
  UPDATE archive_chain_heads SET seq = NEW.seq, hash = NEW.hash WHERE chain = 'audit';
  RETURN NEW;
END $$;

ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
ALTER TABLE archive_chain_heads DISABLE TRIGGER archive_heads_guard;
DO $$
DECLARE
  r audit_log;
  h bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
  n bigint := 0;
  x bytea;
BEGIN
  FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
    n := n + 1;
    x := sha256(h || govmail_audit_canon(r));
    UPDATE audit_log SET seq = n, prev_hash = h, hash = x WHERE id = r.id;
    h := x;
  END LOOP;
  UPDATE archive_chain_heads SET seq = n, hash = h WHERE chain = 'audit';
END $$;
ALTER TABLE archive_chain_heads ENABLE TRIGGER archive_heads_guard;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;
ALTER TABLE audit_log ALTER COLUMN seq SET NOT NULL, ALTER COLUMN prev_hash SET NOT NULL,
                      ALTER COLUMN hash SET NOT NULL;
CREATE TRIGGER audit_log_append BEFORE INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION govmail_audit_append();

-- The audit log refuses UPDATE and DELETE, except the retention prune's DELETE.
CREATE OR REPLACE FUNCTION govmail_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'audit_log' AND TG_OP = 'DELETE'
     AND current_setting('govmail.audit_prune', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'GMIV0';
END $$;

-- Deletes audit rows older than p_keep (never less than 90 days) from the start of the chain,
-- records where the chain now starts, and logs itself. Returns the rows deleted.
CREATE FUNCTION govmail_audit_prune(p_keep interval, p_actor text, p_source text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_n bigint;
  v_first audit_log;
BEGIN
  IF p_keep < interval '90 days' THEN
    PERFORM govmail_raise('GMIV0', 'audit retention below 90 days');
  END IF;
  PERFORM 1 FROM archive_chain_heads WHERE chain = 'audit' FOR UPDATE;
  PERFORM set_config('govmail.audit_prune', 'on', true);
  -- Whole prefix only: stop at the first row that must stay.
  DELETE FROM audit_log WHERE seq < coalesce(
    (SELECT min(seq) FROM audit_log WHERE at >= now() - p_keep),
    (SELECT max(seq) + 1 FROM audit_log));
  GET DIAGNOSTICS v_n = ROW_COUNT;
  SELECT * INTO v_first FROM audit_log ORDER BY seq LIMIT 1;
  IF v_first.seq IS NOT NULL THEN
    UPDATE archive_chain_heads SET floor_seq = v_first.seq, floor_hash = v_first.prev_hash
    WHERE chain = 'audit';
  END IF;
  PERFORM set_config('govmail.audit_prune', 'off', true);
  INSERT INTO audit_log (actor, source, action, target, detail)
  VALUES (p_actor, p_source, 'audit.prune', 'audit_log',
          v_n::text || ' entries older than ' || p_keep::text || ' deleted');
  RETURN v_n;
END $$;

REVOKE UPDATE, DELETE, TRUNCATE ON archive_journal, archive_checkpoints, archive_chain_heads,
  audit_log FROM PUBLIC;

DROP FUNCTION govmail_deliver(bytea, bytea, bigint, jsonb, jsonb, text, text, text, text[],
                              bigint[], bigint[], smallint, text[], text, text, text[], text[],
                              text[], text, text);

-- As in version 6, with the journal entry (p_journal) written in the same transaction.
CREATE FUNCTION govmail_deliver(
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
                               text[], text, text, boolean, text, text, text, text[])
  SET plan_cache_mode = force_generic_plan;

-- The live participants of a journal row: its sender and every recipient, lower-cased.
CREATE FUNCTION govmail_journal_participants(r archive_journal) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT array_agg(DISTINCT lower(x)) FROM unnest(r.envelope_from || r.recipients) x WHERE x <> ''
$$;

-- Journal rows that every retention policy that applies to them lets go, and no active legal
-- hold keeps. A row no policy applies to falls under the default policy; without one, it stays.
CREATE FUNCTION govmail_archive_purgeable() RETURNS TABLE (id bigint) LANGUAGE sql STABLE AS $$
  WITH j AS (
    SELECT j.id, j.at, govmail_journal_participants(j) AS who FROM archive_journal j
    WHERE j.purged_at IS NULL),
  acc AS (
    SELECT j.id, a.address, a.unit_code FROM j JOIN accounts a ON a.address = ANY (j.who)),
  applies AS (
    SELECT j.id, j.at, p.years FROM j JOIN archive_retention p ON
      (p.scope = 'domain' AND EXISTS (SELECT 1 FROM unnest(j.who) x WHERE split_part(x, '@', 2) = p.value))
      OR (p.scope = 'unit' AND EXISTS (SELECT 1 FROM acc WHERE acc.id = j.id AND acc.unit_code IS NOT NULL
                                        AND p.value = ANY (govmail_unit_chain(acc.unit_code))))
      OR (p.scope = 'group' AND (p.value = ANY (j.who) OR EXISTS (
            SELECT 1 FROM groups g JOIN group_members m ON m.group_id = g.id
            JOIN accounts a ON a.id = m.account_id
            WHERE g.address = p.value AND a.address = ANY (j.who))))),
  effective AS (
    SELECT id, at, years FROM applies
    UNION ALL
    SELECT j.id, j.at, p.years FROM j JOIN archive_retention p ON p.scope = 'default'
    WHERE NOT EXISTS (SELECT 1 FROM applies a WHERE a.id = j.id))
  SELECT e.id FROM effective e GROUP BY e.id, e.at
  HAVING bool_and(e.years > 0 AND e.at < now() - make_interval(years => e.years))
     AND NOT EXISTS (
       SELECT 1 FROM archive_holds h, j WHERE j.id = e.id AND h.released_at IS NULL
         AND (h.account IS NULL OR lower(h.account) = ANY (j.who))
         AND (h.unit IS NULL OR EXISTS (SELECT 1 FROM acc WHERE acc.id = e.id
                                         AND acc.unit_code IS NOT NULL
                                         AND h.unit = ANY (govmail_unit_chain(acc.unit_code))))
         AND (h.from_at IS NULL OR e.at >= h.from_at)
         AND (h.to_at IS NULL OR e.at < h.to_at))
$$;

-- Purges what govmail_archive_purgeable allows: the rows become tombstones (their chain fields
-- stay, so the chain still verifies), their blob references are dropped (blobs no one refers
-- to any more are deleted), and the purge is written to the audit log in the same transaction.
-- Returns the number of entries purged (or purgeable, with p_dry_run).
CREATE FUNCTION govmail_archive_purge(p_actor text, p_source text, p_dry_run boolean)
RETURNS bigint LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_ids bigint[];
  v_shas bytea[];
  v_audit bigint;
  v_n bigint;
BEGIN
  SELECT array_agg(p.id ORDER BY p.id) INTO v_ids FROM govmail_archive_purgeable() p;
  v_n := coalesce(cardinality(v_ids), 0);
  IF p_dry_run THEN RETURN v_n; END IF;
  INSERT INTO audit_log (actor, source, action, target, detail)
  VALUES (p_actor, p_source, 'archive.purge', 'archive', v_n::text || ' journal entries purged')
  RETURNING id INTO v_audit;
  IF v_n = 0 THEN RETURN 0; END IF;
  SELECT array_agg(blob_sha256) INTO v_shas FROM archive_journal WHERE id = ANY (v_ids);
  PERFORM set_config('govmail.archive_purge', 'on', true);
  UPDATE archive_journal SET direction = NULL, envelope_from = NULL, recipients = NULL,
         auth_user = NULL, client_ip = NULL, blob_sha256 = NULL, size = NULL, subject = NULL,
         from_address = NULL, message_id_hdr = NULL, purged_at = now(), purge_audit_id = v_audit
  WHERE id = ANY (v_ids);
  PERFORM set_config('govmail.archive_purge', 'off', true);
  UPDATE blobs b SET refcount = b.refcount - g.n
  FROM (SELECT s, count(*) AS n FROM unnest(v_shas) s GROUP BY s) g WHERE b.sha256 = g.s;
  DELETE FROM blobs WHERE sha256 = ANY (v_shas) AND refcount <= 0;
  RETURN v_n;
END $$;
