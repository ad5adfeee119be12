-- 0008: outbound delivery state. Each remote recipient carries its own delivery state, so that
-- queue workers in several govmail processes share the queue through row locks alone:
--  * status: 0 queued (never tried), 1 deferred, 2 delivered, 3 bounced (failed for good).
--  * A worker claims due rows (status 0/1, next_attempt <= now()) with FOR UPDATE SKIP LOCKED,
--    writes its claim token and moves next_attempt one lease ahead: while it delivers, nobody
--    else takes them; if it dies, they are due again when the lease ends. It records outcomes
--    only while it still holds the claim (the token matches), so a worker that outlived its
--    lease cannot overwrite a newer attempt.
--  * report: a delivery status notification owed to the sender ('failed', 'delayed',
--    'relayed'); the reporter sends it and clears it (at least once: a crash between the two
--    may send it twice, never zero times).
--  * An entry whose recipients are all final gets finished_at; finished entries are kept for
--    `govmail queue show` for outbound.history, then deleted and their message released.
ALTER TABLE outbound_recipients
  ADD COLUMN attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN next_attempt timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN claim bigint,
  ADD COLUMN remote_host text NOT NULL DEFAULT '',
  ADD COLUMN remote_reply text NOT NULL DEFAULT '',
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN warned boolean NOT NULL DEFAULT false,
  ADD COLUMN report text NOT NULL DEFAULT '';
ALTER TABLE outbound_queue ADD COLUMN finished_at timestamptz;
DROP INDEX IF EXISTS outbound_queue_due;
CREATE INDEX outbound_recipients_due ON outbound_recipients (next_attempt) WHERE status IN (0, 1);
CREATE INDEX outbound_recipients_report ON outbound_recipients (queue_id) WHERE report <> '';
CREATE INDEX outbound_queue_finished ON outbound_queue (finished_at) WHERE finished_at IS NOT NULL;

-- Records attempt outcomes (of one or several claims, so that a worker can write many at once):
-- per recipient its claim token, the new status, seconds until the next attempt (deferred
-- only), the deciding reply, the host that gave it and the report now owed ('' none). Rows no
-- longer held by their claim are left alone. Entries left with no pending
-- recipient are finished. Returns the number of recipients recorded.
CREATE FUNCTION govmail_outbound_record(p_claim bigint[], p_queue bigint[], p_ordinal integer[],
                                        p_status smallint[], p_delay integer[], p_reply text[],
                                        p_host text[], p_report text[])
RETURNS integer LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_ids bigint[];
  v_n integer;
BEGIN
  WITH o AS (
    SELECT * FROM unnest(p_claim, p_queue, p_ordinal, p_status, p_delay, p_reply, p_host, p_report)
      o(cl, qid, ord, st, delay, reply, host, report)),
  upd AS (
    UPDATE outbound_recipients r
    SET status = o.st,
        next_attempt = CASE WHEN o.st = 1 THEN now() + make_interval(secs => o.delay)
                            ELSE r.next_attempt END,
        claim = NULL, remote_reply = o.reply, remote_host = o.host, updated_at = now(),
        report = CASE WHEN o.report = '' THEN r.report ELSE o.report END,
        warned = r.warned OR o.report = 'delayed'
    FROM o WHERE r.queue_id = o.qid AND r.ordinal = o.ord AND r.claim = o.cl
    RETURNING r.queue_id)
  SELECT array_agg(DISTINCT queue_id), count(*) INTO v_ids, v_n FROM upd;
  IF v_n > 0 THEN
    UPDATE outbound_queue q SET status = 2, finished_at = now()
    WHERE q.id = ANY (v_ids) AND q.finished_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM outbound_recipients r
                      WHERE r.queue_id = q.id AND r.status IN (0, 1));
  END IF;
  RETURN v_n;
END $$;

-- Deletes finished entries older than p_age (their recipients with them) that owe no report,
-- and queues their messages for release; at most p_limit per call. Returns the count.
CREATE FUNCTION govmail_outbound_prune(p_age interval, p_limit integer)
RETURNS integer LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE v_n integer;
BEGIN
  WITH gone AS (
    DELETE FROM outbound_queue q WHERE q.id IN (
      SELECT q2.id FROM outbound_queue q2
      WHERE q2.finished_at IS NOT NULL AND q2.finished_at < now() - p_age
        AND NOT EXISTS (SELECT 1 FROM outbound_recipients r
                        WHERE r.queue_id = q2.id AND r.report <> '')
      ORDER BY q2.finished_at LIMIT p_limit FOR UPDATE SKIP LOCKED)
    RETURNING q.message_id),
  rel AS (INSERT INTO message_release_queue (message_id) SELECT message_id FROM gone RETURNING 1)
  SELECT count(*) INTO v_n FROM rel;
  RETURN v_n;
END $$;

-- DKIM keys: one active key per domain (the newest), older ones kept until removed so that
-- mail signed just before a rotation still verifies while the old record stays published.
CREATE TABLE dkim_keys (
  id bigserial PRIMARY KEY,
  domain text NOT NULL,
  selector text NOT NULL,
  algorithm text NOT NULL,
  private_pem text NOT NULL,
  public_b64 text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (domain, selector)
);
