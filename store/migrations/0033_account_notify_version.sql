-- Account notifications carry the credentials version the change produced ("id:version", was
-- "id"): a process ends the sessions opened with older credentials only. Telling them apart by
-- the time a notification arrived ended a login that had already read the new password when
-- the notification of its change came in after it (the password-change race CI met). The
-- statements in store/src/sql send the same form.
CREATE OR REPLACE FUNCTION govmail_rename_account(p_account bigint, p_address text, p_keep_alias boolean)
RETURNS void LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_domain bigint;
  v_old text;
  v_version bigint;
BEGIN
  SELECT address INTO v_old FROM accounts WHERE id = p_account FOR UPDATE;
  IF NOT FOUND THEN PERFORM govmail_raise('GMNF0', 'account not found'); END IF;
  SELECT id INTO v_domain FROM domains WHERE name = split_part(p_address, '@', 2);
  IF NOT FOUND THEN PERFORM govmail_raise('GMNF0', 'domain not found'); END IF;
  IF EXISTS (SELECT 1 FROM accounts WHERE address = p_address)
     OR EXISTS (SELECT 1 FROM aliases WHERE address = p_address)
     OR EXISTS (SELECT 1 FROM groups WHERE address = p_address) THEN
    PERFORM govmail_raise('GMEX0', 'address taken');
  END IF;
  UPDATE accounts SET address = p_address, local_part = split_part(p_address, '@', 1),
         domain_id = v_domain, credentials_version = credentials_version + 1
  WHERE id = p_account RETURNING credentials_version INTO v_version;
  IF p_keep_alias THEN INSERT INTO aliases (address, account_id) VALUES (v_old, p_account); END IF;
  PERFORM pg_notify('govmail_account', p_account::text || ':' || v_version::text);
END $$;

CREATE OR REPLACE FUNCTION govmail_merge_domain(p_old text, p_new text,
                                     OUT collisions text[], OUT n_accounts bigint,
                                     OUT n_aliases bigint, OUT n_groups bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_old bigint;
  v_new bigint;
  v_id bigint;
  v_version bigint;
BEGIN
  SELECT id INTO v_old FROM domains WHERE name = p_old FOR UPDATE;
  SELECT id INTO v_new FROM domains WHERE name = p_new FOR UPDATE;
  IF v_old IS NULL OR v_new IS NULL THEN PERFORM govmail_raise('GMNF0', 'domain not found'); END IF;
  IF v_old = v_new OR EXISTS (SELECT 1 FROM domains WHERE id = v_new AND alias_of IS NOT NULL) THEN
    PERFORM govmail_raise('GMIV0', 'cannot merge a domain into itself or into an alias domain');
  END IF;
  WITH names AS (
    SELECT address FROM accounts UNION ALL SELECT address FROM aliases
    UNION ALL SELECT address FROM groups),
  o AS (SELECT split_part(address, '@', 1) AS l FROM names WHERE split_part(address, '@', 2) = p_old),
  n AS (SELECT split_part(address, '@', 1) AS l FROM names WHERE split_part(address, '@', 2) = p_new)
  SELECT coalesce(array_agg(DISTINCT o.l ORDER BY o.l), '{}') INTO collisions
  FROM o JOIN n ON n.l = o.l;
  n_accounts := 0; n_aliases := 0; n_groups := 0;
  IF cardinality(collisions) > 0 THEN RETURN; END IF;
  FOR v_id, v_version IN UPDATE accounts SET domain_id = v_new, address = local_part || '@' || p_new,
                  credentials_version = credentials_version + 1
               WHERE domain_id = v_old RETURNING id, credentials_version LOOP
    PERFORM pg_notify('govmail_account', v_id::text || ':' || v_version::text);
    n_accounts := n_accounts + 1;
  END LOOP;
  UPDATE aliases SET address = split_part(address, '@', 1) || '@' || p_new
  WHERE split_part(address, '@', 2) = p_old;
  GET DIAGNOSTICS n_aliases = ROW_COUNT;
  UPDATE groups SET address = split_part(address, '@', 1) || '@' || p_new
  WHERE split_part(address, '@', 2) = p_old;
  GET DIAGNOSTICS n_groups = ROW_COUNT;
  UPDATE domains SET alias_of = v_new WHERE id = v_old OR alias_of = v_old;
END $$;
