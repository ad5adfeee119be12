-- The checkpoint public key `govmail archive verify` trusts when given none (docs/ARCHIVE.md):
-- pinned once, when the signing key is first used, and never changed by govmail. A checkpoint
-- signed by another key (a key file replaced, a row re-signed through psql) is then reported,
-- not accepted. An archive signed before this version pins the key of its first checkpoint.
CREATE TABLE archive_signing_key (
  id smallint PRIMARY KEY CHECK (id = 1),
  public_key bytea NOT NULL CHECK (length(public_key) = 32),
  pinned_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER archive_signing_key_no_update BEFORE UPDATE OR DELETE ON archive_signing_key
  FOR EACH ROW EXECUTE FUNCTION govmail_audit_append_only();
CREATE TRIGGER archive_signing_key_no_truncate BEFORE TRUNCATE ON archive_signing_key
  FOR EACH STATEMENT EXECUTE FUNCTION govmail_audit_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON archive_signing_key FROM PUBLIC;

INSERT INTO archive_signing_key (id, public_key)
SELECT 1, public_key FROM archive_checkpoints ORDER BY id LIMIT 1;
