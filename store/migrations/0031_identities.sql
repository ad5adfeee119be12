-- Identities a user adds (RFC 8621 6.3, Identity/set create) for other addresses it may send as
-- (aliases, groups that grant send-as), besides the account's own one (identity_settings). A
-- destroyed identity stays as a tombstone so that Identity/changes can name it. Every identity
-- change moves the account's identity state (identity_settings.state); own_state is the state
-- at which the account's own identity last changed.
ALTER TABLE identity_settings ADD COLUMN own_state bigint NOT NULL DEFAULT 1;
UPDATE identity_settings SET own_state = state;

CREATE TABLE identities (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  email text NOT NULL,
  name text NOT NULL DEFAULT '',
  reply_to jsonb,
  bcc jsonb,
  text_signature text NOT NULL DEFAULT '',
  html_signature text NOT NULL DEFAULT '',
  created_state bigint NOT NULL,
  updated_state bigint NOT NULL,
  destroyed_state bigint
);
CREATE INDEX identities_account ON identities (account_id);
