-- The change log (CONDSTORE/QRESYNC expunges, JMAP /changes) no longer grows for ever: rows
-- older than database.change_log_keep are pruned in the background (govmail_prune_change_log,
-- called by the release sweeper), and each account remembers the highest mod-sequence pruned
-- from its log (change_log_horizon). Changes since a mod-sequence at or above the horizon are
-- complete; asked from below it, JMAP answers cannotCalculateChanges and IMAP reports as
-- vanished every UID the client may know that the mailbox no longer holds (RFC 7162 3.2.5.2
-- allows UIDs that were expunged earlier still).
ALTER TABLE change_log ADD COLUMN at timestamptz NOT NULL DEFAULT now();
CREATE INDEX change_log_at ON change_log USING brin (at);

CREATE TABLE change_log_horizon (
  account_id bigint PRIMARY KEY,
  modseq bigint NOT NULL
);

-- Up to p_limit rows older than p_keep; returns how many were deleted. The horizon is the
-- highest mod-sequence deleted: every row above it is still there, whatever order rows go in.
CREATE FUNCTION govmail_prune_change_log(p_keep interval, p_limit int) RETURNS bigint
LANGUAGE sql AS $$
  WITH d AS (
    DELETE FROM change_log c WHERE c.ctid = ANY (ARRAY(
      SELECT x.ctid FROM change_log x WHERE x.at < now() - p_keep LIMIT p_limit))
    RETURNING c.account_id, c.modseq),
  h AS (
    INSERT INTO change_log_horizon AS h (account_id, modseq)
    SELECT account_id, max(modseq) FROM d GROUP BY account_id
    ON CONFLICT (account_id) DO UPDATE SET modseq = greatest(h.modseq, EXCLUDED.modseq)
    RETURNING 1)
  SELECT count(*) FROM d
$$;
