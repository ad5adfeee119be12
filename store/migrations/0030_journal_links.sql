-- The journal's hash chain leaves the delivery transaction (docs/ARCHIVE.md, "Tamper evidence"
-- and "Benchmark"). Measured with pgbench calling govmail_deliver (4 clients, journal on against
-- off): the plain INSERT of the journal row cost 5.6% of the delivery's database time; the
-- insert trigger that linked it to its chain (a plpgsql call, the chain's advisory lock and head
-- UPDATE) brought that to 17-20%, and a trigger that ran no SQL at all still to 10.8%.
--  * archive_journal keeps the entry (content, content hash, time) and, new, `txid`: the
--    inserting transaction's id. No insert trigger any more.
--  * archive_links holds each entry's place in a chain: (id, chain, seq, prev_hash, hash), the
--    same link as before ("GMJ2": hash = SHA-256(prev_hash || "GMJ2" || lp(chain) ||
--    lp(time in us) || content_hash)). Existing entries' links move there as they are.
--  * govmail_journal_link(max) appends the entries not linked yet to chain journal.32, in the
--    order (txid, id), and only those whose transaction ended before the oldest one still running
--    (pg_snapshot_xmin): a transaction id below that horizon can never commit a row again, so no
--    entry can appear later behind the chain's cursor (archive_chain_heads.link_txid/link_id).
--    govmail serve calls it every archive.link_interval (1 s); every reader of the chains
--    (verify, checkpoint, stats, export, the text indexer) calls it first. Concurrent callers
--    queue on the head row.
--  * An entry inserted without a content hash (psql; internal deliveries whose recipients SQL
--    fills in) is linked with the hash of its content computed here (govmail_journal_content).
--  * Entries are only ever appended: the links table is append-only like the journal.
CREATE TABLE archive_links (
  id bigint PRIMARY KEY,  -- archive_journal.id
  chain text NOT NULL,
  seq bigint NOT NULL,
  prev_hash bytea NOT NULL,
  hash bytea NOT NULL,
  UNIQUE (chain, seq)
);
INSERT INTO archive_links (id, chain, seq, prev_hash, hash)
SELECT id, chain, seq, prev_hash, hash FROM archive_journal;
REVOKE UPDATE, DELETE, TRUNCATE ON archive_links FROM PUBLIC;
CREATE TRIGGER archive_links_no_update BEFORE UPDATE OR DELETE ON archive_links
  FOR EACH ROW EXECUTE FUNCTION govmail_audit_append_only();
CREATE TRIGGER archive_links_no_truncate BEFORE TRUNCATE ON archive_links
  FOR EACH STATEMENT EXECUTE FUNCTION govmail_audit_append_only();

DROP TRIGGER archive_journal_append ON archive_journal;
DROP FUNCTION govmail_journal_append();
DROP FUNCTION govmail_journal_chain();
DROP FUNCTION govmail_journal_canon(archive_journal);  -- "GMJ1" in SQL: verify has it in C++

-- The purge's tombstone: content cleared, everything that the chain covers kept.
CREATE OR REPLACE FUNCTION govmail_journal_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND current_setting('govmail.archive_purge', true) = 'on'
     AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.txid IS NOT DISTINCT FROM OLD.txid
     AND NEW.content_hash IS NOT DISTINCT FROM OLD.content_hash AND OLD.purged_at IS NULL
     AND NEW.purged_at IS NOT NULL AND NEW.purge_audit_id IS NOT NULL THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'archive_journal is append-only (govmail archive purge is the only way out)'
    USING ERRCODE = 'GMIV0';
END $$;

ALTER TABLE archive_journal DROP COLUMN chain, DROP COLUMN seq, DROP COLUMN prev_hash,
  DROP COLUMN hash;
-- NULL for the entries linked before this migration (all of them are).
ALTER TABLE archive_journal ADD COLUMN txid bigint;
ALTER TABLE archive_journal ALTER COLUMN txid SET DEFAULT (pg_current_xact_id()::text::bigint);
ALTER TABLE archive_journal ADD CONSTRAINT archive_journal_content_hash_size
  CHECK (content_hash IS NULL OR octet_length(content_hash) = 32);
-- What the trigger's content form could not tell apart: a NULL size hashes as '' in SQL and is
-- read as 0 by verify. Every entry has a size until it is purged.
ALTER TABLE archive_journal ADD CONSTRAINT archive_journal_has_size
  CHECK (size IS NOT NULL OR purged_at IS NOT NULL) NOT VALID;
-- Rows are appended in about txid order: a BRIN index finds the few pages to link.
CREATE INDEX archive_journal_txid ON archive_journal USING brin (txid);

-- The chain of new entries, and its cursor. A head moves forward by any number of appends.
ALTER TABLE archive_chain_heads ADD COLUMN link_txid bigint NOT NULL DEFAULT 0,
  ADD COLUMN link_id bigint NOT NULL DEFAULT 0;
INSERT INTO archive_chain_heads (chain) VALUES ('journal.32');
CREATE OR REPLACE FUNCTION govmail_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.chain = OLD.chain AND NEW.seq > OLD.seq
     AND NEW.floor_seq = OLD.floor_seq AND NEW.floor_hash = OLD.floor_hash
     AND (NEW.link_txid, NEW.link_id) >= (OLD.link_txid, OLD.link_id) THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'UPDATE' AND current_setting('govmail.audit_prune', true) = 'on'
     AND NEW.chain = OLD.chain AND NEW.seq = OLD.seq AND NEW.hash = OLD.hash
     AND NEW.floor_seq >= OLD.floor_seq THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'archive chain heads only move by appends' USING ERRCODE = 'GMIV0';
END $$;
DROP TRIGGER archive_heads_guard ON archive_chain_heads;
CREATE TRIGGER archive_heads_guard BEFORE UPDATE ON archive_chain_heads
  FOR EACH ROW EXECUTE FUNCTION govmail_head_guard();

-- The hash a link covers: the stored content hash, else the content's (same form as C++).
CREATE FUNCTION govmail_journal_content_hash(j archive_journal) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(j.content_hash, sha256(govmail_journal_content(j)))
$$;

-- Links at most p_max entries; returns how many.
CREATE FUNCTION govmail_journal_link(p_max int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  h record;
  r record;
  v_horizon bigint;
  v_us text;
  v_seq bigint;
  v_prev bytea;
  v_last_txid bigint;
  v_last_id bigint;
  v_ids bigint[] := '{}';
  v_seqs bigint[] := '{}';
  v_prevs bytea[] := '{}';
  v_hashes bytea[] := '{}';
BEGIN
  -- Nothing new (an idle server, every second): no row lock, nothing written.
  IF NOT EXISTS (SELECT 1 FROM archive_journal j, archive_chain_heads c
                 WHERE c.chain = 'journal.32' AND j.txid >= c.link_txid
                   AND (j.txid, j.id) > (c.link_txid, c.link_id)) THEN
    RETURN 0;
  END IF;
  SELECT seq, hash, link_txid, link_id INTO h FROM archive_chain_heads
  WHERE chain = 'journal.32' FOR UPDATE;
  -- After the head is ours (a concurrent caller's links are committed and visible by now).
  v_horizon := pg_snapshot_xmin(pg_current_snapshot())::text::bigint;
  v_seq := h.seq;
  v_prev := h.hash;
  v_last_txid := h.link_txid;
  v_last_id := h.link_id;
  FOR r IN SELECT j.id, j.txid, j.at, govmail_journal_content_hash(j) AS content
           FROM archive_journal j
           WHERE j.txid >= h.link_txid AND (j.txid, j.id) > (h.link_txid, h.link_id)
             AND j.txid < v_horizon
           ORDER BY j.txid, j.id LIMIT p_max LOOP
    v_us := ((extract(epoch FROM r.at) * 1000000)::bigint)::text;
    v_seq := v_seq + 1;
    v_ids := v_ids || r.id;
    v_seqs := v_seqs || v_seq;
    v_prevs := v_prevs || v_prev;
    v_prev := sha256(v_prev || convert_to('GMJ210:journal.32' || octet_length(v_us) || ':' || v_us,
                                          'UTF8') || r.content);
    v_hashes := v_hashes || v_prev;
    v_last_txid := r.txid;
    v_last_id := r.id;
  END LOOP;
  IF cardinality(v_ids) = 0 THEN RETURN 0; END IF;
  INSERT INTO archive_links (id, chain, seq, prev_hash, hash)
  SELECT u.id, 'journal.32', u.seq, u.prev, u.hash
  FROM unnest(v_ids, v_seqs, v_prevs, v_hashes) u(id, seq, prev, hash);
  UPDATE archive_chain_heads SET seq = v_seq, hash = v_prev, link_txid = v_last_txid,
         link_id = v_last_id
  WHERE chain = 'journal.32';
  RETURN cardinality(v_ids);
END $$;
