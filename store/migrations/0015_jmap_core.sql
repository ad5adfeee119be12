-- JMAP core (issue 13): login tokens of browsers and JMAP clients, and uploaded blobs.
--
-- A login token is stored only as its SHA-256, so a copy of the database opens no account.
-- Every govmail process on the database accepts it. It stops opening the account when the
-- account's credentials_version moves (password, status or address changed, app password removed:
-- the functions that change them bump it) or the account is not active, when it is unused for
-- the idle timeout, and at expires_at.
CREATE TABLE jmap_sessions (
  token_sha256 bytea PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  csrf_sha256 bytea NOT NULL,
  credentials_version bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX jmap_sessions_account ON jmap_sessions (account_id);
CREATE INDEX jmap_sessions_expires ON jmap_sessions (expires_at);

-- Blobs uploaded through /jmap/upload (RFC 8620 6.1), per account, content-addressed; deleted
-- at expires_at by the sweeper unless uploaded again.
CREATE TABLE jmap_uploads (
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  sha256 bytea NOT NULL,
  type text NOT NULL,
  size bigint NOT NULL,
  data bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (account_id, sha256)
);
ALTER TABLE jmap_uploads ALTER COLUMN data SET COMPRESSION lz4;
CREATE INDEX jmap_uploads_expires ON jmap_uploads (expires_at);
