-- govmail schema, version 1. Schema lives only in migrations: tables, indexes and the plpgsql
-- functions of the hot paths (each one statement from C++: one round trip, one transaction).
--
-- Conventions
--  * Every mail row carries account_id and every function takes the account: a mailbox or message
--    of another account is "not found" (no leak).
--  * Lock order in every writing function: the account row first (its modseq counter is bumped,
--    which serialises writers of one account), then mailboxes by ascending id.
--  * Errors raised to C++ use private SQLSTATEs: GMNF0 not found, GMEX0 exists, GMQT0 over quota,
--    GMIV0 invalid argument.
--  * System flags (smallint bits): 1 \Seen, 2 \Answered, 4 \Flagged, 8 \Deleted, 16 \Draft.
--  * change_log kinds: 0 mailbox_created, 1 mailbox_renamed, 2 mailbox_deleted, 3 message_added,
--    4 message_flags, 5 message_expunged (ChangeRecord::Kind order).

CREATE TABLE schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE domains (
  id bigserial PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (name = lower(name) AND name <> ''),
  alias_of bigint REFERENCES domains (id),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Official administrative units (province, commune...), keyed by their official codes.
CREATE TABLE org_units (
  code text PRIMARY KEY,
  name text NOT NULL,
  parent_code text REFERENCES org_units (code),
  kind text NOT NULL CHECK (kind IN ('province', 'commune', 'department', 'other'))
);

CREATE TABLE accounts (
  id bigserial PRIMARY KEY,
  domain_id bigint NOT NULL REFERENCES domains (id),
  local_part text NOT NULL,
  address text NOT NULL UNIQUE CHECK (address = lower(address)),
  display_name text NOT NULL DEFAULT '',
  password_hash text NOT NULL,
  status smallint NOT NULL DEFAULT 0,  -- 0 active, 1 suspended, 2 deleted
  quota_bytes bigint NOT NULL DEFAULT 0 CHECK (quota_bytes >= 0),  -- 0 = unlimited
  used_bytes bigint NOT NULL DEFAULT 0 CHECK (used_bytes >= 0),
  used_messages bigint NOT NULL DEFAULT 0 CHECK (used_messages >= 0),
  modseq bigint NOT NULL DEFAULT 0,  -- account-wide MODSEQ counter (CONDSTORE, JMAP state)
  credentials_version bigint NOT NULL DEFAULT 1,
  must_change_password boolean NOT NULL DEFAULT false,
  unit_code text REFERENCES org_units (code),
  position text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz
);
CREATE INDEX accounts_domain ON accounts (domain_id);

CREATE TABLE app_passwords (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name text NOT NULL,
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);
CREATE INDEX app_passwords_account ON app_passwords (account_id);

CREATE TABLE aliases (
  address text PRIMARY KEY CHECK (address = lower(address)),
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE
);
CREATE INDEX aliases_account ON aliases (account_id);

-- Distribution lists. send_policy: 0 anyone, 1 same domain, 2 members, 3 listed senders only.
CREATE TABLE groups (
  id bigserial PRIMARY KEY,
  address text NOT NULL UNIQUE CHECK (address = lower(address)),
  display_name text NOT NULL DEFAULT '',
  send_policy smallint NOT NULL DEFAULT 0
);
CREATE TABLE group_members (
  group_id bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, account_id)
);
CREATE TABLE group_senders (
  group_id bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, account_id)
);

-- UIDVALIDITY: unique across the database, never reused (a recreated name gets a new one).
CREATE SEQUENCE mailbox_uidvalidity_seq MINVALUE 1 MAXVALUE 4294967295 NO CYCLE;

CREATE TABLE mailboxes (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name text NOT NULL,  -- full path, '/' separated, "INBOX" upper-case
  parent_id bigint REFERENCES mailboxes (id),
  special_use smallint NOT NULL DEFAULT 0,  -- SpecialUse order: 0 none, 1 sent ... 5 archive
  subscribed boolean NOT NULL DEFAULT true,
  uidvalidity bigint NOT NULL DEFAULT nextval('mailbox_uidvalidity_seq'),
  uidnext bigint NOT NULL DEFAULT 1,
  highestmodseq bigint NOT NULL DEFAULT 0,
  -- counters kept exact by the functions below, in the same transactions
  messages integer NOT NULL DEFAULT 0 CHECK (messages >= 0),
  unseen integer NOT NULL DEFAULT 0 CHECK (unseen >= 0),
  size_bytes bigint NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
  UNIQUE (account_id, name)
);
CREATE INDEX mailboxes_parent ON mailboxes (parent_id);

-- Content-addressed raw messages: one row however many recipients or copies.
-- refcount = number of messages rows pointing here (changed under the row lock).
CREATE TABLE blobs (
  sha256 bytea PRIMARY KEY,
  size bigint NOT NULL,
  refcount integer NOT NULL,
  data bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE blobs ALTER COLUMN data SET COMPRESSION lz4;

-- One row per ingest (a circular to 500 communes: 1 blob, 1 message, 500 entries).
CREATE TABLE messages (
  id bigserial PRIMARY KEY,
  blob_sha256 bytea NOT NULL REFERENCES blobs (sha256),
  size bigint NOT NULL,
  internal_date timestamptz NOT NULL,
  envelope jsonb NOT NULL,
  bodystructure jsonb NOT NULL,
  subject text NOT NULL DEFAULT '',
  from_address text NOT NULL DEFAULT '',
  message_id_hdr text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_blob ON messages (blob_sha256);
CREATE INDEX messages_message_id_hdr ON messages (message_id_hdr) WHERE message_id_hdr <> '';

CREATE TABLE mailbox_entries (
  mailbox_id bigint NOT NULL REFERENCES mailboxes (id),
  uid bigint NOT NULL,
  account_id bigint NOT NULL,
  message_id bigint NOT NULL REFERENCES messages (id),
  modseq bigint NOT NULL,
  flags smallint NOT NULL DEFAULT 0,
  keywords text[] NOT NULL DEFAULT '{}',
  size integer NOT NULL,       -- copy of messages.size: quota and RFC822.SIZE without a join
  thread_id bigint NOT NULL,   -- per account (see govmail_deliver)
  PRIMARY KEY (mailbox_id, uid)
);
CREATE INDEX mailbox_entries_modseq ON mailbox_entries (mailbox_id, modseq);
CREATE INDEX mailbox_entries_message ON mailbox_entries (message_id, account_id);
CREATE INDEX mailbox_entries_deleted ON mailbox_entries (mailbox_id, uid) WHERE flags & 8 <> 0;

-- What changed since MODSEQ n: per mailbox (CONDSTORE/QRESYNC expunges) and per account (JMAP).
CREATE TABLE change_log (
  account_id bigint NOT NULL,
  modseq bigint NOT NULL,
  kind smallint NOT NULL,
  mailbox_id bigint NOT NULL,
  uid bigint NOT NULL DEFAULT 0,
  message_id bigint NOT NULL DEFAULT 0
);
CREATE INDEX change_log_account ON change_log (account_id, modseq);
CREATE INDEX change_log_mailbox ON change_log (mailbox_id, modseq);

-- Durable queue for the search indexer; the text is extracted once at ingest.
CREATE TABLE index_queue (
  id bigserial PRIMARY KEY,
  message_id bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  account_ids bigint[] NOT NULL,
  search_text text NOT NULL,
  enqueued_at timestamptz NOT NULL DEFAULT now()
);

-- Durable outbound queue: one row per submitted message, one per remote recipient.
-- status: 0 queued, 1 delivering, 2 done, 3 failed (bounced).
CREATE TABLE outbound_queue (
  id bigserial PRIMARY KEY,
  message_id bigint NOT NULL REFERENCES messages (id),
  envelope_from text NOT NULL,
  dsn_envid text NOT NULL DEFAULT '',
  dsn_ret text NOT NULL DEFAULT '',
  status smallint NOT NULL DEFAULT 0,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbound_queue_due ON outbound_queue (next_attempt) WHERE status IN (0, 1);
CREATE INDEX outbound_queue_message ON outbound_queue (message_id);
CREATE TABLE outbound_recipients (
  queue_id bigint NOT NULL REFERENCES outbound_queue (id) ON DELETE CASCADE,
  ordinal integer NOT NULL,
  address text NOT NULL,
  dsn_notify text NOT NULL DEFAULT '',
  dsn_orcpt text NOT NULL DEFAULT '',
  status smallint NOT NULL DEFAULT 0,  -- 0 pending, 2 delivered, 3 failed
  last_error text NOT NULL DEFAULT '',
  PRIMARY KEY (queue_id, ordinal)
);

------------------------------------------------------------------------------------------------
-- Helpers

CREATE FUNCTION govmail_raise(code text, msg text) RETURNS void LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  RAISE EXCEPTION '%', msg USING ERRCODE = code;
END $$;

-- Bumps and returns the account's modseq; locks the account row (first lock of every writer).
CREATE FUNCTION govmail_bump(p_account bigint) RETURNS bigint LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE v bigint;
BEGIN
  UPDATE accounts SET modseq = modseq + 1 WHERE id = p_account RETURNING modseq INTO v;
  IF v IS NULL THEN PERFORM govmail_raise('GMNF0', 'account not found'); END IF;
  RETURN v;
END $$;

-- Locks a mailbox of the account; not found (GMNF0) if it belongs to another account.
CREATE FUNCTION govmail_lock_mailbox(p_account bigint, p_mailbox bigint) RETURNS mailboxes
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE m mailboxes;
BEGIN
  SELECT * INTO m FROM mailboxes WHERE id = p_mailbox AND account_id = p_account FOR UPDATE;
  IF NOT FOUND THEN PERFORM govmail_raise('GMNF0', 'mailbox not found'); END IF;
  RETURN m;
END $$;

-- Keywords are case-insensitive atoms, kept sorted (by lower-case) and unique.
-- op: 0 add, 1 remove, 2 replace (the caller sends replacements already normalised).
CREATE FUNCTION govmail_keywords(op smallint, old text[], k text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE op
    WHEN 2 THEN k
    WHEN 0 THEN ARRAY(
      SELECT x FROM (SELECT DISTINCT ON (lower(x) COLLATE "C") x
                     FROM unnest(old || k) WITH ORDINALITY u(x, o)
                     ORDER BY lower(x) COLLATE "C", o) s
      ORDER BY lower(x) COLLATE "C")
    ELSE ARRAY(
      SELECT x FROM unnest(old) x
      WHERE lower(x) <> ALL (SELECT lower(y) FROM unnest(k) y)
      ORDER BY lower(x) COLLATE "C")
  END
$$;

-- Mailbox changes are announced by the store after COMMIT (store/src/change_notifier.cpp), not
-- with NOTIFY here: PostgreSQL serialises the commits of all transactions that NOTIFY under one
-- lock held through the WAL flush, which capped durable deliveries at one fsync each.

-- Drops messages that no mailbox entry and no outbound queue row refers to any more, and blobs
-- that no message refers to. Called after entries were deleted, in the same transaction.
CREATE FUNCTION govmail_release_messages(p_ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE v_shas bytea[];
BEGIN
  WITH gone AS (
    DELETE FROM messages m WHERE m.id = ANY (p_ids)
      AND NOT EXISTS (SELECT 1 FROM mailbox_entries e WHERE e.message_id = m.id)
      AND NOT EXISTS (SELECT 1 FROM outbound_queue q WHERE q.message_id = m.id)
    RETURNING m.blob_sha256),
  dec AS (
    UPDATE blobs b SET refcount = b.refcount - g.n
    FROM (SELECT blob_sha256, count(*) AS n FROM gone GROUP BY 1) g
    WHERE b.sha256 = g.blob_sha256 RETURNING b.sha256, b.refcount)
  SELECT array_agg(sha256) INTO v_shas FROM dec WHERE refcount <= 0;
  IF v_shas IS NOT NULL THEN
    DELETE FROM blobs WHERE sha256 = ANY (v_shas) AND refcount <= 0;
  END IF;
END $$;

-- Creates a mailbox and its missing parents; returns the mailbox. p_name is already validated
-- and normalised by the caller. exists (GMEX0) if the full name is taken.
CREATE FUNCTION govmail_make_mailbox(p_account bigint, p_name text, p_special smallint,
                                     p_modseq bigint) RETURNS mailboxes
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  parts text[] := string_to_array(p_name, '/');
  path text := '';
  parent bigint := NULL;
  m mailboxes;
BEGIN
  IF EXISTS (SELECT 1 FROM mailboxes WHERE account_id = p_account AND name = p_name) THEN
    PERFORM govmail_raise('GMEX0', 'mailbox exists');
  END IF;
  FOR i IN 1 .. array_length(parts, 1) LOOP
    path := CASE WHEN i = 1 THEN parts[1] ELSE path || '/' || parts[i] END;
    SELECT * INTO m FROM mailboxes WHERE account_id = p_account AND name = path;
    IF NOT FOUND THEN
      INSERT INTO mailboxes (account_id, name, parent_id, special_use, highestmodseq)
      VALUES (p_account, path, parent,
              CASE WHEN i = array_length(parts, 1) THEN p_special ELSE 0 END, p_modseq)
      RETURNING * INTO m;
      INSERT INTO change_log (account_id, modseq, kind, mailbox_id) VALUES (p_account, p_modseq, 0, m.id);
    END IF;
    parent := m.id;
  END LOOP;
  RETURN m;
END $$;

------------------------------------------------------------------------------------------------
-- Accounts

CREATE FUNCTION govmail_add_account(p_address text, p_display_name text, p_password_hash text,
                                    p_quota bigint, p_must_change boolean, p_unit text,
                                    p_position text) RETURNS accounts
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_domain bigint;
  a accounts;
BEGIN
  SELECT id INTO v_domain FROM domains WHERE name = split_part(p_address, '@', 2);
  IF NOT FOUND THEN PERFORM govmail_raise('GMNF0', 'domain not found'); END IF;
  IF EXISTS (SELECT 1 FROM aliases WHERE address = p_address)
     OR EXISTS (SELECT 1 FROM groups WHERE address = p_address) THEN
    PERFORM govmail_raise('GMEX0', 'address taken');
  END IF;
  INSERT INTO accounts (domain_id, local_part, address, display_name, password_hash, quota_bytes,
                        must_change_password, unit_code, position, modseq)
  VALUES (v_domain, split_part(p_address, '@', 1), p_address, p_display_name, p_password_hash,
          p_quota, p_must_change, p_unit, p_position, 1)
  RETURNING * INTO a;
  INSERT INTO mailboxes (account_id, name, special_use, highestmodseq)
  SELECT a.id, n, u, 1 FROM (VALUES ('INBOX', 0), ('Sent', 1), ('Drafts', 2), ('Trash', 3),
                                    ('Junk', 4), ('Archive', 5)) v(n, u)
  ORDER BY u;
  INSERT INTO change_log (account_id, modseq, kind, mailbox_id)
  SELECT a.id, 1, 0, id FROM mailboxes WHERE account_id = a.id;
  RETURN a;
END $$;

------------------------------------------------------------------------------------------------
-- Messages in

-- One ingest for many recipients (also APPEND with one recipient): blob upserted once, one
-- messages row, one entry per local recipient (p_mailboxes[i] NULL = INBOX of p_accounts[i]),
-- quota checked and charged (the whole delivery is refused if any recipient would go over),
-- remote recipients queued, index queue row, notifications; all or nothing.
-- Thread id: per account, the thread of an earlier message of that account whose Message-ID is
-- in In-Reply-To/References; else a new thread named by this message's id.
-- Returns one row per local recipient in input order (or one row with ord 0 when none).
CREATE FUNCTION govmail_deliver(
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
      AND m.message_id_hdr = ANY (p_thread_refs) AND e.account_id = ANY (v_acc)
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

------------------------------------------------------------------------------------------------
-- Changes to existing entries. UID sets arrive as sorted, disjoint ranges (p_first, p_last).

-- Returns updated entries (conflict false) and, with p_unchanged_since, the entries left alone
-- because they changed after it (conflict true). Entries whose flags would not change are
-- neither updated nor returned.
CREATE FUNCTION govmail_set_flags(p_account bigint, p_mailbox bigint, p_first bigint[],
                                  p_last bigint[], p_op smallint, p_flags smallint,
                                  p_keywords text[], p_unchanged_since bigint)
RETURNS TABLE (conflict boolean, uid bigint, modseq bigint, flags smallint, keywords text[],
               message_id bigint, size integer, internal_date bigint, thread_id bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_modseq bigint := govmail_bump(p_account);
  v_n bigint;
BEGIN
  PERFORM govmail_lock_mailbox(p_account, p_mailbox);
  RETURN QUERY
  WITH tgt AS (
    SELECT e.uid, e.flags, e.keywords, e.modseq FROM mailbox_entries e
    JOIN unnest(p_first, p_last) r(f, l) ON e.uid BETWEEN r.f AND r.l
    WHERE e.mailbox_id = p_mailbox FOR UPDATE OF e),
  calc AS (
    SELECT t.uid, t.flags AS oldf, t.keywords AS oldk,
           (CASE p_op WHEN 0 THEN t.flags | p_flags WHEN 1 THEN t.flags & ~p_flags
                      ELSE p_flags END)::smallint AS nf,
           govmail_keywords(p_op, t.keywords, p_keywords) AS nk,
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

-- Deletes entries of one mailbox (already locked) and everything that depended on them: counters,
-- quota, change log, orphaned messages and blobs. Returns the UIDs, ascending.
CREATE FUNCTION govmail_remove_entries(p_account bigint, p_mailbox bigint, p_uids bigint[],
                                       p_modseq bigint, p_release boolean) RETURNS bigint[]
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
    PERFORM govmail_release_messages(v_msgs);
  END IF;
  RETURN v_uids;
END $$;

-- Expunges \Deleted entries (all, or those in the ranges when p_first is not NULL).
CREATE FUNCTION govmail_expunge(p_account bigint, p_mailbox bigint, p_first bigint[],
                                p_last bigint[]) RETURNS TABLE (uid bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_modseq bigint := govmail_bump(p_account);
  v_uids bigint[];
BEGIN
  PERFORM govmail_lock_mailbox(p_account, p_mailbox);
  SELECT array_agg(e.uid) INTO v_uids FROM mailbox_entries e
  WHERE e.mailbox_id = p_mailbox AND e.flags & 8 <> 0
    AND (p_first IS NULL OR EXISTS (SELECT 1 FROM unnest(p_first, p_last) r(f, l)
                                    WHERE e.uid BETWEEN r.f AND r.l));
  IF v_uids IS NULL THEN RETURN; END IF;
  v_uids := govmail_remove_entries(p_account, p_mailbox, v_uids, v_modseq, true);
  RETURN QUERY SELECT unnest(v_uids);
END $$;

-- Copies (or moves) entries to another mailbox of the same account, in UID order. Copies count
-- against the quota (each copy is charged its full size). First row: (NULL, NULL, uidvalidity
-- of the destination); then one row per message (source uid, destination uid, NULL).
CREATE FUNCTION govmail_copy(p_account bigint, p_from bigint, p_to bigint, p_first bigint[],
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
         array_agg(e.size ORDER BY e.uid), array_agg(e.thread_id ORDER BY e.uid), count(*),
         count(*) FILTER (WHERE e.flags & 1 = 0), coalesce(sum(e.size), 0)
  INTO v_src, v_msg, v_flags, v_kw, v_size, v_thread, v_n, v_unseen, v_bytes
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
                               size, thread_id)
  SELECT p_to, v_base + o - 1, p_account, mid, v_modseq, f, k::text[], s, th
  FROM unnest(v_msg, v_flags, v_kw, v_size, v_thread) WITH ORDINALITY u(mid, f, k, s, th, o);
  INSERT INTO change_log (account_id, modseq, kind, mailbox_id, uid, message_id)
  SELECT p_account, v_modseq, 3, p_to, v_base + o - 1, mid
  FROM unnest(v_msg) WITH ORDINALITY u(mid, o);
  IF p_move THEN
    PERFORM govmail_remove_entries(p_account, p_from, v_src, v_modseq, false);
  END IF;
  RETURN QUERY SELECT s, v_base + o - 1, NULL::bigint FROM unnest(v_src) WITH ORDINALITY u(s, o);
END $$;

------------------------------------------------------------------------------------------------
-- Mailboxes

CREATE FUNCTION govmail_create_mailbox(p_account bigint, p_name text, p_special smallint)
RETURNS SETOF mailboxes LANGUAGE plpgsql AS $$
#variable_conflict use_column
#variable_conflict use_column
DECLARE v_modseq bigint := govmail_bump(p_account);
BEGIN
  RETURN NEXT govmail_make_mailbox(p_account, p_name, p_special, v_modseq);
END $$;

-- Renames a mailbox and its children (parents of the new name are created). Renaming INBOX
-- creates the new mailbox, moves every INBOX message into it and leaves INBOX empty (RFC 3501).
CREATE FUNCTION govmail_rename_mailbox(p_account bigint, p_id bigint, p_new text)
RETURNS void LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_modseq bigint := govmail_bump(p_account);
  m mailboxes := govmail_lock_mailbox(p_account, p_id);
  v_target mailboxes;
  v_parent bigint;
  v_parent_name text;
BEGIN
  IF EXISTS (SELECT 1 FROM mailboxes WHERE account_id = p_account AND name = p_new) THEN
    PERFORM govmail_raise('GMEX0', 'mailbox exists');
  END IF;
  IF m.name = 'INBOX' THEN
    v_target := govmail_make_mailbox(p_account, p_new, 0::smallint, v_modseq);
    PERFORM govmail_copy(p_account, m.id, v_target.id, ARRAY[1::bigint],
                         ARRAY[4294967295::bigint], true);
    RETURN;
  END IF;
  IF left(p_new, length(m.name) + 1) = m.name || '/' THEN
    PERFORM govmail_raise('GMIV0', 'cannot move a mailbox into itself');
  END IF;
  IF position('/' IN p_new) > 0 THEN
    v_parent_name := regexp_replace(p_new, '/[^/]*$', '');
    SELECT id INTO v_parent FROM mailboxes WHERE account_id = p_account AND name = v_parent_name;
    IF NOT FOUND THEN
      v_parent := (govmail_make_mailbox(p_account, v_parent_name, 0::smallint, v_modseq)).id;
    END IF;
  END IF;
  WITH ren AS (
    UPDATE mailboxes SET name = p_new || substr(name, length(m.name) + 1),
           parent_id = CASE WHEN id = p_id THEN v_parent ELSE parent_id END,
           highestmodseq = v_modseq
    WHERE account_id = p_account
      AND (id = p_id OR left(name, length(m.name) + 1) = m.name || '/')
    RETURNING id)
  INSERT INTO change_log (account_id, modseq, kind, mailbox_id) SELECT p_account, v_modseq, 1, id FROM ren;
END $$;

-- Deletes a mailbox with its messages. INBOX and mailboxes with children are refused (GMIV0):
-- delete the children first (simplest safe reading of RFC 3501's \Noselect rules).
CREATE FUNCTION govmail_delete_mailbox(p_account bigint, p_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_modseq bigint := govmail_bump(p_account);
  m mailboxes := govmail_lock_mailbox(p_account, p_id);
BEGIN
  IF m.name = 'INBOX' THEN PERFORM govmail_raise('GMIV0', 'cannot delete INBOX'); END IF;
  IF EXISTS (SELECT 1 FROM mailboxes WHERE parent_id = p_id) THEN
    PERFORM govmail_raise('GMIV0', 'mailbox has children');
  END IF;
  PERFORM govmail_remove_entries(p_account, p_id,
                                 ARRAY(SELECT uid FROM mailbox_entries WHERE mailbox_id = p_id),
                                 v_modseq, true);
  INSERT INTO change_log (account_id, modseq, kind, mailbox_id) VALUES (p_account, v_modseq, 2, p_id);
  DELETE FROM mailboxes WHERE id = p_id;
END $$;
