-- govmail schema, version 2: administration. Deleted accounts with retention, groups kept up to
-- date per administrative unit, administrators with roles and TOTP, and the append-only audit log.

-- Deleted accounts (status 2) keep their mailboxes until deleted_at + retention, then are purged.
ALTER TABLE accounts ADD COLUMN deleted_at timestamptz;
CREATE INDEX accounts_unit ON accounts (unit_code);
CREATE INDEX org_units_parent ON org_units (parent_code);

-- A group with unit_code is automatic: its members are every non-deleted account whose unit is
-- that unit or lies below it (a province group holds every commune mailbox of the province).
ALTER TABLE groups ADD COLUMN unit_code text REFERENCES org_units (code);
CREATE INDEX groups_unit ON groups (unit_code) WHERE unit_code IS NOT NULL;

-- The unit and its ancestors (at most a few levels: province > commune > department).
CREATE FUNCTION govmail_unit_chain(p_code text) RETURNS text[] LANGUAGE sql STABLE AS $$
  WITH RECURSIVE up(code, parent, depth) AS (
    SELECT code, parent_code, 0 FROM org_units WHERE code = p_code
    UNION ALL
    SELECT u.code, u.parent_code, up.depth + 1 FROM org_units u JOIN up ON u.code = up.parent
    WHERE up.depth < 8)
  SELECT coalesce(array_agg(code), '{}') FROM up
$$;

-- Re-derives the automatic memberships of one account (after insert, unit change, delete).
CREATE FUNCTION govmail_sync_account_groups(p_account bigint) RETURNS void LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE a accounts;
BEGIN
  SELECT * INTO a FROM accounts WHERE id = p_account;
  DELETE FROM group_members m USING groups g
  WHERE m.account_id = p_account AND g.id = m.group_id AND g.unit_code IS NOT NULL;
  IF a.status <> 2 AND a.unit_code IS NOT NULL THEN
    INSERT INTO group_members (group_id, account_id)
    SELECT g.id, p_account FROM groups g WHERE g.unit_code = ANY (govmail_unit_chain(a.unit_code))
    ON CONFLICT DO NOTHING;
  END IF;
END $$;

CREATE FUNCTION govmail_accounts_groups_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM govmail_sync_account_groups(NEW.id);
  RETURN NULL;
END $$;
CREATE TRIGGER accounts_auto_groups_ins AFTER INSERT ON accounts
  FOR EACH ROW WHEN (NEW.unit_code IS NOT NULL) EXECUTE FUNCTION govmail_accounts_groups_trigger();
CREATE TRIGGER accounts_auto_groups_upd AFTER UPDATE OF unit_code, status ON accounts
  FOR EACH ROW WHEN (OLD.unit_code IS DISTINCT FROM NEW.unit_code OR OLD.status <> NEW.status)
  EXECUTE FUNCTION govmail_accounts_groups_trigger();

-- Fills an automatic group from scratch (at creation, or after units were re-imported).
CREATE FUNCTION govmail_sync_unit_group(p_group bigint) RETURNS void LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE g groups;
BEGIN
  SELECT * INTO g FROM groups WHERE id = p_group;
  IF g.unit_code IS NULL THEN RETURN; END IF;
  DELETE FROM group_members WHERE group_id = p_group;
  INSERT INTO group_members (group_id, account_id)
  SELECT p_group, a.id FROM accounts a
  WHERE a.status <> 2 AND a.unit_code IS NOT NULL AND g.unit_code = ANY (govmail_unit_chain(a.unit_code));
END $$;

-- Administrators: role 0 province admin (everything), 1 unit admin (accounts of its units and
-- below), 2 auditor (read-only). totp_secret: base32, NULL = no second factor yet.
CREATE TABLE admins (
  account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  role smallint NOT NULL CHECK (role IN (0, 1, 2)),
  units text[] NOT NULL DEFAULT '{}',
  totp_secret text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Every admin action, from the CLI or the API. Append-only: UPDATE, DELETE and TRUNCATE raise.
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,    -- "cli:<os user>" or the administrator's address
  source text NOT NULL,   -- "cli@<host>" or the client IP
  action text NOT NULL,   -- "account.add", "import.apply", ...
  target text NOT NULL DEFAULT '',
  detail text NOT NULL DEFAULT '',
  ok boolean NOT NULL DEFAULT true
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_target ON audit_log (target);

CREATE FUNCTION govmail_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'GMIV0';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION govmail_audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION govmail_audit_append_only();

-- Removes a deleted account for good: its entries (messages and blobs released when no longer
-- referenced), change log, mailboxes and the account row (aliases, members, app passwords cascade).
CREATE FUNCTION govmail_purge_account(p_account bigint) RETURNS void LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE v_msgs bigint[];
BEGIN
  PERFORM 1 FROM accounts WHERE id = p_account AND status = 2 FOR UPDATE;
  IF NOT FOUND THEN PERFORM govmail_raise('GMNF0', 'deleted account not found'); END IF;
  WITH del AS (DELETE FROM mailbox_entries
               WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = p_account)
               RETURNING message_id)
  SELECT array_agg(DISTINCT message_id) INTO v_msgs FROM del;
  IF v_msgs IS NOT NULL THEN PERFORM govmail_release_messages(v_msgs); END IF;
  DELETE FROM change_log WHERE account_id = p_account;
  UPDATE mailboxes SET parent_id = NULL WHERE account_id = p_account;
  DELETE FROM mailboxes WHERE account_id = p_account;
  DELETE FROM accounts WHERE id = p_account;
END $$;

-- Moves an account to a new address in an existing domain; the old one may stay as an alias.
CREATE FUNCTION govmail_rename_account(p_account bigint, p_address text, p_keep_alias boolean)
RETURNS void LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_domain bigint;
  v_old text;
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
  WHERE id = p_account;
  IF p_keep_alias THEN INSERT INTO aliases (address, account_id) VALUES (v_old, p_account); END IF;
  PERFORM pg_notify('govmail_account', p_account::text);
END $$;

CREATE FUNCTION govmail_add_group(p_address text, p_name text, p_policy smallint, p_unit text)
RETURNS groups LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE g groups;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM domains WHERE name = split_part(p_address, '@', 2)) THEN
    PERFORM govmail_raise('GMNF0', 'domain not found');
  END IF;
  IF p_unit IS NOT NULL AND NOT EXISTS (SELECT 1 FROM org_units WHERE code = p_unit) THEN
    PERFORM govmail_raise('GMNF0', 'unit not found');
  END IF;
  IF EXISTS (SELECT 1 FROM accounts WHERE address = p_address)
     OR EXISTS (SELECT 1 FROM aliases WHERE address = p_address)
     OR EXISTS (SELECT 1 FROM groups WHERE address = p_address) THEN
    PERFORM govmail_raise('GMEX0', 'address taken');
  END IF;
  INSERT INTO groups (address, display_name, send_policy, unit_code)
  VALUES (p_address, p_name, p_policy, p_unit) RETURNING * INTO g;
  PERFORM govmail_sync_unit_group(g.id);
  RETURN g;
END $$;

-- Domain merge (see AdminStore::merge_domain). Returns the colliding local parts; when there
-- are any, nothing is changed.
CREATE FUNCTION govmail_merge_domain(p_old text, p_new text,
                                     OUT collisions text[], OUT n_accounts bigint,
                                     OUT n_aliases bigint, OUT n_groups bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_old bigint;
  v_new bigint;
  v_id bigint;
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
  FOR v_id IN UPDATE accounts SET domain_id = v_new, address = local_part || '@' || p_new,
                  credentials_version = credentials_version + 1
               WHERE domain_id = v_old RETURNING id LOOP
    PERFORM pg_notify('govmail_account', v_id::text);
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
