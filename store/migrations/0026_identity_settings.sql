-- The account's own JMAP identity (RFC 8621 6) as its user edits it: display name, replyTo, bcc
-- and signatures. The address stays the directory's (admin/ provisioning); a row exists only
-- once the user changed something. state moves with every change (Identity/changes).
CREATE TABLE identity_settings (
  account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  name text,                 -- NULL: the directory's display name
  reply_to jsonb,            -- JMAP EmailAddress[] or NULL
  bcc jsonb,
  text_signature text NOT NULL DEFAULT '',
  html_signature text NOT NULL DEFAULT '',
  state bigint NOT NULL DEFAULT 1
);
