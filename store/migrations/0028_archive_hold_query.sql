-- Legal holds by query (docs/ARCHIVE.md, "Retention and legal holds"): a hold may name words
-- that must all occur in an entry's text (subject, addresses, decoded body; Vietnamese folding),
-- besides its account, unit and dates. SQL cannot read a message's body, so the purge's caller
-- (admin::archive::purge) evaluates the words, through the auditors' text index and by parsing
-- what it has not indexed, for every entry the policies would purge, and passes the result:
-- p_evaluated (the entries it evaluated), p_query_holds (the query holds it evaluated) and the
-- pairs (p_match_hold, p_match_entry) that matched. A query hold keeps an entry unless the entry
-- was evaluated for that hold and did not match: an entry that became purgeable in between, or a
-- hold added in between, keeps the entry (never purged unevaluated).
ALTER TABLE archive_holds ADD COLUMN query text;

CREATE FUNCTION govmail_archive_purgeable(p_ignore_query boolean, p_evaluated bigint[],
  p_query_holds bigint[], p_match_hold bigint[], p_match_entry bigint[])
RETURNS TABLE (id bigint) LANGUAGE sql STABLE AS $$
  WITH matched AS (SELECT * FROM unnest(p_match_hold, p_match_entry) m(hold, entry)),
  evaluated AS (SELECT unnest(p_evaluated) AS id),
  j AS (
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
         AND (h.to_at IS NULL OR e.at < h.to_at)
         AND (h.query IS NULL OR NOT p_ignore_query)
         -- A query hold keeps the entry unless its text was evaluated and did not match.
         AND (h.query IS NULL OR NOT (h.id = ANY (p_query_holds))
              OR e.id NOT IN (SELECT v.id FROM evaluated v)
              OR EXISTS (SELECT 1 FROM matched m WHERE m.hold = h.id AND m.entry = e.id)))
$$;

-- What the policies would purge if no query hold existed: what the caller must evaluate.
CREATE FUNCTION govmail_archive_purge_candidates() RETURNS TABLE (id bigint) LANGUAGE sql STABLE AS $$
  SELECT id FROM govmail_archive_purgeable(true, '{}', '{}', '{}', '{}')
$$;

-- The form without arguments (0017) had one caller, the purge restated below.
DROP FUNCTION govmail_archive_purgeable();

CREATE FUNCTION govmail_archive_purge(p_actor text, p_source text, p_dry_run boolean,
  p_evaluated bigint[], p_query_holds bigint[], p_match_hold bigint[], p_match_entry bigint[])
RETURNS bigint LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_ids bigint[];
  v_shas bytea[];
  v_audit bigint;
  v_n bigint;
BEGIN
  SELECT array_agg(p.id ORDER BY p.id) INTO v_ids 
    FROM govmail_archive_purgeable(false, p_evaluated, p_query_holds, p_match_hold, p_match_entry) p;
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

DROP FUNCTION govmail_archive_purge(text, text, boolean);
